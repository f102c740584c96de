import "server-only";
import type { ZodError, z } from "zod";

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

/** SPECLENS_MAX_BODY_BYTES: the largest JSON request body accepted (default 1 MiB). */
export function maxBodyBytes(): number {
  const raw = process.env.SPECLENS_MAX_BODY_BYTES;
  const value = raw === undefined || raw.trim() === "" ? 1024 * 1024 : Number(raw);
  return Number.isInteger(value) && value > 0 ? value : 1024 * 1024;
}

function tooLarge(limit: number): Response {
  return errorResponse(413, `body: larger than the limit of ${limit} bytes (SPECLENS_MAX_BODY_BYTES)`, { code: "body_too_large" });
}

/**
 * The request body as UTF-8 text, or 413 past the size limit: refused from Content-Length before
 * reading when it says so, and counted while reading otherwise (a chunked body has no length).
 */
export async function readBodyText(request: Request): Promise<{ ok: true; text: string } | { ok: false; response: Response }> {
  const limit = maxBodyBytes();
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) return { ok: false, response: tooLarge(limit) };
  if (!request.body) return { ok: true, text: "" };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      return { ok: false, response: tooLarge(limit) };
    }
    chunks.push(value);
  }
  return { ok: true, text: Buffer.concat(chunks).toString("utf8") };
}

/** Headers of every server-sent-event stream; no-transform keeps Next's gzip from buffering the stream. */
export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
} as const;

/**
 * A server-sent-events response. `run` writes SSE text (events, `data:` lines, comments) while the client
 * listens; the stream ends when it returns. A client that goes away aborts `cancel`, so the generation
 * behind the stream stops at its next step, and later writes are dropped.
 */
export function sseResponse(headers: Record<string, string>, cancel: AbortController, run: (write: (text: string) => void) => Promise<void>): Response {
  const encoder = new TextEncoder();
  let open = true;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        if (open) controller.enqueue(encoder.encode(text));
      };
      // `run` answers its own errors in the stream; anything that still escapes is logged, never left unhandled.
      void run(write)
        .catch((error: unknown) => console.error("speclens: event stream failed:", error))
        .finally(() => {
          if (open) controller.close();
          open = false;
        });
    },
    cancel() {
      open = false;
      cancel.abort();
    },
  });
  return new Response(body, { headers: { ...headers, ...SSE_HEADERS } });
}

/** The request body as JSON, or a 400 response saying it is not (413 past the size limit). */
export async function readJsonBody(request: Request): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> {
  const read = await readBodyText(request);
  if (!read.ok) return read;
  try {
    return { ok: true, body: JSON.parse(read.text) };
  } catch {
    return { ok: false, response: errorResponse(400, "body: not valid JSON") };
  }
}

/**
 * The request body as JSON validated by `schema`: readJsonBody's 413 and 400 first, then a 400 naming the
 * first field that failed validation (zodErrorResponse). `body` is the JSON as sent, before defaults.
 */
export async function parseJsonBody<T extends z.ZodType>(
  request: Request,
  schema: T,
): Promise<{ ok: true; data: z.infer<T>; body: unknown } | { ok: false; response: Response }> {
  const read = await readJsonBody(request);
  if (!read.ok) return read;
  const parsed = schema.safeParse(read.body);
  return parsed.success ? { ok: true, data: parsed.data, body: read.body } : { ok: false, response: zodErrorResponse(parsed.error) };
}
