import { beforeEach, describe, expect, it } from "vitest";
import type { OpenDatabase } from "@/db/client";
import type { RequestSignals } from "@/db/alerts/rules";
import { acknowledgeAlert, alertChart, alertHistory, evaluateAlerts, listAlerts, seriesData } from "@/db/alerts/store";
import { DEFAULT_ALERT_RULES } from "@/engine";
import { loadRecording } from "@/tools/alerts/bench";
import { freshDatabasePerTest } from "../support/database";
import { traceIdOf } from "../support/spans";

const { inDomain, outOfDomain } = loadRecording();

const freshDatabase = freshDatabasePerTest();
let database: OpenDatabase;
let n = 0;
const T0 = 1_780_000_000_000; // ms

beforeEach(() => {
  database = freshDatabase();
  n = 0;
  // Version 2 carries explicit rules: acceptance-drift only (so each test follows one alert), 2 requests to confirm.
  const rules = { ...DEFAULT_ALERT_RULES, confirmRequests: 2, rules: Object.fromEntries(Object.entries(DEFAULT_ALERT_RULES.rules).map(([k, v]) => [k, { ...v, enabled: k === "acceptance-drift" }])) };
  database.sqlite.prepare(`INSERT INTO config_versions (version, body_json, created_at_ms, author) VALUES (2, ?, 0, 'test')`).run(JSON.stringify({ proposer: "draft-model", alerts: rules }));
});

