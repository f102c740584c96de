import path from "node:path";
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import { fromReadableSpan } from "@/db/tracing/span-record";
import { writeSpans } from "@/db/tracing/store";
import { traceGeneration } from "@/engine/telemetry";
import { signalsOfSteps } from "@/tools/alerts/signals";
import { makeTempDir } from "../support/temp";
import { drain, FAKE_INFO, FAKE_STEPS, fakeStream, startTracingFixture, type TracingFixture } from "../tracing/helpers";

/** Keeps every finished span, to replay them into another database in another order (as OTLP may). */
class Collector implements SpanProcessor {
  spans: ReadableSpan[] = [];
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }
  forceFlush(): Promise<void> { return Promise.resolve(); }
  shutdown(): Promise<void> { return Promise.resolve(); }
}

interface SignalColumns { target_confidence: number; target_confidence_n: bigint; draft_confidence: number; draft_confidence_n: bigint; position_counts_json: string }
const SELECT = `SELECT target_confidence, target_confidence_n, draft_confidence, draft_confidence_n, position_counts_json FROM requests`;

let fixture: TracingFixture | null = null;
afterEach(async () => {
  await fixture?.close();
  fixture = null;
});

describe("request signals for the drift alerts", () => {
  it("are filled from the steps, for traces stored locally and for spans arriving request-first", async () => {
    const collector = new Collector();
    fixture = startTracingFixture({}, [collector]);
    await drain(traceGeneration(fakeStream(), FAKE_INFO));
    await fixture.processor.forceFlush();

    const local = fixture.database.sqlite.prepare(SELECT).get() as SignalColumns;
    // FAKE_STEPS: accepted draft tokens had target probabilities 0.8 and 0.6; proposals 0.9, 0.75, 0.4, 0.3.
    expect(local.target_confidence).toBeCloseTo(0.7, 10);
    expect(Number(local.target_confidence_n)).toBe(2);
    expect(local.draft_confidence).toBeCloseTo(0.5875, 10);
    expect(Number(local.draft_confidence_n)).toBe(4);
    expect(JSON.parse(local.position_counts_json)).toEqual([[1, 2], [1, 2]]);

    // The recorder's definitions (tools/alerts/signals.ts) give the same numbers from the step records.
    const recorded = signalsOfSteps(FAKE_STEPS);
    expect(recorded.targetConfSum / recorded.targetConfN).toBeCloseTo(local.target_confidence, 10);
    expect(recorded.draftConfSum / recorded.draftConfN).toBeCloseTo(local.draft_confidence, 10);
    expect(recorded.posAccepted.map((a, i) => [a, recorded.posDrafted[i]])).toEqual([[1, 2], [1, 2]]);

    // An OTLP client may deliver the request span first and the steps in a later batch.
    const temp = makeTempDir();
    const other = openDatabase(path.join(temp.dir, "otlp.db"));
    try {
      const records = collector.spans.map(fromReadableSpan);
      const request = records.filter((r) => r.name !== "speclens.step");
      const steps = records.filter((r) => r.name === "speclens.step");
      writeSpans(other.sqlite, request);
      expect((other.sqlite.prepare(SELECT).get() as SignalColumns).target_confidence).toBeNull();
      writeSpans(other.sqlite, steps.reverse());
      expect(other.sqlite.prepare(SELECT).get()).toEqual(local);
    } finally {
      other.sqlite.close();
      temp.cleanup();
    }
  });
});
