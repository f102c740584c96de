import "server-only";
import type { SpecLensDb } from "@/db/client";
import { latestReplay } from "@/db/queries/replays";
import {
  firstDraftIntroduced, isDraftIntroduced, spanVerdict, tokenOffsets, tokensInRange,
  type DraftEvidence, type FirstDivergence, type ReplayedToken, type Verdict,
} from "./compare";
import { compareReplay, defaultReplayDeps, runReplay, type ReplayAnswer, type ReplayDeps } from "./run";
import { loadOriginal, type OriginalTrace } from "./source";

/*
 * Attribution of a trace's output: every token's origin with the target's and the draft's
 * probabilities, and for a span of output text (character offsets into the completion) a verdict with
 * its evidence: the original and the target-only counterfactual aligned, the first divergence, the
 * probabilities there. The target-only replay runs once per trace and models and is reused after.
 */

export interface AttributedToken {
  position: number;
  text: string;
  start: number;
  end: number;
  origin: string;
  targetProb: number | null;
  draftProb: number | null;
  targetChoice: { token: number; prob: number | null; text: string } | null;
  /** Lossy-accepted against the target's own choice. */
  draftIntroduced: boolean;
  /** The target-only replay has the same token at the same position (and nothing before differs). */
  sameInTargetOnly: boolean;
}

export interface SpanAttribution {
  start: number;
  end: number;
  text: string;
  /** [first, last] output positions the span overlaps. */
  positions: [number, number];
  verdict: Verdict;
  explanation: string;
  /** The span's text occurs in the target-only output. */
  inTargetOnly: boolean;
  draftEvidence: DraftEvidence | null;
}

export interface AttributionAnswer {
  traceId: string;
  /** The target-only replay the comparison is against, and whether it was reused. */
  targetOnly: { traceId: string; reused: boolean; text: string; tokens: { position: number; text: string; id: number }[] };
  completion: string;
  tokens: AttributedToken[];
  /** The whole output against the target-only replay. */
  overall: Pick<ReplayAnswer, "verdict" | "explanation" | "firstDivergence" | "draftEvidence" | "modelChanges">;
  firstDraftIntroduced: number | null;
  configVersion: string | null;
  lossyThreshold: number | null;
  span: SpanAttribution | null;
}

export class AttributionRangeError extends Error {
  constructor(
    readonly param: "start" | "end",
    message: string,
  ) {
    super(message);
  }
}

/** The target-only replay of a trace on the loaded target: a stored one when there is, else a new run. */
async function targetOnlyReplay(db: SpecLensDb, original: OriginalTrace, deps: ReplayDeps): Promise<{ answer: ReplayAnswer; tokens: ReplayedToken[]; reused: boolean }> {
  const engine = await deps.engine();
  const storedId = latestReplay(db, original.traceId, "target-only", engine.modelIds.target.sha256);
  const stored = storedId ? loadOriginal(db, storedId) : null;
  if (stored) {
    const tokens = stored.tokens.map((t) => ({ id: t.id, text: t.text }));
    const answer = await compareReplay(original, tokens, {
      engine, deps, mode: "target-only", promptIds: original.promptIds ?? engine.tokenizer.encode(original.prompt),
      configVersion: original.configVersion, adjustments: [], traceId: stored.traceId, replayText: stored.completion, finishReason: stored.finishReason ?? "length",
    });
    return { answer, tokens, reused: true };
  }
  const answer = await runReplay(db, original, { mode: "target-only" }, { deps });
  const ran = loadOriginal(db, answer.traceId);
  return { answer, tokens: ran ? ran.tokens.map((t) => ({ id: t.id, text: t.text })) : [], reused: false };
}

export async function attribute(
  db: SpecLensDb,
  original: OriginalTrace,
  range: { start: number; end: number } | null,
  deps: ReplayDeps = defaultReplayDeps,
): Promise<AttributionAnswer> {
  const completion = original.completion;
  if (range) {
    if (range.start >= completion.length) throw new AttributionRangeError("start", `must be below the completion's length of ${completion.length} characters`);
    if (range.end > completion.length) throw new AttributionRangeError("end", `must be at most the completion's length of ${completion.length} characters`);
  }
  const engine = await deps.engine();
  const { answer, tokens: replayed, reused } = await targetOnlyReplay(db, original, deps);
  const divergence: FirstDivergence | null = answer.firstDivergence;
  const offsets = tokenOffsets(original.tokens, completion, (n) => engine.tokenizer.decode(original.tokens.slice(0, n).map((t) => t.id)));
  const parted = divergence?.position ?? Infinity;
  const tokens: AttributedToken[] = original.tokens.map((t, i) => ({
    position: t.position,
    text: t.text,
    ...offsets[i],
    origin: t.origin,
    targetProb: t.targetProb,
    draftProb: t.draftProb,
    targetChoice: t.targetChoice ? { ...t.targetChoice, text: engine.tokenizer.tokenText(t.targetChoice.token) } : null,
    draftIntroduced: isDraftIntroduced(t),
    sameInTargetOnly: i < parted,
  }));
  const lossyThreshold = original.config.verify === "lossy" ? original.config.lossyThreshold : null;
  const targetOnlyText = replayed.map((t) => t.text).join("");

  let span: SpanAttribution | null = null;
  if (range) {
    const inside = tokensInRange(offsets, range.start, range.end);
    const first = inside[0] ?? 0;
    const last = inside.at(-1) ?? first;
    const text = completion.slice(range.start, range.end);
    const decided = spanVerdict({
      first, last, original: original.tokens, divergence, greedy: original.params.temperature === 0, modelChanges: answer.modelChanges,
      configVersion: original.configVersion, lossyThreshold, tokenText: (id) => engine.tokenizer.tokenText(id),
    });
    span = { start: range.start, end: range.end, text, positions: [first, last], inTargetOnly: targetOnlyText.includes(text), ...decided };
  }

  return {
    traceId: original.traceId,
    targetOnly: { traceId: answer.traceId, reused, text: answer.replay.text, tokens: replayed.map((t, position) => ({ position, ...t })) },
    completion,
    tokens,
    overall: { verdict: answer.verdict, explanation: answer.explanation, firstDivergence: divergence, draftEvidence: answer.draftEvidence, modelChanges: answer.modelChanges },
    firstDraftIntroduced: firstDraftIntroduced(original.tokens)?.position ?? null,
    configVersion: original.configVersion,
    lossyThreshold,
    span,
  };
}
