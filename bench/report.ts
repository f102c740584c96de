/**
 * Bench figures and their definitions.
 * - tok/s: output tokens / wall time, summed over the workload's prompts (prefill included).
 * - speedup: tok/s over the baseline's (off for greedy, off sampling for sampling), same prompts.
 * - ITL p50/p99: gaps between consecutive streamed chunks (a step's accepted tokens arrive together,
 *   as in vLLM's benchmark); TPOT: (wall - time to first token) / (tokens - 1), mean over prompts.
 * - bound: the speedup over off predicted from the cost curve measured before and apart from the runs
 *   (bench/costs.ts) and this run's per-position acceptance: tau * T_off / (draft(k) + T(k + 1)), T_off off's cost per token, tau the
 *   expected tokens per step; share = measured speedup / bound. Sampled configs are compared with
 *   off sampling, whose cost is the same T(1).
 * - for 2.0x: the tokens a step would have to emit for a 2.0x bound at the same curve, and the per-token
 *   acceptance that gives them at this k, next to the run's own (1 + p + ... + p^k = tokens per step).
 */
import type { GenerateResult, SpecConfigInput, StepRecord } from "../engine";
import { perTokenAcceptance, speedupBound, tokensNeeded, type CostCurve } from "./costs";
import { mean, percentile } from "./stats";

/** A greedy lossless run whose tokens differ from off's: where, and off's top-2 log-prob margin there. */
export interface Divergence {
  config: string;
  prompt: number;
  token: number;
  offMargin: number;
}

export interface RunSample {
  result: GenerateResult;
  steps: StepRecord[];
  chunkTimes: number[];
  wallMs: number;
}

export interface Row {
  label: string;
  /** The config's proposer ("off" when none is set). */
  proposer: string;
  baseline: string;
  tokens: number;
  tokensPerSecond: number;
  speedup: number;
  acceptanceRate: number;
  meanAcceptanceLength: number;
  perPositionAcceptance: number[];
  itlP50Ms: number;
  itlP99Ms: number;
  tpotMs: number;
  draftMsPerStep: number;
  verifyMsPerStep: number;
  overheadMsPerStep: number;
  peakKvBytes: number;
  /** Expected tokens per step from per-position acceptance (tau). */
  expectedTokensPerStep: number;
  /** Tokens a step must emit for a 2.0x bound at the curve's costs, and the per-token acceptance that gives them (null: unreachable at this k). */
  for2x: { tau: number; perToken: number | null; perTokenNow: number | null } | null;
  theoreticalBound: number;
  shareOfBound: number;
  /** Prompts whose tokens equal the baseline's, out of all prompts (null for sampled runs). */
  identicalToBaseline: number | null;
  /** Steps that verified more than one path (a tree that forked), and all steps. */
  forkedSteps: number;
  steps: number;
  /** Mean draft nodes verified per step (a tree's shared prefixes count once). */
  meanNodes: number;
}

/** Distinct draft tokens in a step's paths (a tree's nodes; shared prefixes count once). */
function trieNodes(paths: { tokens: number[] }[]): number {
  const seen = new Set<string>();
  for (const p of paths) for (let d = 1; d <= p.tokens.length; d++) seen.add(p.tokens.slice(0, d).join(","));
  return seen.size;
}

export function summarise(
  configs: { label: string; baseline: string; params: { temperature?: number }; config: SpecConfigInput }[],
  samples: Map<string, RunSample[]>,
  costs: CostCurve,
): Row[] {
  const base = (label: string) => {
    const runs = samples.get(label)!;
    const tokens = runs.reduce((n, r) => n + r.result.tokens.length, 0);
    const wall = runs.reduce((n, r) => n + r.wallMs, 0);
    const steps = runs.flatMap((r) => r.steps);
    return { runs, tokens, wall, steps, tps: (tokens * 1000) / wall };
  };
  return configs.map((c) => {
    const me = base(c.label);
    const baseline = base(c.baseline);
    const drafted = me.runs.reduce((n, r) => n + r.result.summary.drafted, 0);
    const accepted = me.runs.reduce((n, r) => n + r.result.summary.accepted, 0);
    const depth = Math.max(0, ...me.runs.map((r) => r.result.summary.perPositionAcceptance.length));
    const perPosition = Array.from({ length: depth }, (_, i) => {
      let d = 0, a = 0;
      for (const s of me.steps) {
        if (s.paths.some((p) => p.tokens.length > i)) { d++; if (s.verify.accepted > i) a++; }
      }
      return d ? a / d : 0;
    });
    const gaps = me.runs.flatMap((r) => r.chunkTimes.slice(1).map((t, i) => t - r.chunkTimes[i])).sort((a, b) => a - b);
    const tpot = mean(me.runs.filter((r) => r.result.tokens.length > 1).map((r) =>
      (r.wallMs - r.result.timings.firstTokenMs) / (r.result.tokens.length - 1)));
    const draftMs = mean(me.steps.map((s) => s.timings.draftMs));
    const verifyMs = mean(me.steps.map((s) => s.timings.verifyMs));
    const mal = me.steps.length ? me.tokens / me.steps.length : 0;
    const speedup = me.tps / baseline.tps;
    const sampled = (c.params.temperature ?? 0) > 0;
    const proposer = c.config.proposer ?? "off";
    const k = proposer === "tree" ? (c.config.tree?.depth ?? 4) : (c.config.kMax ?? 4);
    const meanNodes = mean(me.steps.map((s) => trieNodes(s.paths)));
    const stepLengths = (c.config.draftAcceptFloor ?? 0) > 0
      ? me.steps.map((s) => ({ drafted: s.paths[0]?.tokens.length ?? 0, accepted: s.verify.accepted }))
      : undefined;
    const predicted = c.label === c.baseline ? null : speedupBound(costs, { proposer, k, greedyDraft: !sampled, perPosition, meanNodes, stepLengths });
    const bound = c.label === c.baseline ? 1 : predicted?.bound ?? NaN;
    const identical = sampled ? null : me.runs.filter((r, i) =>
      r.result.tokens.map((t) => t.id).join() === baseline.runs[i].result.tokens.map((t) => t.id).join()).length;
    return {
      label: c.label,
      proposer,
      baseline: c.baseline,
      tokens: me.tokens,
      tokensPerSecond: me.tps,
      speedup,
      acceptanceRate: drafted ? accepted / drafted : 0,
      meanAcceptanceLength: mal,
      perPositionAcceptance: perPosition,
      itlP50Ms: percentile(gaps, 50),
      itlP99Ms: percentile(gaps, 99),
      tpotMs: tpot,
      draftMsPerStep: draftMs,
      verifyMsPerStep: verifyMs,
      overheadMsPerStep: mean(me.steps.map((s) => s.timings.overheadMs)),
      peakKvBytes: Math.max(0, ...me.steps.map((s) => s.kvBytes.target + s.kvBytes.draft)),
      expectedTokensPerStep: predicted?.tau ?? 1,
      for2x: predicted
        ? { ...tokensNeeded(costs.offTokenMs, predicted.draftMs + predicted.verifyMs, k, 2), perTokenNow: perTokenAcceptance(predicted.tau, k) }
        : null,
      theoreticalBound: bound,
      shareOfBound: speedup / bound,
      identicalToBaseline: identical,
      forkedSteps: me.steps.filter((s) => s.paths.length > 1).length,
      steps: me.steps.length,
      meanNodes,
    };
  });
}

