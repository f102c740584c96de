/**
 * Tracing of generations through @opentelemetry/api only: with no SDK registered every call is a
 * no-op, so the engine stays a library. The app registers a tracer provider (instrumentation.ts)
 * whose processors store the spans.
 *
 * Span tree of one request:
 *   "text_completion <target>"  (GenAI semantic conventions + speclens.* request attributes)
 *     "speclens.step" x steps   (proposal, verification, emitted tokens, rollback event, timings)
 * Every span carries the model_id of the target and, when one is used, of the draft.
 * Per-token and draft/verify data have no standard convention, so they live under speclens.*.
 */
import { SpanStatusCode, trace, context, type Attributes, type Span, type Tracer } from "@opentelemetry/api";
import type { GuardrailAction } from "./guardrails";
import { formatModelId, type ModelId } from "./runtime/model-folder";
import type { GenerateParams, GenerateResult, SpecConfig, StepRecord } from "./types";

export const TRACER_NAME = "speclens-engine";
export const STEP_SPAN_NAME = "speclens.step";
export const ROLLBACK_EVENT = "speclens.rollback";
/** A guardrail rule acted: the request span gets an event `speclens.guardrail.<rule>` (see guardrailEventAttributes). */
export const GUARDRAIL_EVENT_PREFIX = "speclens.guardrail.";

/** Attribute keys shared by the emitter and the stores that parse spans (db/ exporter, replay). */
export const A = {
  operation: "gen_ai.operation.name",
  provider: "gen_ai.provider.name",
  requestModel: "gen_ai.request.model",
  responseModel: "gen_ai.response.model",
  seed: "gen_ai.request.seed",
  temperature: "gen_ai.request.temperature",
  topP: "gen_ai.request.top_p",
  topK: "gen_ai.request.top_k",
  maxTokens: "gen_ai.request.max_tokens",
  stopSequences: "gen_ai.request.stop_sequences",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  finishReasons: "gen_ai.response.finish_reasons",

  targetModelId: "speclens.target.model_id",
  targetSha256: "speclens.target.sha256",
  draftModelId: "speclens.draft.model_id",
  draftSha256: "speclens.draft.sha256",
  /** JSON {"model.onnx", "tokenizer.json", "config.json"} -> sha256, the files model_id hashes */
  targetFiles: "speclens.target.files",
  draftFiles: "speclens.draft.files",
  /** JSON engine.runtime(): onnxruntime version, execution provider, threads, graph optimisation */
  runtime: "speclens.runtime",
  configVersion: "speclens.config.version",
  config: "speclens.config",
  endpoint: "speclens.endpoint",
  prompt: "speclens.prompt",
  promptTokenIds: "speclens.prompt.token_ids",
  completion: "speclens.completion",
  params: "speclens.params",
  proposer: "speclens.proposer",
  verifyMode: "speclens.verify.mode",
  finishReason: "speclens.finish_reason",
  steps: "speclens.summary.steps",
  drafted: "speclens.summary.drafted",
  accepted: "speclens.summary.accepted",
  acceptanceRate: "speclens.summary.acceptance_rate",
  meanAcceptanceLength: "speclens.summary.mean_acceptance_length",
  perPositionAcceptance: "speclens.summary.per_position_acceptance",
  discarded: "speclens.summary.discarded",
  prefillMs: "speclens.timing.prefill_ms",
  firstTokenMs: "speclens.timing.first_token_ms",
  totalMs: "speclens.timing.total_ms",
  /** Time the request waited for an engine slot before it ran (set by the server). */
  queueWaitMs: "speclens.timing.queue_wait_ms",
  /** true when the generation ended because it was cancelled (client gone, abort). */
  cancelled: "speclens.cancelled",
  /** On a replay's request span: the trace id it re-ran, and how (exact | target-only | draft-only | config). */
  replayOf: "speclens.replay_of",
  replayMode: "speclens.replay.mode",

  stepIndex: "speclens.step.index",
  k: "speclens.step.k",
  /** Output position of the step's first token */
  stepPosition: "speclens.step.position",
  /** The step's counts (engine/stats.ts stepCounts), the same numbers /metrics counts */
  stepDrafted: "speclens.step.drafted",
  stepAccepted: "speclens.step.accepted",
  stepDiscarded: "speclens.step.discarded",
  stepDraftedAt: "speclens.step.drafted_at",
  stepAcceptedAt: "speclens.step.accepted_at",
  /** The text the step adds to the output */
  textDelta: "speclens.step.text_delta",
  /** [sum of path lengths] every path's draft tokens, concatenated in path order */
  draftTokens: "speclens.draft.tokens",
  /** [sum of path lengths] the proposer's probability for each draft token */
  draftProbs: "speclens.draft.probs",
  /** [numPaths] the length of each path, to split draftTokens */
  draftPathLengths: "speclens.draft.path_lengths",
  /** [sum of path lengths] whether each draft token is verified as a point mass */
  draftPointMass: "speclens.draft.point_mass",
  pathIndex: "speclens.verify.path_index",
  acceptedCount: "speclens.verify.accepted",
  /** [examined] per examined draft token: path, depth, token, outcome, target prob, target argmax */
  examinedPaths: "speclens.verify.examined.path",
  examinedDepths: "speclens.verify.examined.depth",
  examinedTokens: "speclens.verify.examined.token",
  examinedOutcomes: "speclens.verify.examined.outcome",
  examinedTargetProbs: "speclens.verify.examined.target_prob",
  examinedTargetArgmax: "speclens.verify.examined.target_argmax",
  examinedTargetChoice: "speclens.verify.examined.target_choice",
  examinedTargetChoiceProb: "speclens.verify.examined.target_choice_prob",
  examinedDraftProb: "speclens.verify.examined.draft_prob",
  examinedPointMass: "speclens.verify.examined.point_mass",
  examinedAcceptProb: "speclens.verify.examined.accept_prob",
  examinedUniform: "speclens.verify.examined.uniform",
  nextToken: "speclens.verify.next_token",
  nextOrigin: "speclens.verify.next_origin",
  nextTokenProb: "speclens.verify.next_token_prob",
  nextTargetChoice: "speclens.verify.next_target_choice",
  nextTargetChoiceProb: "speclens.verify.next_target_choice_prob",
  /** [emitted] the step's output tokens */
  emittedIds: "speclens.emitted.ids",
  emittedTexts: "speclens.emitted.texts",
  emittedOrigins: "speclens.emitted.origins",
  emittedProbs: "speclens.emitted.probs",
  emittedLogprobs: "speclens.emitted.logprobs",
  /** [emitted] q(x) of accepted draft tokens; -1 for the target's own tokens (attribute arrays hold no nulls) */
  emittedDraftProbs: "speclens.emitted.draft_probs",
  emittedTargetChoices: "speclens.emitted.target_choices",
  emittedTargetChoiceProbs: "speclens.emitted.target_choice_probs",
  draftMs: "speclens.timing.draft_ms",
  verifyMs: "speclens.timing.verify_ms",
  overheadMs: "speclens.timing.overhead_ms",
  kvTargetBytes: "speclens.kv.target_bytes",
  kvDraftBytes: "speclens.kv.draft_bytes",
  rollbackTargetDropped: "speclens.rollback.target.dropped",
  rollbackTargetBefore: "speclens.rollback.target.length_before",
  rollbackTargetAfter: "speclens.rollback.target.length_after",
  rollbackDraftDropped: "speclens.rollback.draft.dropped",
  rollbackDraftBefore: "speclens.rollback.draft.length_before",
  rollbackDraftAfter: "speclens.rollback.draft.length_after",
  rollbackDraftEvicted: "speclens.rollback.draft.evicted",

  /** On a guardrail event (and on the step span where the fallback rule acted): what acted and why. */
  guardrailRule: "speclens.guardrail.rule",
  guardrailAction: "speclens.guardrail.action",
  guardrailStep: "speclens.guardrail.step",
  guardrailMeasured: "speclens.guardrail.measured",
  guardrailThreshold: "speclens.guardrail.threshold",
  guardrailDetail: "speclens.guardrail.detail",
} as const;

