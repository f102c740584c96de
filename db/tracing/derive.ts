import { A, GUARDRAIL_EVENT_PREFIX, STEP_SPAN_NAME, ROLLBACK_EVENT } from "@/engine";
import type { NewRequestRow, NewStepRow, NewTokenRow } from "../schema";
import type { AttributeMap, AttributeValue, SpanRecord } from "./span-record";

/*
 * Derived rows from spans. A span is a request span when it carries gen_ai.operation.name and the
 * speclens prompt (the engine's "text_completion <target>" span), a step span when it is named
 * "speclens.step" and carries a step index. Any other span is stored raw only.
 */

export type Derived =
  | { kind: "request"; request: NewRequestRow }
  | { kind: "step"; step: NewStepRow; tokens: NewTokenRow[] }
  | { kind: "none" };

const num = (v: AttributeValue | undefined): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: AttributeValue | undefined): string | null => (typeof v === "string" ? v : null);
const bool = (v: AttributeValue | undefined): boolean => v === true;
const list = (v: AttributeValue | undefined): AttributeValue[] => (Array.isArray(v) ? v : []);
const json = (v: AttributeValue | undefined, fallback: string): string => (v === undefined ? fallback : typeof v === "string" ? v : JSON.stringify(v));

export function isRequestSpan(span: SpanRecord): boolean {
  return span.name !== STEP_SPAN_NAME && typeof span.attributes[A.operation] === "string" && A.prompt in span.attributes;
}

export function isStepSpan(span: SpanRecord): boolean {
  return span.name === STEP_SPAN_NAME && typeof span.attributes[A.stepIndex] === "number";
}

export function deriveRows(span: SpanRecord): Derived {
  if (isStepSpan(span)) return { kind: "step", ...deriveStep(span) };
  if (isRequestSpan(span)) return { kind: "request", request: deriveRequest(span) };
  return { kind: "none" };
}

function deriveRequest(span: SpanRecord): NewRequestRow {
  const a = span.attributes;
  const finish = str(a[A.finishReason]) ?? str(list(a[A.finishReasons])[0]);
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    node: span.node,
    startNs: span.startTimeNs,
    endNs: span.endTimeNs,
    endpoint: str(a[A.endpoint]),
    operation: str(a[A.operation]) ?? "text_completion",
    requestModel: str(a[A.requestModel]),
    responseModel: str(a[A.responseModel]),
    prompt: str(a[A.prompt]) ?? "",
    completion: str(a[A.completion]),
    paramsJson: json(a[A.params], "{}"),
    configJson: json(a[A.config], "{}"),
    configVersion: str(a[A.configVersion]),
    proposer: str(a[A.proposer]),
    verifyMode: str(a[A.verifyMode]),
    targetModelId: str(a[A.targetModelId]),
    targetSha256: str(a[A.targetSha256]),
    draftModelId: str(a[A.draftModelId]),
    draftSha256: str(a[A.draftSha256]),
    seed: num(a[A.seed]),
    temperature: num(a[A.temperature]),
    maxTokens: num(a[A.maxTokens]),
    inputTokens: num(a[A.inputTokens]),
    outputTokens: num(a[A.outputTokens]),
    finishReason: finish,
    statusCode: span.statusCode,
    statusMessage: span.statusMessage,
    steps: num(a[A.steps]),
    drafted: num(a[A.drafted]),
    accepted: num(a[A.accepted]),
    acceptanceRate: num(a[A.acceptanceRate]),
    meanAcceptanceLength: num(a[A.meanAcceptanceLength]),
    perPositionJson: JSON.stringify(list(a[A.perPositionAcceptance])),
    prefillMs: num(a[A.prefillMs]),
    ttftMs: num(a[A.firstTokenMs]),
    totalMs: num(a[A.totalMs]),
    queueMs: num(a[A.queueWaitMs]),
    cancelled: bool(a[A.cancelled]) || finish === "abort" ? 1 : 0,
    tokensPerS: tokensPerSecond(num(a[A.outputTokens]), num(a[A.totalMs])),
    // Counted here so per-version figures never scan span_events.
    guardrailActions: span.events.filter((e) => e.name.startsWith(GUARDRAIL_EVENT_PREFIX)).length,
    discarded: num(a[A.discarded]),
    runtimeJson: str(a[A.runtime]),
    targetFilesJson: str(a[A.targetFiles]),
    draftFilesJson: str(a[A.draftFiles]),
    replayOf: str(a[A.replayOf]),
    replayMode: str(a[A.replayMode]),
  };
}

