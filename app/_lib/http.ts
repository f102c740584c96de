import "server-only";
import type { ZodError } from "zod";

/** JSON with bigint nanosecond timestamps as decimal strings (JSON numbers cannot hold them). */
export function jsonResponse(body: unknown, init: ResponseInit = {}): Response {
  const text = JSON.stringify(body, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json");
  if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
  return new Response(text, { ...init, headers });
}

/** The error `type` of each status, as the OpenAI API names them. */
const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "invalid_request_error",
  415: "invalid_request_error",
  429: "rate_limit_error",
  500: "server_error",
  503: "service_unavailable_error",
};

export interface ErrorOptions {
  /** The request field at fault, e.g. "max_tokens" or "speclens.overrides.proposer". */
  param?: string | null;
  /** A machine-readable reason, e.g. "model_not_found", "queue_full". */
  code?: string | null;
  type?: string;
  headers?: HeadersInit;
}

/**
 * Every API error, in the OpenAI error shape so that OpenAI clients surface it as they would OpenAI's:
 * {"error": {"message", "type", "param", "code"}}. A message about a field starts with its name.
 */
export function errorResponse(status: number, message: string, options: ErrorOptions = {}): Response {
  const error = { message, type: options.type ?? ERROR_TYPES[status] ?? "error", param: options.param ?? null, code: options.code ?? null };
  return jsonResponse({ error }, { status, headers: options.headers });
}

/** "max_tokens: Too big: expected number to be <=4096", naming the offending field first. */
export function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "body"}: ${issue.message}`)
    .join("; ");
}

/** 400 for a body that failed validation, with `param` set to the first offending field. */
export function zodErrorResponse(error: ZodError): Response {
  const path = error.issues[0]?.path ?? [];
  return errorResponse(400, describeZodError(error), { param: path.length > 0 ? path.join(".") : null });
}

/** The request body as JSON, or a 400 response saying it is not. */
export async function readJsonBody(request: Request): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> {
  try {
    return { ok: true, body: await request.json() };
  } catch {
    return { ok: false, response: errorResponse(400, "body: not valid JSON") };
  }
}
