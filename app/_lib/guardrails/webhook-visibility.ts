import "server-only";
import { maskUrl } from "@/db/queries/settings";
import { alertWebhookFields, type ConfigChange, type GuardrailConfig } from "@/engine";
import { requireAlso, type Caller } from "../auth";

/*
 * Webhook URLs inside guardrail config versions (alerts.webhook, alerts.rules.<rule>.webhook) are
 * secrets: whoever holds one can post to the channel behind it. Callers without settings:read (viewers
 * and editors) see them cut to scheme and host (maskUrl) wherever a version's config is shown: the
 * versions API, diffs, the audit log and the Guardrails page. An editor's save sends the config back
 * with those masked values; restoreMaskedWebhooks puts the base version's URL back where the masked
 * value is exactly what the base's URL masks to, so keeping a hook needs no admin and changing one
 * still does (app/api/guardrails POST).
 */

const WEBHOOK_PATH = /^alerts\.(?:rules\.[^.]+\.)?webhook$/;

/** Whether the caller may read webhook URLs in full. */
export function mayReadWebhookUrls(caller: Caller): boolean {
  return requireAlso(caller, "settings:read", "read webhook URLs", []) === null;
}

const mask = (url: string | null) => (url === null ? null : maskUrl(url));

/** A copy of the config with every webhook URL cut to scheme and host. */
export function maskConfigWebhooks(config: GuardrailConfig): GuardrailConfig {
  const alerts = config.alerts;
  const rules = Object.fromEntries(Object.entries(alerts.rules).map(([name, rule]) => [name, { ...rule, webhook: mask(rule.webhook) }]));
  return { ...config, alerts: { ...alerts, webhook: mask(alerts.webhook), rules: rules as typeof alerts.rules } };
}

/** Field changes with webhook URLs masked (a path without `config.` or with it). */
export function maskWebhookChanges(changes: ConfigChange[]): ConfigChange[] {
  return changes.map((c) => (WEBHOOK_PATH.test(c.path.replace(/^config\./, ""))
    ? { ...c, from: typeof c.from === "string" ? maskUrl(c.from) : c.from, to: typeof c.to === "string" ? maskUrl(c.to) : c.to }
    : c));
}

/** An audit entry's before/after with any config's webhook URLs masked (version.create carries one). */
export function maskAuditWebhooks<T extends { before: unknown; after: unknown }>(entry: T): T {
  const fix = (value: unknown): unknown => {
    if (typeof value !== "object" || value === null || !("config" in value)) return value;
    const config = (value as { config: unknown }).config;
    if (typeof config !== "object" || config === null || !("alerts" in config)) return value;
    return { ...value, config: maskConfigWebhooks(config as GuardrailConfig) };
  };
  return { ...entry, before: fix(entry.before), after: fix(entry.after) };
}

/**
 * In a merged (not yet validated) candidate config, put back the base's URL at every webhook field whose
 * value is the base URL's masked form: an editor who was shown masked URLs and kept them keeps the hooks.
 */
export function restoreMaskedWebhooks(candidate: unknown, base: GuardrailConfig): unknown {
  if (typeof candidate !== "object" || candidate === null) return candidate;
  const alerts = (candidate as { alerts?: unknown }).alerts;
  if (typeof alerts !== "object" || alerts === null) return candidate;
  const out = structuredClone(candidate) as { alerts: Record<string, unknown> };
  for (const field of alertWebhookFields(base.alerts)) {
    if (field.url === null) continue;
    const keys = field.path.split(".").slice(1); // without "alerts"
    let holder: Record<string, unknown> | undefined = out.alerts;
    for (const key of keys.slice(0, -1)) {
      const next: unknown = holder?.[key];
      holder = typeof next === "object" && next !== null ? (next as Record<string, unknown>) : undefined;
    }
    const last = keys[keys.length - 1];
    if (holder && holder[last] === maskUrl(field.url)) holder[last] = field.url;
  }
  return out;
}
