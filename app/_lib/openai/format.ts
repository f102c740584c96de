import "server-only";
import { formatModelId } from "@/engine";
import type { FinishReason, GenerateResult, OutputToken } from "@/engine";
import type { PreparedRequest } from "./prepare";

/*
 * Response bodies and stream chunks of the two OpenAI dialects. They differ in object names, in where
 * the text goes (choice.text vs choice.message / choice.delta) and in the logprobs layout; everything
 * else (ids, usage, the speclens summary, streaming) is shared by serve.ts.
 */

/** OpenAI's finish reasons: the engine's eos and stop strings are both "stop"; a time limit cuts like length. */
export function openaiFinishReason(reason: FinishReason): string {
  switch (reason) {
    case "eos":
    case "stop":
      return "stop";
    case "length":
    case "time_budget":
      return "length";
    case "abort":
      return "abort";
  }
}

/** The `speclens` object of a response (and of a stream's final chunk): the trace and the speculation summary. */
export function speclensSummary(traceId: string, result: GenerateResult, request: PreparedRequest) {
  const s = result.summary;
  return {
    trace_id: traceId,
    trace_url: `/traces/${traceId}`,
    config_version: request.config.version,
    config_label: request.config.label,
    proposer: s.proposer,
    verify_mode: s.verify,
    finish_reason: result.finishReason,
    steps: s.steps,
    drafted: s.drafted,
    accepted: s.accepted,
    acceptance_rate: s.acceptanceRate,
    mean_acceptance_length: s.meanAcceptanceLength,
    per_position_acceptance: s.perPositionAcceptance,
    models: { target: formatModelId(result.models.target), draft: result.models.draft ? formatModelId(result.models.draft) : null },
    timings: { prefill_ms: result.timings.prefillMs, first_token_ms: result.timings.firstTokenMs, total_ms: result.timings.totalMs },
  };
}

export function usage(promptTokens: number, completionTokens: number) {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export interface Dialect {
  /** `object` of a complete response and of a stream chunk. */
  object: string;
  chunkObject: string;
  idPrefix: string;
  /** The first chunk of a stream, before any text (chat announces the role), or null. */
  openingChoice(): Record<string, unknown> | null;
  /** A choice carrying `text` and the tokens it came from; `finishReason` is set on the last one only. */
  choice(text: string, tokens: OutputToken[], finishReason: string | null, request: PreparedRequest, textOffset: number, streamed: boolean): Record<string, unknown>;
}

const utf8 = (text: string) => [...Buffer.from(text, "utf8")];

export const completionsDialect: Dialect = {
  object: "text_completion",
  chunkObject: "text_completion",
  idPrefix: "cmpl-",
  openingChoice: () => null,
  choice(text, tokens, finishReason, request, textOffset) {
    return { index: 0, text, logprobs: completionLogprobs(tokens, request.logprobs, textOffset), finish_reason: finishReason };
  },
};

/** Completions logprobs: parallel lists, top_logprobs as {token text: logprob} with the chosen token included. */
function completionLogprobs(tokens: OutputToken[], top: number | null, textOffset: number) {
  if (top === null) return null;
  let offset = textOffset;
  const textOffsets = tokens.map((t) => {
    const at = offset;
    offset += t.text.length;
    return at;
  });
  return {
    tokens: tokens.map((t) => t.text),
    token_logprobs: tokens.map((t) => t.logprob),
    top_logprobs: tokens.map((t) => Object.fromEntries([[t.text, t.logprob], ...t.topLogprobs.slice(0, top).map((a) => [a.text, a.logprob] as const)])),
    text_offset: textOffsets,
  };
}

export const chatDialect: Dialect = {
  object: "chat.completion",
  chunkObject: "chat.completion.chunk",
  idPrefix: "chatcmpl-",
  openingChoice: () => ({ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }),
  choice(text, tokens, finishReason, request, _textOffset, streamed) {
    const logprobs = request.logprobs === null ? null : { content: chatLogprobs(tokens, request.logprobs), refusal: null };
    if (streamed) return { index: 0, delta: text === "" ? {} : { content: text }, logprobs, finish_reason: finishReason };
    return { index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs, finish_reason: finishReason };
  },
};

function chatLogprobs(tokens: OutputToken[], top: number) {
  return tokens.map((t) => ({
    token: t.text,
    logprob: t.logprob,
    bytes: utf8(t.text),
    top_logprobs: t.topLogprobs.slice(0, top).map((a) => ({ token: a.text, logprob: a.logprob, bytes: utf8(a.text) })),
  }));
}