/** Output tokens per second of wall time (queueing excluded, as total_ms is), null when unknown. */
function tokensPerSecond(outputTokens: number | null, totalMs: number | null): number | null {
  return outputTokens !== null && totalMs !== null && totalMs > 0 ? (outputTokens * 1000) / totalMs : null;
}

/*
 * Attributes of a step span (and of its rollback event) that deriveStep copies losslessly into its
 * steps and tokens rows. The raw span keeps every other attribute (the step index and proposer stay,
 * to recognise it); the per-position arrays alone are ~90% of a step span's JSON, and storing them twice
 * made a 100k-request database 15 GiB.
 */
export const STEP_ATTRIBUTES_DERIVED: readonly string[] = [
  A.draftTokens, A.draftProbs, A.draftPathLengths, A.examinedPaths, A.examinedDepths, A.examinedTokens,
  A.examinedOutcomes, A.examinedTargetProbs, A.examinedTargetArgmax, A.emittedIds, A.emittedTexts,
  A.emittedOrigins, A.emittedProbs, A.emittedLogprobs, A.k, A.pathIndex, A.nextToken,
  A.nextOrigin, A.nextTokenProb, A.draftMs, A.verifyMs, A.overheadMs, A.kvTargetBytes, A.kvDraftBytes,
  A.rollbackTargetDropped, A.rollbackTargetBefore, A.rollbackTargetAfter, A.rollbackDraftDropped,
  A.rollbackDraftBefore, A.rollbackDraftAfter, A.rollbackDraftEvicted,
  A.draftPointMass, A.examinedTargetChoice, A.examinedTargetChoiceProb, A.examinedDraftProb, A.examinedPointMass,
  A.examinedAcceptProb, A.examinedUniform, A.emittedDraftProbs, A.emittedTargetChoices, A.emittedTargetChoiceProbs,
  A.stepPosition, A.stepDiscarded, A.textDelta, A.nextTargetChoice, A.nextTargetChoiceProb,
  // The same on every span of a trace; the request span (and its requests row) keeps them.
  A.targetModelId, A.targetSha256, A.draftModelId, A.draftSha256,
];
export const DERIVED_MARKER = "speclens.derived_into";

/** The raw attributes stored for a step span: everything deriveStep does not already keep. */
export function leanStepAttributes(attributes: AttributeMap, marker = true): AttributeMap {
  const lean: AttributeMap = {};
  for (const [key, value] of Object.entries(attributes)) if (!STEP_ATTRIBUTES_DERIVED.includes(key)) lean[key] = value;
  if (marker) lean[DERIVED_MARKER] = "steps,tokens";
  return lean;
}

/** The rollback numbers live on the step span's "speclens.rollback" event. */
function rollbackOf(span: SpanRecord): AttributeMap {
  return span.events.find((e) => e.name === ROLLBACK_EVENT)?.attributes ?? {};
}

