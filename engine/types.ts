/**
 * The engine's contracts: generation parameters, the proposer-to-verifier contract, and the
 * per-step and per-request records that tracing, metrics, the API and replay are built from.
 */
import type { GuardrailAction } from "./guardrails";
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
   * sampling; missing (undefined) at a depth whose token was chosen deterministically: a point mass,
   * verified against the target's (residual) probability alone, whatever draftProbs says.
   */
  draftDists: (Float32Array | undefined)[];
}

export interface Proposal {
  /** [numPaths] candidate paths; empty when the proposer has nothing to offer this step. */
  paths: DraftPath[];
}

export interface CacheChange {
  /** Logical positions rolled back (tokens the cache held that are not committed), this step. */
  dropped: number;
  /** Positions evicted by the sliding window (draftWindow) since the previous step's report. */
  evicted: number;
  lengthBefore: number;
  lengthAfter: number;
}

/** What happened to one draft position during verification. */
export type PositionOutcome = "accepted" | "lossy-accepted" | "rejected";

/** Where an output token came from. */
export type TokenOrigin = "accepted" | "lossy-accepted" | "recovered" | "bonus" | "target";

/** What the target alone would have emitted at a position, with its processed probability. */
export interface TargetChoice {
  token: number;
  prob: number;
}

/**
 * One draft token the verifier examined. Everything needed to recompute the decision is here:
 * outcome is "accepted" iff uniform < acceptProb; otherwise "lossy-accepted" iff the mode is lossy
 * and targetProb >= the config's lossyThreshold; otherwise "rejected".
 */
export interface ExaminedToken {
  /** Index into the step's paths. */
  path: number;
  /** Position in that path (0 = first draft token). */
  depth: number;
  token: number;
  outcome: PositionOutcome;
  /** The target's processed probability for the token. */
  targetProb: number;
  /** Whether the token is the target's argmax. */
  targetArgmax: boolean;
  /**
   * The token the target alone would have emitted here (its argmax when greedy, else its draw with
   * uniform("target", position)), which a seeded `off` run emits at this output position.
   */
  targetChoice: TargetChoice;
  /** q(x): the proposer's probability for the token (1 for n-gram). */
  draftProb: number;
  /** Verified as a point mass (n-gram, tree siblings, greedy drafts): acceptProb ignores q. */
  pointMass: boolean;
  /**
   * The lossless acceptance probability applied: greedy 1 or 0 (argmax or not); sampled from q
   * min(1, p'(x)/q(x)); a point mass p'(x), p' being the residual left by earlier siblings.
   */
  acceptProb: number;
  /** The uniform drawn, uniform("accept", position, i) for the i-th candidate there; 0 when greedy. */
  uniform: number;
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
  /** What the target alone would have emitted at nextToken's position (a recovered token may differ from it). */
  nextTargetChoice: TargetChoice;
}

/**
 * The counts of one step (engine/stats.ts stepCounts):
 * - drafted: draft tokens proposed on every path, less the discarded ones;
 * - accepted: draft tokens kept (accepted or lossy-accepted) and emitted;
 * - discarded: accepted draft tokens dropped because the request ended before them (EOS, a stop
 *   string, max_tokens): neither drafted nor accepted;
 * - acceptedAt / draftedAt: [depth] 1 where position i was accepted / drafted on the chosen path.
 */
export interface StepCounts {
  drafted: number;
  accepted: number;
  discarded: number;
  draftedAt: number[];
  acceptedAt: number[];
}

export interface OutputToken {
  id: number;
  text: string;
  origin: TokenOrigin;
  /** The target's processed probability for the token. */
  prob: number;
  /** The proposer's probability for an accepted draft token; null for the target's own tokens. */
  draftProb: number | null;
  /** What the target alone would have emitted at this position (equal to id unless lossy-accepted). */
  targetChoice: TargetChoice;
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
  /** Output position of the step's first token (= output tokens before the step). */
  position: number;
  /** [numPaths][depth] every proposed path; the chosen one is verify.pathIndex. */
  paths: { tokens: number[]; draftProbs: number[]; pointMass: boolean[] }[];
  verify: VerifyResult;
  /** Tokens emitted by this step (accepted prefix then the recovered/bonus token), after stops. */
  emitted: OutputToken[];
  /**
   * The text this step adds to the output: never part of a stop string, never half a UTF-8
   * character; the deltas of all steps concatenate to the result's text.
   */
  textDelta: string;
  /** The step's counts, observed once (engine/stats.ts) and used by the summary, /metrics and traces. */
  counts: StepCounts;
  rollback: { target: CacheChange; draft: CacheChange | null };
  timings: StepTimings;
  kvBytes: { target: number; draft: number };
  /** Set on the step where a guardrail rule acted inside the request (the fallback rule). */
  guardrail?: GuardrailAction;
}

export type FinishReason = "length" | "stop" | "eos" | "abort" | "time_budget";

export interface SpecSummary {
  proposer: ProposerName;
  verify: VerifyMode;
  steps: number;
  drafted: number;
  accepted: number;
  /** Accepted draft tokens discarded because the request ended before them (not in drafted or accepted). */
  discarded: number;
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