/** The attributes of a guardrail event; `step` is -1 for rules decided at admission. */
export function guardrailEventAttributes(action: GuardrailAction): Attributes {
  return {
    [A.guardrailRule]: action.rule,
    [A.guardrailAction]: action.action,
    [A.guardrailStep]: action.step ?? -1,
    [A.guardrailMeasured]: action.measured,
    [A.guardrailThreshold]: action.threshold,
    [A.guardrailDetail]: action.detail,
  };
}

export interface TraceInfo {
  prompt: string;
  promptTokenIds: readonly number[];
  params: GenerateParams;
  config: SpecConfig;
  models: { target: ModelId; draft: ModelId | null };
  /** The guardrail config version the request ran under, when one was resolved. */
  configVersion?: string;
  /** What started the request, e.g. "POST /v1/completions" or "playground". */
  endpoint?: string;
  /** gen_ai.operation.name: "text_completion" or "chat". */
  operation?: "text_completion" | "chat";
  /** engine.runtime(): recorded as speclens.runtime. */
  runtime?: object;
}

function modelAttributes(models: TraceInfo["models"]): Attributes {
  const attrs: Attributes = { [A.targetModelId]: formatModelId(models.target), [A.targetSha256]: models.target.sha256 };
  if (models.draft) {
    attrs[A.draftModelId] = formatModelId(models.draft);
    attrs[A.draftSha256] = models.draft.sha256;
  }
  return attrs;
}

