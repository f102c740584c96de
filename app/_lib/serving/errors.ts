import "server-only";
import { ModelUnavailableError, RequestError } from "@/engine";
import { errorResponse } from "../http";
import { SpecOverridesError } from "../spec-config";
import { QueueFullError } from "./queue";

/** How an API names the engine fields a RequestError can point at. */
export interface ParamNames {
  /** The field that holds the prompt ("prompt", or "messages" for chat). */
  prompt: string;
  /** Prefix of speculative-config fields ("" for /api/generate, "speclens.overrides." for /v1). */
  configPrefix: string;
}

export const GENERATE_API_PARAMS: ParamNames = { prompt: "prompt", configPrefix: "" };

/** "ngram.minN" -> "ngram.min_n": engine names to the snake_case of the wire. */
const snakeCase = (path: string) => path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function wireParam(error: RequestError, names: ParamNames): string {
  if (error.in_ === "prompt") return names.prompt;
  return error.in_ === "config" ? names.configPrefix + snakeCase(error.param) : snakeCase(error.param);
}

/**
 * The HTTP answer to a generation that could not start or failed: 400 for a request the engine cannot
 * run as asked, 429 with Retry-After when the queue is full, 503 when the models are missing, 500
 * otherwise (logged: it is our fault, not the caller's).
 */
export function generationErrorResponse(error: unknown, names: ParamNames = GENERATE_API_PARAMS): Response {
  if (error instanceof SpecOverridesError) return errorResponse(400, error.message, { param: error.param });
  if (error instanceof RequestError) {
    const param = wireParam(error, names);
    return errorResponse(400, `${param}: ${error.message}`, { param });
  }
  if (error instanceof QueueFullError) {
    return errorResponse(429, error.message, { code: "queue_full", headers: { "retry-after": String(error.retryAfterS) } });
  }
  if (error instanceof ModelUnavailableError) {
    return errorResponse(503, `models not available: ${error.message}`, { code: "model_unavailable" });
  }
  console.error("[speclens] generation failed:", error);
  return errorResponse(500, error instanceof Error ? error.message : String(error));
}
