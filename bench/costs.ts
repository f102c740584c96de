/**
 * The cost curve a speedup bound is computed from, measured apart from (and before) the runs it is
 * compared with, on the engine's own sessions:
 * - T(n): one target pass over n new positions on a cache of `past` positions, n = 1..maxPositions;
 * - a draft step as the per-token path runs it: feed 2 committed tokens, then one call per further token;
 * - the same k tokens drafted in one onnxruntime call (graphs with the drafting loop);
 * - one draft pass over a single token (a tree level: its rows run as one batched pass).
 * Medians over `runs` rounds; every quantity is measured once per round, in a shuffled order, so drift
 * and what ran just before (a target pass after a draft call finds its workers asleep) hit them alike.
 * off's own cost per token is T(1) measured back to back (as off runs: one target pass after another).
 *
 * Bound (Leviathan et al. 2023, with measured costs): S = tau * T_off / (draft(k) + T(k + 1)), where
 * tau = 1 + sum_i a_i is the expected tokens per step from the measured per-position acceptance
 * a_i = P(draft positions 0..i all accepted | position i drafted). draft(k) is the drafting loop's cost
 * right after a target pass where that was measured (the order a step runs them in), else back to back.
 * Read backwards, the same costs give the tokens a step must emit for a wanted speedup (tokensNeeded).
 */
import type { CausalLM, KvCache, SpecEngine } from "../engine";
import { mean, sum } from "./stats";

