import os from "node:os";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import type { OpenDatabase } from "@/db/client";
import { countSpans, countTraces, listRecentTraces } from "@/db/queries/spans";
import { spanEvents, spans } from "@/db/schema";
import { freshDatabasePerTest } from "../support/database";
import { spanIdOf, spanRow, traceIdOf } from "../support/spans";

const freshDatabase = freshDatabasePerTest();
let database: OpenDatabase;
beforeEach(() => {
  database = freshDatabase();
});

// Past Number.MAX_SAFE_INTEGER: a double would round these to a multiple of 256 ns.
const T0 = 1_763_840_000_123_456_789n;

describe("span queries on an empty database", () => {
  it("count nothing and list no traces", () => {
    expect(countSpans(database.db)).toBe(0);
    expect(countTraces(database.db)).toBe(0);
    expect(listRecentTraces(database.db)).toEqual([]);
  });
});

describe("span storage", () => {
  it("round-trips nanosecond timestamps exactly, JSON attributes, and defaults the node to this host", () => {
    database.db
      .insert(spans)
      .values(spanRow({ traceId: traceIdOf(1), spanId: spanIdOf(1), startTimeNs: T0, endTimeNs: T0 + 1n, attributes: { "speclens.k": 4, "gen_ai.request.model": "target" } }))
      .run();
    const row = database.db.select().from(spans).get()!;
    expect(row.startTimeNs).toBe(T0);
    expect(row.endTimeNs - row.startTimeNs).toBe(1n);
    expect(row.attributes).toEqual({ "speclens.k": 4, "gen_ai.request.model": "target" });
    expect(row.resource).toEqual({});
    expect(row.node).toBe(os.hostname());
    expect(row.kind).toBe(0);
  });

  it("rejects a second span with the same trace and span id", () => {
    const span = spanRow({ traceId: traceIdOf(1), spanId: spanIdOf(1) });
    database.db.insert(spans).values(span).run();
    expect(() => database.db.insert(spans).values(span).run()).toThrow(/UNIQUE constraint/);
  });

  it("ties events to their span: unknown spans are refused and deleting a span deletes its events", () => {
    const ids = { traceId: traceIdOf(7), spanId: spanIdOf(1) };
    expect(() => database.db.insert(spanEvents).values({ ...ids, name: "rollback", timeNs: T0 }).run()).toThrow(/FOREIGN KEY/);

    database.db.insert(spans).values(spanRow(ids)).run();
    database.db.insert(spanEvents).values([
      { ...ids, name: "speclens.rollback", timeNs: T0, attributes: { "speclens.rejected": 3 } },
      { ...ids, name: "speclens.bonus_token", timeNs: T0 + 5n },
    ]).run();
    const events = database.db.select().from(spanEvents).all();
    expect(events.map((event) => event.id)).toEqual([1, 2]);
    expect(events[0]!.timeNs).toBe(T0);
    expect(events[0]!.attributes).toEqual({ "speclens.rejected": 3 });

    database.db.delete(spans).where(eq(spans.spanId, ids.spanId)).run();
    expect(database.db.select().from(spanEvents).all()).toEqual([]);
  });
});

describe("listRecentTraces", () => {
  beforeEach(() => {
    // Trace 1: older, three spans, one error.
    database.db.insert(spans).values([
      spanRow({ traceId: traceIdOf(1), spanId: spanIdOf(1), name: "POST /v1/completions", startTimeNs: T0, endTimeNs: T0 + 9_000_000n }),
      spanRow({ traceId: traceIdOf(1), spanId: spanIdOf(2), parentSpanId: spanIdOf(1), name: "speclens.step", startTimeNs: T0 + 1_000n, endTimeNs: T0 + 2_000_000n }),
      spanRow({ traceId: traceIdOf(1), spanId: spanIdOf(3), parentSpanId: spanIdOf(1), name: "speclens.step", startTimeNs: T0 + 2_000_000n, endTimeNs: T0 + 9_500_001n, statusCode: 2 }),
    ]).run();
    // Trace 2: newer, its root span not exported.
    database.db.insert(spans).values([
      spanRow({ traceId: traceIdOf(2), spanId: spanIdOf(9), parentSpanId: spanIdOf(8), name: "speclens.verify", startTimeNs: T0 + 60_000_000_000n, endTimeNs: T0 + 60_000_000_250n, node: "node-b" }),
    ]).run();
  });

  it("summarises each trace from its spans, newest first", () => {
    expect(countSpans(database.db)).toBe(4);
    expect(countTraces(database.db)).toBe(2);
    expect(listRecentTraces(database.db)).toEqual([
      { traceId: traceIdOf(2), rootName: null, startTimeNs: T0 + 60_000_000_000n, durationNs: 250n, spanCount: 1, errorCount: 0, node: "node-b" },
      { traceId: traceIdOf(1), rootName: "POST /v1/completions", startTimeNs: T0, durationNs: 9_500_001n, spanCount: 3, errorCount: 1, node: os.hostname() },
    ]);
  });

  it("honours the limit", () => {
    expect(listRecentTraces(database.db, { limit: 1 }).map((trace) => trace.traceId)).toEqual([traceIdOf(2)]);
  });
});
