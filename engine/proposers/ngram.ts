/**
 * ngram (prompt lookup): find the most recent earlier occurrence of the last n committed tokens, for
 * n from maxN down to minN, and propose the tokens that followed it. No model; the proposal is a
 * point mass (draft probability 1).
 */
import type { Proposal } from "../types";
import type { ProposeInput, Proposer } from "./types";

export class NgramProposer implements Proposer {
  readonly name = "ngram" as const;

  constructor(
    private readonly minN: number,
    private readonly maxN: number,
  ) {}

  async propose(input: ProposeInput): Promise<Proposal> {
    const found = lookup(input.tokens, this.minN, this.maxN, input.k);
    // The proposal ends before a token banned at its position (dropping it from the middle would
    // shift every later token to a position it was not proposed for).
    const banned = found.findIndex((t, i) => input.bannedAt(input.position + i).includes(t));
    const tokens = banned < 0 ? found : found.slice(0, banned);
    if (tokens.length === 0) return { paths: [] };
    return { paths: [{ tokens, draftProbs: tokens.map(() => 1), draftDists: tokens.map(() => undefined) }] };
  }

  rollback(): null {
    return null;
  }

  kvBytes(): number {
    return 0;
  }

  dispose(): void {}
}

/**
 * The up to `k` tokens that followed the most recent earlier match of the longest suffix of
 * `tokens` with length in [minN, maxN]; [] when no suffix recurs.
 */
export function lookup(tokens: readonly number[], minN: number, maxN: number, k: number): number[] {
  const len = tokens.length;
  for (let n = Math.min(maxN, len - 1); n >= minN; n--) {
    const suffixStart = len - n;
    for (let start = suffixStart - 1; start >= 0; start--) {
      let match = true;
      for (let j = 0; j < n; j++) {
        if (tokens[start + j] !== tokens[suffixStart + j]) {
          match = false;
          break;
        }
      }
      if (match) return tokens.slice(start + n, Math.min(start + n + k, len));
    }
  }
  return [];
}
