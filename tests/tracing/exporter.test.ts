import { trace } from "@opentelemetry/api";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getTrace } from "@/db/queries/traces";
import { DERIVED_MARKER, STEP_ATTRIBUTES_DERIVED } from "@/db/tracing/derive";
import { A, ROLLBACK_EVENT, STEP_SPAN_NAME, stepAttributes, traceGeneration } from "@/engine/telemetry";
import { formatModelId } from "@/engine/runtime/model-folder";
import { DRAFT, drain, FAKE_INFO, FAKE_RESULT, FAKE_STEPS, fakeStream, startTracingFixture, TARGET, type TracingFixture } from "./helpers";

let fx: TracingFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

interface RawSpan {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: bigint;
  start_time_ns: bigint;
  end_time_ns: bigint;
  status_code: bigint;
  attributes: string;
  resource: string;
  scope_name: string;
  node: string;
}

function rawSpans(f: TracingFixture): RawSpan[] {
  return f.database.sqlite.prepare("SELECT * FROM spans ORDER BY start_time_ns").all() as RawSpan[];
}

async function traceFake(f: TracingFixture): Promise<string> {
  let traceId = "";
  await drain(traceGeneration(fakeStream(), FAKE_INFO, (span) => (traceId = span.spanContext().traceId)));
  await f.processor.forceFlush();
  return traceId;
}

