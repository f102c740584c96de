import type { Rng } from "../rng";
import type { SamplingParams } from "../sampling";
import type { CacheChange, ProposerName, Proposal } from "../types";

export interface ProposeInput {
  /** [numCommitted] prompt plus output tokens committed so far. */
  tokens: readonly number[];
  /** Draft length requested for this step (>= 1). */
  k: number;
  /** Applied to the draft's logits exactly as to the target's. */
  sampling: SamplingParams;
  /** Whether draft tokens are sampled (lossless sampling) rather than taken greedily. */
  sampled: boolean;
  /** Output position of the first draft token (the RNG's position; bannedAt's argument). */
  position: number;
  /** Tokens that must not be proposed at an output position (EOS before min_tokens). */
  bannedAt: (position: number) => readonly number[];
  rng: Rng;
}

/** Proposes draft tokens for one step. One implementation per file; built by createProposer. */
export interface Proposer {
  readonly name: ProposerName;
  propose(input: ProposeInput): Promise<Proposal>;
  /** After verification: drop draft state beyond the committed tokens; null for model-free proposers. */
  rollback(committed: readonly number[]): CacheChange | null;
  /** Bytes of KV cache the proposer holds (0 for model-free proposers). */
  kvBytes(): number;
  dispose(): void;
}
