import { beforeEach, describe, expect, it } from "vitest";
import type { OpenDatabase } from "@/db/client";
import { listTraces, type TraceFilters } from "@/db/queries/traces";
import { writeSpans } from "@/db/tracing/store";
import { A } from "@/engine";
import { freshDatabasePerTest } from "../support/database";
import { request } from "../support/request-spans";
import { traceIdOf } from "../support/spans";

/* The trace list's links to the other features: replays (requests.replay_of) and alerts (the window of traces that made one fire). */

const freshDatabase = freshDatabasePerTest();
let database: OpenDatabase;
beforeEach(() => {
  database = freshDatabase();
  const replay = request(3);
  replay.attributes[A.replayOf] = traceIdOf(1);
  replay.attributes[A.replayMode] = "exact";
  writeSpans(database.sqlite, [request(1), request(2), replay, request(4)]);
  const insert = database.sqlite.prepare(
    "INSERT INTO alerts (rule, series_key, state, opened_at_ms, trace_ids_json) VALUES (?, ?, 'firing', 0, ?)",
  );
  insert.run("acceptance-drift", "{\"a\":1}", JSON.stringify([traceIdOf(2), traceIdOf(4)]));
  insert.run("acceptance-floor", "{\"a\":2}", JSON.stringify([traceIdOf(4)]));
});

const ids = (f: TraceFilters = {}) => listTraces(database.db, f).items.map((t) => parseInt(t.traceId, 16));

describe("trace list: replays and alerts", () => {
  it("shows replays alone, or live traffic alone", () => {
    expect(ids()).toEqual([4, 3, 2, 1]);
    expect(ids({ replay: "only" })).toEqual([3]);
    expect(ids({ replay: "exclude" })).toEqual([4, 2, 1]);
  });

  it("shows the traces that made one alert fire, or any alert", () => {
    const [drift, floor] = database.sqlite.prepare("SELECT id FROM alerts ORDER BY id").all() as { id: number }[];
    expect(ids({ alertId: drift.id })).toEqual([4, 2]);
    expect(ids({ alertId: floor.id })).toEqual([4]);
    expect(ids({ alertId: 999 })).toEqual([]);
    expect(ids({ alerted: true })).toEqual([4, 2]);
    expect(ids({ alerted: true, replay: "exclude", sinceNs: undefined })).toEqual([4, 2]);
  });
});
