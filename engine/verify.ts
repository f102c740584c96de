/**
 * Verification: decide which draft tokens the target keeps. Pure functions over typed arrays with an
 * injected counter-based RNG (engine/rng.ts), so seeded runs are reproducible and every decision can
 * be recomputed from its record (ExaminedToken: accepted iff uniform < acceptProb).
 *
 * Terms: draft tokens are proposed by a proposer; accepted tokens are the draft tokens kept; the
 * recovered token is the target's replacement at the first rejection; the bonus token is the extra
 * target token when every draft token of a path is accepted.
 *
 * Modes:
 * - greedy (lossless): a draft token is accepted iff it is the target's argmax.
 * - sampling (lossless): speculative sampling (Leviathan et al. 2023, "Fast Inference from
 *   Transformers via Speculative Decoding"; Chen et al. 2023, "Accelerating Large Language Model
 *   Decoding with Speculative Sampling"). A token x sampled from the draft distribution q is accepted
 *   with probability min(1, p(x)/q(x)); on rejection the recovered token is drawn from
 *   norm(max(0, p - q)). Deterministic proposals (n-gram, tree siblings) are point masses, q = δ_c:
 *   candidate c is accepted with probability p'(c) under the current residual p', and a rejected c
 *   is removed from the residual (p'(c) = 0, renormalised) before the next sibling is tried. A tree
 *   mixes both: its main path is sampled from q and tested first, its siblings (chosen from q after
 *   that draw) are point masses against the residual it leaves. Whatever the mix, the emitted token is
 *   distributed exactly as p, the target's processed distribution. A residual that sums to zero
 *   through rounding falls back to p (never to token 0).
 * - lossy, temperature 0: accept a draft token that is the target's argmax; "lossy-accept" one whose
 *   target probability is at least the threshold.
 * - lossy, temperature > 0 (sampled-lossy): the lossless test first (min(1, p/q), or p' for a point
 *   mass); a token that fails it but has target probability >= threshold is lossy-accepted. So every
 *   acceptance beyond what lossless sampling would make is marked, and the output is the target's
 *   distribution except at lossy-accepted tokens.
 * Every examined token records targetChoice: what the target alone would have emitted there (its
 * argmax, or its draw with uniform("target", position)) — the raw material of replay's attribution.
 */
import type { Rng } from "./rng";
import { rowOfDist, sample, type TargetRow } from "./sampling";
import type { DraftPath, ExaminedToken, PositionOutcome, TargetChoice, VerifyMode, VerifyResult } from "./types";

export interface VerifyOptions {
  mode: VerifyMode;
  /** lossy: the target probability at which a draft token is lossy-accepted. */
  lossyThreshold: number;
  /** Whether the target's own tokens are drawn (temperature > 0) rather than argmax. */
  sampled: boolean;
  rng: Rng;
  /** Output position of the first draft token (the RNG's position coordinate). */
  position: number;
}

/**
 * The target's processed distribution at batch row `row`, position `pos`: the distribution after the
 * last committed token followed by paths[row].tokens[0..pos). Called lazily, so a verification that
 * rejects early never reads the later positions; greedy verification reads only the argmax and the
 * probabilities of the tokens it records (engine/sampling.ts targetRow).
 */
export type TargetDists = (row: number, pos: number) => TargetRow;

/** TargetDists over precomputed arrays, indexed [row][pos]. */
export function distsFromArrays(arrays: Float32Array[][]): TargetDists {
  return (row, pos) => rowOfDist(arrays[row][pos]);
}

