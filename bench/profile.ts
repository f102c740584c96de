/**
 * npm run bench:profile [-- --models DIR,DIR --threads 1 --runs 100 --past 64]
 * onnxruntime's per-node profile of a decoding pass at 1 and at 5 positions (a 4-token draft verified)
 * over a `past`-position cache, for each model folder (default: the shipped target and draft). For each
 * it reports the wall time of a pass seen from JavaScript (profiling off), onnxruntime's own time for
 * the run, the kernels' summed time and count, and the top operator types, so a step's time splits into
 * kernels, onnxruntime's dispatch between kernels, and the binding/JS round trip.
 * Writes bench/results/profile.md (and .json).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_DRAFT_DIR, DEFAULT_TARGET_DIR, loadCausalLM, type CausalLM, type KvCache } from "../engine";

interface ProfileRow {
  model: string;
  format: string;
  positions: number;
  wallMs: number;
  runMs: number;
  kernelMs: number;
  kernels: number;
  byOp: { op: string; ms: number; count: number }[];
}

interface TraceEvent { cat: string; name: string; dur: number; args?: { op_name?: string } }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function prepared(model: CausalLM, past: number): Promise<KvCache> {
  const ids = Array.from({ length: past }, (_, i) => 1 + ((i * 37) % (model.vocabSize - 1)));
  return (await model.forward([ids], model.emptyCache(), 0)).cache;
}

/** Median wall time of a pass over `positions` new tokens on a `past`-position cache, as the engine runs it. */
async function wallTime(model: CausalLM, past: number, positions: number, runs: number): Promise<number> {
  let cache = await prepared(model, past);
  const times: number[] = [];
  const tokens = Array.from({ length: positions }, (_, i) => 100 + i);
  for (let i = 0; i < runs + 10; i++) {
    const start = performance.now();
    const r = await model.forward([tokens], cache, past);
    if (i >= 10) times.push(performance.now() - start);
    cache = r.cache.truncate(past);
  }
  cache.dispose();
  return median(times);
}

async function profileOne(dir: string, threads: number, past: number, positions: number, runs: number): Promise<ProfileRow> {
  const plain = await loadCausalLM(dir, { threads });
  const wallMs = await wallTime(plain, past, positions, runs);
  await plain.release();

  const outDir = join(tmpdir(), `speclens-profile-${process.pid}`);
  mkdirSync(outDir, { recursive: true });
  const prefix = join(outDir, `p${positions}`);
  const model = await loadCausalLM(dir, { threads, profilePrefix: prefix });
  let cache = await prepared(model, past);
  const tokens = Array.from({ length: positions }, (_, i) => 100 + i);
  for (let i = 0; i < runs; i++) {
    const r = await model.forward([tokens], cache, past);
    cache = r.cache.truncate(past);
  }
  cache.dispose();
  model.endProfiling();
  await model.release();
  const file = readdirSync(outDir).find((f) => f.startsWith(`p${positions}`) && f.endsWith(".json"));
  if (!file) throw new Error(`no profile written under ${outDir}`);
  const events = JSON.parse(readFileSync(join(outDir, file), "utf8")) as TraceEvent[];
  rmSync(outDir, { recursive: true, force: true });

  // The first run (runs + 1 in all: the prepared prefill is one) is the prefill: skip it.
  const runEvents = events.filter((e) => e.cat === "Session" && e.name === "model_run").slice(1);
  const kernels = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time"));
  const perRun = kernels.length / (runEvents.length + 1);
  const steady = kernels.slice(kernels.length - Math.round(perRun) * runEvents.length);
  const byOp = new Map<string, { ms: number; count: number }>();
  for (const k of steady) {
    const op = k.args?.op_name ?? "?";
    const entry = byOp.get(op) ?? { ms: 0, count: 0 };
    entry.ms += k.dur / 1000 / runEvents.length;
    entry.count += 1 / runEvents.length;
    byOp.set(op, entry);
  }
  return {
    model: model.folder.id.name,
    format: `${model.features.format}${model.features.draftLoop ? "+loop" : ""} ${dir}`,
    positions,
    wallMs,
    runMs: median(runEvents.map((e) => e.dur / 1000)),
    kernelMs: steady.reduce((a, k) => a + k.dur, 0) / 1000 / runEvents.length,
    kernels: Math.round(perRun),
    byOp: [...byOp.entries()].map(([op, v]) => ({ op, ...v })).sort((a, b) => b.ms - a.ms),
  };
}

function toMarkdown(out: { measuredAt: string; loadBefore: number[]; loadAfter: number[]; threads: number; past: number; rows: ProfileRow[] }): string {
  const f = (x: number, d = 3) => x.toFixed(d);
  const lines = [
    "# Per-node profile of one decoding pass (npm run bench:profile)",
    "",
    `Measured ${out.measuredAt}, ${out.threads} onnxruntime thread(s), a cache of ${out.past} positions; load average ${out.loadBefore.map((x) => x.toFixed(2)).join(" ")} before, ${out.loadAfter.map((x) => x.toFixed(2)).join(" ")} after.`,
    "wall: median time of forward() seen from JavaScript with profiling off; run: onnxruntime's model_run; kernels: the kernels' summed time; dispatch = run - kernels (onnxruntime between kernels); binding = wall - run (feeds, output copies, Promise).",
    "",
    "| model | graph | positions | wall ms | run ms | kernels ms | kernels / pass | dispatch ms | binding ms | top operators (ms) |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of out.rows) {
    const top = r.byOp.slice(0, 5).map((o) => `${o.op} ${f(o.ms)} (${Math.round(o.count)})`).join(", ");
    lines.push(`| ${r.model} | ${r.format} | ${r.positions} | ${f(r.wallMs)} | ${f(r.runMs)} | ${f(r.kernelMs)} | ${r.kernels} | ${f(Math.max(0, r.runMs - r.kernelMs))} | ${f(Math.max(0, r.wallMs - r.runMs))} | ${top} |`);
  }
  return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      models: { type: "string" },
      threads: { type: "string", default: "1" },
      runs: { type: "string", default: "100" },
      past: { type: "string", default: "64" },
    },
  });
  const dirs = values.models ? values.models.split(",") : [process.env.SPECLENS_TARGET_DIR ?? DEFAULT_TARGET_DIR, process.env.SPECLENS_DRAFT_DIR ?? DEFAULT_DRAFT_DIR];
  const threads = Number(values.threads);
  const past = Number(values.past);
  const loadBefore = loadavg();
  const rows: ProfileRow[] = [];
  for (const dir of dirs) {
    for (const positions of [1, 5]) {
      rows.push(await profileOne(dir, threads, past, positions, Number(values.runs)));
      process.stderr.write(`${dir} at ${positions}: done\n`);
    }
  }
  const out = { measuredAt: new Date().toISOString(), loadBefore, loadAfter: loadavg(), threads, past, rows };
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/profile.json", JSON.stringify(out, null, 2) + "\n");
  const md = toMarkdown(out);
  writeFileSync("bench/results/profile.md", md);
  console.log(md);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
