import "server-only";
import { Counter, Gauge } from "prom-client";
import { getDatabase } from "@/db/client";
import { evaluateAlerts, firingByRule, type AlertEvent } from "@/db/alerts/store";
import { ALERT_RULE_NAMES } from "@/engine";
import { servingMetrics } from "../serving/metrics";
import { deliver, webhookTargets } from "./webhooks";

/*
 * Runs the evaluator: on a timer started at boot (instrumentation.ts), and shortly after every finished
 * request (armAlertEvaluation, called by the serving path; it only sets a timer, so serving never waits
 * for an evaluation). The short delay lets the request's spans reach SQLite first (the exporter flushes
 * every 200 ms). Errors are counted on /metrics and logged, never silent, and never stop the timer.
 */

const INTERVAL_MS = Number(process.env.SPECLENS_ALERT_INTERVAL_MS ?? 15_000);
const AFTER_REQUEST_MS = 600;

interface SchedulerState {
  timer: NodeJS.Timeout | null;
  armed: NodeJS.Timeout | null;
  running: boolean;
  metrics: { evaluations: Counter; errors: Counter<"kind">; webhookFailures: Counter; lastRun: Gauge } | null;
}

const holder = globalThis as typeof globalThis & { __speclensAlerts?: SchedulerState };
function state(): SchedulerState {
  holder.__speclensAlerts ??= { timer: null, armed: null, running: false, metrics: null };
  return holder.__speclensAlerts;
}

/** The alert metrics, registered once on the /metrics registry. */
export function alertMetrics(): NonNullable<SchedulerState["metrics"]> {
  const s = state();
  if (s.metrics) return s.metrics;
  const registers = [servingMetrics().registry];
  new Gauge({
    name: "speclens_alerts_firing", help: "Alerts firing now, by rule.", labelNames: ["rule"] as const, registers,
    collect() {
      this.reset();
      try {
        const counts = new Map(firingByRule(getDatabase().sqlite).map((r) => [r.rule, r.n]));
        for (const rule of ALERT_RULE_NAMES) this.set({ rule }, counts.get(rule) ?? 0);
      } catch {
        state().metrics?.errors.inc({ kind: "metrics" });
      }
    },
  });
  s.metrics = {
    evaluations: new Counter({ name: "speclens_alert_evaluations_total", help: "Evaluator runs over every series.", registers }),
    errors: new Counter({ name: "speclens_alert_evaluator_errors_total", help: "Evaluator failures, by kind (series: one series failed; run: the whole run failed).", labelNames: ["kind"] as const, registers }),
    webhookFailures: new Counter({ name: "speclens_alert_webhook_failures_total", help: "Webhook notifications that failed after every retry.", registers }),
    lastRun: new Gauge({ name: "speclens_alert_last_evaluation_timestamp_seconds", help: "When the evaluator last finished.", registers }),
  };
  // Zero from the start, so a dashboard can tell "no errors" from "not exported".
  for (const kind of ["series", "run", "metrics"]) s.metrics.errors.inc({ kind }, 0);
  return s.metrics;
}

function notify(events: AlertEvent[]): void {
  const { sqlite, db } = getDatabase();
  for (const event of events) {
    for (const url of webhookTargets(event, process.env, db)) {
      void deliver(sqlite, event, url).then((ok) => {
        if (!ok) alertMetrics().webhookFailures.inc();
      });
    }
  }
}

/** One evaluation now (skipped when one is already running). Returns the events it caused. */
export function runAlertEvaluation(): AlertEvent[] {
  const s = state();
  if (s.running) return [];
  s.running = true;
  const metrics = alertMetrics();
  try {
    const report = evaluateAlerts(getDatabase().sqlite);
    metrics.evaluations.inc();
    metrics.lastRun.set(Date.now() / 1000);
    for (const error of report.errors) {
      metrics.errors.inc({ kind: "series" });
      console.error(`[speclens] alert evaluation failed for series ${error.series}: ${error.message}`);
    }
    notify(report.events);
    return report.events;
  } catch (error) {
    metrics.errors.inc({ kind: "run" });
    console.error("[speclens] alert evaluation failed:", error);
    return [];
  } finally {
    s.running = false;
  }
}

/** Notifies an acknowledgement the same way as state changes. */
export function notifyAlertEvent(event: AlertEvent): void {
  notify([event]);
}

export function startAlertScheduler(): void {
  const s = state();
  if (s.timer || process.env.SPECLENS_ALERTS === "off") return;
  alertMetrics();
  s.timer = setInterval(runAlertEvaluation, INTERVAL_MS);
  s.timer.unref();
}

/** Called when a request finished: evaluate soon (coalescing bursts of requests into one run). */
export function armAlertEvaluation(): void {
  const s = state();
  if (s.armed || process.env.SPECLENS_ALERTS === "off") return;
  s.armed = setTimeout(() => {
    s.armed = null;
    runAlertEvaluation();
  }, AFTER_REQUEST_MS);
  s.armed.unref();
}
