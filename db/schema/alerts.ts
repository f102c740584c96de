import { sql } from "drizzle-orm";
import { index, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { int } from "./columns";

/*
 * Drift alerts (see docs/alerts.md). One row per alert episode of a rule on a series; its state moves
 * pending -> firing -> resolved (or pending -> resolved when the breach did not hold). While an alert
 * is open (pending or firing) no second one can exist for the same rule and series: a partial unique
 * index enforces it, so two evaluators racing cannot duplicate it. Every transition is a row of
 * alert_transitions, which triggers keep append-only.
 */

export const ALERT_STATES = ["pending", "firing", "resolved"] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export const alerts = sqliteTable(
  "alerts",
  {
    id: int("id").primaryKey().$defaultFn(() => sql`NULL`), // rowid alias: SQLite assigns it
    rule: text("rule").notNull(), // AlertRuleName
    seriesKey: text("series_key").notNull(), // JSON of AlertSeries, canonical key order
    configVersion: text("config_version"),
    targetModelId: text("target_model_id"),
    draftModelId: text("draft_model_id"),
    proposer: text("proposer"),
    state: text("state", { enum: ALERT_STATES }).notNull(),
    value: real("value"), // the window's metric at the latest evaluation
    baseline: real("baseline"), // the baseline's metric (null for the floor rule)
    threshold: real("threshold"), // the value beyond which the rule breaches
    detail: text("detail").notNull().default(""), // the test, in words
    openedAtMs: int("opened_at_ms").notNull(),
    firedAtMs: int("fired_at_ms"),
    resolvedAtMs: int("resolved_at_ms"),
    // When the current streak began (the newest evaluated request's end, ms): a pending alert fires, and a
    // firing one whose windows turned clear resolves, once confirmRequests more requests kept the verdict.
    // null while a firing alert keeps breaching.
    streakSinceMs: int("streak_since_ms"),
    ackedAtMs: int("acked_at_ms"),
    ackedBy: text("acked_by"),
    ackNote: text("ack_note"),
    traceIdsJson: text("trace_ids_json").notNull().default("[]"), // [window] the requests of the breaching window
  },
  (t) => [
    uniqueIndex("alerts_one_open_idx").on(t.rule, t.seriesKey).where(sql`state <> 'resolved'`),
    index("alerts_state_idx").on(t.state, t.openedAtMs),
  ],
);

/** Append-only history of every alert: each state change and acknowledgement. */
export const alertTransitions = sqliteTable(
  "alert_transitions",
  {
    id: int("id").primaryKey().$defaultFn(() => sql`NULL`), // rowid alias: SQLite assigns it
    alertId: int("alert_id")
      .notNull()
      .references(() => alerts.id),
    fromState: text("from_state"), // null when the alert was opened
    toState: text("to_state").notNull(), // a state, or "acknowledged"
    atMs: int("at_ms").notNull(),
    value: real("value"),
    by: text("by").notNull().default("evaluator"),
    note: text("note").notNull().default(""),
  },
  (t) => [index("alert_transitions_alert_idx").on(t.alertId, t.atMs)],
);

/** Every webhook delivery attempt, for the delivery log. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: int("id").primaryKey().$defaultFn(() => sql`NULL`), // rowid alias: SQLite assigns it
    alertId: int("alert_id").notNull(),
    event: text("event").notNull(), // firing | resolved | acknowledged
    url: text("url").notNull(),
    attempt: int("attempt").notNull(), // 1-based
    atMs: int("at_ms").notNull(),
    status: int("status"), // HTTP status, null when no response
    ok: int("ok").notNull(), // 1 when a 2xx arrived
    error: text("error"),
    durationMs: real("duration_ms"),
  },
  (t) => [index("webhook_deliveries_alert_idx").on(t.alertId, t.atMs)],
);

export type AlertRow = typeof alerts.$inferSelect;
export type NewAlertRow = typeof alerts.$inferInsert;
export type AlertTransitionRow = typeof alertTransitions.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
