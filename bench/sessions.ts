/**
 * npm run bench:sessions [-- --rounds 60]
 * Session settings measured side by side in one process, round-robin so drift on a shared machine hits
 * them alike: for each target setting, a target pass at 1 and at 5 positions, and a draft pass (the
 * draft's own 1-thread session) right after a target pass, which shows whether the target's workers
 * take the cores the draft needs. Writes bench/results/sessions.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { DEFAULT_DRAFT_DIR, DEFAULT_TARGET_DIR, loadCausalLM, type CausalLM, type KvCache, type RuntimeOptions } from "../engine";

const VARIANTS: { label: string; options: RuntimeOptions }[] = [
  { label: "1 thread", options: { threads: 1 } },
  { label: "2 threads, no spinning", options: { threads: 2, spinning: false } },
  { label: "2 threads, spinning (onnxruntime's default)", options: { threads: 2, spinning: true, stopSpinningAfterRun: false } },
  { label: "2 threads, spinning, stopped after each run", options: { threads: 2, spinning: true, stopSpinningAfterRun: true } },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function primed(model: CausalLM, past: number): Promise<KvCache> {
  const ids = Array.from({ length: past }, (_, i) => 1 + ((i * 37) % (model.vocabSize - 1)));
  return (await model.forward([ids], model.emptyCache(), 0)).cache;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "60" }, past: { type: "string", default: "64" } } });
  const past = Number(values.past);
  const targetDir = process.env.SPECLENS_TARGET_DIR ?? DEFAULT_TARGET_DIR;
  const draft = await loadCausalLM(process.env.SPECLENS_DRAFT_DIR ?? DEFAULT_DRAFT_DIR, { threads: 1 });
  const targets = await Promise.all(VARIANTS.map((v) => loadCausalLM(targetDir, v.options)));
  const loadBefore = loadavg();
  const t1 = VARIANTS.map(() => [] as number[]);
  const t5 = VARIANTS.map(() => [] as number[]);
  const d1 = VARIANTS.map(() => [] as number[]);
  const caches = await Promise.all(targets.map((t) => primed(t, past)));
  let dCache = await primed(draft, past);
  for (let round = 0; round < Number(values.rounds) + 3; round++) {
    for (const [v, target] of targets.entries()) {
      for (const [n, out] of [[1, t1], [5, t5]] as const) {
        const start = performance.now();
        const r = await target.forward([Array.from({ length: n }, (_, i) => 100 + i)], caches[v], past);
        const ms = performance.now() - start;
        caches[v] = r.cache.truncate(past);
        if (round >= 3) out[v].push(ms);
      }
      const start = performance.now();
      const r = await draft.forward([[100]], dCache, past);
      const ms = performance.now() - start;
      dCache = r.cache.truncate(past);
      if (round >= 3) d1[v].push(ms);
    }
  }
  const loadAfter = loadavg();
  const f = (x: number) => x.toFixed(2);
  const md = [
    "# Session settings (npm run bench:sessions)",
    "",
    `Measured ${new Date().toISOString()}, target ${targetDir}, ${values.rounds} rounds, a ${past}-position cache; load average ${loadBefore.map(f).join(" ")} before, ${loadAfter.map(f).join(" ")} after.`,
    "",
    "| target session | T(1) ms | T(5) ms | draft pass right after (1 thread) ms |",
    "|---|---:|---:|---:|",
    ...VARIANTS.map((v, i) => `| ${v.label} | ${f(median(t1[i]))} | ${f(median(t5[i]))} | ${f(median(d1[i]))} |`),
    "",
  ].join("\n");
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/sessions.md", md);
  console.log(md);
  for (const c of caches) c.dispose();
  dCache.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
