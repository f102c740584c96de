/**
 * When a greedy draft stops: the acceptance estimate behind `draftAcceptFloor`.
 *
 * Greedy verification accepts a draft token when it is the target's argmax too. A distilled draft's
 * probability for its own token makes a poor floor: its distribution is as flat as the target's, and
 * tokens it gives 0.1-0.2 were still accepted 75% of the time on held-out text. The gap to its runner-up
 * separates them better: with r = runner-up probability / drafted token's probability, tokens with
 * r < 0.2 were accepted 100% of the time and tokens with r > 0.9 44% (docs/engine-performance.md). So each drafted token
 * multiplies the estimate that the whole draft is accepted by 1 - r^2 / 2: 1 for a clear winner, 1/2 for
 * two equal candidates (the target picks one of them). Drafting stops after the token that takes the
 * estimate below the floor. The drafting loop of export_fused.py computes the same product in float32.
 */

/** The factor one drafted token contributes to the estimate, from its probability and its runner-up's. */
export function agreementFactor(prob: number, runnerUpProb: number): number {
  if (!(prob > 0)) return 0;
  const r = Math.min(1, runnerUpProb / prob);
  return 1 - (r * r) / 2;
}

/**
 * How many of the drafted tokens (probabilities and runner-up probabilities in order) a draft keeps at
 * `floor`: up to and including the one that takes the running estimate below it. 0 keeps them all.
 */
export function keptAtFloor(probs: readonly number[], runnerUpProbs: readonly number[], floor: number): number {
  if (floor <= 0) return probs.length;
  let estimate = 1;
  for (let i = 0; i < probs.length; i++) {
    estimate *= agreementFactor(probs[i], runnerUpProbs[i] ?? 0);
    if (estimate < floor) return i + 1;
  }
  return probs.length;
}

/** The largest and second-largest entries of a probability row: the drafted token's and its runner-up's when greedy. */
export function topTwo(dist: ArrayLike<number>): [number, number] {
  let first = -Infinity;
  let second = -Infinity;
  for (let i = 0; i < dist.length; i++) {
    const p = dist[i];
    if (p > first) {
      second = first;
      first = p;
    } else if (p > second) second = p;
  }
  return [first, Math.max(second, 0)];
}