/** Per-file hashes, on the request span only (steps carry the model ids). */
function modelFileAttributes(models: TraceInfo["models"]): Attributes {
  const attrs: Attributes = {};
  if (models.target.files) attrs[A.targetFiles] = JSON.stringify(models.target.files);
  if (models.draft?.files) attrs[A.draftFiles] = JSON.stringify(models.draft.files);
  return attrs;
}

export function stepAttributes(step: StepRecord): Attributes {
  return {
    [A.stepIndex]: step.index,
    [A.proposer]: step.proposer,
    [A.k]: step.k,
    [A.stepPosition]: step.position,
    [A.stepDrafted]: step.counts.drafted,
    [A.stepAccepted]: step.counts.accepted,
    [A.stepDiscarded]: step.counts.discarded,
    [A.stepDraftedAt]: step.counts.draftedAt,
    [A.stepAcceptedAt]: step.counts.acceptedAt,
    [A.textDelta]: step.textDelta,
    [A.draftPointMass]: step.paths.flatMap((p) => p.pointMass),
    [A.draftTokens]: step.paths.flatMap((p) => p.tokens),
    [A.draftProbs]: step.paths.flatMap((p) => p.draftProbs),
    [A.draftPathLengths]: step.paths.map((p) => p.tokens.length),
    [A.pathIndex]: step.verify.pathIndex,
    [A.acceptedCount]: step.verify.accepted,
    [A.examinedPaths]: step.verify.examined.map((e) => e.path),
    [A.examinedDepths]: step.verify.examined.map((e) => e.depth),
    [A.examinedTokens]: step.verify.examined.map((e) => e.token),
    [A.examinedOutcomes]: step.verify.examined.map((e) => e.outcome),
    [A.examinedTargetProbs]: step.verify.examined.map((e) => e.targetProb),
    [A.examinedTargetArgmax]: step.verify.examined.map((e) => e.targetArgmax),
    [A.examinedTargetChoice]: step.verify.examined.map((e) => e.targetChoice.token),
    [A.examinedTargetChoiceProb]: step.verify.examined.map((e) => e.targetChoice.prob),
    [A.examinedDraftProb]: step.verify.examined.map((e) => e.draftProb),
    [A.examinedPointMass]: step.verify.examined.map((e) => e.pointMass),
    [A.examinedAcceptProb]: step.verify.examined.map((e) => e.acceptProb),
    [A.examinedUniform]: step.verify.examined.map((e) => e.uniform),
    [A.nextToken]: step.verify.nextToken,
    [A.nextOrigin]: step.verify.nextOrigin,
    [A.nextTokenProb]: step.verify.nextTokenProb,
    [A.nextTargetChoice]: step.verify.nextTargetChoice.token,
    [A.nextTargetChoiceProb]: step.verify.nextTargetChoice.prob,
    [A.emittedIds]: step.emitted.map((t) => t.id),
    [A.emittedTexts]: step.emitted.map((t) => t.text),
    [A.emittedOrigins]: step.emitted.map((t) => t.origin),
    [A.emittedProbs]: step.emitted.map((t) => t.prob),
    [A.emittedLogprobs]: step.emitted.map((t) => t.logprob),
    [A.emittedDraftProbs]: step.emitted.map((t) => t.draftProb ?? -1),
    [A.emittedTargetChoices]: step.emitted.map((t) => t.targetChoice.token),
    [A.emittedTargetChoiceProbs]: step.emitted.map((t) => t.targetChoice.prob),
    [A.draftMs]: step.timings.draftMs,
    [A.verifyMs]: step.timings.verifyMs,
    [A.overheadMs]: step.timings.overheadMs,
    [A.kvTargetBytes]: step.kvBytes.target,
    [A.kvDraftBytes]: step.kvBytes.draft,
  };
}

function rollbackAttributes(step: StepRecord): Attributes {
  const { target, draft } = step.rollback;
  const attrs: Attributes = {
    [A.rollbackTargetDropped]: target.dropped,
    [A.rollbackTargetBefore]: target.lengthBefore,
    [A.rollbackTargetAfter]: target.lengthAfter,
  };
  if (draft) {
    attrs[A.rollbackDraftDropped] = draft.dropped;
    attrs[A.rollbackDraftBefore] = draft.lengthBefore;
    attrs[A.rollbackDraftAfter] = draft.lengthAfter;
    attrs[A.rollbackDraftEvicted] = draft.evicted;
  }
  return attrs;
}

