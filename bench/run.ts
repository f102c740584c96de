/**
 * npm run bench [-- --prompts 32 --max-tokens 128 --quick]
 * Runs every configuration on the shipped pair, single request, CPU, interleaved per prompt after a
 * warm-up so that drift on the machine hits all of them alike. Reports throughput and the speedup
 * over off, acceptance, latency, memory, and the speedup bound predicted from a cost curve measured
 * before the runs (bench/costs.ts) with the share achieved. The load average is recorded with it:
 * on a shared machine, compare ratios from one run, not absolute figures across runs.
 * Writes bench/results/latest.json and bench/results/latest.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { SpecEngine } from "../engine";
import type { GenerateParams, SpecConfigInput, StepRecord } from "../engine";
import { inDomain, repetition, type Workload } from "./workloads";
import { costsMarkdown, measureCosts } from "./costs";
import { summarise, toMarkdown, type Divergence, type RunSample } from "./report";

interface BenchConfig {
  label: string;
  config: SpecConfigInput;
  params: Partial<GenerateParams>;
  /** The label of the configuration whose outputs must match this one's, if lossless. */
  baseline: string;
}

const GREEDY = { temperature: 0, ignoreEos: true };
const SAMPLED = { temperature: 0.8, topP: 0.95, ignoreEos: true };

export const CONFIGS: BenchConfig[] = [
  // greedy: lossless, every output must equal off's
  { label: "off", config: { proposer: "off" }, params: GREEDY, baseline: "off" },
  { label: "draft-model k=4", config: { proposer: "draft-model", kMax: 4 }, params: GREEDY, baseline: "off" },
  { label: "draft-model k=6", config: { proposer: "draft-model", kMax: 6 }, params: GREEDY, baseline: "off" },
  { label: "draft-model k=8", config: { proposer: "draft-model", kMax: 8 }, params: GREEDY, baseline: "off" },
  { label: "draft-model k<=12 floor 0.5", config: { proposer: "draft-model", kMax: 12, draftAcceptFloor: 0.5 }, params: GREEDY, baseline: "off" },
  { label: "draft-model adaptive k<=6", config: { proposer: "draft-model", kMax: 6, adaptiveK: true, draftConfidence: 0.25 }, params: GREEDY, baseline: "off" },
  { label: "draft-model window 4+32", config: { proposer: "draft-model", kMax: 4, draftWindow: { sink: 4, recent: 32 } }, params: GREEDY, baseline: "off" },
  { label: "tree 2x4", config: { proposer: "tree", kMax: 4, tree: { width: 2, depth: 4, branchMinProb: 0.3 } }, params: GREEDY, baseline: "off" },
  { label: "tree 2x4 always-fork", config: { proposer: "tree", kMax: 4, tree: { width: 2, depth: 4, branchMinProb: 0 } }, params: GREEDY, baseline: "off" },
  { label: "ngram", config: { proposer: "ngram", kMax: 6, ngram: { minN: 1, maxN: 4 } }, params: GREEDY, baseline: "off" },
  // sampling: lossless in distribution (outputs differ from off's draw by draw)
  { label: "off sampling", config: { proposer: "off" }, params: SAMPLED, baseline: "off sampling" },
  { label: "draft-model sampling", config: { proposer: "draft-model", kMax: 4 }, params: SAMPLED, baseline: "off sampling" },
  { label: "tree sampling", config: { proposer: "tree", kMax: 4, tree: { width: 2, depth: 4, branchMinProb: 0.3 } }, params: SAMPLED, baseline: "off sampling" },
  { label: "ngram sampling", config: { proposer: "ngram", kMax: 6 }, params: SAMPLED, baseline: "off sampling" },
  // lossy: may differ from off; compared with greedy off
  { label: "draft-model lossy 0.3", config: { proposer: "draft-model", kMax: 4, verify: "lossy", lossyThreshold: 0.3 }, params: GREEDY, baseline: "off" },
  { label: "tree lossy 0.3", config: { proposer: "tree", kMax: 4, verify: "lossy", lossyThreshold: 0.3, tree: { width: 2, depth: 4, branchMinProb: 0.3 } }, params: GREEDY, baseline: "off" },
  { label: "ngram lossy 0.3", config: { proposer: "ngram", kMax: 6, verify: "lossy", lossyThreshold: 0.3 }, params: GREEDY, baseline: "off" },
];

