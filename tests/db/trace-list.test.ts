import { beforeEach, describe, expect, it } from "vitest";
import type { OpenDatabase } from "@/db/client";
import { listRawTraces, listTraces, traceFacets, type TraceFilters } from "@/db/queries/traces";
import { deleteTraces } from "@/db/tracing/retention";
import { writeSpans } from "@/db/tracing/store";
import { freshDatabasePerTest } from "../support/database";
import { request, SECOND, step, T0 } from "../support/request-spans";
import { traceIdOf } from "../support/spans";

const freshDatabase = freshDatabasePerTest();
let database: OpenDatabase;
beforeEach(() => {
  database = freshDatabase();
});

const ids = (f: TraceFilters = {}) => listTraces(database.db, f).items.map((t) => parseInt(t.traceId, 16));

/** Every page of a listing, following cursors. */
function allPages(f: TraceFilters): number[] {
  const out: number[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = listTraces(database.db, { ...f, cursor });
    out.push(...page.items.map((t) => parseInt(t.traceId, 16)));
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
  throw new Error("pagination did not end");
}

describe("trace list filters", () => {
  beforeEach(() => {
    writeSpans(database.sqlite, [
      request(1, { proposer: "ngram", draft: null, rate: 0.2, totalMs: 40, prompt: "The jury said the city", completion: "was fine" }),
      request(2, { finish: "eos", rate: 0.9, verify: "sampling", version: "2", totalMs: 900 }),
      request(3, { target: "other", node: "node-b", rate: 0.7, totalMs: 300, completion: "an election in Atlanta" }),
      request(4, { status: 2, rate: null, proposer: "off", draft: null, totalMs: 10 }),
      request(5, { cancelled: true, finish: "abort", rate: 0.4, version: "2", prompt: "Jury duty in the city" }),
    ]);
  });

  it("lists newest first with every column the page shows", () => {
    expect(ids()).toEqual([5, 4, 3, 2, 1]);
    const first = listTraces(database.db).items[0];
    expect(first).toMatchObject({ proposer: "draft-model", verifyMode: "greedy", configVersion: "2", node: "node-a", promptPreview: "Jury duty in the city", tokensPerS: 100 });
  });

  it("filters on each categorical field", () => {
    expect(ids({ proposer: "ngram" })).toEqual([1]);
    expect(ids({ verifyMode: "sampling" })).toEqual([2]);
    expect(ids({ configVersion: "2" })).toEqual([5, 2]);
    expect(ids({ node: "node-b" })).toEqual([3]);
    expect(ids({ finishReason: "eos" })).toEqual([2]);
    expect(ids({ model: "other" })).toEqual([3]);
    expect(ids({ model: "draft" })).toEqual([5, 3, 2]);
    expect(ids({ model: "b".repeat(64) })).toEqual([5, 3, 2]);
  });

  it("filters on status: error, cancelled, and ok (neither)", () => {
    expect(ids({ status: "error" })).toEqual([4]);
    expect(ids({ status: "cancelled" })).toEqual([5]);
    expect(ids({ status: "ok" })).toEqual([3, 2, 1]);
  });

  it("filters on time, acceptance and latency ranges (inclusive)", () => {
    expect(ids({ sinceNs: T0 + 2n * SECOND, untilNs: T0 + 4n * SECOND })).toEqual([4, 3, 2]);
    expect(ids({ minAcceptance: 0.4, maxAcceptance: 0.7 })).toEqual([5, 3]);
    expect(ids({ minLatencyMs: 40, maxLatencyMs: 300 })).toEqual([5, 3, 1]);
  });

  it("searches prompt and output: every word required, case-insensitive, operators inert", () => {
    expect(ids({ q: "jury" })).toEqual([5, 1]);
    expect(ids({ q: "JURY city" })).toEqual([5, 1]);
    expect(ids({ q: "jury fine" })).toEqual([1]);
    expect(ids({ q: "atlanta" })).toEqual([3]);
    expect(ids({ q: 'jury" OR "x' })).toEqual([]);
    expect(ids({ q: "NEAR(" })).toEqual([]);
    expect(ids({ q: "  " })).toEqual([5, 4, 3, 2, 1]);
    expect(ids({ q: "jury", proposer: "ngram" })).toEqual([1]);
  });

  it("keeps the search index in step when a request is replaced or deleted", () => {
    // A redelivered request span rewrites its row (INSERT OR REPLACE); the old words must not match.
    database.sqlite.prepare("DELETE FROM spans WHERE trace_id = ?").run(traceIdOf(3));
    writeSpans(database.sqlite, [request(3, { completion: "a parade in Boston" })]);
    expect(ids({ q: "atlanta" })).toEqual([]);
    expect(ids({ q: "boston" })).toEqual([3]);
    deleteTraces(database.sqlite, [traceIdOf(1)]);
    expect(ids({ q: "jury" })).toEqual([5]);
    expect(database.sqlite.prepare("INSERT INTO requests_fts(requests_fts, rank) VALUES ('integrity-check', 1)").run()).toBeTruthy();
  });

  it("sorts by a value with keyset pages, rows without one after (desc) or before (asc)", () => {
    expect(allPages({ sort: "acceptance", limit: 2 })).toEqual([2, 3, 5, 1, 4]);
    expect(allPages({ sort: "acceptance", order: "asc", limit: 2 })).toEqual([4, 1, 5, 3, 2]);
    expect(allPages({ sort: "latency", limit: 2 })).toEqual([2, 3, 5, 1, 4]);
    expect(allPages({ sort: "start", order: "asc", limit: 2 })).toEqual([1, 2, 3, 4, 5]);
    expect(() => listTraces(database.db, { sort: "latency", cursor: listTraces(database.db, { limit: 1 }).nextCursor! })).toThrow(RangeError);
  });

  it("offers the stored values as filter choices", () => {
    const facets = traceFacets(database.db);
    expect(facets.proposer).toEqual(["draft-model", "ngram", "off"]);
    expect(facets.configVersion).toEqual(["1", "2"]);
    expect(facets.model.map((m) => m.split("@")[0])).toEqual(["other", "target", "draft"]);
  });
});

describe("trace list pages", () => {
  it("neither skip nor repeat rows while newer traces keep arriving, ties on start time included", () => {
    const batch = Array.from({ length: 30 }, (_, i) => request(i + 1, { startNs: T0 + BigInt(Math.floor((i + 1) / 3)) * SECOND }));
    writeSpans(database.sqlite, batch);
    const seen: number[] = [];
    let cursor: string | undefined;
    let next = 100;
    for (;;) {
      const page = listTraces(database.db, { limit: 4, cursor });
      seen.push(...page.items.map((t) => parseInt(t.traceId, 16)));
      // Between pages, newer traces arrive.
      writeSpans(database.sqlite, [request(next++, { startNs: T0 + 100n * SECOND + BigInt(next) }), request(next++, { startNs: page.items.at(-1)!.startNs + SECOND * 1000n })]);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen.length).toBe(30);
    expect(new Set(seen).size).toBe(30);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it("accepts cursors in the original format and rejects forged ones", () => {
    writeSpans(database.sqlite, [request(1), request(2), request(3)]);
    const legacy = Buffer.from(JSON.stringify([(T0 + 2n * SECOND).toString(), traceIdOf(2)])).toString("base64url");
    expect(ids({ cursor: legacy })).toEqual([1]);
    expect(() => listTraces(database.db, { cursor: "not-a-cursor" })).toThrow(RangeError);
  });

  it("draws each row's per-step acceptance", () => {
    writeSpans(database.sqlite, [request(1), step(1, 0, 4, 4), step(1, 1, 1, 4), step(1, 2, 0, 0)]);
    expect(listTraces(database.db).items[0].sparkline).toEqual([1, 0.25, null]);
  });

  it("lists non-generation traces in the raw view", () => {
    writeSpans(database.sqlite, [
      request(1),
      { ...request(2), name: "GET /health", scopeName: "other-service", attributes: { "http.method": "GET" } },
    ]);
    expect(ids()).toEqual([1]);
    const raw = listRawTraces(database.db);
    expect(raw.items.map((t) => [parseInt(t.traceId, 16), t.generation])).toEqual([[2, false], [1, true]]);
    expect(listRawTraces(database.db, { onlyOther: true }).items.map((t) => t.rootName)).toEqual(["GET /health"]);
  });
});

describe("trace detail", () => {
  it("counts each span's own events only", async () => {
    const { getTrace } = await import("@/db/queries/traces");
    const withEvent = (n: number, index: number) => ({ ...step(n, index, 1, 2), events: [{ name: "speclens.rollback", timeNs: T0, attributes: {} }] });
    writeSpans(database.sqlite, [request(1), withEvent(1, 0), withEvent(1, 1), request(2), withEvent(2, 0)]);
    const spans = getTrace(database.db, traceIdOf(1))!.spans;
    expect(spans.map((s) => s.events).sort()).toEqual([0, 1, 1]);
  });
});
