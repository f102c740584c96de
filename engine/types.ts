/**
 * The engine's contracts: generation parameters, the proposer-to-verifier contract, and the
 * per-step and per-request records that tracing, metrics, the API and replay are built from.
 */
import type { ModelId } from "./runtime/model-folder";
import type { SamplingParams } from "./sampling";

export { PROPOSERS, VERIFY_MODES, DEFAULT_SPEC_CONFIG } from "./config";
export type { ProposerName, VerifyMode, SpecConfig, SpecConfigInput } from "./config";
import type { ProposerName, VerifyMode } from "./config";

export interface GenerateParams extends SamplingParams {
  maxTokens: number;
  /** Do not emit EOS before this many tokens. */
  minTokens: number;
  ignoreEos: boolean;
  stop: string[];
  seed: number;
  /** Wall-clock budget in ms for the whole request; 0 means none. */
  timeBudgetMs: number;
  /** How many most likely alternatives to report per output token (OpenAI top_logprobs), 0-20. */
  topLogprobs: number;
}

export const DEFAULT_PARAMS: GenerateParams = {
  temperature: 0,
  topK: 0,
  topP: 1,
  maxTokens: 128,
  minTokens: 0,
  ignoreEos: false,
  stop: [],
  seed: 0,
  timeBudgetMs: 0,
  topLogprobs: 0,
};

/** One root-to-leaf path of draft tokens. A chain proposal has one path, a tree several. */
export interface DraftPath {
  /** [depth] draft token ids */
  tokens: number[];
  /** [depth] the proposer's probability for each token (1 for point-mass proposals such as n-gram) */
  draftProbs: number[];
  /**
   * [depth][vocab] the distributions the tokens were *sampled* from, for lossless rejection
   * sampling; empty when the tokens were chosen deterministically (point masses).
   */
  draftDists: Float32Array[];
}

export interface Proposal {
  /** [numPaths] candidate paths; empty when the proposer has nothing to offer this step. */
  paths: DraftPath[];
  /** Draft-side rollback and cache bookkeeping done while proposing. */
  draftCache: CacheChange | null;
}

export interface CacheChange {
  /** Positions dropped from the cache (rollback or window eviction). */
  dropped: number;
  lengthBefore: number;
  lengthAfter: number;
}

/** What happened to one draft position during verification. */
export type PositionOutcome = "accepted" | "lossy-accepted" | "rejected";

/** Where an output token came from. */
export type TokenOrigin = "accepted" | "lossy-accepted" | "recovered" | "bonus" | "target";

/** One draft token the verifier examined. */
export interface ExaminedToken {
  /** Index into the step's paths. */
  path: number;
  /** Position in that path (0 = first draft token). */
  depth: number;
  token: number;
  outcome: PositionOutcome;
  /** The target's processed probability for the token. */
  targetProb: number;
  /** Whether the token is the target's argmax: what the target alone would have chosen (greedy). */
  targetArgmax: boolean;
}

export interface VerifyResult {
  /** Index into the step's paths of the path whose prefix was accepted; -1 when there were none. */
  pathIndex: number;
  /** Number of draft tokens accepted from that path. */
  accepted: number;
  /** [examined] every draft token the verifier looked at, in order (siblings of a tree included). */
  examined: ExaminedToken[];
  /** The target's token after the accepted prefix: recovered (after a rejection), bonus, or its own. */
  nextToken: number;
  nextOrigin: "recovered" | "bonus" | "target";
  /** The target's processed probability for nextToken. */
  nextTokenProb: number;
}

export interface OutputToken {
  id: number;
  text: string;
  origin: TokenOrigin;
  /** The target's processed probability for the token. */
  prob: number;
  /** Natural-log probability under the target's unprocessed distribution (for logprobs). */
  logprob: number;
  /** [topLogprobs] the target's most likely tokens at this position; empty unless requested. */
  topLogprobs: { id: number; text: string; logprob: number }[];
  step: number;
}

export interface StepTimings {
  draftMs: number;
  verifyMs: number;
  overheadMs: number;
}

export interface StepRecord {
  index: number;
  proposer: ProposerName;
  /** k requested this step (after adaptation). */
  k: number;
  /** [numPaths][depth] every proposed path; the chosen one is verify.pathIndex. */
  paths: { tokens: number[]; draftProbs: number[] }[];
  verify: VerifyResult;
  /** Tokens emitted by this step (accepted prefix then the recovered/bonus token), after stops. */
  emitted: OutputToken[];
  rollback: { target: CacheChange; draft: CacheChange | null };
  timings: StepTimings;
  kvBytes: { target: number; draft: number };
}

export type FinishReason = "length" | "stop" | "eos" | "abort" | "time_budget";

export interface SpecSummary {
  proposer: ProposerName;
  verify: VerifyMode;
  steps: number;
  drafted: number;
  accepted: number;
  /** accepted / drafted (0 when nothing was drafted). */
  acceptanceRate: number;
  /** 1 + accepted / steps: tokens per target pass, vLLM's convention. */
  meanAcceptanceLength: number;
  /** [kMax] accepted / drafted at each draft position. */
  perPositionAcceptance: number[];
}

export interface GenerateResult {
  text: string;
  tokens: OutputToken[];
  promptTokens: number;
  finishReason: FinishReason;
  summary: SpecSummary;
  models: { target: ModelId; draft: ModelId | null };
  timings: { prefillMs: number; totalMs: number; firstTokenMs: number };
}
