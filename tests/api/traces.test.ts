import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GET as getTraceRoute } from "@/app/api/traces/[traceId]/route";
import { GET as listRoute } from "@/app/api/traces/route";
import { closeDatabase, getDatabase } from "@/db/client";
import { writeSpans } from "@/db/tracing/store";
import type { SpanRecord } from "@/db/tracing/span-record";
import { A } from "@/engine/telemetry";
import { spanIdOf, traceIdOf } from "../support/spans";
import { makeTempDir } from "../support/temp";

let temp: ReturnType<typeof makeTempDir>;
const saved = { db: process.env.SPECLENS_DB, keys: process.env.SPECLENS_API_KEYS };
const T0 = 1_763_840_000_000_000_000n;

/** A request span as the engine emits it, built directly so each trace can vary one field. */
function requestSpan(n: number, over: { proposer?: string; target?: string; finish?: string; node?: string; rate?: number; startNs?: bigint } = {}): SpanRecord {
  const start = over.startNs ?? T0 + BigInt(n) * 1_000_000_000n;
  return {
    traceId: traceIdOf(n), spanId: spanIdOf(n), parentSpanId: null, name: "text_completion target", kind: 0,
    startTimeNs: start, endTimeNs: start + 5_000_000n, statusCode: 0, statusMessage: null, events: [],
    resource: { "host.name": over.node ?? "node-a" }, scopeName: "speclens-engine", node: over.node ?? "node-a",
    attributes: {
      [A.operation]: "text_completion", [A.prompt]: `prompt ${n}`, [A.completion]: "out", [A.proposer]: over.proposer ?? "draft-model",
      [A.targetModelId]: `${over.target ?? "target"}@sha256:aaaaaaaaaaaa`, [A.targetSha256]: "a".repeat(64),
      [A.finishReason]: over.finish ?? "length", [A.acceptanceRate]: over.rate ?? 0.5, [A.steps]: 3,
    },
  };
}

async function list(query: string, headers: Record<string, string> = {}) {
  const response = listRoute(new Request(`http://localhost/api/traces${query}`, { headers }));
  return { status: response.status, body: (await response.json()) as { traces: { traceId: string; startNs: string }[]; next_cursor: string | null; error?: { message: string } } };
}

beforeEach(() => {
  temp = makeTempDir();
  process.env.SPECLENS_DB = `${temp.dir}/api.db`;
  delete process.env.SPECLENS_API_KEYS;
  writeSpans(getDatabase().sqlite, [
    requestSpan(1, { proposer: "ngram", rate: 0.2 }),
    requestSpan(2, { finish: "eos", rate: 0.9 }),
    requestSpan(3, { target: "other", node: "node-b", rate: 0.7 }),
    requestSpan(4, { rate: 0.5 }),
    requestSpan(5, { proposer: "ngram", finish: "eos", rate: 0.4 }),
    // Same start as trace 5: the keyset tie-break on trace_id must neither skip nor repeat it.
    requestSpan(6, { startNs: T0 + 5_000_000_000n }),
  ]);
});
afterEach(() => {
  closeDatabase();
  for (const [k, v] of [["SPECLENS_DB", saved.db], ["SPECLENS_API_KEYS", saved.keys]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  temp.cleanup();
});

const ids = (traces: { traceId: string }[]) => traces.map((t) => parseInt(t.traceId, 16));

describe("GET /api/traces", () => {
  it("lists newest first with nanosecond times as strings", async () => {
    const { status, body } = await list("");
    expect(status).toBe(200);
    expect(ids(body.traces)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(body.traces[0].startNs).toBe((T0 + 5_000_000_000n).toString());
    expect(body.next_cursor).toBeNull();
  });

  it("pages with an opaque keyset cursor, without gaps or repeats", async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const { body }: Awaited<ReturnType<typeof list>> = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(body.traces.length).toBeLessThanOrEqual(2);
      seen.push(...ids(body.traces));
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it.each([
    ["?proposer=ngram", [5, 1]],
    ["?finish_reason=eos", [5, 2]],
    ["?node=node-b", [3]],
    ["?model=other", [3]],
    ["?model=target@sha256:aaaaaaaaaaaa", [6, 5, 4, 2, 1]],
    ["?min_acceptance=0.5&max_acceptance=0.8", [6, 4, 3]],
    [`?since=${T0 + 2_000_000_000n}&until=${T0 + 4_000_000_000n}`, [4, 3, 2]],
    ["?since=2025-11-22T19:33:24Z&proposer=ngram", [5]],
  ] as const)("filters %s", async (query, expected) => {
    const { status, body } = await list(query);
    expect(status).toBe(200);
    expect(ids(body.traces)).toEqual(expected);
  });

  it.each([
    ["?limit=0", /^limit:/],
    ["?limit=1000", /^limit:/],
    ["?min_acceptance=2", /^min_acceptance:/],
    ["?since=yesterday", /^since:/],
    ["?cursor=bogus", /^cursor:/],
    ["?colour=red", /colour/],
  ])("rejects %s with 400 naming the parameter", async (query, message) => {
    const { status, body } = await list(query);
    expect(status).toBe(400);
    expect(body.error!.message).toMatch(message);
  });

  it("requires a bearer key when SPECLENS_API_KEYS is set", async () => {
    process.env.SPECLENS_API_KEYS = "k1, k2";
    expect((await list("")).status).toBe(401);
    expect((await list("", { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await list("", { authorization: "Bearer k2" })).status).toBe(200);
  });
});

describe("GET /api/traces/{traceId}", () => {
  const get = (id: string) => getTraceRoute(new Request(`http://localhost/api/traces/${id}`), { params: Promise.resolve({ traceId: id }) });

  it("returns the stored trace", async () => {
    const response = await get(traceIdOf(3));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { traceId: string; request: { node: string; proposer: string; startNs: string } };
    expect(body.traceId).toBe(traceIdOf(3));
    expect(body.request).toMatchObject({ node: "node-b", proposer: "draft-model", startNs: (T0 + 3_000_000_000n).toString() });
  });

  it("answers 404 for an unknown id and 400 for a malformed one", async () => {
    const missing = await get("f".repeat(32));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/not found/);
    const bad = await get("not-a-trace");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^traceId:/);
  });
});
