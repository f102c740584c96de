import { gunzipSync } from "node:zlib";
import { authorize } from "@/app/_lib/auth";
import { getDatabase } from "@/db/client";
import { decodeOtlpJson, decodeOtlpProtobuf, OtlpError } from "@/db/tracing/otlp";
import { redactionRulesFromEnv, redactRecords } from "@/db/tracing/redact";
import { ingestStats } from "@/db/tracing/runtime";
import { writeSpans } from "@/db/tracing/store";
import { armAlertEvaluation } from "@/app/_lib/alerts/scheduler";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** Decompressed request bodies larger than this are refused (a batch of SpecLens spans is far smaller). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** google.rpc.Status { int32 code = 1; string message = 2 }, the OTLP/HTTP protobuf error body. */
function statusProto(code: number, message: string): Uint8Array {
  const text = Buffer.from(message, "utf8");
  const len: number[] = [];
  for (let n = text.length; ; n >>>= 7) {
    if (n < 0x80) { len.push(n); break; }
    len.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([0x08, code, 0x12, ...len]), text]);
}

function reject(status: number, message: string, protobuf: boolean): Response {
  const stats = ingestStats();
  stats.rejected += 1;
  stats.lastError = message;
  if (protobuf) {
    return new Response(new Uint8Array(statusProto(3, message)), { status, headers: { "content-type": "application/x-protobuf", "x-speclens-error": encodeURIComponent(message) } });
  }
  return Response.json({ error: { message, type: "invalid_request" } }, { status });
}

/**
 * POST /api/otlp/v1/traces: an OTLP/HTTP trace receiver (protobuf or JSON, optionally gzip), so other
 * SpecLens nodes (or any OTel SDK) can point OTEL_EXPORTER_OTLP_ENDPOINT at this dashboard. Spans land
 * in the same tables as local ones; a malformed payload is refused with 400 and writes nothing.
 */
export async function POST(request: Request): Promise<Response> {
  const contentType = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const protobuf = contentType === "application/x-protobuf" || contentType === "application/protobuf";
  const auth = authorize(request, "traces:ingest");
  if (!auth.ok) return auth.response;
  if (!protobuf && contentType !== "application/json") {
    return reject(415, `content-type: expected application/x-protobuf or application/json, got "${contentType || "none"}"`, false);
  }

  let body = new Uint8Array(await request.arrayBuffer());
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding === "gzip") {
    try {
      body = new Uint8Array(gunzipSync(body, { maxOutputLength: MAX_BODY_BYTES }));
    } catch (error) {
      return reject(400, `content-encoding gzip: ${error instanceof Error ? error.message : String(error)}`, protobuf);
    }
  } else if (encoding !== "identity") {
    return reject(415, `content-encoding: ${encoding} is not supported (gzip or identity)`, protobuf);
  }
  if (body.length > MAX_BODY_BYTES) return reject(413, `body larger than ${MAX_BODY_BYTES} bytes`, protobuf);

  let records;
  try {
    if (protobuf) {
      records = decodeOtlpProtobuf(body);
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
      } catch (error) {
        throw new OtlpError(`body: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
      }
      records = decodeOtlpJson(parsed);
    }
  } catch (error) {
    if (error instanceof OtlpError) return reject(400, error.message, protobuf);
    throw error;
  }

  try {
    // Spans from other nodes are masked like local ones before they are stored.
    writeSpans(getDatabase().sqlite, redactRecords(records, redactionRulesFromEnv()));
    armAlertEvaluation();
  } catch (error) {
    // Retryable per the OTLP spec: the client keeps the batch and sends it again.
    const message = `database: ${error instanceof Error ? error.message : String(error)}`;
    ingestStats().lastError = message;
    return protobuf ? new Response(new Uint8Array(statusProto(14, message)), { status: 503, headers: { "content-type": "application/x-protobuf", "retry-after": "1" } })
      : Response.json({ error: { message, type: "unavailable" } }, { status: 503, headers: { "retry-after": "1" } });
  }
  const stats = ingestStats();
  stats.accepted += 1;
  stats.spans += records.length;
  // An empty ExportTraceServiceResponse: full success.
  return protobuf
    ? new Response(new Uint8Array(0), { status: 200, headers: { "content-type": "application/x-protobuf" } })
    : Response.json({ partialSuccess: {} }, { status: 200 });
}
