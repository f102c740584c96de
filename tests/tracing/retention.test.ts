import { beforeEach, describe, expect, it } from "vitest";
import type { OpenDatabase } from "@/db/client";
import { updateSettings } from "@/db/queries/settings";
import { effectiveRetention, purgeOnce, retentionFromEnv, startRetention, usedBytes } from "@/db/tracing/retention";
import type { SpanRecord } from "@/db/tracing/span-record";
import { writeSpans } from "@/db/tracing/store";
import { A, STEP_SPAN_NAME } from "@/engine/telemetry";
import { freshDatabasePerTest } from "../support/database";
import { spanIdOf, traceIdOf } from "../support/spans";

const freshDatabase = freshDatabasePerTest();
let database: OpenDatabase;
const DAY_NS = 86_400_000_000_000n;
const NOW_MS = 1_763_840_000_000;
const NOW_NS = BigInt(NOW_MS) * 1_000_000n;

/** A request span and one step span (with an event and a token) for trace n, started `ageDays` before `nowNs`. */
function traceSpans(n: number, ageDays: number, padding = 0, nowNs = NOW_NS): SpanRecord[] {
  const start = nowNs - BigInt(ageDays) * DAY_NS;
  const base = { traceId: traceIdOf(n), kind: 0, statusCode: 0, statusMessage: null, resource: {}, scopeName: "speclens-engine", node: "n" };
  return [
    { ...base, spanId: spanIdOf(n * 10), parentSpanId: null, name: "text_completion t", startTimeNs: start, endTimeNs: start + 10n, events: [],
      attributes: { [A.operation]: "text_completion", [A.prompt]: "x".repeat(padding) } },
    { ...base, spanId: spanIdOf(n * 10 + 1), parentSpanId: spanIdOf(n * 10), name: STEP_SPAN_NAME, startTimeNs: start + 1n, endTimeNs: start + 2n,
      events: [{ name: "speclens.rollback", timeNs: start + 2n, attributes: {} }],
      attributes: { [A.stepIndex]: 0, [A.emittedIds]: [5], [A.emittedTexts]: ["a"], [A.emittedOrigins]: ["bonus"] } },
  ];
}

function counts() {
  const n = (t: string) => Number((database.sqlite.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: bigint }).n);
  return { spans: n("spans"), events: n("span_events"), requests: n("requests"), steps: n("steps"), tokens: n("tokens") };
}

beforeEach(() => {
  database = freshDatabase();
});

describe("retention", () => {
  it("reads SPECLENS_RETENTION_DAYS and SPECLENS_MAX_DB_MB, unset or 0 meaning no limit", () => {
    expect(retentionFromEnv({ SPECLENS_RETENTION_DAYS: "7", SPECLENS_MAX_DB_MB: "1.5" })).toEqual({ maxAgeDays: 7, maxBytes: 1_572_864 });
    expect(retentionFromEnv({ SPECLENS_RETENTION_DAYS: "0" })).toEqual({ maxAgeDays: null, maxBytes: null });
  });

  it("deletes traces older than the maximum age from every table, in small batches", () => {
    for (let n = 1; n <= 30; n++) writeSpans(database.sqlite, traceSpans(n, n <= 20 ? 10 : 1));
    expect(counts()).toEqual({ spans: 60, events: 30, requests: 30, steps: 30, tokens: 30 });
    // One batch of 5 traces per transaction, at most 2 transactions per pass: the job runs in short passes.
    expect(purgeOnce(database.sqlite, { maxAgeDays: 7, maxBytes: null, batchTraces: 5 }, NOW_MS, 2)).toBe(10);
    expect(purgeOnce(database.sqlite, { maxAgeDays: 7, maxBytes: null, batchTraces: 5 }, NOW_MS)).toBe(10);
    expect(purgeOnce(database.sqlite, { maxAgeDays: 7, maxBytes: null, batchTraces: 5 }, NOW_MS)).toBe(0);
    expect(counts()).toEqual({ spans: 20, events: 10, requests: 10, steps: 10, tokens: 10 });
  });

  it("deletes the oldest traces while the database is over its size limit", () => {
    for (let n = 1; n <= 40; n++) writeSpans(database.sqlite, traceSpans(n, 100 - n, 20_000));
    const before = usedBytes(database.sqlite);
    const limit = Math.floor(before / 2);
    const deleted = purgeOnce(database.sqlite, { maxAgeDays: null, maxBytes: limit, batchTraces: 4 }, NOW_MS, 100);
    expect(deleted).toBeGreaterThan(10);
    expect(deleted).toBeLessThan(40);
    expect(usedBytes(database.sqlite)).toBeLessThanOrEqual(limit);
    // The newest traces are the ones kept.
    const kept = database.sqlite.prepare("SELECT trace_id AS id FROM requests ORDER BY start_ns").all() as { id: string }[];
    expect(kept.at(-1)!.id).toBe(traceIdOf(40));
    expect(kept[0].id).toBe(traceIdOf(deleted + 1));
  });
});

describe("retention settings saved on /settings", () => {
  it("win over the environment, and 0 switches a limit off", () => {
    const env = { SPECLENS_RETENTION_DAYS: "30", SPECLENS_MAX_DB_MB: "100" };
    expect(effectiveRetention(database.db, env)).toEqual({ maxAgeDays: 30, maxBytes: 100 * 1024 * 1024 });
    updateSettings(database.db, { retentionDays: 7, maxDbMb: 0 }, "test");
    expect(effectiveRetention(database.db, env)).toEqual({ maxAgeDays: 7, maxBytes: null });
    updateSettings(database.db, { retentionDays: null, maxDbMb: null }, "test");
    expect(effectiveRetention(database.db, env)).toEqual({ maxAgeDays: 30, maxBytes: 100 * 1024 * 1024 });
    // Nothing saved and nothing in the environment: no limit, as before the settings existed.
    expect(effectiveRetention(database.db, {})).toEqual({ maxAgeDays: null, maxBytes: null });
  });

  it("apply to the running job at its next pass, without a restart", async () => {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    for (let n = 1; n <= 6; n++) writeSpans(database.sqlite, traceSpans(n, n <= 4 ? 10 : 1, 0, nowNs));
    const job = startRetention(() => database.sqlite, () => effectiveRetention(database.db, {}), { intervalMs: 20 });
    try {
      // No limit anywhere: passes run, read the settings and delete nothing.
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(counts().requests).toBe(6);
      updateSettings(database.db, { retentionDays: 7 }, "test");
      await expect.poll(() => counts().requests, { timeout: 2000, interval: 20 }).toBe(2);
      expect(job.deleted()).toBe(4);
      expect(counts()).toEqual({ spans: 4, events: 2, requests: 2, steps: 2, tokens: 2 });
    } finally {
      job.stop();
    }
  });
});
