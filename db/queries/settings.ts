import { inArray } from "drizzle-orm";
import { z } from "zod";
import { webhookUrlSchema } from "@/engine";
import type { SpecLensDb } from "../client";
import { runtimeSettings } from "../schema";
import { appendAudit } from "./configs";

/*
 * Runtime settings: retention, the database size cap and the global alert webhook. Each has an
 * environment variable, which is its default; a value saved here (by an admin, on /settings or through
 * PATCH /api/settings) wins over it until it is reset. The effective value is read at each use (every
 * retention pass, every alert delivery), so a change applies without a restart.
 *
 * The value of every setting turns a feature off with its type's zero: 0 days (keep traces forever),
 * 0 MB (no size cap), "" (no global webhook). Saving that zero is how an admin switches off what the
 * environment turned on; resetting (null in a patch) removes the saved value and the environment
 * default applies again.
 */

/** The settings, with their environment variables and the ranges a saved value must meet. */
export const SETTING_DEFS = {
  retentionDays: {
    env: "SPECLENS_RETENTION_DAYS",
    schema: z.number({ error: "expected a whole number of days" }).int("expected a whole number of days")
      .min(0, "expected 0 (keep forever) to 3650 days").max(3650, "expected 0 (keep forever) to 3650 days"),
  },
  maxDbMb: {
    env: "SPECLENS_MAX_DB_MB",
    schema: z.number({ error: "expected a whole number of MB" }).int("expected a whole number of MB")
      .min(0, "expected 0 (no cap) to 1000000 MB").max(1_000_000, "expected 0 (no cap) to 1000000 MB"),
  },
  alertWebhook: {
    env: "SPECLENS_ALERT_WEBHOOK",
    schema: z.string({ error: 'expected an http(s) URL, or "" for none' }).trim().max(2048, { error: "at most 2048 characters", abort: true })
      .refine((url) => url === "" || webhookUrlSchema.safeParse(url).success, 'expected an http(s) URL, or "" for none'),
  },
} as const;

export type SettingName = keyof typeof SETTING_DEFS;
export const SETTING_NAMES = Object.keys(SETTING_DEFS) as SettingName[];

export interface SettingValues {
  /** Traces older than this many days are purged; 0 keeps them forever. */
  retentionDays: number;
  /** The oldest traces are purged while the database uses more than this many MB; 0 is no cap. */
  maxDbMb: number;
  /** Every alert notification also goes here; "" is none. */
  alertWebhook: string;
}

/** A change: a value saves it, null removes the saved value (the environment default applies again). */
export type SettingsPatch = { [K in SettingName]?: SettingValues[K] | null };

export type SettingSource = "saved" | "environment" | "default";

export interface EffectiveSetting<T> {
  value: T;
  source: SettingSource;
  /** Who saved it and when (source "saved"). */
  savedBy: string | null;
  savedAtMs: number | null;
  /** What applies without a saved value: the environment variable's value, or off. */
  fallback: { value: T; source: "environment" | "default"; variable: string };
}

export type EffectiveSettings = { [K in SettingName]: EffectiveSetting<SettingValues[K]> };

type Env = Record<string, string | undefined>;

