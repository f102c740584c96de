import "server-only";
import { randomInt } from "node:crypto";
import { getDb } from "@/db/client";
import { resolveConfig } from "@/db/queries/configs";
import type { SpecEngine } from "@/engine";
import { formatModelId } from "@/engine";
import { DEFAULT_PARAMS, type GenerateParams } from "@/engine";
import { admitRequest } from "../guardrails/admission";
import { errorResponse } from "../http";
import type { ParamNames } from "../serving/errors";
import type { GenerationRequest } from "../serving/generation";
import { SpecOverridesError, applySpecOverrides } from "../spec-config";
import type { ChatBody, ChatMessage, CompletionBody } from "./schema";

/*
 * From a validated OpenAI-style body to an engine request: the model check, the config version the
 * `speclens` extension selects (the "production" label by default) with its overrides, the sampling
 * parameters with OpenAI's defaults, and the prompt (text, token ids, or chat messages rendered by
 * the model's chat template).
 */

export interface PreparedRequest {
  generation: GenerationRequest;
  /** The served model name, echoed in every response. */
  model: string;
  stream: boolean;
  includeUsage: boolean;
  /** How many alternatives to report per token; null when logprobs were not asked for. */
  logprobs: number | null;
  /** completions with echo: the prompt text to put before the completion. */
  echo: string | null;
  /** The wire names of the prompt and config fields, for errors the engine raises. */
  paramNames: ParamNames;
  config: { version: number; label: string | null };
}

export type Prepared = { ok: true; request: PreparedRequest } | { ok: false; response: Response };

type SamplingBody = Pick<
  CompletionBody,
  "model" | "temperature" | "top_p" | "top_k" | "seed" | "stop" | "stream" | "stream_options" | "ignore_eos" | "min_tokens" | "speclens"
>;

const fail = (status: number, message: string, param: string | null, code: string | null = null): Prepared => ({
  ok: false,
  response: errorResponse(status, message, { param, code }),
});

/** The model ids this server answers to: the target's name or its model_id (name@sha256:…). */
export function servedModelNames(engine: SpecEngine): string[] {
  const target = engine.modelIds.target;
  return [target.name, formatModelId(target)];
}

/** OpenAI's defaults where the body leaves a field out: temperature 1, top_p 1, a fresh random seed. */
function samplingParams(body: SamplingBody, maxTokens: number, extraStops: readonly string[], topLogprobs: number): GenerateParams {
  const stop = body.stop == null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  return {
    ...DEFAULT_PARAMS,
    maxTokens,
    minTokens: body.min_tokens ?? 0,
    ignoreEos: body.ignore_eos ?? false,
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    topK: Math.max(0, body.top_k ?? 0),
    // Unseeded requests still get a seed, recorded in the trace, so that any request can be replayed.
    seed: body.seed ?? randomInt(2 ** 31 - 1),
    stop: [...new Set([...stop, ...extraStops])],
    topLogprobs,
  };
}

interface Common {
  engine: SpecEngine;
  body: SamplingBody;
  endpoint: string;
  operation: "text_completion" | "chat";
  promptIds: number[];
  promptText: string;
  maxTokens: number;
  /** Whether the body asked for a length (else maxTokens is the endpoint's default), and under which name. */
  askedMaxTokens: boolean;
  maxTokensParam: string;
  extraStops: readonly string[];
  logprobs: number | null;
  echo: string | null;
  paramNames: ParamNames;
  signal: AbortSignal;
}

