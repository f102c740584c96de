import "server-only";
import type Database from "better-sqlite3";
import type { AlertEvent } from "@/db/alerts/store";
import type { SpecLensDb } from "@/db/client";
import { effectiveSettings } from "@/db/queries/settings";

/*
 * Alert notifications. Each event goes to every configured hook: the global webhook (saved on /settings,
 * else SPECLENS_ALERT_WEBHOOK), the config version's `alerts.webhook` and the rule's own `webhook`. The body is JSON with a
 * Slack-compatible `text` plus the alert itself. Delivery runs in the background, never on a request's
 * path: a failed attempt is retried with exponential backoff, and every attempt is logged in
 * webhook_deliveries (the delivery log on the Alerts page).
 */

export interface DeliveryOptions {
  /** Attempts per hook, the first included. */
  attempts?: number;
  /** Delay before the second attempt; doubles after each failure. */
  backoffMs?: number;
  timeoutMs?: number;
  baseUrl?: string;
}

/**
 * The hooks an event goes to. The global one is looked up now, on every event: the value saved on
 * /settings when `db` is given and one is saved ("" there means none), else SPECLENS_ALERT_WEBHOOK.
 */
export function webhookTargets(event: AlertEvent, env: Record<string, string | undefined> = process.env, db: Pick<SpecLensDb, "select"> | null = null): string[] {
  const urls = [globalWebhook(env, db), event.rules.webhook, event.rules.rules[event.alert.rule].webhook];
  return [...new Set(urls.filter((u): u is string => !!u))];
}

function globalWebhook(env: Record<string, string | undefined>, db: Pick<SpecLensDb, "select"> | null): string | null {
  if (db) {
    try {
      return effectiveSettings(db, env).alertWebhook.value || null;
    } catch (error) {
      // A notification must not be lost to a locked or broken settings read: the environment's hook still gets it.
      console.error("[speclens] cannot read the saved alert webhook; using SPECLENS_ALERT_WEBHOOK:", error);
    }
  }
  return env.SPECLENS_ALERT_WEBHOOK?.trim() || null;
}

export function webhookText(event: AlertEvent, baseUrl = process.env.SPECLENS_PUBLIC_URL ?? ""): string {
  const a = event.alert;
  const what = event.kind === "firing" ? "FIRING" : event.kind === "resolved" ? "RESOLVED" : "ACKNOWLEDGED";
  const series = `config v${a.configVersion ?? "?"}, ${a.series.proposer ?? "?"}, target ${a.series.targetModelId ?? "?"}, draft ${a.series.draftModelId ?? "none"}`;
  const ack = event.kind === "acknowledged" && a.acknowledged ? ` by ${a.acknowledged.by}: ${a.acknowledged.note}` : "";
  return `[SpecLens] ${what} ${a.rule} (${series})${ack}: ${a.detail}. ${baseUrl}/alerts#alert-${a.id}`;
}

/** One POST of a JSON body: the HTTP status, or why none came back (timeout, refused, DNS). Never throws. */
export async function postJson(url: string, body: string, timeoutMs: number): Promise<{ status: number | null; ok: boolean; error: string | null }> {
  try {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body, signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer().catch(() => undefined);
    return { status: response.status, ok: response.ok, error: response.ok ? null : `HTTP ${response.status}` };
  } catch (error) {
    return { status: null, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref?.());

/** Delivers one event to one hook, retrying with backoff; resolves true once a 2xx arrived. */
export async function deliver(sqlite: Database.Database, event: AlertEvent, url: string, options: DeliveryOptions = {}): Promise<boolean> {
  const attempts = options.attempts ?? 5;
  const timeoutMs = options.timeoutMs ?? 5000;
  let delay = options.backoffMs ?? 1000;
  const body = JSON.stringify({ text: webhookText(event, options.baseUrl), event: event.kind, alert: event.alert });
  const log = sqlite.prepare(`INSERT INTO webhook_deliveries (alert_id, event, url, attempt, at_ms, status, ok, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  for (let n = 1; n <= attempts; n++) {
    const started = performance.now();
    const result = await postJson(url, body, timeoutMs);
    try {
      log.run(event.alert.id, event.kind, url, n, Date.now(), result.status, result.ok ? 1 : 0, result.error, performance.now() - started);
    } catch (error) {
      console.error("[speclens] cannot log a webhook delivery:", error);
    }
    if (result.ok) return true;
    if (n < attempts) {
      await sleep(delay);
      delay *= 2;
    }
  }
  return false;
}

export interface DeliveryLogRow { alertId: number; event: string; url: string; attempt: number; at: string; status: number | null; ok: boolean; error: string | null }

export function deliveryLog(sqlite: Database.Database, alertId?: number, limit = 50): DeliveryLogRow[] {
  const rows = sqlite.prepare(`SELECT * FROM webhook_deliveries ${alertId === undefined ? "" : "WHERE alert_id = @alertId"} ORDER BY id DESC LIMIT @limit`)
    .all({ alertId, limit }) as { alert_id: bigint; event: string; url: string; attempt: bigint; at_ms: bigint; status: bigint | null; ok: bigint; error: string | null }[];
  return rows.map((r) => ({ alertId: Number(r.alert_id), event: r.event, url: r.url, attempt: Number(r.attempt), at: new Date(Number(r.at_ms)).toISOString(), status: r.status === null ? null : Number(r.status), ok: r.ok === 1n, error: r.error }));
}
