/*
 * Replay comparison and verdicts as pure functions: no engine, no database, so every rule is tested
 * on crafted records (tests/app/replay-compare.test.ts).
 *
 * Terms:
 * - a draft-introduced token: an output token accepted under lossy verification that the target
 *   alone would not have chosen there (its targetChoice differs). Under lossless verification no
 *   token is draft-introduced: the output is the target's by construction.
 * - first divergence: the first output position where the original and the replay differ (a token
 *   that differs, or one output ending where the other goes on).
 * - numerical tie: a lossless greedy run that differs from the replay at a position where the
 *   target's top-2 log-probability margin is below NEAR_TIE_MARGIN, so a multi-position verification
 *   pass and a one-token pass may round to different argmaxes; not a draft error.
 */

export const REPLAY_MODES = ["exact", "target-only", "draft-only", "config"] as const;
export type ReplayMode = (typeof REPLAY_MODES)[number];

export const VERDICTS = ["reproduced", "draft", "target", "numerical-tie", "models-changed"] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Below this top-2 log-probability margin (natural log), the target's argmax is a numerical tie. */
export const NEAR_TIE_MARGIN = 1e-3;

/** One output token of a stored trace, with what the records say about who chose it. */
export interface RecordedToken {
  position: number;
  id: number;
  text: string;
  /** accepted | lossy-accepted | recovered | bonus | target */
  origin: string;
  /** The target's (processed) probability for the token. */
  targetProb: number | null;
  /** The draft's probability for the token, when a draft proposed it. */
  draftProb: number | null;
  /** What the target alone would have emitted here, when recorded (null: unknown). */
  targetChoice: { token: number; prob: number | null } | null;
  /**
   * Whether the target alone would have chosen this token: true for the target's own tokens, from
   * targetChoice (or the recorded argmax flag on older greedy records) for drafts; null: unknown.
   */
  targetAgrees: boolean | null;
}

export interface ReplayedToken {
  id: number;
  text: string;
}

export interface FirstDivergence {
  position: number;
  /** null when the original ended here and the replay went on. */
  original: { token: number; text: string; origin: string } | null;
  /** null when the replay ended here and the original went on. */
  replay: { token: number; text: string } | null;
  /** The target's top-2 log-probability margin at the position (one-token pass); null if not measured. */
  targetTop2Margin: number | null;
}

export function isDraftIntroduced(token: RecordedToken): boolean {
  return token.origin === "lossy-accepted" && token.targetAgrees === false;
}

/** The first token the draft put into the output against the target's own choice, or null. */
export function firstDraftIntroduced(tokens: readonly RecordedToken[]): RecordedToken | null {
  return tokens.find(isDraftIntroduced) ?? null;
}

/** The first position where the two outputs differ, or null when they are identical. */
export function divergencePosition(original: readonly { id: number }[], replay: readonly { id: number }[]): number | null {
  const n = Math.min(original.length, replay.length);
  for (let i = 0; i < n; i++) if (original[i].id !== replay[i].id) return i;
  return original.length === replay.length ? null : n;
}

export function describeDivergence(
  position: number | null,
  original: readonly RecordedToken[],
  replay: readonly ReplayedToken[],
  targetTop2Margin: number | null,
): FirstDivergence | null {
  if (position === null) return null;
  const o = original[position];
  const r = replay[position];
  return {
    position,
    original: o ? { token: o.id, text: o.text, origin: o.origin } : null,
    replay: r ? { token: r.id, text: r.text } : null,
    targetTop2Margin,
  };
}

/** The draft-introduced token as evidence: where, what each model gave it, under which config. */
export interface DraftEvidence {
  position: number;
  token: number;
  text: string;
  draftProb: number | null;
  targetProb: number | null;
  targetChoice: { token: number; prob: number | null; text: string | null } | null;
  configVersion: string | null;
  lossyThreshold: number | null;
}

export interface VerdictInput {
  mode: ReplayMode;
  /** What differs between the models/runtime the trace recorded and the ones loaded now; empty if none. */
  modelChanges: readonly string[];
  original: readonly RecordedToken[];
  divergence: FirstDivergence | null;
  /** The original ran greedy (temperature 0). */
  greedy: boolean;
  configVersion: string | null;
  lossyThreshold: number | null;
  /** Text of a token id, for naming the target's choice. */
  tokenText?: (id: number) => string;
}