function requestAttributes(info: TraceInfo): Attributes {
  const { params, config } = info;
  const attrs: Attributes = {
    [A.operation]: info.operation ?? "text_completion",
    [A.provider]: "speclens",
    [A.requestModel]: info.models.target.name,
    [A.seed]: params.seed,
    [A.temperature]: params.temperature,
    [A.topP]: params.topP,
    [A.topK]: params.topK,
    [A.maxTokens]: params.maxTokens,
    [A.stopSequences]: params.stop,
    [A.inputTokens]: info.promptTokenIds.length,
    [A.prompt]: info.prompt,
    [A.promptTokenIds]: [...info.promptTokenIds],
    [A.params]: JSON.stringify(params),
    [A.config]: JSON.stringify(config),
    [A.proposer]: config.proposer,
    ...modelAttributes(info.models),
    ...modelFileAttributes(info.models),
  };
  if (info.runtime !== undefined) attrs[A.runtime] = JSON.stringify(info.runtime);
  if (info.configVersion !== undefined) attrs[A.configVersion] = info.configVersion;
  if (info.endpoint !== undefined) attrs[A.endpoint] = info.endpoint;
  return attrs;
}

function resultAttributes(result: GenerateResult): Attributes {
  const s = result.summary;
  return {
    [A.responseModel]: result.models.target.name,
    [A.outputTokens]: result.tokens.length,
    [A.finishReasons]: [result.finishReason],
    [A.finishReason]: result.finishReason,
    [A.completion]: result.text,
    [A.verifyMode]: s.verify,
    [A.steps]: s.steps,
    [A.drafted]: s.drafted,
    [A.accepted]: s.accepted,
    [A.acceptanceRate]: s.acceptanceRate,
    [A.meanAcceptanceLength]: s.meanAcceptanceLength,
    [A.perPositionAcceptance]: s.perPositionAcceptance,
    [A.discarded]: s.discarded,
    [A.prefillMs]: result.timings.prefillMs,
    [A.firstTokenMs]: result.timings.firstTokenMs,
    [A.totalMs]: result.timings.totalMs,
  };
}

/**
 * Trace a generation: one request span, started now (so its trace id is known before any step runs,
 * e.g. for a response header), and one child span per step covering the time from asking for the
 * step to receiving it. The returned stream yields exactly what the inner stream yields and ends the
 * request span when it finishes; drive it to the end (cancel through the engine's AbortSignal, which
 * ends the trace as cancelled), since an abandoned stream leaves its span open. `onStart` receives
 * the request span synchronously.
 */
export function traceGeneration(
  stream: AsyncGenerator<StepRecord, GenerateResult>,
  info: TraceInfo,
  onStart?: (span: Span) => void,
): AsyncGenerator<StepRecord, GenerateResult> {
  const tracer = trace.getTracer(TRACER_NAME);
  const name = `${info.operation ?? "text_completion"} ${info.models.target.name}`;
  const request = tracer.startSpan(name, { attributes: requestAttributes(info) });
  onStart?.(request);
  return traceSteps(tracer, request, stream, info);
}

async function* traceSteps(
  tracer: Tracer,
  request: Span,
  stream: AsyncGenerator<StepRecord, GenerateResult>,
  info: TraceInfo,
): AsyncGenerator<StepRecord, GenerateResult> {
  const parent = trace.setSpan(context.active(), request);
  const stepModels = modelAttributes(info.models);
  if (info.configVersion !== undefined) stepModels[A.configVersion] = info.configVersion;
  try {
    for (;;) {
      // A step span covers asking for the step until receiving it; it is created once the step is
      // known, with that start time, so the final call that only returns the result makes no span.
      // A performance.now() reading, not timeOrigin + now(): the SDK anchors a performance timestamp
      // to the wall clock as the request span did, while an epoch time taken from the monotonic clock
      // drifts from Date.now() as the system clock is slewed (11 ms in 2 s measured on a CI host),
      // which put steps before their own request span in long-running servers.
      const askedAt = performance.now();
      const next = await stream.next();
      if (next.done) {
        request.setAttributes(resultAttributes(next.value));
        if (next.value.finishReason === "abort") request.setAttribute(A.cancelled, true);
        return next.value;
      }
      // Object.assign, not a spread: spreading ~50 keys into a literal measured ~90 us a step, this ~6 us.
      // Set after the start, not passed to it: startSpan validates the attributes it is given twice and
      // the span once more (~12 us of a ~40 us span), setAttributes once; no sampler here reads them.
      const step = tracer.startSpan(STEP_SPAN_NAME, { startTime: askedAt }, parent);
      step.setAttributes(Object.assign(stepAttributes(next.value), stepModels));
      step.addEvent(ROLLBACK_EVENT, rollbackAttributes(next.value));
      const acted = next.value.guardrail;
      if (acted) {
        step.setAttributes(guardrailEventAttributes(acted));
        request.addEvent(GUARDRAIL_EVENT_PREFIX + acted.rule, guardrailEventAttributes(acted));
      }
      step.end();
      yield next.value;
    }
  } catch (err) {
    request.recordException(err as Error);
    request.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    await stream.return(undefined as never);
    request.end();
  }
}