/** Verify candidate paths that share their prefix up to each branching point; row r ran path r. */
export function verifyPaths(paths: readonly DraftPath[], targetDist: TargetDists, opts: VerifyOptions): VerifyResult {
  const lossless = opts.mode !== "greedy" && opts.sampled;
  let alive = paths.map((_, i) => i);
  const examined: ExaminedToken[] = [];
  for (let depth = 0; ; depth++) {
    const row = Math.max(0, alive[0] ?? 0);
    const target = targetDist(row, depth);
    const position = opts.position + depth;
    const choice = targetChoice(target, position, opts);
    const candidates = paths.length === 0 ? [] : uniqueCandidates(paths, alive, depth);
    if (candidates.length === 0) {
      return {
        pathIndex: paths.length === 0 ? -1 : row, accepted: depth, examined,
        nextToken: choice.token, nextOrigin: paths.length === 0 ? "target" : "bonus", nextTokenProb: choice.prob, nextTargetChoice: choice,
      };
    }
    const best = target.argmax();
    let residual: Float32Array | null = null;
    let acceptedToken = -1;
    for (const [i, { token, path }] of candidates.entries()) {
      const draftDist = paths[path].draftDists[depth];
      // A token sampled from q is tested against p itself, so only as the first candidate here.
      const pointMass = !(draftDist && i === 0 && lossless);
      let acceptProb: number;
      let uniform = 0;
      if (!opts.sampled) {
        acceptProb = token === best ? 1 : 0;
      } else {
        residual ??= Float32Array.from(target.dist());
        acceptProb = pointMass ? residual[token] : draftDist![token] > 0 ? Math.min(1, residual[token] / draftDist![token]) : 0;
        uniform = opts.rng.uniform("accept", position, i);
      }
      let outcome: PositionOutcome = uniform < acceptProb ? "accepted" : "rejected";
      const targetProb = target.prob(token);
      if (outcome === "rejected" && opts.mode === "lossy" && targetProb >= opts.lossyThreshold) outcome = "lossy-accepted";
      if (outcome === "rejected" && residual) {
        if (pointMass) removeAndNormalise(residual, token, target.dist());
        else subtractAndNormalise(residual, draftDist!, target.dist());
      }
      examined.push({
        path, depth, token, outcome, targetProb, targetArgmax: token === best, targetChoice: choice,
        draftProb: paths[path].draftProbs[depth] ?? 1, pointMass, acceptProb, uniform,
      });
      if (outcome !== "rejected") {
        acceptedToken = token;
        break;
      }
    }
    if (acceptedToken < 0) {
      const token = residual ? sample(residual, opts.rng.uniform("residual", position)) : choice.token;
      return { pathIndex: row, accepted: depth, examined, nextToken: token, nextOrigin: "recovered", nextTokenProb: target.prob(token), nextTargetChoice: choice };
    }
    alive = alive.filter((p) => paths[p].tokens[depth] === acceptedToken);
  }
}

/** The token the target emits on its own at `position`: its draw with uniform("target", position) when sampling, else its argmax. */
export function targetChoice(target: TargetRow, position: number, opts: Pick<VerifyOptions, "sampled" | "rng">): TargetChoice {
  const token = opts.sampled ? sample(target.dist(), opts.rng.uniform("target", position)) : target.argmax();
  return { token, prob: target.prob(token) };
}

function uniqueCandidates(paths: readonly DraftPath[], alive: number[], depth: number): { token: number; path: number }[] {
  const seen = new Set<number>();
  const out: { token: number; path: number }[] = [];
  for (const p of alive) {
    const token = paths[p].tokens[depth];
    if (token === undefined || seen.has(token)) continue;
    seen.add(token);
    out.push({ token, path: p });
  }
  return out;
}

/** residual <- norm(max(0, residual - q)); back to p when that sums to zero through rounding. */
export function subtractAndNormalise(residual: Float32Array, q: Float32Array, p: Float32Array): void {
  let sum = 0;
  for (let i = 0; i < residual.length; i++) {
    residual[i] = Math.max(0, residual[i] - q[i]);
    sum += residual[i];
  }
  if (sum > 0) for (let i = 0; i < residual.length; i++) residual[i] /= sum;
  else residual.set(p);
}

/** residual <- residual without `token`, renormalised; back to p when nothing is left. */
export function removeAndNormalise(residual: Float32Array, token: number, p: Float32Array): void {
  residual[token] = 0;
  let sum = 0;
  for (let i = 0; i < residual.length; i++) sum += residual[i];
  if (sum > 0) for (let i = 0; i < residual.length; i++) residual[i] /= sum;
  else residual.set(p);
}
