import "server-only";
import { TRACE_ID_PATTERN } from "@/db/queries/traces";
import { errorResponse } from "../http";
import { generationErrorResponse } from "../serving/errors";
import { ReplayInputError } from "./run";

/** The trace id of a route, lower-cased, or a 400 naming the field. */
export function parseTraceId(raw: string): { ok: true; id: string } | { ok: false; response: Response } {
  const id = raw.toLowerCase();
  if (!TRACE_ID_PATTERN.test(id)) return { ok: false, response: errorResponse(400, "traceId: expected 32 hexadecimal characters", { param: "traceId" }) };
  return { ok: true, id };
}

/** A replay that could not run: the caller's input (400 naming the field) or the generation path's errors. */
export function replayErrorResponse(error: unknown): Response {
  if (error instanceof ReplayInputError) return errorResponse(400, `${error.param}: ${error.message}`, { param: error.param });
  return generationErrorResponse(error, { prompt: "prompt", configPrefix: "overrides." });
}
