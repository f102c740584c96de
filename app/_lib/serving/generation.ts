import "server-only";
import { ROOT_CONTEXT, context, type Span } from "@opentelemetry/api";
import { flushTraces } from "@/db/tracing/runtime";
import type { SpecEngine } from "@/engine";
import { usesDraft } from "@/engine";
import { A, GUARDRAIL_EVENT_PREFIX, guardrailEventAttributes, streamDraftOnly, traceGeneration } from "@/engine";
import type { GenerateParams, GenerateResult, GuardrailAction, GuardrailRules, SpecConfig, StepRecord } from "@/engine";
import { getEngine } from "../engine";
import { cooldownRemaining, startCooldown } from "../guardrails/cooldown";
import { admissionQueue, checkTokenLimits, effectiveTimeBudget } from "./limits";
import { servingMetrics } from "./metrics";
import { QueueFullError, type Ticket } from "./queue";
import { armAlertEvaluation } from "../alerts/scheduler";

/*
 * The one path every generation takes, whatever endpoint asked for it (OpenAI API, /api/generate,
 * the Playground):
 *   validate against the engine (RequestError: 400) -> admit to the queue (QueueFullError: 429)
 *   -> start the trace (its id is known before any step runs) -> wait for a slot -> run the engine,
 *   yielding steps as tokens are accepted -> count metrics -> flush the trace to SQLite.
 * Nothing is started before admission succeeds, so a refused request changes nothing; once admitted,
 * the request always ends in a trace, cancelled ones included.
 */

export interface GenerationRequest {
  /** Text, or token ids (then `promptText` is what the trace shows). */
  prompt: string | readonly number[];
  promptText?: string;
  params: GenerateParams;
  config: SpecConfig;
  /** What asked, e.g. "POST /v1/completions" (a metrics label and a trace attribute). */
  endpoint: string;
  operation?: "text_completion" | "chat";
  configVersion?: string;
  /** Aborts the generation (client gone): it stops at the next step and its trace ends as cancelled. */
  signal?: AbortSignal;
  /** Set on a replay: the trace it re-runs and how; recorded on its request span (replay_of). */
  replay?: { of: string; mode: string };
  /** "draft-only" generates with the draft model alone (a replay mode); speculative by default. */
  generator?: "speculative" | "draft-only";
  /**
   * The resolved version's guardrail rules, and the actions already taken for this request before it
   * got here (e.g. a capped time budget). Cooldown and load are decided here, at admission.
   */
  guardrails?: { version: number; rules: GuardrailRules; actions: GuardrailAction[] };
}

export interface GenerationHandle {
  traceId: string;
  promptTokens: number;
  /**
   * Steps as the engine yields them; returns the result once its trace is written to SQLite. Drive
   * it to the end: cancel through the request's signal, never by abandoning the iterator.
   */
  steps: AsyncGenerator<StepRecord, GenerateResult>;
  /** Filled in as the generation runs: ms waiting for an engine slot, and ms writing the trace at the end. */
  timings: { queueMs: number; traceWriteMs: number };
}