export interface CostCurve {
  past: number;
  /** [n - 1] -> T(n) ms */
  targetMs: number[];
  /** T(1) in a run of consecutive target passes: off's cost per token. */
  offTokenMs: number;
  /** [k - 1] -> ms to draft k tokens one call per token (after a 2-token sync). */
  draftPerTokenPathMs: number[];
  /** [k - 1] -> ms to draft k tokens in one call (null without the drafting loop). */
  draftLoopMs: number[] | null;
  /** One draft pass over one token. */
  draftPassMs: number;
  /**
   * [k - 1] -> ms to draft k tokens in one call right after a target pass over k + 1 positions, as a step
   * runs them (null without the drafting loop): against draftLoopMs, what the target's pass costs the
   * draft (its weights read cold, the target's workers still spinning).
   */
  draftLoopAfterTargetMs: number[] | null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function primed(model: CausalLM, past: number): Promise<KvCache> {
  const ids = Array.from({ length: past }, (_, i) => 1 + ((i * 37) % (model.vocabSize - 1)));
  return (await model.forward([ids], model.emptyCache(), 0)).cache;
}

export async function measureCosts(engine: SpecEngine, maxPositions = 9, maxK = 8, runs = 40, past = 64): Promise<CostCurve> {
  const { target, draft } = engine.models;
  const samples = {
    target: Array.from({ length: maxPositions }, () => [] as number[]),
    perToken: Array.from({ length: maxK }, () => [] as number[]),
    loop: Array.from({ length: maxK }, () => [] as number[]),
    loopAfterTarget: Array.from({ length: maxK }, () => [] as number[]),
    pass: [] as number[],
    off: [] as number[],
  };
  let tCache = await primed(target, past);
  let dCache = draft ? await primed(draft, past) : null;
  const targetPass = async (n: number): Promise<number> => {
    const ms = await timed(async () => {
      const r = await target.forward([Array.from({ length: n }, (_, i) => 100 + i)], tCache, past);
      tCache = r.cache;
    });
    tCache = tCache.truncate(past);
    return ms;
  };
  const draftCall = async (k: number, loop: boolean): Promise<number> => {
    const ms = await timed(async () => {
      if (loop) {
        dCache = (await draft!.draftGreedy([100, 101], dCache!, past, k - 1)).cache;
        return;
      }
      let r = await draft!.forward([[100, 101]], dCache!, past);
      for (let i = 1; i < k; i++) r = await draft!.forward([[102 + i]], r.cache, past + 1 + i);
      dCache = r.cache;
    });
    dCache = dCache!.truncate(past);
    return ms;
  };
  for (let round = 0; round < runs + 3; round++) {
    const keep = round >= 3; // the first rounds warm the sessions up
    const tasks: (() => Promise<void>)[] = [];
    for (let n = 1; n <= maxPositions; n++) tasks.push(async () => { const ms = await targetPass(n); if (keep) samples.target[n - 1].push(ms); });
    tasks.push(async () => {
      for (let i = 0; i < 4; i++) {
        const ms = await targetPass(1);
        if (keep && i > 0) samples.off.push(ms);
      }
    });
    if (draft && dCache) {
      for (let k = 1; k <= maxK; k++) {
        tasks.push(async () => { const ms = await draftCall(k, false); if (keep) samples.perToken[k - 1].push(ms); });
        if (draft.features.draftLoop) {
          tasks.push(async () => { const ms = await draftCall(k, true); if (keep) samples.loop[k - 1].push(ms); });
          if (k + 1 <= maxPositions) {
            tasks.push(async () => {
              await targetPass(k + 1);
              const ms = await draftCall(k, true);
              if (keep) samples.loopAfterTarget[k - 1].push(ms);
            });
          }
        }
      }
      tasks.push(async () => {
        const ms = await timed(async () => { dCache = (await draft.forward([[100]], dCache!, past)).cache; });
        dCache = dCache!.truncate(past);
        if (keep) samples.pass.push(ms);
      });
    }
    // Fisher-Yates with a fixed sequence, so reruns shuffle alike.
    for (let i = tasks.length - 1; i > 0; i--) {
      const j = (round * 7919 + i * 104729) % (i + 1);
      [tasks[i], tasks[j]] = [tasks[j], tasks[i]];
    }
    for (const task of tasks) await task();
  }
  tCache.dispose();
  dCache?.dispose();
  return {
    past,
    targetMs: samples.target.map(median),
    offTokenMs: median(samples.off),
    draftPerTokenPathMs: draft ? samples.perToken.map(median) : [],
    draftLoopMs: draft?.features.draftLoop ? samples.loop.map(median) : null,
    draftPassMs: draft ? median(samples.pass) : 0,
    draftLoopAfterTargetMs: draft?.features.draftLoop ? samples.loopAfterTarget.filter((xs) => xs.length > 0).map(median) : null,
  };
}

/** Expected tokens per step from per-position acceptance a_i (P(accepted through i | drafted i)). */
export function expectedTokensPerStep(perPosition: number[]): number {
  return 1 + sum(perPosition);
}

export interface BoundInput {
  proposer: string;
  /** Draft length (chain) or depth (tree). */
  k: number;
  /** Greedy drafts run through the drafting loop when the graph has one. */
  greedyDraft: boolean;
  perPosition: number[];
  /** Tree: mean nodes verified per step (the target pass covers nodes + 1 positions). */
  meanNodes?: number;
  /**
   * Drafts of varying length (draftAcceptFloor): each step's drafted and accepted counts. The bound then
   * charges every step the curve's cost at its own length and takes tau = 1 + mean accepted.
   */
  stepLengths?: { drafted: number; accepted: number }[];
}

/** The speedup bound over off from the cost curve and the measured acceptance; null when it cannot be formed. */
export function speedupBound(costs: CostCurve, b: BoundInput): { tau: number; draftMs: number; verifyMs: number; bound: number } | null {
  const T = (n: number) => {
    const i = Math.min(costs.targetMs.length, Math.max(1, Math.round(n))) - 1;
    return costs.targetMs[i];
  };
  const varying = b.stepLengths && b.stepLengths.length > 0 ? b.stepLengths : null;
  const tau = varying ? 1 + mean(varying.map((s) => s.accepted)) : expectedTokensPerStep(b.perPosition);
  let draftMs: number;
  let positions: number;
  if (b.proposer === "ngram") {
    draftMs = 0;
    positions = b.k + 1;
  } else if (b.proposer === "draft-model") {
    let loop = costs.draftPerTokenPathMs;
    if (b.greedyDraft && costs.draftLoopMs) {
      // A step drafts right after the previous step's target pass: use that curve where it covers k.
      const afterTarget = costs.draftLoopAfterTargetMs;
      const longest = varying ? Math.max(...varying.map((s) => s.drafted)) : b.k;
      loop = afterTarget && afterTarget.length >= longest ? afterTarget : costs.draftLoopMs;
    }
    const draftCost = (k: number) => (k < 1 ? 0 : loop[Math.min(loop.length, k) - 1]);
    if (varying) {
      const verifyMs = mean(varying.map((s) => T(s.drafted + 1)));
      draftMs = mean(varying.map((s) => draftCost(s.drafted)));
      return { tau, draftMs, verifyMs, bound: (tau * costs.offTokenMs) / (draftMs + verifyMs) };
    }
    draftMs = draftCost(b.k);
    positions = b.k + 1;
  } else if (b.proposer === "tree") {
    // Sync plus one batched pass per further level.
    draftMs = costs.draftPerTokenPathMs[0] + (b.k - 1) * costs.draftPassMs;
    positions = (b.meanNodes ?? b.k) + 1;
  } else {
    return null;
  }
  const verifyMs = T(positions);
  return { tau, draftMs, verifyMs, bound: (tau * costs.offTokenMs) / (draftMs + verifyMs) };
}

/**
 * The tokens a step costing `stepMs` must emit to run `speedup` times faster than off (T_off a token),
 * and the per-token acceptance p that yields them with k drafts if every position is accepted with
 * probability p given the ones before it: tau = 1 + p + ... + p^k = (1 - p^(k + 1)) / (1 - p).
 * perToken is null when even p = 1 (tau = k + 1) falls short.
 */
export function tokensNeeded(offTokenMs: number, stepMs: number, k: number, speedup: number): { tau: number; perToken: number | null } {
  const tau = (speedup * stepMs) / offTokenMs;
  return { tau, perToken: perTokenAcceptance(tau, k) };
}

/** The per-token acceptance p with 1 + p + ... + p^k = tau (null when tau > k + 1), by bisection. */
export function perTokenAcceptance(tau: number, k: number): number | null {
  if (tau > k + 1) return null;
  if (tau <= 1) return 0;
  const tokens = (p: number) => { let sum = 1, term = 1; for (let i = 0; i < k; i++) { term *= p; sum += term; } return sum; };
  let lo = 0, hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (tokens(mid) < tau) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export function costsMarkdown(c: CostCurve): string {
  const f = (x: number) => x.toFixed(2);
  const lines = [
    `Cost curve (medians, measured before the runs on a ${c.past}-position cache):`,
    "",
    `- target pass T(n), n = 1..${c.targetMs.length}: ${c.targetMs.map(f).join(" / ")} ms; off's cost per token (T(1) back to back): ${f(c.offTokenMs)} ms`,
    `- draft k tokens, one call per token (k = 1..${c.draftPerTokenPathMs.length}): ${c.draftPerTokenPathMs.map(f).join(" / ")} ms`,
  ];
  if (c.draftLoopMs) lines.push(`- draft k tokens in one call (drafting loop): ${c.draftLoopMs.map(f).join(" / ")} ms`);
  if (c.draftLoopAfterTargetMs) {
    lines.push(`- the same, right after a target pass over k + 1 positions (as a step runs it): ${c.draftLoopAfterTargetMs.map(f).join(" / ")} ms`);
  }
  lines.push(`- one draft pass over one token: ${f(c.draftPassMs)} ms`, "");
  return lines.join("\n");
}
