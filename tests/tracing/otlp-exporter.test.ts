import { createServer, type Server } from "node:http";
import path from "node:path";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { POST } from "@/app/api/otlp/v1/traces/route";
import { closeDatabase, getDatabase } from "@/db/client";
import { getTrace } from "@/db/queries/traces";
import { traceGeneration } from "@/engine/telemetry";
import { makeTempDir } from "../support/temp";
import { drain, FAKE_INFO, fakeStream, startTracingFixture, type TracingFixture } from "./helpers";

/*
 * Outward and inward together: the official OTLP/HTTP exporter (what OTEL_EXPORTER_OTLP_ENDPOINT
 * enables on a node) ships a traced generation over real HTTP to the receiver route, which stores it
 * in a second database exactly as the local processor stored it in the first.
 */

let server: Server;
let url: string;
let received: { encoding: string | undefined; type: string | undefined }[];
let ingestDir: ReturnType<typeof makeTempDir>;
let fx: TracingFixture | null = null;
const savedDb = process.env.SPECLENS_DB;

beforeEach(async () => {
  ingestDir = makeTempDir("speclens-otlp-http-");
  process.env.SPECLENS_DB = path.join(ingestDir.dir, "dashboard.db");
  received = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      received.push({ encoding: req.headers["content-encoding"], type: req.headers["content-type"] });
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const response = await POST(new Request(`http://localhost${req.url}`, { method: "POST", headers, body: new Uint8Array(Buffer.concat(chunks)) }));
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/api/otlp/v1/traces`;
});
afterEach(async () => {
  await fx?.close();
  fx = null;
  await new Promise((resolve) => server.close(resolve));
  closeDatabase();
  if (savedDb === undefined) delete process.env.SPECLENS_DB;
  else process.env.SPECLENS_DB = savedDb;
  ingestDir.cleanup();
});

describe("OTLP/HTTP export from one node to the dashboard's receiver", () => {
  it.each([
    ["uncompressed", {}, undefined],
    // CompressionAlgorithm.GZIP lives in @opentelemetry/otlp-exporter-base; its value is the string "gzip".
    ["gzip", { compression: "gzip" as never }, "gzip"],
  ])("delivers a traced generation (%s), indistinguishable from the local copy", async (_name, options, encoding) => {
    fx = startTracingFixture({}, [new BatchSpanProcessor(new OTLPTraceExporter({ url, ...options }))]);
    let traceId = "";
    await drain(traceGeneration(fakeStream(), FAKE_INFO, (s) => (traceId = s.spanContext().traceId)));
    await fx.provider.forceFlush();

    expect(received.length).toBeGreaterThan(0);
    expect(received[0].encoding).toBe(encoding);
    const local = getTrace(fx.database.db, traceId);
    const remote = getTrace(getDatabase().db, traceId);
    expect(remote?.request?.node).toBe("node-a");
    expect(remote).toEqual(local);
  });
});