function for2x(r: Row): string {
  if (!r.for2x) return "-";
  const p = (x: number | null) => (x === null ? "n/a" : x.toFixed(2));
  return `${r.for2x.tau.toFixed(2)} (${r.for2x.perToken === null ? "more than k + 1: out of reach" : p(r.for2x.perToken)} / ${p(r.for2x.perTokenNow)})`;
}

export function toMarkdown(out: {
  measuredAt: string;
  machine: { cpus: number; node: string; sessions: unknown; loadBefore: number[]; loadAfter: number[] };
  costsMarkdown: string;
  peakRssMiB: number;
  workloads: { workload: string; prompts: number; maxTokens: number; rows: Row[]; divergences: Divergence[] }[];
}): string {
  const f = (x: number, d = 2) => x.toFixed(d);
  const lines = [
    `Measured ${out.measuredAt} on ${out.machine.cpus} CPU cores, Node ${out.machine.node}; load average ${out.machine.loadBefore.map((x) => f(x)).join(" ")} before, ${out.machine.loadAfter.map((x) => f(x)).join(" ")} after; peak RSS ${f(out.peakRssMiB, 0)} MiB.`,
    `Sessions: \`${JSON.stringify(out.machine.sessions)}\``,
    "",
    out.costsMarkdown,
  ];
  for (const w of out.workloads) {
    lines.push(`### ${w.workload} (${w.prompts} prompts x ${w.maxTokens} new tokens)`, "");
    lines.push("| config | tok/s | speedup | accept rate | mean accept len | per-position | ITL p50 / p99 ms | TPOT ms | draft / verify / other ms per step | peak KV KiB | expected tokens/step | bound | share of bound | for 2.0x: tokens/step (per-token acceptance needed / now) | same tokens as baseline |");
    lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (const r of w.rows) {
      lines.push(`| ${r.label} | ${f(r.tokensPerSecond, 1)} | ${f(r.speedup)}x vs ${r.baseline} | ${f(r.acceptanceRate)} | ${f(r.meanAcceptanceLength)} | ${r.perPositionAcceptance.map((p) => f(p)).join(" ") || "-"} | ${f(r.itlP50Ms, 1)} / ${f(r.itlP99Ms, 1)} | ${f(r.tpotMs)} | ${f(r.draftMsPerStep)} / ${f(r.verifyMsPerStep)} / ${f(r.overheadMsPerStep)} | ${f(r.peakKvBytes / 1024, 0)} | ${f(r.expectedTokensPerStep)} | ${f(r.theoreticalBound)}x | ${f(r.shareOfBound * 100, 0)}% | ${for2x(r)} | ${r.identicalToBaseline === null ? "n/a (sampled)" : `${r.identicalToBaseline}/${w.prompts}`} |`);
    }
    lines.push("");
    // A tree that seldom forks does the chain's work: say how often each one did.
    const trees = w.rows.filter((r) => r.proposer === "tree");
    for (const r of trees) {
      lines.push(`- ${r.label}: forked in ${r.forkedSteps} of ${r.steps} steps; ${f(r.meanNodes)} draft nodes verified a step on average.`);
    }
    if (trees.length > 0) lines.push("");
    for (const d of w.divergences) {
      lines.push(`- ${d.config}, prompt ${d.prompt}: first differs from off at token ${d.token}, where off's top-2 log-prob margin is ${d.offMargin.toExponential(2)}${d.offMargin < 1e-3 ? " (an fp near-tie)" : ""}.`);
    }
    if (w.divergences.length > 0) lines.push("");
  }
  return lines.join("\n");
}
