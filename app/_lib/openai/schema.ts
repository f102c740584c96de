import "server-only";
import { z } from "zod";
import { stopSchema } from "../serving/limits";
import { specOverridesSchema } from "../spec-config";

/*
 * Request bodies of the OpenAI-compatible API (POST /v1/completions, POST /v1/chat/completions).
 * Fields follow OpenAI's API reference, plus vLLM's extensions for fixed-length benchmarking
 * (ignore_eos, min_tokens, top_k) and our `speclens` object. Like OpenAI, unknown fields are rejected
 * with 400 naming them; fields OpenAI defines that this engine cannot honour are accepted only at
 * their neutral value (e.g. n = 1, presence_penalty = 0), anything else is a 400 that says so.
 */

const neutral = <T extends z.ZodType>(schema: T, value: z.infer<T>, why: string) =>
  schema.optional().nullable().refine((v) => v === undefined || v === null || JSON.stringify(v) === JSON.stringify(value), {
    message: `only ${JSON.stringify(value)} is supported: ${why}`,
  });

/** `speclens`: which config version or label to run under, and per-request overrides of it. */
export const speclensExtensionSchema = z.strictObject({
  /** A label ("production") or a version (3, "3" or "v3"); the "production" label when left out. */
  config: z.union([z.string().min(1).max(64), z.number().int().min(1)]).optional(),
  overrides: specOverridesSchema.optional(),
});

const samplingShape = {
  model: z.string().min(1),
  max_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  top_k: z.number().int().min(-1).nullable().optional(),
  seed: z.number().int().min(0).max(2 ** 31 - 1).nullable().optional(),
  stop: stopSchema.nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.strictObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  ignore_eos: z.boolean().optional(),
  min_tokens: z.number().int().min(0).optional(),
  user: z.string().max(256).optional(),
  n: neutral(z.number().int(), 1, "one choice per request"),
  presence_penalty: neutral(z.number(), 0, "the engine applies no penalties"),
  frequency_penalty: neutral(z.number(), 0, "the engine applies no penalties"),
  logit_bias: neutral(z.record(z.string(), z.number()), {}, "the engine applies no logit bias"),
  speclens: speclensExtensionSchema.optional(),
};

export const completionBodySchema = z
  .strictObject({
    ...samplingShape,
    /** One prompt: text, or token ids. */
    prompt: z.union([
      z.string(),
      z.array(z.string()).length(1, "only one prompt per request is supported"),
      z.array(z.number().int().min(0)).min(1),
      z.array(z.array(z.number().int().min(0)).min(1)).length(1, "only one prompt per request is supported"),
    ]),
    /** Completions API: the number of most likely tokens to report per position (0-5). */
    logprobs: z.number().int().min(0).max(5).nullable().optional(),
    echo: z.boolean().nullable().optional(),
    best_of: neutral(z.number().int(), 1, "one candidate per request"),
    suffix: neutral(z.string(), "", "insertion is not supported"),
  })
  .refine((b) => !(b.echo && b.logprobs != null), { path: ["echo"], message: "echo together with logprobs is not supported (no prompt logprobs)" });

export type CompletionBody = z.infer<typeof completionBodySchema>;

const textPart = z.strictObject({ type: z.literal("text"), text: z.string() });

export const chatMessageSchema = z.object({
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z.union([z.string(), z.array(textPart).min(1)]),
  name: z.string().optional(),
});

export const chatBodySchema = z.strictObject({
  ...samplingShape,
  messages: z.array(chatMessageSchema).min(1),
  /** Newer OpenAI clients send this instead of max_tokens. */
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  response_format: neutral(z.object({ type: z.string() }), { type: "text" }, "only plain text responses"),
});

export type ChatBody = z.infer<typeof chatBodySchema>;
export type ChatMessage = z.infer<typeof chatMessageSchema>;
