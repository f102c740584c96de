import type Database from "better-sqlite3";
import { alertRulesOf, DEFAULT_ALERT_RULES, type AlertRuleName, type AlertRules } from "@/engine";
import type { AlertRow, AlertState } from "../schema";
import { evaluateRules, positionVerdict, type RequestSignals, type Verdict } from "./rules";

/*
 * The evaluator and the alert lifecycle, over the process's SQLite handle (raw statements: this runs
 * after every request). A series is (config version, target model_id, draft model_id, proposer); each
 * series is evaluated with the rules of its config version. Verdicts move alerts:
 *   none    + breach -> pending (firing at once when confirmRequests is 0)
 *   pending + breach held over confirmRequests further requests -> firing
 *   pending + clear  -> resolved (it never fired)
 *   firing  + recovered (halfway back to the baseline) over confirmRequests further requests -> resolved
 * Every move is a row of alert_transitions. One open alert per rule and series is enforced by a partial
 * unique index, so a concurrent evaluator cannot open a duplicate: its insert is ignored.
 */

export interface AlertSeries {
  configVersion: string | null;
  targetModelId: string | null;
  draftModelId: string | null;
  proposer: string | null;
}

export interface AlertView {
  id: number;
  rule: AlertRuleName;
  state: AlertState;
  configVersion: string | null;
  series: AlertSeries;
  value: number | null;
  baseline: number | null;
  threshold: number | null;
  detail: string;
  openedAt: string;
  firedAt: string | null;
  resolvedAt: string | null;
  acknowledged: { at: string; by: string; note: string } | null;
  traceIds: string[];
}

export type AlertEventKind = "firing" | "resolved" | "acknowledged";
export interface AlertEvent {
  kind: AlertEventKind;
  alert: AlertView;
  rules: AlertRules;
}

export const seriesKey = (s: AlertSeries) =>
  JSON.stringify({ configVersion: s.configVersion, targetModelId: s.targetModelId, draftModelId: s.draftModelId, proposer: s.proposer });