function prepare(c: Common): Prepared {
  if (!servedModelNames(c.engine).includes(c.body.model)) {
    return fail(404, `model: the model \`${c.body.model}\` does not exist; this server serves ${servedModelNames(c.engine).join(" (or ")})`, "model", "model_not_found");
  }
  const selector = c.body.speclens?.config;
  const resolved = resolveConfig(getDb(), selector);
  if (!resolved) return fail(400, `speclens.config: no config label or version ${JSON.stringify(selector)}`, "speclens.config");
  // The version is fixed here, at admission: a label moved while this request runs does not change it.
  const base = resolved.config;
  const overrides = c.body.speclens?.overrides ?? {};
  let config;
  try {
    // Validated here, once: the engine trusts a config that passed its schema.
    config = applySpecOverrides(base, overrides, "speclens.overrides");
  } catch (error) {
    if (error instanceof SpecOverridesError) return fail(400, error.message, error.param);
    throw error;
  }
  const params = samplingParams(c.body, c.maxTokens, c.extraStops, c.logprobs ?? 0);
  const admitted = admitRequest(
    {
      rules: resolved.guardrail, base, config, overrideFields: Object.keys(overrides).filter((k) => overrides[k] !== undefined),
      maxTokens: params.maxTokens, askedMaxTokens: c.askedMaxTokens, timeBudgetMs: params.timeBudgetMs,
    },
    { maxTokens: c.maxTokensParam, overridePrefix: "speclens.overrides." },
  );
  if (!admitted.ok) return { ok: false, response: admitted.response };
  params.maxTokens = admitted.maxTokens;
  params.timeBudgetMs = admitted.timeBudgetMs;
  return {
    ok: true,
    request: {
      generation: {
        prompt: c.promptIds,
        promptText: c.promptText,
        params,
        config,
        endpoint: c.endpoint,
        operation: c.operation,
        configVersion: String(resolved.version),
        signal: c.signal,
        guardrails: { version: resolved.version, rules: resolved.guardrail, actions: admitted.actions },
      },
      model: c.body.model,
      stream: c.body.stream ?? false,
      includeUsage: c.body.stream_options?.include_usage ?? false,
      logprobs: c.logprobs,
      echo: c.echo,
      paramNames: c.paramNames,
      config: { version: resolved.version, label: resolved.label },
    },
  };
}

/** OpenAI's default max_tokens for completions. */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

/** The one prompt of a completions body: text, or token ids (each possibly wrapped in a one-element list). */
function singlePrompt(prompt: CompletionBody["prompt"]): string | number[] {
  if (typeof prompt === "string") return prompt;
  if (typeof prompt[0] === "number") return prompt as number[];
  return prompt[0] as string | number[];
}

export function prepareCompletion(engine: SpecEngine, body: CompletionBody, signal: AbortSignal): Prepared {
  const prompt = singlePrompt(body.prompt);
  let promptIds: number[];
  let promptText: string;
  if (typeof prompt === "string") {
    promptText = prompt;
    promptIds = engine.tokenizer.encode(prompt);
  } else {
    const vocab = engine.models.target.vocabSize;
    const bad = prompt.find((id) => id >= vocab);
    if (bad !== undefined) return fail(400, `prompt: token id ${bad} is outside the vocabulary (${vocab} tokens)`, "prompt");
    promptIds = prompt;
    promptText = engine.tokenizer.decode(prompt);
  }
  return prepare({
    engine, body, signal, promptIds, promptText,
    endpoint: "POST /v1/completions",
    operation: "text_completion",
    maxTokens: body.max_tokens ?? COMPLETIONS_DEFAULT_MAX_TOKENS,
    askedMaxTokens: body.max_tokens != null,
    maxTokensParam: "max_tokens",
    extraStops: [],
    logprobs: body.logprobs ?? null,
    echo: body.echo ? promptText : null,
    paramNames: { prompt: "prompt", configPrefix: "speclens.overrides." },
  });
}

const messageText = (m: ChatMessage) => (typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join(""));

export function prepareChat(engine: SpecEngine, body: ChatBody, signal: AbortSignal): Prepared {
  const promptText = engine.chatTemplate.render(body.messages.map((m) => ({ role: m.role, content: messageText(m) })));
  const promptIds = engine.tokenizer.encode(promptText);
  // Like vLLM: without a limit the reply may use the rest of the context.
  const room = Math.max(1, engine.models.target.maxPositions - promptIds.length);
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? room;
  return prepare({
    engine, body, signal, promptIds, promptText,
    endpoint: "POST /v1/chat/completions",
    operation: "chat",
    maxTokens,
    askedMaxTokens: body.max_completion_tokens != null || body.max_tokens != null,
    maxTokensParam: body.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens",
    extraStops: engine.chatTemplate.stop,
    logprobs: body.logprobs ? (body.top_logprobs ?? 0) : null,
    echo: null,
    paramNames: { prompt: "messages", configPrefix: "speclens.overrides." },
  });
}