async function runOne(engine: SpecEngine, prompt: string, c: BenchConfig, maxTokens: number, seed: number): Promise<RunSample> {
  const start = performance.now();
  const chunkTimes: number[] = [];
  const steps: StepRecord[] = [];
  const stream = engine.stream(prompt, { ...c.params, maxTokens, seed }, c.config);
  for (;;) {
    const next = await stream.next();
    if (next.done) {
      return { result: next.value, steps, chunkTimes, wallMs: performance.now() - start };
    }
    steps.push(next.value);
    if (next.value.emitted.length > 0) chunkTimes.push(performance.now() - start);
  }
}

/**
 * For every greedy lossless configuration whose tokens differ from off's on a prompt: where they first
 * differ, and off's margin there (log-prob of its top token minus the runner-up's). A margin near 0 is an
 * fp near-tie, which batched verification (several positions per pass) may resolve the other way.
 */
async function explainDivergences(engine: SpecEngine, workload: Workload, configs: BenchConfig[], samples: Map<string, RunSample[]>): Promise<Divergence[]> {
  const out: Divergence[] = [];
  const off = samples.get("off");
  if (!off) return out;
  for (const c of configs) {
    if (c.baseline !== "off" || c.label === "off" || c.config.verify === "lossy") continue;
    for (const [i, run] of samples.get(c.label)!.entries()) {
      const mine = run.result.tokens.map((t) => t.id);
      const theirs = off[i].result.tokens.map((t) => t.id);
      const at = mine.findIndex((id, j) => id !== theirs[j]);
      if (at < 0) continue;
      const probe = await engine.generate(workload.prompts[i], { ...GREEDY, maxTokens: at + 1, seed: i, topLogprobs: 2 }, { proposer: "off" });
      const [first, second] = probe.tokens[at].topLogprobs;
      out.push({ config: c.label, prompt: i, token: at, offMargin: first.logprob - second.logprob });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      prompts: { type: "string", default: "32" },
      "max-tokens": { type: "string", default: "128" },
      threads: { type: "string" },
      only: { type: "string" },
      "cost-runs": { type: "string", default: "40" },
    },
  });
  const count = Number(values.prompts);
  const maxTokens = Number(values["max-tokens"]);
  const configs = values.only ? CONFIGS.filter((c) => values.only!.split(",").includes(c.label) || c.label === c.baseline) : CONFIGS;
  const loadBefore = loadavg();
  // --threads N sets both sessions (the engine's per-model defaults otherwise).
  const engine = await SpecEngine.load(values.threads ? { threads: Number(values.threads) } : {});
  // The curve spans every configuration's longest step: k_max draft tokens, k_max + 1 verified positions.
  const maxK = Math.max(...configs.map((c) => c.config.kMax ?? 1));
  const costs = await measureCosts(engine, maxK + 1, maxK, Number(values["cost-runs"]));
  process.stderr.write(costsMarkdown(costs));
  const workloads: Workload[] = [inDomain(count, maxTokens), repetition(count, maxTokens)];

  // Warm-up: every configuration once, so session initialisation and JIT are out of the figures.
  for (const c of configs) await runOne(engine, workloads[0].prompts[0], c, 16, 0);

  const report = [];
  for (const workload of workloads) {
    const samples = new Map<string, RunSample[]>(configs.map((c) => [c.label, []]));
    for (let i = 0; i < workload.prompts.length; i++) {
      // Rotate the order per prompt so no configuration always runs first or last.
      for (let j = 0; j < configs.length; j++) {
        const c = configs[(i + j) % configs.length];
        samples.get(c.label)!.push(await runOne(engine, workload.prompts[i], c, workload.maxTokens, i));
      }
      process.stderr.write(`\r${workload.name}: ${i + 1}/${workload.prompts.length} prompts`);
    }
    process.stderr.write("\n");
    const divergences = await explainDivergences(engine, workload, configs, samples);
    report.push({ workload: workload.name, prompts: workload.prompts.length, maxTokens: workload.maxTokens, rows: summarise(configs, samples, costs), divergences });
  }

  const out = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, sessions: engine.sessionInfo(), loadBefore, loadAfter: loadavg() },
    costs,
    costsMarkdown: costsMarkdown(costs),
    models: engine.modelIds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    workloads: report,
  };
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/latest.json", JSON.stringify(out, null, 2) + "\n");
  const md = toMarkdown(out);
  writeFileSync("bench/results/latest.md", md);
  console.log(md);
  await engine.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