export async function startGeneration(request: GenerationRequest): Promise<GenerationHandle> {
  const arrivedAt = performance.now();
  // The config was validated by the route (engine/config.ts); bad input was a 400 before the models load.
  const engine = await getEngine();
  const promptIds = typeof request.prompt === "string" ? engine.tokenizer.encode(request.prompt) : request.prompt;
  checkTokenLimits(promptIds.length, request.params.maxTokens);
  const params: GenerateParams = { ...request.params, timeBudgetMs: effectiveTimeBudget(request.params.timeBudgetMs) };
  // From here to admit() nothing awaits, so the load the rules see is the load the request joins.
  const { config, actions } = admissionRules(request);
  const fallback = config.proposer === "off" ? null : request.guardrails?.rules.fallback ?? null;
  // Throws a RequestError before anything starts; the generator does no work until iterated.
  const draftOnly = request.generator === "draft-only";
  const engineSteps = draftOnly
    ? streamDraftOnly(engine.models, promptIds, params, config, request.signal)
    : engine.stream(promptIds, params, config, request.signal, { fallback });

  let ticket: Ticket;
  try {
    ticket = admissionQueue().admit();
  } catch (error) {
    if (error instanceof QueueFullError) servingMetrics().observeRejected("queue_full");
    throw error;
  }

  let span!: Span;
  const timings = { queueMs: 0, traceWriteMs: 0 };
  async function* queued(): AsyncGenerator<StepRecord, GenerateResult> {
    const release = await ticket.ready(request.signal);
    timings.queueMs = performance.now() - arrivedAt;
    span.setAttribute(A.queueWaitMs, timings.queueMs);
    try {
      return yield* engineSteps;
    } finally {
      release();
    }
  }
  const info = {
    prompt: request.promptText ?? (typeof request.prompt === "string" ? request.prompt : engine.tokenizer.decode([...request.prompt])),
    promptTokenIds: promptIds,
    params,
    config,
    models: draftOnly ? { target: engine.models.draft!.id, draft: null } : requestModels(engine, config),
    endpoint: request.endpoint,
    operation: request.operation,
    configVersion: request.configVersion,
    runtime: engine.runtime(),
  };
  // Each generation is its own trace (a root span), whatever HTTP span Next.js may have open.
  const traced = context.with(ROOT_CONTEXT, () =>
    traceGeneration(queued(), info, (s) => {
      span = s;
      if (request.replay) s.setAttributes({ [A.replayOf]: request.replay.of, [A.replayMode]: request.replay.mode });
      for (const action of actions) {
        s.addEvent(GUARDRAIL_EVENT_PREFIX + action.rule, guardrailEventAttributes(action));
        servingMetrics().observeGuardrail(action);
      }
    }),
  );

  async function* observed(): AsyncGenerator<StepRecord, GenerateResult> {
    const metrics = servingMetrics();
    let firstTokenMs: number | null = null;
    try {
      for (;;) {
        const next = await traced.next();
        if (next.done) {
          metrics.observeRequest(request.endpoint, next.value, { queueMs: timings.queueMs, totalMs: performance.now() - arrivedAt, firstTokenMs });
          return next.value;
        }
        if (firstTokenMs === null && next.value.emitted.length > 0) firstTokenMs = performance.now() - arrivedAt;
        metrics.observeStep(next.value);
        const acted = next.value.guardrail;
        if (acted) {
          metrics.observeGuardrail(acted);
          const guard = request.guardrails;
          if (acted.rule === "fallback" && guard?.rules.fallback) startCooldown(guard.version, guard.rules.fallback.cooldownSeconds);
        }
        yield next.value;
      }
    } finally {
      const flushStart = performance.now();
      await flushTraces();
      timings.traceWriteMs = performance.now() - flushStart;
      // The request is stored: let the drift alerts look at it (a timer; serving does not wait).
      armAlertEvaluation();
    }
  }

  return { traceId: span.spanContext().traceId, promptTokens: promptIds.length, steps: observed(), timings };
}

/**
 * The rules decided at admission: a running fallback cooldown of the version, else the load rule
 * (more requests in flight, running or waiting, than it allows), switches speculation off.
 */
function admissionRules(request: GenerationRequest): { config: SpecConfig; actions: GuardrailAction[] } {
  const guard = request.guardrails;
  const actions = [...(guard?.actions ?? [])];
  if (!guard || request.config.proposer === "off") return { config: request.config, actions };
  const off = { ...request.config, proposer: "off" as const };
  const remaining = cooldownRemaining(guard.version);
  if (remaining > 0) {
    const threshold = guard.rules.fallback?.cooldownSeconds ?? 0;
    actions.push({
      rule: "cooldown", action: "speculation_off", step: null, measured: remaining, threshold,
      detail: `version ${guard.version} is cooling down after its fallback rule acted: ${remaining.toFixed(1)} s of ${threshold} s left, speculation off`,
    });
    return { config: off, actions };
  }
  const load = guard.rules.load;
  if (load) {
    const { running, waiting } = admissionQueue().stats();
    if (running + waiting > load.maxRunning) {
      actions.push({
        rule: "load", action: "speculation_off", step: null, measured: running + waiting, threshold: load.maxRunning,
        detail: `${running + waiting} requests in flight (${running} running, ${waiting} waiting) at admission, more than ${load.maxRunning}: speculation off`,
      });
      return { config: off, actions };
    }
  }
  return { config: request.config, actions };
}

/** Runs a generation to the end (the non-streaming endpoints). */
export async function runGeneration(request: GenerationRequest): Promise<{ traceId: string; result: GenerateResult; timings: GenerationHandle["timings"] }> {
  const handle = await startGeneration(request);
  for (;;) {
    const next = await handle.steps.next();
    if (next.done) return { traceId: handle.traceId, result: next.value, timings: handle.timings };
  }
}

/**
 * The models a request actually runs on: the draft only when the proposer uses it, as the engine
 * reports in GenerateResult.models, so no span credits (or blames) a draft model that took no part.
 */
function requestModels(engine: SpecEngine, config: SpecConfig): SpecEngine["modelIds"] {
  const { target, draft } = engine.modelIds;
  return { target, draft: usesDraft(config) ? draft : null };
}