function deriveStep(span: SpanRecord): { step: NewStepRow; tokens: NewTokenRow[] } {
  const a = span.attributes;
  const stepIndex = num(a[A.stepIndex]) ?? 0;
  const pathLengths = list(a[A.draftPathLengths]).map((v) => num(v) ?? 0);
  const pathIndex = num(a[A.pathIndex]) ?? -1;
  const examinedTokens = list(a[A.examinedTokens]);
  const examined = examinedTokens.map((token, i) => ({
    path: num(list(a[A.examinedPaths])[i]),
    depth: num(list(a[A.examinedDepths])[i]),
    token: num(token),
    outcome: str(list(a[A.examinedOutcomes])[i]),
    targetProb: num(list(a[A.examinedTargetProbs])[i]),
    targetArgmax: list(a[A.examinedTargetArgmax])[i] === true,
    targetChoice: { token: num(list(a[A.examinedTargetChoice])[i]), prob: num(list(a[A.examinedTargetChoiceProb])[i]) },
    draftProb: num(list(a[A.examinedDraftProb])[i]),
    pointMass: list(a[A.examinedPointMass])[i] === true,
    acceptProb: num(list(a[A.examinedAcceptProb])[i]),
    uniform: num(list(a[A.examinedUniform])[i]),
  }));
  const rollback = rollbackOf(span);
  const ids = list(a[A.emittedIds]);
  const texts = list(a[A.emittedTexts]);
  const origins = list(a[A.emittedOrigins]);
  const probs = list(a[A.emittedProbs]);
  const logprobs = list(a[A.emittedLogprobs]);
  const draftProbs = list(a[A.emittedDraftProbs]);
  const targetChoices = list(a[A.emittedTargetChoices]);
  const targetChoiceProbs = list(a[A.emittedTargetChoiceProbs]);
  const stepDrafted = num(a[A.stepDrafted]);

  const step: NewStepRow = {
    traceId: span.traceId,
    stepIndex,
    spanId: span.spanId,
    startNs: span.startTimeNs,
    endNs: span.endTimeNs,
    proposer: str(a[A.proposer]) ?? "unknown",
    k: num(a[A.k]) ?? 0,
    draftTokensJson: JSON.stringify(list(a[A.draftTokens])),
    draftProbsJson: JSON.stringify(list(a[A.draftProbs])),
    pathLengthsJson: JSON.stringify(pathLengths),
    pathIndex,
    accepted: num(a[A.stepAccepted]) ?? num(a[A.acceptedCount]) ?? 0,
    // The engine's own count (engine/stats.ts) when the span has it; older spans: the chosen path's length.
    drafted: stepDrafted ?? pathLengths[Math.max(pathIndex, 0)] ?? 0,
    examinedJson: JSON.stringify(examined),
    nextToken: num(a[A.nextToken]),
    nextOrigin: str(a[A.nextOrigin]),
    nextTokenProb: num(a[A.nextTokenProb]),
    emitted: ids.length,
    rollbackTargetDropped: num(rollback[A.rollbackTargetDropped]),
    rollbackTargetBefore: num(rollback[A.rollbackTargetBefore]),
    rollbackTargetAfter: num(rollback[A.rollbackTargetAfter]),
    rollbackDraftDropped: num(rollback[A.rollbackDraftDropped]),
    rollbackDraftBefore: num(rollback[A.rollbackDraftBefore]),
    rollbackDraftAfter: num(rollback[A.rollbackDraftAfter]),
    draftMs: num(a[A.draftMs]),
    verifyMs: num(a[A.verifyMs]),
    overheadMs: num(a[A.overheadMs]),
    kvTargetBytes: num(a[A.kvTargetBytes]),
    kvDraftBytes: num(a[A.kvDraftBytes]),
    pointMassJson: A.draftPointMass in a ? JSON.stringify(list(a[A.draftPointMass])) : null,
    position: num(a[A.stepPosition]),
    discarded: num(a[A.stepDiscarded]),
    textDelta: str(a[A.textDelta]),
    nextTargetChoice: num(a[A.nextTargetChoice]),
    nextTargetChoiceProb: num(a[A.nextTargetChoiceProb]),
    rollbackDraftEvicted: num(rollback[A.rollbackDraftEvicted]),
  };
  const tokens: NewTokenRow[] = ids.map((id, offset) => ({
    traceId: span.traceId,
    stepIndex,
    offset,
    tokenId: num(id) ?? -1,
    text: str(texts[offset]) ?? "",
    origin: str(origins[offset]) ?? "target",
    prob: num(probs[offset]),
    logprob: num(logprobs[offset]),
    draftProb: (num(draftProbs[offset]) ?? -1) >= 0 ? num(draftProbs[offset]) : null,
    targetChoice: num(targetChoices[offset]),
    targetChoiceProb: num(targetChoiceProbs[offset]),
  }));
  return { step, tokens };
}