export interface VerdictAnswer {
  verdict: Verdict;
  explanation: string;
  draftEvidence: DraftEvidence | null;
}

/**
 * The draft-introduced token as evidence. When the record does not hold the target's own choice, a
 * greedy target-only replay that parts exactly there supplies it: same prefix, the target's argmax.
 */
export function draftEvidence(
  token: RecordedToken,
  input: Pick<VerdictInput, "configVersion" | "lossyThreshold" | "tokenText"> & { counterfactual?: FirstDivergence | null; greedy?: boolean },
): DraftEvidence {
  const cf = input.counterfactual;
  if (!token.targetChoice && input.greedy && cf?.replay && cf.position === token.position) {
    return { ...draftEvidence({ ...token, targetChoice: { token: cf.replay.token, prob: null } }, { ...input, counterfactual: null }), targetChoice: { token: cf.replay.token, prob: null, text: cf.replay.text } };
  }
  const choice = token.targetChoice;
  return {
    position: token.position,
    token: token.id,
    text: token.text,
    draftProb: token.draftProb,
    targetProb: token.targetProb,
    targetChoice: choice ? { ...choice, text: input.tokenText ? input.tokenText(choice.token) : null } : null,
    configVersion: input.configVersion,
    lossyThreshold: input.lossyThreshold,
  };
}

const quote = (text: string) => JSON.stringify(text);

function draftSentence(e: DraftEvidence): string {
  const target = e.targetChoice?.text != null ? `; the target alone would have emitted ${quote(e.targetChoice.text)}` : "";
  const probs = `target p=${fmt(e.targetProb)}, draft p=${fmt(e.draftProb)}`;
  return `introduced by the draft: lossy acceptance of ${quote(e.text)} at position ${e.position} (${probs}) under config version ${e.configVersion ?? "?"} with lossy threshold ${e.lossyThreshold ?? "?"}${target}`;
}

export const fmt = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? "?" : v.toFixed(digits));

/**
 * The verdict of one replay against its original:
 * - models-changed when the recorded model files or runtime differ from the loaded ones (a
 *   divergence then proves nothing about draft or target);
 * - reproduced when the outputs are identical token for token;
 * - draft when the first divergence is a draft-introduced token, or, for the target-only
 *   counterfactual, when the original holds one at all (under sampling the two runs' draws may part
 *   earlier, but the target alone would never have written that token there);
 * - numerical-tie when a greedy run diverges where the target's top-2 margin is below NEAR_TIE_MARGIN;
 * - target otherwise: the differing token was the target's own choice.
 */
export function decideVerdict(input: VerdictInput): VerdictAnswer {
  const firstDraft = firstDraftIntroduced(input.original);
  const counterfactual = input.mode === "target-only" ? input.divergence : null;
  const evidence = firstDraft ? draftEvidence(firstDraft, { ...input, counterfactual }) : null;
  if (input.modelChanges.length > 0) {
    return { verdict: "models-changed", explanation: `the trace ran on other models or another runtime than the ones loaded now: ${input.modelChanges.join("; ")}`, draftEvidence: evidence };
  }
  const d = input.divergence;
  if (d === null) {
    const what = input.mode === "target-only" ? "the target alone writes exactly this output" : "the replay reproduced the output token for token";
    return { verdict: "reproduced", explanation: what, draftEvidence: evidence };
  }
  const atDivergence = input.original[d.position];
  if (evidence && (atDivergence === firstDraft || input.mode === "target-only")) {
    return { verdict: "draft", explanation: draftSentence(evidence), draftEvidence: evidence };
  }
  const margin = d.targetTop2Margin;
  if (input.greedy && margin !== null && margin < NEAR_TIE_MARGIN && !(atDivergence && isDraftIntroduced(atDivergence))) {
    return {
      verdict: "numerical-tie",
      explanation: `the outputs part at position ${d.position}, where the target's top-2 log-probability margin is ${margin.toExponential(2)} (below ${NEAR_TIE_MARGIN}): a near-tie that a multi-position and a one-token pass may round differently, not a draft error`,
      draftEvidence: evidence,
    };
  }
  const lossless = evidence === null;
  const why = lossless
    ? input.greedy
      ? "the token there was the target's own choice (lossless verification: the output is the target's by construction)"
      : "the run was lossless, so both outputs follow the target's distribution; under sampling the speculative run's draws part from the target-alone draws"
    : "the token there was the target's own choice";
  return { verdict: "target", explanation: `the outputs part at position ${d.position}: ${why}`, draftEvidence: evidence };
}

