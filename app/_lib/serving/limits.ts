import "server-only";
import { z } from "zod";
import { RequestError } from "@/engine";
import { AdmissionQueue } from "./queue";

/*
 * Serving limits from the environment, read once per process:
 *   SPECLENS_MAX_RUNNING        generations that run at once (default 2: one per core on the reference machine)
 *   SPECLENS_MAX_QUEUE          generations that may wait for a slot before new ones get 429 (default 64)
 *   SPECLENS_REQUEST_TIMEOUT_MS per-request time limit on generation (default 120000; 0 = none); a
 *                               request's own time_budget_ms can only shorten it
 *   SPECLENS_MAX_PROMPT_TOKENS  prompt tokens a request may send (default 0: up to the model's context)
 *   SPECLENS_MAX_NEW_TOKENS     max_tokens a request may ask for (default 0: up to the model's context)
 * Each refusal is a 400 naming the field and the limit; the request body's size is limited before it is
 * parsed (SPECLENS_MAX_BODY_BYTES, app/_lib/http.ts) and requests per minute per key in authorize().
 */

/** Stop strings, one schema for every API: at most 8 of at most 256 characters each. */
export const MAX_STOP_STRINGS = 8;
export const MAX_STOP_LENGTH = 256;
export const stopSchema = z.union([z.string(), z.array(z.string())]).superRefine((value, ctx) => {
  const list = typeof value === "string" ? [value] : value;
  if (list.length > MAX_STOP_STRINGS) ctx.addIssue({ code: "custom", message: `at most ${MAX_STOP_STRINGS} stop strings, got ${list.length}` });
  list.forEach((stop, i) => {
    const path = typeof value === "string" ? [] : [i];
    if (stop.length === 0) ctx.addIssue({ code: "custom", path, message: "a stop string cannot be empty" });
    if (stop.length > MAX_STOP_LENGTH) ctx.addIssue({ code: "custom", path, message: `at most ${MAX_STOP_LENGTH} characters per stop string, got ${stop.length}` });
  });
});

export interface ServingLimits {
  maxRunning: number;
  maxWaiting: number;
  requestTimeoutMs: number;
  /** 0: no limit but the model's context. */
  maxPromptTokens: number;
  maxNewTokens: number;
}

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

const holder = globalThis as typeof globalThis & { __speclensLimits?: ServingLimits; __speclensQueue?: AdmissionQueue };

export function servingLimits(): ServingLimits {
  holder.__speclensLimits ??= {
    maxRunning: intFromEnv("SPECLENS_MAX_RUNNING", 2, 1),
    maxWaiting: intFromEnv("SPECLENS_MAX_QUEUE", 64, 0),
    requestTimeoutMs: intFromEnv("SPECLENS_REQUEST_TIMEOUT_MS", 120_000, 0),
    maxPromptTokens: intFromEnv("SPECLENS_MAX_PROMPT_TOKENS", 0, 0),
    maxNewTokens: intFromEnv("SPECLENS_MAX_NEW_TOKENS", 0, 0),
  };
  return holder.__speclensLimits;
}

/** The process-wide admission queue (on globalThis: Next bundles each route separately). */
export function admissionQueue(): AdmissionQueue {
  const { maxRunning, maxWaiting } = servingLimits();
  holder.__speclensQueue ??= new AdmissionQueue(maxRunning, maxWaiting);
  return holder.__speclensQueue;
}

/** The effective time budget: the server's limit, shortened by the request's own budget if it has one. */
export function effectiveTimeBudget(requestedMs: number): number {
  const limit = servingLimits().requestTimeoutMs;
  if (limit === 0) return requestedMs;
  return requestedMs > 0 ? Math.min(requestedMs, limit) : limit;
}

/** Throws a RequestError (400, naming the field and the limit) for a request over the server's limits. */
export function checkTokenLimits(promptTokens: number, maxTokens: number): void {
  const { maxPromptTokens, maxNewTokens } = servingLimits();
  if (maxPromptTokens > 0 && promptTokens > maxPromptTokens) {
    throw new RequestError("prompt", `${promptTokens} tokens exceed the limit of ${maxPromptTokens} prompt tokens (SPECLENS_MAX_PROMPT_TOKENS)`, "prompt");
  }
  if (maxNewTokens > 0 && maxTokens > maxNewTokens) {
    throw new RequestError("maxTokens", `${maxTokens} exceeds the limit of ${maxNewTokens} (SPECLENS_MAX_NEW_TOKENS)`);
  }
}

/** Tests only: forget the limits and the queue so the next call reads the environment again. */
export function resetServingState(): void {
  holder.__speclensLimits = undefined;
  holder.__speclensQueue = undefined;
}
