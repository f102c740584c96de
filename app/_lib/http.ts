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

export function errorResponse(status: number, message: string, type = "invalid_request"): Response {
  return jsonResponse({ error: { message, type } }, { status });
}

/** "max_tokens: Too big: expected number to be <=4096", naming the offending field first. */
export function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "body"}: ${issue.message}`)
    .join("; ");
}