/** One span of output text and the verdict on it, for the attribution view. */
export interface SpanVerdictInput {
  first: number;
  last: number;
  original: readonly RecordedToken[];
  /** Against the target-only replay. */
  divergence: FirstDivergence | null;
  greedy: boolean;
  modelChanges: readonly string[];
  configVersion: string | null;
  lossyThreshold: number | null;
  tokenText?: (id: number) => string;
}

/**
 * A span [first, last] of output positions: introduced by the draft when it reaches the first
 * draft-introduced token (the draft changed the output there and everything after follows from
 * it), a numerical tie when it reaches a greedy divergence at a near-tie, and otherwise produced by
 * the target (before the divergence it is the target-only output itself; after it, on a lossless run,
 * the target's by construction).
 */
export function spanVerdict(input: SpanVerdictInput): VerdictAnswer {
  const firstDraft = firstDraftIntroduced(input.original);
  const evidence = firstDraft ? draftEvidence(firstDraft, { ...input, counterfactual: input.divergence }) : null;
  if (input.modelChanges.length > 0) {
    return { verdict: "models-changed", explanation: `cannot attribute against the models loaded now: ${input.modelChanges.join("; ")}`, draftEvidence: evidence };
  }
  if (evidence && firstDraft && input.last >= firstDraft.position) {
    const where = input.first > firstDraft.position ? "the span follows" : "the span contains";
    return { verdict: "draft", explanation: `${where} a token ${draftSentence(evidence)}`, draftEvidence: evidence };
  }
  const d = input.divergence;
  if (d && input.last >= d.position) {
    const margin = d.targetTop2Margin;
    if (input.greedy && margin !== null && margin < NEAR_TIE_MARGIN) {
      return {
        verdict: "numerical-tie",
        explanation: `the span reaches position ${d.position}, where the target-only replay differs at a near-tie (top-2 margin ${margin.toExponential(2)})`,
        draftEvidence: evidence,
      };
    }
    return {
      verdict: "target",
      explanation: `produced by the target: the run was lossless up to here, so the text is the target's by construction (the target-only replay differs from position ${d.position} on: ${input.greedy ? "a different target choice" : "sampling draws part"})`,
      draftEvidence: evidence,
    };
  }
  return { verdict: "target", explanation: "produced by the target: it appears in the target-only output too, at the same positions", draftEvidence: evidence };
}

/**
 * Character offsets [start, end) of each token in the completion. Token texts concatenate to the
 * completion for the shipped byte-level tokenizer; when they do not (a token splitting a multi-byte
 * character), `decodePrefix` supplies the exact prefix lengths.
 */
export function tokenOffsets(
  tokens: readonly { text: string }[],
  completion: string,
  decodePrefix?: (count: number) => string,
): { start: number; end: number }[] {
  const joined = tokens.map((t) => t.text).join("");
  if (joined === completion || !decodePrefix) {
    let at = 0;
    return tokens.map((t) => ({ start: at, end: (at += t.text.length) }));
  }
  let prev = 0;
  return tokens.map((_, i) => {
    const end = Math.max(prev, Math.min(completion.length, decodePrefix(i + 1).length));
    const span = { start: prev, end };
    prev = end;
    return span;
  });
}

/** Positions of the tokens that overlap [start, end); empty for an empty or out-of-range span. */
export function tokensInRange(offsets: readonly { start: number; end: number }[], start: number, end: number): number[] {
  const out: number[] = [];
  offsets.forEach((o, i) => {
    if (o.end > start && o.start < end) out.push(i);
  });
  return out;
}
