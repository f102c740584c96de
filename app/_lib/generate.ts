import "server-only";
import { z } from "zod";
import { formatModelId } from "@/engine";
import { DEFAULT_PARAMS, type GenerateParams, type GenerateResult, type SpecConfig } from "@/engine";
import { stopSchema } from "./serving/limits";
import { applySpecOverrides, pickSpecOverrides, specOverridesShape } from "./spec-config";

/**
 * POST /api/generate body (snake_case on the wire). Unknown fields are rejected, so typos surface.
 * `config` selects a config label or version (the "production" label by default); the speculative
 * fields beside it override that version for this request.
 */
export const generateBodySchema = z.strictObject({
  prompt: z.string().min(1).max(20_000),
  max_tokens: z.number().int().min(1).max(2048).default(64),
  min_tokens: z.number().int().min(0).default(0),
  ignore_eos: z.boolean().default(false),
  temperature: z.number().min(0).max(5).default(0),
  top_p: z.number().gt(0).max(1).default(1),
  top_k: z.number().int().min(0).default(0),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  stop: stopSchema.optional(),
  time_budget_ms: z.number().int().min(0).default(0),
  top_logprobs: z.number().int().min(0).max(20).default(0),
  config: z.union([z.string().min(1).max(64), z.number().int().min(1)]).optional(),
  ...specOverridesShape,
});

export type GenerateBody = z.infer<typeof generateBodySchema>;

export function toEngineInputs(body: GenerateBody, base: SpecConfig): { params: GenerateParams; config: SpecConfig } {
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
  return { params, config: applySpecOverrides(base, pickSpecOverrides(body)) };
}

export interface GenerationOutcome {
  traceId: string;
  result: GenerateResult;
}

/** The response body: OpenAI-like names where one exists, plus the speculative details. */
export function generationResponse({ traceId, result }: GenerationOutcome, configVersion: number) {
  return {
    trace_id: traceId,
    config_version: configVersion,
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
