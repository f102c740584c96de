import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recoverInterrupted } from "@/db/tracing/inflight";
import { traceGeneration } from "@/engine/telemetry";
import type { GenerateResult, StepRecord } from "@/engine/types";
import { FAKE_INFO, FAKE_STEPS, drain, fakeStream, startTracingFixture, type TracingFixture } from "./helpers";

/*
 * Nothing lost under faults: a request in flight is marked at start and unmarked in the transaction
 * that stores it; after a crash the marker becomes an `interrupted` request with the steps stored
 * before the end; a locked or full database is a counted failure that is retried, with nothing
 * dropped or half-written, and the database passes integrity_check afterwards.
 */

let fx: TracingFixture;
beforeEach(() => {
  fx = startTracingFixture({ flushIntervalMs: 10, maxRetryDelayMs: 40 });
});
afterEach(async () => {
  await fx.close();
});

const count = (sql: string, ...args: unknown[]) => Number(fx.database.sqlite.prepare(sql).pluck().get(...args));

/** A generation that yields its first step and then never continues (the process "dies" here). */
async function* stalled(): AsyncGenerator<StepRecord, GenerateResult> {
  yield FAKE_STEPS[0];
  await new Promise(() => {});
  throw new Error("unreachable");
}

describe("requests in flight", () => {
  it("are marked when the request span starts and unmarked when the request is stored", async () => {
    let traceId = "";
    const gen = traceGeneration(fakeStream(), FAKE_INFO, (span) => (traceId = span.spanContext().traceId));
    expect(count("SELECT count(*) FROM requests_inflight WHERE trace_id = ?", traceId)).toBe(1);
    await drain(gen);
    await fx.processor.forceFlush();
    expect(count("SELECT count(*) FROM requests_inflight")).toBe(0);
    expect(count("SELECT count(*) FROM requests WHERE trace_id = ?", traceId)).toBe(1);
  });

  it("left by a dead process become interrupted requests keeping their stored steps; live processes and other nodes are left alone", async () => {
    let traceId = "";
    const gen = traceGeneration(stalled(), FAKE_INFO, (span) => (traceId = span.spanContext().traceId));
    await gen.next();
    await fx.processor.forceFlush();
    expect(count("SELECT count(*) FROM steps WHERE trace_id = ?", traceId)).toBe(1);
    // Another node's marker, and one of a live process of this node: neither is ours to recover.
    fx.database.sqlite.prepare("INSERT INTO requests_inflight SELECT '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b', span_id, 'node-b', pid, name, start_ns, scope, attributes, resource FROM requests_inflight").run();
    fx.database.sqlite.prepare("INSERT INTO requests_inflight SELECT '0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c', span_id, node, 1, name, start_ns, scope, attributes, resource FROM requests_inflight WHERE node = 'node-a'").run();

    // The process that wrote the marker is "dead" (any pid but the live init process 1).
    const recovered = recoverInterrupted(fx.database.sqlite, { node: "node-a", pid: -1, isAlive: (pid) => pid === 1 });
    expect(recovered).toEqual([traceId]);
    const row = fx.database.sqlite.prepare("SELECT finish_reason, status_code, status_message, output_tokens, completion, steps, prompt FROM requests WHERE trace_id = ?").get(traceId) as Record<string, unknown>;
    expect(row).toMatchObject({ finish_reason: "interrupted", status_code: 2n, output_tokens: 3n, completion: " the cat sat", steps: 1n, prompt: FAKE_INFO.prompt });
    expect(String(row.status_message)).toMatch(/^interrupted: the server process/);
    expect(count("SELECT count(*) FROM requests_inflight")).toBe(2);
    expect(count("SELECT count(*) FROM tokens WHERE trace_id = ?", traceId)).toBe(3);
    expect(fx.database.sqlite.pragma("integrity_check", { simple: true })).toBe("ok");
  });
});

describe("a database that refuses writes", () => {
  it("locked past busy_timeout: the failure is counted and named, nothing is dropped, all is stored after the lock", async () => {
    fx.database.sqlite.pragma("busy_timeout = 20");
    const blocker = new Database(fx.database.path);
    blocker.exec("BEGIN IMMEDIATE");
    try {
      await drain(traceGeneration(fakeStream(), FAKE_INFO));
      await fx.processor.forceFlush();
      const stats = fx.processor.stats();
      expect(stats.failures).toBeGreaterThan(0);
      expect(stats.lastError).toMatch(/database is locked/);
      expect(stats.queued).toBe(3);
      expect(stats.dropped).toBe(0);
      expect(stats.retryDelayMs).toBeGreaterThan(0);
    } finally {
      blocker.exec("ROLLBACK");
      blocker.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(fx.processor.stats()).toMatchObject({ queued: 0, dropped: 0, consecutiveFailures: 0 });
    expect(count("SELECT count(*) FROM spans")).toBe(3);
    expect(count("SELECT count(*) FROM requests")).toBe(1);
  });

  it("full (max_page_count): 'database or disk is full', nothing half-written, stored once there is room; integrity_check ok", async () => {
    const sqlite = fx.database.sqlite;
    const pages = Number(sqlite.pragma("page_count", { simple: true }));
    sqlite.pragma(`max_page_count = ${pages}`);
    const before = count("SELECT count(*) FROM spans");
    await drain(traceGeneration(fakeStream(), { ...FAKE_INFO, prompt: "x".repeat(200_000) }));
    await fx.processor.forceFlush();
    expect(fx.processor.stats().lastError).toMatch(/database or disk is full/);
    expect(count("SELECT count(*) FROM spans")).toBe(before);
    expect(count("SELECT count(*) FROM steps")).toBe(0);
    sqlite.pragma("max_page_count = 1073741823");
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(fx.processor.stats()).toMatchObject({ queued: 0, dropped: 0 });
    expect(count("SELECT count(*) FROM requests")).toBe(1);
    expect(sqlite.pragma("integrity_check", { simple: true })).toBe("ok");
  });
});