/** Stores one finished request of series (v2, draft-model) with a recorded request's signals. */
function store(r: RequestSignals, configVersion = "2"): string {
  n += 1;
  const traceId = traceIdOf(n);
  const startNs = BigInt(T0 + n * 1000) * 1_000_000n;
  database.sqlite.prepare(`INSERT INTO requests (trace_id, span_id, node, start_ns, end_ns, operation, config_version, proposer, target_model_id, draft_model_id,
      status_code, drafted, accepted, acceptance_rate, position_counts_json, target_confidence, target_confidence_n, draft_confidence, draft_confidence_n)
      VALUES (?, 'span', 'n', ?, ?, 'text_completion', ?, 'draft-model', 'target@sha256:aaa', 'draft@sha256:bbb', 1, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(traceId, startNs, startNs + 500_000_000n, configVersion, r.drafted, r.accepted, r.accepted / r.drafted, JSON.stringify(r.positionCounts),
      r.targetConfidence, r.targetConfidenceN, r.draftConfidence, r.draftConfidenceN);
  return traceId;
}

const now = () => T0 + n * 1000 + 600;
const evaluate = () => evaluateAlerts(database.sqlite, now());

describe("alert lifecycle", () => {
  it("pending -> firing on the real drop, then resolved when in-domain traffic returns, every transition kept", () => {
    for (const r of inDomain.slice(0, 90)) {
      store(r);
      expect(evaluate().errors).toEqual([]);
    }
    expect(listAlerts(database.sqlite)).toEqual([]);

    const states: string[] = [];
    for (const r of outOfDomain.slice(0, 120)) {
      store(r);
      const events = evaluate().events;
      for (const e of events) states.push(`${e.kind}`);
      if (states.includes("firing")) break;
    }
    expect(states).toEqual(["firing"]);
    const [firing] = listAlerts(database.sqlite, "firing");
    expect(firing.rule).toBe("acceptance-drift");
    expect(firing.configVersion).toBe("2");
    expect(firing.traceIds).toHaveLength(30);
    expect(firing.value!).toBeLessThan(firing.threshold!);
    expect(firing.threshold!).toBeLessThan(firing.baseline!);

    // Evaluating again and again never opens a second alert for the rule and series.
    for (let i = 0; i < 5; i++) evaluate();
    expect(listAlerts(database.sqlite, "open")).toHaveLength(1);
    expect(() =>
      database.sqlite.prepare(`INSERT INTO alerts (rule, series_key, state, opened_at_ms) SELECT rule, series_key, 'pending', 0 FROM alerts WHERE id = ?`).run(firing.id),
    ).toThrow(/UNIQUE/);

    const ack = acknowledgeAlert(database.sqlite, firing.id, "alice", "out-of-domain traffic from the load test");
    expect(ack?.alert.acknowledged).toMatchObject({ by: "alice", note: "out-of-domain traffic from the load test" });

    let resolved = false;
    for (const r of inDomain.slice(90, 300)) {
      store(r);
      if (evaluate().events.some((e) => e.kind === "resolved")) {
        resolved = true;
        break;
      }
    }
    expect(resolved).toBe(true);
    expect(listAlerts(database.sqlite, "firing")).toEqual([]);
    const history = alertHistory(database.sqlite, firing.id).map((t) => `${t.fromState ?? "-"}>${t.toState}`);
    expect(history).toEqual(["->pending", "pending>firing", "firing>acknowledged", "firing>resolved"]);
    expect(() => database.sqlite.prepare(`UPDATE alert_transitions SET note = 'x'`).run()).toThrow(/append-only/);
    expect(() => database.sqlite.prepare(`DELETE FROM alert_transitions`).run()).toThrow(/append-only/);

    const chart = alertChart(database.sqlite, listAlerts(database.sqlite)[0]);
    expect(chart.length).toBeGreaterThan(40);
    expect(chart.some((p) => p.value < p.threshold)).toBe(true);
  });

  it("a breach that does not hold resolves without firing", () => {
    for (const r of inDomain.slice(0, 60)) store(r);
    // A burst of the lowest-acceptance in-domain requests, then ordinary ones.
    const worst = [...inDomain].sort((a, b) => a.accepted / a.drafted - b.accepted / b.drafted).slice(0, 30);
    for (const r of worst) store(r);
    evaluate();
    expect(listAlerts(database.sqlite, "pending")).toHaveLength(1);
    for (const r of inDomain.slice(100, 130)) store(r);
    const events = evaluate().events;
    expect(events).toEqual([]);
    const [alert] = listAlerts(database.sqlite);
    expect(alert.state).toBe("resolved");
    expect(alert.firedAt).toBeNull();
  });

  it("a version without rules gets the defaults; a broken rules body is reported as an error, not thrown", () => {
    for (const r of inDomain.slice(0, 40)) store(r, "1");
    database.sqlite.prepare(`INSERT INTO config_versions (version, body_json, created_at_ms, author) VALUES (1, '{}', 0, 'test'), (3, ?, 0, 'test')`)
      .run(JSON.stringify({ alerts: { window: { requests: 1 } } }));
    for (const r of inDomain.slice(0, 40)) store(r, "3");
    const report = evaluate();
    expect(report.series).toBe(2);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0].message).toMatch(/alerts\.window\.requests/);
  });

  it("a time-limited window only holds the last M minutes; a pinned baseline is the requests of its time window", () => {
    for (const r of inDomain.slice(0, 120)) store(r); // one request a second
    const series = { configVersion: "2", targetModelId: "target@sha256:aaa", draftModelId: "draft@sha256:bbb", proposer: "draft-model" };
    const minutes = { ...DEFAULT_ALERT_RULES, window: { requests: 30, minutes: 0.25, minRequests: 20 } };
    // 15 s of traffic is 15 requests: fewer than minRequests, so no verdict at all.
    const recent = seriesData(database.sqlite, series, minutes, { nowMs: now() });
    expect(recent.window.length).toBeLessThanOrEqual(16);
    expect(recent.window.length).toBeGreaterThanOrEqual(14);
    const pinned = { ...DEFAULT_ALERT_RULES, baseline: { requests: 60, pinned: { fromMs: T0 + 20_000, toMs: T0 + 50_000 } } };
    const data = seriesData(database.sqlite, series, pinned, { nowMs: now() });
    expect(data.baseline.map((r) => r.traceId)).toEqual(Array.from({ length: 30 }, (_, i) => traceIdOf(20 + i)));
    expect(data.window.at(-1)?.traceId).toBe(traceIdOf(120));
  });
});
