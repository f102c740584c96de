/**
 * Verification: decide which draft tokens the target keeps. Pure functions over typed arrays with an
 * injected RNG, so seeded runs are reproducible.
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
 *   distributed exactly as p, the target's processed distribution.
 * - lossy: accept a draft token when the target's probability for it is at least a threshold (or it
 *   is the target's argmax). Output may differ from the target alone; targetArgmax records, for every
 *   examined token, whether the target alone would have chosen it — the raw material of replay's
 *   draft-versus-target attribution.
 */
import type { Rng } from "./rng";
import { argmax, sample } from "./sampling";
import type { DraftPath, ExaminedToken, PositionOutcome, VerifyMode, VerifyResult } from "./types";

export interface VerifyOptions {
  mode: VerifyMode;
  /** lossy: the target probability at which a draft token is accepted. */
  lossyThreshold: number;
  /** Whether the target's own tokens are drawn (temperature > 0) rather than argmax. */
  sampled: boolean;
  rng: Rng;
}

/**
 * The target's processed distribution ([vocab]) at batch row `row`, position `pos`: the distribution
 * after the last committed token followed by paths[row].tokens[0..pos). Called lazily, so a
 * verification that rejects early never computes the later positions.
 */
export type TargetDists = (row: number, pos: number) => Float32Array;

/** TargetDists over precomputed arrays, indexed [row][pos]. */
export function distsFromArrays(arrays: Float32Array[][]): TargetDists {
  return (row, pos) => arrays[row][pos];
}

/** Verify candidate paths that share their prefix up to each branching point; row r ran path r. */
export function verifyPaths(paths: readonly DraftPath[], targetDist: TargetDists, opts: VerifyOptions): VerifyResult {
  if (paths.length === 0) {
    const dist = targetDist(0, 0);
    const token = chooseFrom(dist, opts);
    return { pathIndex: -1, accepted: 0, examined: [], nextToken: token, nextOrigin: "target", nextTokenProb: dist[token] };
  }
  let alive = paths.map((_, i) => i);
  const examined: ExaminedToken[] = [];
  for (let depth = 0; ; depth++) {
    const row = alive[0];
    const dist = targetDist(row, depth);
    const best = argmax(dist);
    const candidates = uniqueCandidates(paths, alive, depth);
    if (candidates.length === 0) {
      const token = chooseFrom(dist, opts);
      return { pathIndex: row, accepted: depth, examined, nextToken: token, nextOrigin: "bonus", nextTokenProb: dist[token] };
    }
    let residual: Float32Array | null = null;
    let acceptedToken = -1;
    for (const [i, { token, path }] of candidates.entries()) {
      const draftDist = paths[path].draftDists[depth];
      let outcome: PositionOutcome = "rejected";
      if (opts.mode === "greedy") {
        if (token === best) outcome = "accepted";
      } else if (opts.mode === "lossy") {
        if (token === best) outcome = "accepted";
        else if (dist[token] >= opts.lossyThreshold) outcome = "lossy-accepted";
      } else {
        residual ??= Float32Array.from(dist);
        // A token sampled from q is tested against p itself, so only as the first candidate here.
        if (draftDist && i === 0) {
          const q = draftDist[token];
          if (q > 0 && opts.rng.next() < Math.min(1, residual[token] / q)) outcome = "accepted";
          else subtractAndNormalise(residual, draftDist);
        } else {
          if (opts.rng.next() < residual[token]) outcome = "accepted";
          else removeAndNormalise(residual, token);
        }
      }
      examined.push({ path, depth, token, outcome, targetProb: dist[token], targetArgmax: token === best });
      if (outcome !== "rejected") {
        acceptedToken = token;
        break;
      }
    }
    if (acceptedToken < 0) {
      const token = residual ? sample(residual, opts.rng) : chooseFrom(dist, opts);
      return { pathIndex: row, accepted: depth, examined, nextToken: token, nextOrigin: "recovered", nextTokenProb: dist[token] };
    }
    alive = alive.filter((p) => paths[p].tokens[depth] === acceptedToken);
  }
}

/** The token the target emits on its own: a draw when sampling, else its argmax. */
function chooseFrom(dist: Float32Array, opts: VerifyOptions): number {
  return opts.sampled ? sample(dist, opts.rng) : argmax(dist);
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

function subtractAndNormalise(residual: Float32Array, q: Float32Array): void {
  let sum = 0;
  for (let i = 0; i < residual.length; i++) {
    residual[i] = Math.max(0, residual[i] - q[i]);
    sum += residual[i];
  }
  if (sum > 0) for (let i = 0; i < residual.length; i++) residual[i] /= sum;
}

function removeAndNormalise(residual: Float32Array, token: number): void {
  const rest = 1 - residual[token];
  residual[token] = 0;
  if (rest > 0) for (let i = 0; i < residual.length; i++) residual[i] /= rest;
}