describe("SQLite span processor with a real tracer provider", () => {
  it("stores the request span and one child step span per step, linked by parent id", async () => {
    fx = startTracingFixture();
    const traceId = await traceFake(fx);
    const rows = rawSpans(fx);
    expect(rows).toHaveLength(3);
    const root = rows.find((r) => r.parent_span_id === null)!;
    expect(root.name).toBe(`text_completion ${TARGET.name}`);
    expect(root.trace_id).toBe(traceId);
    const children = rows.filter((r) => r.name === STEP_SPAN_NAME);
    expect(children).toHaveLength(2);
    for (const child of children) {
      expect(child.parent_span_id).toBe(root.span_id);
      expect(child.trace_id).toBe(traceId);
      // The engine timestamps step starts in milliseconds (performance.now()), so allow 1 ms of clock rounding.
      expect(child.start_time_ns).toBeGreaterThanOrEqual(root.start_time_ns - 1_000_000n);
      expect(child.end_time_ns).toBeLessThanOrEqual(root.end_time_ns + 1_000_000n);
    }
    expect(root.node).toBe("node-a");
    expect(root.scope_name).toBe("speclens-engine");
    expect(JSON.parse(root.resource)).toMatchObject({ "service.name": "speclens", "service.version": "test", "host.name": "node-a" });
    expect(fx.processor.stats()).toMatchObject({ exported: 3, dropped: 0, failures: 0, queued: 0 });
  });

  it("times step spans on the request span's clock when the system clock has drifted from the monotonic one", async () => {
    fx = startTracingFixture();
    // The wall clock 5 s ahead of timeOrigin + performance.now(), as a slewed system clock leaves a
    // long-running server: epoch step times taken from the monotonic clock would start 5 s before
    // their request span.
    const realNow = Date.now;
    const spy = vi.spyOn(Date, "now").mockImplementation(() => realNow() + 5_000);
    try {
      await traceFake(fx);
    } finally {
      spy.mockRestore();
    }
    const rows = rawSpans(fx);
    const root = rows.find((r) => r.parent_span_id === null)!;
    const children = rows.filter((r) => r.name === STEP_SPAN_NAME);
    expect(children).toHaveLength(2);
    for (const child of children) {
      expect(child.start_time_ns).toBeGreaterThanOrEqual(root.start_time_ns - 1_000_000n);
      expect(child.start_time_ns).toBeLessThanOrEqual(child.end_time_ns);
      expect(child.end_time_ns).toBeLessThanOrEqual(root.end_time_ns + 1_000_000n);
    }
  });

  it("stores each attribute once: raw step spans keep what their steps and tokens rows do not hold", async () => {
    fx = startTracingFixture();
    await traceFake(fx);
    const rows = rawSpans(fx);
    const steps = rows.filter((r) => r.name === STEP_SPAN_NAME).sort((a, b) => JSON.parse(a.attributes)[A.stepIndex] - JSON.parse(b.attributes)[A.stepIndex]);
    steps.forEach((row, i) => {
      const full = {
        ...stepAttributes(FAKE_STEPS[i]),
        [A.targetModelId]: formatModelId(TARGET), [A.targetSha256]: TARGET.sha256,
        [A.draftModelId]: formatModelId(DRAFT), [A.draftSha256]: DRAFT.sha256, [A.configVersion]: "v3",
      };
      const kept = Object.fromEntries(Object.entries(full).filter(([key]) => !STEP_ATTRIBUTES_DERIVED.includes(key)));
      expect(JSON.parse(row.attributes)).toEqual({ ...kept, [DERIVED_MARKER]: "steps,tokens" });
      expect(kept).toHaveProperty(A.stepIndex);
    });
    const root = JSON.parse(rows.find((r) => r.parent_span_id === null)!.attributes);
    expect(root).toMatchObject({
      [A.operation]: "text_completion", [A.requestModel]: TARGET.name, [A.responseModel]: TARGET.name,
      [A.seed]: 7, [A.temperature]: 0, [A.maxTokens]: 4, [A.inputTokens]: 3, [A.outputTokens]: 4,
      [A.finishReasons]: ["length"], [A.prompt]: "Once upon a", [A.completion]: FAKE_RESULT.text,
      [A.targetModelId]: formatModelId(TARGET), [A.draftSha256]: DRAFT.sha256, [A.configVersion]: "v3",
      [A.perPositionAcceptance]: [0.5, 0.5], [A.meanAcceptanceLength]: 2, [A.totalMs]: 12.75,
    });
    expect(JSON.parse(root[A.params])).toEqual(FAKE_INFO.params);
    const events = fx.database.sqlite.prepare("SELECT name, attributes FROM span_events").all() as { name: string; attributes: string }[];
    expect(events.map((e) => e.name)).toEqual([ROLLBACK_EVENT, ROLLBACK_EVENT]);
    // The rollback numbers are columns of the steps rows (checked below), not repeated in the raw event.
    expect(events.map((e) => JSON.parse(e.attributes)[A.rollbackTargetDropped])).toEqual([undefined, undefined]);
    const rollbacks = getTrace(fx.database.db, rows[0].trace_id)!.steps.map((s) => s.rollback.target.dropped);
    expect(rollbacks.sort()).toEqual([0, 2]);
  });

  it("derives the request, step and token rows the API serves", async () => {
    fx = startTracingFixture();
    const traceId = await traceFake(fx);
    const detail = getTrace(fx.database.db, traceId)!;
    expect(detail.request).toMatchObject({
      traceId, node: "node-a", endpoint: "test", operation: "text_completion", prompt: "Once upon a",
      completion: FAKE_RESULT.text, configVersion: "v3", proposer: "draft-model", verifyMode: "greedy",
      targetModelId: formatModelId(TARGET), targetSha256: TARGET.sha256, draftModelId: formatModelId(DRAFT),
      draftSha256: DRAFT.sha256, seed: 7, temperature: 0, maxTokens: 4, inputTokens: 3, outputTokens: 4,
      finishReason: "length", steps: 2, drafted: 4, accepted: 2, acceptanceRate: 0.5, meanAcceptanceLength: 2,
      prefillMs: 2.5, ttftMs: 4.5, totalMs: 12.75, cancelled: 0,
    });
    expect(detail.params).toEqual(FAKE_INFO.params);
    expect(detail.config).toEqual(FAKE_INFO.config);
    expect(detail.perPositionAcceptance).toEqual([0.5, 0.5]);
    expect(detail.steps.map((s) => s.proposals)).toEqual(FAKE_STEPS.map((s) => s.paths.map(({ tokens, draftProbs }) => ({ tokens, draftProbs }))));
    expect(detail.steps.map((s) => s.verification.positions)).toEqual(FAKE_STEPS.map((s) => s.verify.examined));
    expect(detail.steps[1]).toMatchObject({
      k: 2, verification: { pathIndex: 0, accepted: 0, drafted: 2, nextToken: 23, nextOrigin: "recovered", nextTokenProb: 0.7 },
      rollback: { target: { dropped: 2, lengthBefore: 13, lengthAfter: 11 }, draft: { dropped: 1, lengthBefore: 12, lengthAfter: 11 } },
      timings: { draftMs: 1.5, verifyMs: 3.25, overheadMs: 0.25 }, kvBytes: { target: 5120, draft: 1280 },
    });
    expect(detail.tokens).toEqual(
      FAKE_RESULT.tokens.map((t, position) => ({
        position, step: t.step, id: t.id, text: t.text, origin: t.origin, prob: t.prob, logprob: t.logprob,
        draftProb: t.draftProb, targetChoice: { token: t.targetChoice.token, prob: t.targetChoice.prob },
      })),
    );
    expect(detail.spans).toHaveLength(3);
  });

  it("writes what is buffered on shutdown", async () => {
    fx = startTracingFixture({ flushIntervalMs: 60_000 });
    await drain(traceGeneration(fakeStream(), FAKE_INFO));
    expect(fx.processor.stats().queued).toBe(3);
    expect(rawSpans(fx)).toHaveLength(0);
    await fx.provider.shutdown();
    expect(rawSpans(fx)).toHaveLength(3);
    expect(fx.processor.stats()).toMatchObject({ exported: 3, queued: 0, dropped: 0 });
  });

  it("applies backpressure: a full buffer is written synchronously, nothing is dropped", async () => {
    fx = startTracingFixture({ flushIntervalMs: 60_000, maxBatchSize: 8, maxQueueSize: 16 });
    const tracer = trace.getTracer("speclens-test");
    for (let i = 0; i < 100; i++) tracer.startSpan(`s${i}`).end();
    const stats = fx.processor.stats();
    expect(stats.queued).toBeLessThan(16);
    expect(stats.peakQueued).toBe(16);
    expect(stats.backpressureFlushes).toBeGreaterThan(0);
    await fx.processor.forceFlush();
    expect(rawSpans(fx)).toHaveLength(100);
    expect(fx.processor.stats()).toMatchObject({ exported: 100, dropped: 0 });
  });

  it("keeps spans when a write fails and retries; sheds only past the hard limit, counting every drop", async () => {
    let fail = true;
    fx = startTracingFixture({ flushIntervalMs: 60_000, maxBatchSize: 4, maxQueueSize: 4, hardLimit: 10 });
    const real = fx.database.sqlite;
    const flaky = new Proxy(real, { get: (t, p) => (p === "transaction" && fail ? () => { throw new Error("disk I/O error"); } : Reflect.get(t, p, t)) });
    (fx.processor as unknown as { options: { database: () => unknown } }).options.database = () => (fail ? flaky : real);
    const tracer = trace.getTracer("speclens-test");
    for (let i = 0; i < 14; i++) tracer.startSpan(`s${i}`).end();
    const failing = fx.processor.stats();
    expect(failing.failures).toBeGreaterThan(0);
    expect(failing.lastError).toBe("disk I/O error");
    expect(failing.dropped).toBe(4);
    expect(failing.queued).toBe(10);
    fail = false;
    await fx.processor.forceFlush();
    expect(rawSpans(fx).map((r) => r.name)).toEqual(Array.from({ length: 10 }, (_, i) => `s${i + 4}`));
  });

  it("ignores spans from other instrumentation (e.g. Next.js) and counts them", async () => {
    fx = startTracingFixture();
    trace.getTracer("next.js").startSpan("GET /traces").end();
    await fx.processor.forceFlush();
    expect(rawSpans(fx)).toHaveLength(0);
    expect(fx.processor.stats().ignored).toBe(1);
  });
});
