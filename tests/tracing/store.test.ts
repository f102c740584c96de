import { beforeEach, describe, expect, it } from "vitest";
import type { OpenDatabase } from "@/db/client";
import { getTrace } from "@/db/queries/traces";
import type { SpanRecord } from "@/db/tracing/span-record";
import { writeSpans } from "@/db/tracing/store";
import { A, STEP_SPAN_NAME } from "@/engine/telemetry";
import { freshDatabasePerTest } from "../support/database";
import { spanIdOf, traceIdOf } from "../support/spans";

const freshDatabase = freshDatabasePerTest();
let database: OpenDatabase;
beforeEach(() => {
  database = freshDatabase();
});

const T0 = 1_763_840_000_000_000_000n;
/** Step `index` of trace 1 emitting `count` tokens whose texts name their step. */
function step(index: number, count: number): SpanRecord {
  return {
    traceId: traceIdOf(1), spanId: spanIdOf(100 + index), parentSpanId: spanIdOf(1), name: STEP_SPAN_NAME, kind: 0,
    startTimeNs: T0 + BigInt(index), endTimeNs: T0 + BigInt(index) + 1n, statusCode: 0, statusMessage: null, events: [],
    resource: {}, scopeName: "speclens-engine", node: "n",
    attributes: {
      [A.stepIndex]: index, [A.proposer]: "ngram", [A.k]: 2,
      [A.emittedIds]: Array.from({ length: count }, (_, i) => index * 10 + i),
      [A.emittedTexts]: Array.from({ length: count }, (_, i) => `s${index}t${i}`),
      [A.emittedOrigins]: Array.from({ length: count }, () => "accepted"),
    },
  };
}

const positions = () => getTrace(database.db, traceIdOf(1))!.tokens.map((t) => [t.position, t.text]);
const expected = [[0, "s0t0"], [1, "s0t1"], [2, "s1t0"], [3, "s2t0"], [4, "s2t1"], [5, "s2t2"]];

describe("token positions", () => {
  it("are numbered across steps written in order, over several batches", () => {
    writeSpans(database.sqlite, [step(0, 2), step(1, 1)]);
    writeSpans(database.sqlite, [step(2, 3)]);
    expect(positions()).toEqual(expected);
  });

  it.each([
    ["later steps first, in separate batches", [[step(2, 3)], [step(1, 1)], [step(0, 2)]]],
    ["a reversed batch", [[step(2, 3), step(1, 1), step(0, 2)]]],
    ["a gap filled later", [[step(0, 2), step(2, 3)], [step(1, 1)]]],
  ])("are right whatever the arrival order: %s", (_name, batches) => {
    for (const batch of batches) writeSpans(database.sqlite, batch);
    expect(positions()).toEqual(expected);
  });

  it("are null only while an earlier step is missing", () => {
    writeSpans(database.sqlite, [step(1, 1)]);
    expect(positions()).toEqual([[null, "s1t0"]]);
  });
});
