import { gzipSync } from "node:zlib";
import path from "node:path";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { POST } from "@/app/api/otlp/v1/traces/route";
import { closeDatabase, getDatabase } from "@/db/client";
import { getTrace } from "@/db/queries/traces";
import { traceGeneration } from "@/engine/telemetry";
import { makeTempDir } from "../support/temp";
import { drain, FAKE_INFO, fakeStream, startTracingFixture, type TracingFixture } from "./helpers";

/*
 * The receiver is fed payloads made by the official OTLP serializers (the ones
 * @opentelemetry/exporter-trace-otlp-http/-proto send), from spans of a real traced generation.
 */

let fx: TracingFixture;
let memory: InMemorySpanExporter;
let ingestDir: ReturnType<typeof makeTempDir>;
const savedDb = process.env.SPECLENS_DB;

beforeEach(() => {
  memory = new InMemorySpanExporter();
  fx = startTracingFixture({}, [new SimpleSpanProcessor(memory)]);
  ingestDir = makeTempDir("speclens-ingest-");
  process.env.SPECLENS_DB = path.join(ingestDir.dir, "ingest.db");
});
afterEach(async () => {
  closeDatabase();
  if (savedDb === undefined) delete process.env.SPECLENS_DB;
  else process.env.SPECLENS_DB = savedDb;
  ingestDir.cleanup();
  await fx.close();
});

async function localTrace(): Promise<string> {
  let traceId = "";
  await drain(traceGeneration(fakeStream(), FAKE_INFO, (s) => (traceId = s.spanContext().traceId)));
  await fx.processor.forceFlush();
  return traceId;
}

function post(body: Uint8Array | string, headers: Record<string, string>): Promise<Response> {
  return POST(new Request("http://localhost/api/otlp/v1/traces", { method: "POST", body: typeof body === "string" ? body : new Uint8Array(body), headers }));
}

function ingestedCounts() {
  const sqlite = getDatabase().sqlite;
  const n = (t: string) => Number((sqlite.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: bigint }).n);
  return { spans: n("spans"), events: n("span_events"), requests: n("requests"), steps: n("steps"), tokens: n("tokens") };
}

describe("POST /api/otlp/v1/traces", () => {
  it.each([
    ["protobuf", () => ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!, { "content-type": "application/x-protobuf" }],
    ["JSON", () => JsonTraceSerializer.serializeRequest(memory.getFinishedSpans())!, { "content-type": "application/json" }],
    ["gzipped protobuf", () => gzipSync(ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!), { "content-type": "application/x-protobuf", "content-encoding": "gzip" }],
  ] as const)("accepts %s from the official serializer; the trace is identical to the local one", async (_name, payload, headers) => {
    const traceId = await localTrace();
    const response = await post(payload(), headers);
    expect(response.status).toBe(200);
    const local = getTrace(fx.database.db, traceId)!;
    const ingested = getTrace(getDatabase().db, traceId)!;
    expect(ingested.request).not.toBeNull();
    expect(ingested).toEqual(local);
    expect(ingested.request!.node).toBe("node-a");
    const localRaw = fx.database.sqlite.prepare("SELECT * FROM spans ORDER BY span_id").all();
    const ingestedRaw = getDatabase().sqlite.prepare("SELECT * FROM spans ORDER BY span_id").all();
    expect(ingestedRaw).toEqual(localRaw);
  });

  it("is idempotent: a retried payload adds nothing", async () => {
    await localTrace();
    const body = ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!;
    expect((await post(body, { "content-type": "application/x-protobuf" })).status).toBe(200);
    const once = ingestedCounts();
    expect((await post(body, { "content-type": "application/x-protobuf" })).status).toBe(200);
    expect(ingestedCounts()).toEqual(once);
    expect(once).toEqual({ spans: 3, events: 2, requests: 1, steps: 2, tokens: 4 });
  });

  it.each([
    ["invalid JSON", "{not json", { "content-type": "application/json" }, /not valid JSON/],
    ["a span without ids", JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: "x", startTimeUnixNano: "1", endTimeUnixNano: "2" }] }] }] }), { "content-type": "application/json" }, /spans\[0\]\.traceId/],
    ["a wrongly typed attribute", JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "1".repeat(32), spanId: "2".repeat(16), name: "x", startTimeUnixNano: "1", endTimeUnixNano: "2", attributes: [{ key: "k", value: { intValue: "abc" } }] }] }] }] }), { "content-type": "application/json" }, /attributes\[0\]\.value\.intValue/],
    ["resourceSpans that is not an array", JSON.stringify({ resourceSpans: 5 }), { "content-type": "application/json" }, /resourceSpans: expected an array/],
    ["truncated protobuf", null, { "content-type": "application/x-protobuf" }, /malformed protobuf/],
    ["a gzip header on plain bytes", "plain", { "content-type": "application/json", "content-encoding": "gzip" }, /gzip/],
  ] as const)("rejects %s with 400 and a message, writing nothing", async (_name, body, headers, message) => {
    await localTrace();
    const good = ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!;
    // A valid payload cut short: the decoder sees a length prefix that runs past the end.
    const payload = body ?? good.subarray(0, good.length - 7);
    const response = await post(payload, headers);
    expect(response.status).toBe(400);
    const text = headers["content-type"] === "application/json" ? ((await response.json()) as { error: { message: string } }).error.message : decodeURIComponent(response.headers.get("x-speclens-error") ?? "");
    expect(text).toMatch(message);
    expect(ingestedCounts()).toEqual({ spans: 0, events: 0, requests: 0, steps: 0, tokens: 0 });
  });

  it("refuses a payload whose later span is malformed, keeping the earlier valid ones out too", async () => {
    await localTrace();
    const good = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(memory.getFinishedSpans())!));
    good.resourceSpans[0].scopeSpans[0].spans.push({ traceId: "zz", spanId: "1".repeat(16), name: "bad", startTimeUnixNano: "1", endTimeUnixNano: "2" });
    const response = await post(JSON.stringify(good), { "content-type": "application/json" });
    expect(response.status).toBe(400);
    expect(ingestedCounts().spans).toBe(0);
  });

  it("answers 415 for an unsupported content type", async () => {
    const response = await post("x", { "content-type": "text/plain" });
    expect(response.status).toBe(415);
  });
});
