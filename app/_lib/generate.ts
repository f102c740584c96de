import "server-only";
import { ROOT_CONTEXT, context } from "@opentelemetry/api";
import { z } from "zod";
import { flushTraces } from "@/db/tracing/runtime";
import { formatModelId } from "@/engine/runtime/model-folder";
import { traceGeneration } from "@/engine/telemetry";
import { PROPOSERS, VERIFY_MODES, type GenerateParams, type GenerateResult, type SpecConfig } from "@/engine/types";
import { DEFAULT_PARAMS, DEFAULT_SPEC_CONFIG } from "@/engine/types";
import type { SpecEngine } from "@/engine/engine";
import { getEngine } from "./engine";

/** POST /api/generate body (snake_case on the wire). Unknown fields are rejected, so typos surface. */
export const generateBodySchema = z.strictObject({
  prompt: z.string().min(1).max(20_000),
  max_tokens: z.number().int().min(1).max(2048).default(64),
  min_tokens: z.number().int().min(0).default(0),
  ignore_eos: z.boolean().default(false),
  temperature: z.number().min(0).max(5).default(0),
  top_p: z.number().gt(0).max(1).default(1),
  top_k: z.number().int().min(0).default(0),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(8)]).optional(),
  time_budget_ms: z.number().int().min(0).default(0),
  top_logprobs: z.number().int().min(0).max(20).default(0),
  proposer: z.enum(PROPOSERS).optional(),
  verify: z.enum(VERIFY_MODES).optional(),
  k_max: z.number().int().min(1).max(16).optional(),
  adaptive_k: z.boolean().optional(),
  draft_confidence: z.number().min(0).max(1).optional(),
  lossy_threshold: z.number().min(0).max(1).optional(),
  ngram: z.strictObject({ min_n: z.number().int().min(1).max(8), max_n: z.number().int().min(1).max(8) }).optional(),
  tree: z
    .strictObject({ width: z.number().int().min(1).max(8), depth: z.number().int().min(1).max(16), branch_min_prob: z.number().min(0).max(1).optional() })
    .optional(),
});

export type GenerateBody = z.infer<typeof generateBodySchema>;

export function toEngineInputs(body: GenerateBody): { params: GenerateParams; config: SpecConfig } {
  const params: GenerateParams = {
    ...DEFAULT_PARAMS,
    maxTokens: body.max_tokens,
    minTokens: body.min_tokens,
    ignoreEos: body.ignore_eos,
    temperature: body.temperature,
    topP: body.top_p,
    topK: body.top_k,
    seed: body.seed,
    stop: body.stop === undefined ? [] : typeof body.stop === "string" ? [body.stop] : body.stop,
    timeBudgetMs: body.time_budget_ms,
    topLogprobs: body.top_logprobs,
  };
  const d = DEFAULT_SPEC_CONFIG;
  const config: SpecConfig = {
    ...d,
    proposer: body.proposer ?? d.proposer,
    verify: body.verify ?? d.verify,
    kMax: body.k_max ?? d.kMax,
    adaptiveK: body.adaptive_k ?? d.adaptiveK,
    draftConfidence: body.draft_confidence ?? d.draftConfidence,
    lossyThreshold: body.lossy_threshold ?? d.lossyThreshold,
    ngram: body.ngram ? { minN: body.ngram.min_n, maxN: body.ngram.max_n } : d.ngram,
    tree: body.tree
      ? { ...d.tree, width: body.tree.width, depth: body.tree.depth, branchMinProb: body.tree.branch_min_prob ?? d.tree.branchMinProb }
      : d.tree,
  };
  return { params, config };
}

/**
 * The models a request actually runs on: the draft only when the proposer uses it, as the engine
 * reports in GenerateResult.models, so no span credits (or blames) a draft model that took no part.
 */
function requestModels(engine: SpecEngine, config: SpecConfig): SpecEngine["modelIds"] {
  const { target, draft } = engine.modelIds;
  const usesDraft = config.proposer === "draft-model" || config.proposer === "tree";
  return { target, draft: usesDraft ? draft : null };
}

export interface GenerationOutcome {
  traceId: string;
  result: GenerateResult;
}

/**
 * Runs one traced generation. The request span is a root span (its own trace, whatever HTTP span
 * Next.js may have open), so one trace is one generation; the trace is flushed to SQLite before
 * returning, so the caller can read it back by id at once.
 */
export async function runGeneration(
  prompt: string,
  params: GenerateParams,
  config: SpecConfig,
  options: { endpoint: string; signal?: AbortSignal; configVersion?: string },
): Promise<GenerationOutcome> {
  const engine = await getEngine();
  const promptTokenIds = engine.tokenizer.encode(prompt);
  let traceId = "";
  const run = async () => {
    const stream = traceGeneration(
      engine.stream(promptTokenIds, params, config, options.signal),
      { prompt, promptTokenIds, params, config, models: requestModels(engine, config), endpoint: options.endpoint, configVersion: options.configVersion },
      (span) => (traceId = span.spanContext().traceId),
    );
    for (;;) {
      const next = await stream.next();
      if (next.done) return next.value;
    }
  };
  try {
    const result = await context.with(ROOT_CONTEXT, run);
    return { traceId, result };
  } finally {
    await flushTraces();
  }
}

/** The response body: OpenAI-like names where one exists, plus the speculative details. */
export function generationResponse({ traceId, result }: GenerationOutcome) {
  return {
    trace_id: traceId,
    text: result.text,
    finish_reason: result.finishReason,
    usage: { prompt_tokens: result.promptTokens, completion_tokens: result.tokens.length },
    models: {
      target: { model_id: formatModelId(result.models.target), ...result.models.target },
      draft: result.models.draft ? { model_id: formatModelId(result.models.draft), ...result.models.draft } : null,
    },
    summary: result.summary,
    timings: result.timings,
    tokens: result.tokens.map((t) => ({
      id: t.id, text: t.text, origin: t.origin, prob: t.prob, logprob: t.logprob, step: t.step,
      ...(t.topLogprobs.length > 0 ? { top_logprobs: t.topLogprobs } : {}),
    })),
  };
}