/** A positive number from the environment (fractions allowed, as before these settings existed); 0 otherwise. */
function envNumber(raw: string): number {
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** The environment defaults; a variable that is unset or empty is no default ("default": off). */
export function envSettings(env: Env = process.env): { [K in SettingName]: { value: SettingValues[K]; set: boolean } } {
  const raw = (name: SettingName) => env[SETTING_DEFS[name].env]?.trim() ?? "";
  return {
    retentionDays: { value: envNumber(raw("retentionDays")), set: raw("retentionDays") !== "" },
    maxDbMb: { value: envNumber(raw("maxDbMb")), set: raw("maxDbMb") !== "" },
    alertWebhook: { value: raw("alertWebhook"), set: raw("alertWebhook") !== "" },
  };
}

interface SavedSetting<T> { value: T; atMs: number; by: string }
type SavedSettings = { [K in SettingName]?: SavedSetting<SettingValues[K]> };

/** The saved values. A stored value that no longer validates is ignored (logged): the default applies. */
export function savedSettings(db: Pick<SpecLensDb, "select">): SavedSettings {
  const saved: Record<string, SavedSetting<unknown>> = {};
  for (const row of db.select().from(runtimeSettings).all()) {
    const def = SETTING_DEFS[row.key as SettingName];
    if (!def) continue;
    let parsed: { success: boolean; data?: unknown };
    try {
      parsed = def.schema.safeParse(JSON.parse(row.valueJson));
    } catch {
      parsed = { success: false };
    }
    if (!parsed.success) {
      console.error(`[speclens] the saved setting ${row.key} is not valid (${row.valueJson}); ${def.env} or the default applies`);
      continue;
    }
    saved[row.key] = { value: parsed.data, atMs: row.updatedAtMs, by: row.updatedBy };
  }
  return saved as SavedSettings;
}

function effective<K extends SettingName>(name: K, saved: SavedSetting<SettingValues[K]> | undefined, env: { value: SettingValues[K]; set: boolean }): EffectiveSetting<SettingValues[K]> {
  const fallback = { value: env.value, source: env.set ? ("environment" as const) : ("default" as const), variable: SETTING_DEFS[name].env };
  if (saved) return { value: saved.value, source: "saved", savedBy: saved.by, savedAtMs: saved.atMs, fallback };
  return { value: fallback.value, source: fallback.source, savedBy: null, savedAtMs: null, fallback };
}

/** Every setting's effective value (saved, else the environment's, else off) and where it comes from. */
export function effectiveSettings(db: Pick<SpecLensDb, "select">, env: Env = process.env): EffectiveSettings {
  const saved = savedSettings(db);
  const defaults = envSettings(env);
  return {
    retentionDays: effective("retentionDays", saved.retentionDays, defaults.retentionDays),
    maxDbMb: effective("maxDbMb", saved.maxDbMb, defaults.maxDbMb),
    alertWebhook: effective("alertWebhook", saved.alertWebhook, defaults.alertWebhook),
  };
}

/**
 * A webhook URL as the audit log shows it: scheme and host only (the path and query of a Slack or
 * similar hook are its secret; user info is dropped too), "…" marking that something was cut.
 */
export function maskUrl(url: string): string {
  if (url === "") return "";
  try {
    const parsed = new URL(url);
    const cut = parsed.username !== "" || parsed.password !== "" || parsed.pathname !== "/" || parsed.search !== "" || parsed.hash !== "";
    return `${parsed.protocol}//${parsed.host}/${cut ? "…" : ""}`;
  } catch {
    return "…";
  }
}

/** How a value appears in the audit log: webhook URLs masked, null when not saved. */
function auditValue(name: SettingName, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  return name === "alertWebhook" ? maskUrl(String(value)) : value;
}

export interface SettingsUpdate {
  /** The settings whose saved value changed (none when the patch matched what was saved). */
  changed: SettingName[];
}

/**
 * Apply a validated patch: save the values given, remove those set to null. The check, the writes and
 * one audit entry (action `settings.update`, subject `settings`, before/after of each changed setting:
 * its saved value or null when none was, webhook URLs masked) run in one IMMEDIATE transaction.
 */
export function updateSettings(db: SpecLensDb, patch: SettingsPatch, actor: string, now = Date.now()): SettingsUpdate {
  return db.transaction(
    (tx): SettingsUpdate => {
      const saved = savedSettings(tx) as Record<SettingName, SavedSetting<unknown> | undefined>;
      const changed = SETTING_NAMES.filter((name) => patch[name] !== undefined && (patch[name] ?? null) !== (saved[name]?.value ?? null));
      if (changed.length === 0) return { changed };
      const removed = changed.filter((name) => patch[name] === null);
      if (removed.length > 0) tx.delete(runtimeSettings).where(inArray(runtimeSettings.key, removed)).run();
      for (const name of changed.filter((n) => patch[n] !== null)) {
        const row = { valueJson: JSON.stringify(patch[name]), updatedAtMs: now, updatedBy: actor };
        tx.insert(runtimeSettings).values({ key: name, ...row }).onConflictDoUpdate({ target: runtimeSettings.key, set: row }).run();
      }
      appendAudit(tx, {
        actor, action: "settings.update", subject: "settings", message: "",
        before: Object.fromEntries(changed.map((name) => [name, auditValue(name, saved[name]?.value)])),
        after: Object.fromEntries(changed.map((name) => [name, auditValue(name, patch[name])])),
      }, now);
      return { changed };
    },
    { behavior: "immediate" },
  );
}