const iso = (ms: number | bigint | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

interface RawAlert {
  id: bigint; rule: string; series_key: string; config_version: string | null; target_model_id: string | null; draft_model_id: string | null;
  proposer: string | null; state: AlertState; value: number | null; baseline: number | null; threshold: number | null; detail: string;
  opened_at_ms: bigint; fired_at_ms: bigint | null; resolved_at_ms: bigint | null; streak_since_ms: bigint | null; acked_at_ms: bigint | null;
  acked_by: string | null; ack_note: string | null; trace_ids_json: string;
}

export function toView(a: RawAlert | AlertRow): AlertView {
  const r = "series_key" in a ? a : null;
  const row = r
    ? { id: Number(r.id), rule: r.rule, state: r.state, configVersion: r.config_version, targetModelId: r.target_model_id, draftModelId: r.draft_model_id,
        proposer: r.proposer, value: r.value, baseline: r.baseline, threshold: r.threshold, detail: r.detail, openedAtMs: r.opened_at_ms,
        firedAtMs: r.fired_at_ms, resolvedAtMs: r.resolved_at_ms, ackedAtMs: r.acked_at_ms, ackedBy: r.acked_by, ackNote: r.ack_note, traceIdsJson: r.trace_ids_json }
    : (a as AlertRow);
  return {
    id: Number(row.id),
    rule: row.rule as AlertRuleName,
    state: row.state as AlertState,
    configVersion: row.configVersion,
    series: { configVersion: row.configVersion, targetModelId: row.targetModelId, draftModelId: row.draftModelId, proposer: row.proposer },
    value: row.value,
    baseline: row.baseline,
    threshold: row.threshold,
    detail: row.detail,
    openedAt: iso(row.openedAtMs)!,
    firedAt: iso(row.firedAtMs),
    resolvedAt: iso(row.resolvedAtMs),
    acknowledged: row.ackedAtMs === null ? null : { at: iso(row.ackedAtMs)!, by: row.ackedBy ?? "", note: row.ackNote ?? "" },
    traceIds: JSON.parse(row.traceIdsJson) as string[],
  };
}

interface SignalRow {
  trace_id: string; end_ns: bigint; accepted: bigint; drafted: bigint; position_counts_json: string;
  target_confidence: number | null; target_confidence_n: bigint | null; draft_confidence: number | null; draft_confidence_n: bigint | null;
}

const toSignals = (r: SignalRow): RequestSignals & { endNs: bigint } => ({
  traceId: r.trace_id,
  endNs: r.end_ns,
  accepted: Number(r.accepted),
  drafted: Number(r.drafted),
  positionCounts: JSON.parse(r.position_counts_json) as [number, number][],
  targetConfidence: r.target_confidence,
  targetConfidenceN: Number(r.target_confidence_n ?? 0),
  draftConfidence: r.draft_confidence,
  draftConfidenceN: Number(r.draft_confidence_n ?? 0),
});

// Requests that speak for a series: finished, not failed or cancelled, and drafted something.
// Replays (replay_of set) re-run stored traffic for an investigation: counting them would feed the same
// requests into a series twice, so a series is live traffic only.
const SERIES_FILTER = `config_version IS @configVersion AND target_model_id IS @targetModelId AND draft_model_id IS @draftModelId
  AND proposer IS @proposer AND drafted > 0 AND status_code <> 2 AND cancelled = 0 AND replay_of IS NULL`;
const SIGNAL_COLUMNS = `trace_id, end_ns, accepted, drafted, position_counts_json, target_confidence, target_confidence_n, draft_confidence, draft_confidence_n`;

/** The rules a config version carries ("3" or "v3"); defaults when the version or its field is missing. */
export function rulesForVersion(sqlite: Database.Database, configVersion: string | null): AlertRules {
  const version = configVersion === null ? null : Number(String(configVersion).replace(/^v/, ""));
  if (version === null || !Number.isInteger(version)) return DEFAULT_ALERT_RULES;
  const row = sqlite.prepare(`SELECT body_json FROM config_versions WHERE version = ?`).get(version) as { body_json: string } | undefined;
  return row ? alertRulesOf(JSON.parse(row.body_json)) : DEFAULT_ALERT_RULES;
}

export function listSeries(sqlite: Database.Database): AlertSeries[] {
  // Served from the series index alone (no table reads); "off" never drafts, so it has nothing to watch.
  const rows = sqlite
    .prepare(`SELECT DISTINCT config_version, target_model_id, draft_model_id, proposer FROM requests`)
    .all() as { config_version: string | null; target_model_id: string | null; draft_model_id: string | null; proposer: string | null }[];
  return rows.filter((r) => r.proposer !== null && r.proposer !== "off").map((r) => ({ configVersion: r.config_version, targetModelId: r.target_model_id, draftModelId: r.draft_model_id, proposer: r.proposer }));
}

/** The baseline (complete or not) and the requests after it, oldest first, up to `before` (ns) when given. */
export function seriesData(sqlite: Database.Database, series: AlertSeries, rules: AlertRules, options: { before?: bigint; windowLimit?: number; nowMs?: number } = {}) {
  const before = options.before ?? 9_000_000_000_000_000_000n;
  const pinned = rules.baseline.pinned;
  const baselineRows = (
    pinned
      ? sqlite.prepare(`SELECT ${SIGNAL_COLUMNS} FROM requests WHERE ${SERIES_FILTER} AND start_ns >= @from AND start_ns < @to ORDER BY start_ns LIMIT 100000`)
          .all({ ...series, from: BigInt(pinned.fromMs) * 1_000_000n, to: BigInt(pinned.toMs) * 1_000_000n })
      : sqlite.prepare(`SELECT ${SIGNAL_COLUMNS}, start_ns FROM requests WHERE ${SERIES_FILTER} ORDER BY start_ns LIMIT @n`).all({ ...series, n: rules.baseline.requests })
  ) as (SignalRow & { start_ns?: bigint })[];
  const complete = pinned ? baselineRows.length >= 10 : baselineRows.length >= rules.baseline.requests;
  // After a complete first-N baseline the window never reaches back into it.
  const after = !pinned && complete ? (baselineRows.at(-1)?.start_ns ?? -1n) : -1n;
  const minEnd = rules.window.minutes > 0 ? BigInt(Math.floor(((options.nowMs ?? Date.now()) - rules.window.minutes * 60_000) * 1e6)) : -1n;
  const windowRows = (
    sqlite.prepare(`SELECT ${SIGNAL_COLUMNS} FROM requests WHERE ${SERIES_FILTER} AND start_ns > @after AND end_ns >= @minEnd AND end_ns <= @before
      ORDER BY start_ns DESC LIMIT @n`).all({ ...series, after, minEnd, before, n: options.windowLimit ?? rules.window.requests })
  ) as SignalRow[];
  return { baseline: complete ? baselineRows.map(toSignals) : [], window: windowRows.reverse().map(toSignals) };
}

function insertTransition(sqlite: Database.Database, alertId: number | bigint, from: string | null, to: string, atMs: number, value: number | null, by = "evaluator", note = ""): void {
  sqlite.prepare(`INSERT INTO alert_transitions (alert_id, from_state, to_state, at_ms, value, by, note) VALUES (?, ?, ?, ?, ?, ?, ?)`)
    .run(alertId, from, to, atMs, value, by, note);
}

function getAlertRaw(sqlite: Database.Database, id: number | bigint): RawAlert | undefined {
  return sqlite.prepare(`SELECT * FROM alerts WHERE id = ?`).get(id) as RawAlert | undefined;
}

function countSince(sqlite: Database.Database, series: AlertSeries, sinceMs: number): number {
  const row = sqlite.prepare(`SELECT count(*) AS n FROM requests WHERE ${SERIES_FILTER} AND end_ns >= @since`).get({ ...series, since: BigInt(sinceMs + 1) * 1_000_000n }) as { n: bigint };
  return Number(row.n);
}

/** Applies one verdict to the rule's open alert on the series; returns the notification it causes, if any. */
export function applyVerdict(sqlite: Database.Database, series: AlertSeries, rules: AlertRules, verdict: Verdict, window: (RequestSignals & { endNs: bigint })[], nowMs: number): AlertEvent | null {
  const key = seriesKey(series);
  const newestMs = Math.floor(Number((window.at(-1)?.endNs ?? BigInt(nowMs) * 1_000_000n) / 1_000_000n));
  const confirm = rules.confirmRequests;
  const open = sqlite.prepare(`SELECT * FROM alerts WHERE rule = ? AND series_key = ? AND state <> 'resolved'`).get(verdict.rule, key) as RawAlert | undefined;
  const evidence = { value: verdict.value, baseline: verdict.baseline, threshold: verdict.threshold, detail: verdict.detail };
  const event = (kind: AlertEventKind, id: number | bigint): AlertEvent => ({ kind, alert: toView(getAlertRaw(sqlite, id)!), rules });

  if (!open) {
    if (!verdict.breach) return null;
    const state: AlertState = confirm === 0 ? "firing" : "pending";
    const inserted = sqlite.prepare(`INSERT INTO alerts (rule, series_key, config_version, target_model_id, draft_model_id, proposer, state, value, baseline,
        threshold, detail, opened_at_ms, fired_at_ms, streak_since_ms, trace_ids_json) VALUES (@rule, @key, @configVersion, @targetModelId, @draftModelId,
        @proposer, @state, @value, @baseline, @threshold, @detail, @now, @firedAt, @since, @traceIds) ON CONFLICT DO NOTHING`)
      .run({ rule: verdict.rule, key, ...series, state, ...evidence, now: nowMs, firedAt: state === "firing" ? nowMs : null, since: state === "firing" ? null : newestMs,
        traceIds: JSON.stringify(window.map((r) => r.traceId)) });
    if (inserted.changes === 0) return null; // another evaluator opened it first
    insertTransition(sqlite, inserted.lastInsertRowid, null, "pending", nowMs, verdict.value);
    if (state === "firing") insertTransition(sqlite, inserted.lastInsertRowid, "pending", "firing", nowMs, verdict.value);
    return state === "firing" ? event("firing", inserted.lastInsertRowid) : null;
  }

  const id = open.id;
  if (open.state === "pending") {
    if (!verdict.breach) {
      sqlite.prepare(`UPDATE alerts SET state = 'resolved', resolved_at_ms = ?, value = ?, streak_since_ms = NULL WHERE id = ?`).run(nowMs, verdict.value, id);
      insertTransition(sqlite, id, "pending", "resolved", nowMs, verdict.value, "evaluator", "the breach did not hold");
      return null;
    }
    const held = open.streak_since_ms === null ? confirm : countSince(sqlite, series, Number(open.streak_since_ms));
    if (held >= confirm) {
      // The traces that made it fire: the window at the moment it fired.
      sqlite.prepare(`UPDATE alerts SET state = 'firing', fired_at_ms = @now, value = @value, baseline = @baseline, threshold = @threshold, detail = @detail,
          streak_since_ms = NULL, trace_ids_json = @traceIds WHERE id = @id`).run({ now: nowMs, ...evidence, traceIds: JSON.stringify(window.map((r) => r.traceId)), id });
      insertTransition(sqlite, id, "pending", "firing", nowMs, verdict.value);
      return event("firing", id);
    }
    sqlite.prepare(`UPDATE alerts SET value = @value, baseline = @baseline, threshold = @threshold, detail = @detail WHERE id = @id`).run({ ...evidence, id });
    return null;
  }

  // firing. Hysteresis: it resolves only once the window is back at least halfway from the threshold to
  // the baseline (the floor: back above it), so a window that merely stops being significant while
  // still half full of the bad traffic does not resolve it.
  const recovered = verdict.baseline === null
    ? verdict.value >= verdict.threshold
    : Math.abs(verdict.value - verdict.baseline) <= Math.abs(verdict.threshold - verdict.baseline) / 2;
  if (verdict.breach || !recovered) {
    // The baseline, threshold and reason stay those of the firing moment (the page explains why it fired); the value is the latest.
    sqlite.prepare(`UPDATE alerts SET value = ?, streak_since_ms = NULL WHERE id = ?`).run(verdict.value, id);
    return null;
  }
  if (open.streak_since_ms === null && confirm > 0) {
    sqlite.prepare(`UPDATE alerts SET value = ?, streak_since_ms = ? WHERE id = ?`).run(verdict.value, newestMs, id);
    return null;
  }
  const clear = confirm === 0 ? 0 : countSince(sqlite, series, Number(open.streak_since_ms));
  if (clear >= confirm) {
    sqlite.prepare(`UPDATE alerts SET state = 'resolved', resolved_at_ms = ?, value = ?, streak_since_ms = NULL WHERE id = ?`).run(nowMs, verdict.value, id);
    insertTransition(sqlite, id, "firing", "resolved", nowMs, verdict.value);
    return event("resolved", id);
  }
  sqlite.prepare(`UPDATE alerts SET value = ? WHERE id = ?`).run(verdict.value, id);
  return null;
}

export interface EvaluationReport {
  series: number;
  verdicts: number;
  events: AlertEvent[];
  errors: { series: string; message: string }[];
}

// What each series looked like at its last evaluation (request count and newest start), per database:
// a series without new requests gives the same verdicts again, so the timer skips it.
const lastSeen = new WeakMap<Database.Database, Map<string, string>>();

/** Evaluates every series once. A failing series is reported (and counted by the caller), never thrown. */
export function evaluateAlerts(sqlite: Database.Database, nowMs = Date.now()): EvaluationReport {
  const report: EvaluationReport = { series: 0, verdicts: 0, events: [], errors: [] };
  let seen = lastSeen.get(sqlite);
  if (!seen) lastSeen.set(sqlite, (seen = new Map()));
  const stamp = sqlite.prepare(`SELECT count(*) AS n, max(start_ns) AS newest FROM requests WHERE config_version IS @configVersion
    AND target_model_id IS @targetModelId AND draft_model_id IS @draftModelId AND proposer IS @proposer`);
  for (const series of listSeries(sqlite)) {
    report.series += 1;
    const key = seriesKey(series);
    try {
      const rules = rulesForVersion(sqlite, series.configVersion);
      if (!rules.enabled) continue;
      const { n, newest } = stamp.get(series) as { n: bigint; newest: bigint | null };
      const version = `${n}:${newest}:${JSON.stringify(rules)}`;
      // Time-limited windows change as time passes, so those series are always evaluated.
      if (rules.window.minutes === 0 && seen.get(key) === version) continue;
      seen.set(key, version);
      const { baseline, window } = seriesData(sqlite, series, rules, { nowMs });
      const verdicts = evaluateRules(rules, baseline, window);
      report.verdicts += verdicts.length;
      const events = sqlite.transaction(() => verdicts.map((v) => applyVerdict(sqlite, series, rules, v, window, nowMs)))();
      for (const e of events) if (e) report.events.push(e);
    } catch (error) {
      seen.delete(key);
      report.errors.push({ series: key, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return report;
}

export function listAlerts(sqlite: Database.Database, state: AlertState | "open" | "all" = "all", limit = 200): AlertView[] {
  const where = state === "all" ? "" : state === "open" ? `WHERE state <> 'resolved'` : `WHERE state = @state`;
  const rows = sqlite.prepare(`SELECT * FROM alerts ${where}
      ORDER BY CASE state WHEN 'firing' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END, coalesce(fired_at_ms, opened_at_ms) DESC, id DESC LIMIT @limit`)
    .all({ state, limit }) as RawAlert[];
  return rows.map(toView);
}

export function getAlert(sqlite: Database.Database, id: number): AlertView | null {
  const row = getAlertRaw(sqlite, id);
  return row ? toView(row) : null;
}

export function firingCount(sqlite: Database.Database): number {
  return Number((sqlite.prepare(`SELECT count(*) AS n FROM alerts WHERE state = 'firing'`).get() as { n: bigint }).n);
}

export function firingByRule(sqlite: Database.Database): { rule: string; n: number }[] {
  return (sqlite.prepare(`SELECT rule, count(*) AS n FROM alerts WHERE state = 'firing' GROUP BY rule`).all() as { rule: string; n: bigint }[]).map((r) => ({ rule: r.rule, n: Number(r.n) }));
}

export interface TransitionView { fromState: string | null; toState: string; at: string; value: number | null; by: string; note: string }

export function alertHistory(sqlite: Database.Database, id: number): TransitionView[] {
  const rows = sqlite.prepare(`SELECT from_state, to_state, at_ms, value, by, note FROM alert_transitions WHERE alert_id = ? ORDER BY id`).all(id) as
    { from_state: string | null; to_state: string; at_ms: bigint; value: number | null; by: string; note: string }[];
  return rows.map((r) => ({ fromState: r.from_state, toState: r.to_state, at: iso(r.at_ms)!, value: r.value, by: r.by, note: r.note }));
}

/** Acknowledges an alert (any state) with a note; the acknowledgement joins its history. null when no such alert. */
export function acknowledgeAlert(sqlite: Database.Database, id: number, by: string, note: string, nowMs = Date.now()): AlertEvent | null {
  return sqlite.transaction(() => {
    const row = getAlertRaw(sqlite, id);
    if (!row) return null;
    sqlite.prepare(`UPDATE alerts SET acked_at_ms = ?, acked_by = ?, ack_note = ? WHERE id = ?`).run(nowMs, by, note, id);
    insertTransition(sqlite, id, row.state, "acknowledged", nowMs, row.value, by, note);
    const alert = toView(getAlertRaw(sqlite, id)!);
    return { kind: "acknowledged" as const, alert, rules: rulesForVersion(sqlite, alert.configVersion) };
  }).immediate();
}

/** The chart around an alert: its rule's window metric after each request of the series, with the threshold. */
export function alertChart(sqlite: Database.Database, alert: AlertView, points = 200) {
  const rules = rulesForVersion(sqlite, alert.configVersion);
  const pivotMs = Date.parse(alert.firedAt ?? alert.openedAt);
  const { baseline } = seriesData(sqlite, alert.series, rules);
  const all = seriesData(sqlite, alert.series, rules, { windowLimit: 100_000 }).window;
  const indexAfter = (ms: number) => {
    const i = all.findIndex((r) => Number(r.endNs / 1_000_000n) > ms);
    return i < 0 ? all.length : i;
  };
  // From well before the firing moment to a little after it, or after the resolution when there is one.
  const pivot = indexAfter(pivotMs);
  const tail = alert.resolvedAt ? indexAfter(Date.parse(alert.resolvedAt)) + 15 : pivot + Math.floor(points / 3);
  const end = Math.min(all.length, Math.max(tail, pivot + 10));
  const start = Math.max(0, Math.min(pivot - 60, end - points));
  const W = rules.window.requests;
  // The position rule reports its worst position, which can change from window to window: chart the one that fired.
  const match = alert.rule === "position-drift" ? /draft position (\d+)/.exec(alert.detail) : null;
  const position = match ? Number(match[1]) - 1 : null;
  const out: { atMs: number; traceId: string; value: number; threshold: number; baseline: number | null }[] = [];
  for (let i = start; i < end; i++) {
    const window = all.slice(Math.max(0, i + 1 - W), i + 1);
    const v = position === null ? evaluateRules(rules, baseline, window).find((x) => x.rule === alert.rule) : positionVerdict(rules, baseline, window, position);
    if (v) out.push({ atMs: Number(all[i].endNs / 1_000_000n), traceId: all[i].traceId, value: v.value, threshold: v.threshold, baseline: v.baseline });
  }
  return out;
}
