import type { Rng } from "../rng";
import type { SamplingParams } from "../sampling";
import type { ProposerName, Proposal } from "../types";

export interface ProposeInput {
  /** [numCommitted] prompt plus output tokens committed so far. */
  tokens: readonly number[];
  /** Draft length requested for this step (>= 1). */
  k: number;
  /** Applied to the draft's logits exactly as to the target's. */
  sampling: SamplingParams;
  /** Whether draft tokens are sampled (lossless sampling) rather than taken greedily. */
  sampled: boolean;
  /** Tokens the draft must not propose (EOS before min_tokens). */
  banned: readonly number[];
  rng: Rng;
}

/** Proposes draft tokens for one step. One implementation per file; built by createProposer. */
export interface Proposer {
  readonly name: ProposerName;
  propose(input: ProposeInput): Promise<Proposal>;
  /** Bytes of KV cache the proposer holds (0 for model-free proposers). */
  kvBytes(): number;
  dispose(): void;
}
