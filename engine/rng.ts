/**
 * Counter-based randomness: every uniform the engine draws is a pure function of
 * (seed, purpose, output position, index), not the next value of one sequential stream. So a draw
 * does not depend on how many draws came before it, and runs that take different paths still share
 * their randomness where they mean the same thing: a seeded `off` run draws the token at output
 * position n with uniform("target", n, 0), exactly the uniform a speculative run uses for its
 * bonus token at n and for the `targetChoice` it records there (the coupled counterfactual that
 * replay relies on).
 *
 * Purposes:
 *   draft     the draft model's sampled token at output position n (index 0)
 *   accept    the acceptance test of the i-th candidate examined at position n (index i)
 *   residual  the recovered token drawn from the residual after a rejection at n (index 0)
 *   target    the target's own token at n (bonus, or every token when nothing is drafted; index 0)
 *
 * The hash: four 32-bit words mixed with murmur3's finaliser in a splitmix-style chain, two
 * independent 32-bit outputs combined into a 53-bit mantissa.
 */

export const RNG_PURPOSES = ["draft", "accept", "residual", "target"] as const;
export type RngPurpose = (typeof RNG_PURPOSES)[number];

export interface Rng {
  /** A uniform float in [0, 1), a pure function of the seed and these three coordinates. */
  uniform(purpose: RngPurpose, position: number, index?: number): number;
}

const PURPOSE_KEY: Record<RngPurpose, number> = { draft: 0x68e31da4, accept: 0xb5297a4d, residual: 0x1b56c4e9, target: 0x7f4a7c15 };

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mix(state: number, word: number): number {
  return fmix32((state ^ fmix32((word >>> 0) + 0x9e3779b9)) + 0x632be5ab);
}

/** The uniform at (seed, purpose, position, index); exported for tests and replay tools. */
export function uniformAt(seed: number, purpose: RngPurpose, position: number, index = 0): number {
  let h = mix(0x243f6a88, seed);
  // Seeds above 2^32 (not produced by the API, but possible from a library caller) keep their high bits.
  h = mix(h, Math.floor(seed / 4294967296));
  h = mix(h, PURPOSE_KEY[purpose]);
  h = mix(h, position);
  h = mix(h, index);
  const hi = fmix32(h ^ 0x5bd1e995) >>> 5; // 27 bits
  const lo = fmix32(h + 0x27d4eb2f) >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}

export function createRng(seed: number): Rng {
  return { uniform: (purpose, position, index = 0) => uniformAt(seed, purpose, position, index) };
}
