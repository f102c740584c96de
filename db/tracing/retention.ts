import type Database from "better-sqlite3";
import type { SpecLensDb } from "../client";
import { effectiveSettings, envSettings } from "../queries/settings";

/*
 * Retention: traces older than maxAgeDays, then the oldest traces while the database's used size
 * exceeds maxBytes, are deleted a few traces per transaction. Each transaction is short (milliseconds),
 * and the job yields to the event loop between them, so the exporter's writes never wait long.
 */

export interface RetentionPolicy {
  /** Delete traces that started longer ago than this; null keeps them. */
  maxAgeDays: number | null;
  /** Delete the oldest traces while the database uses more than this many bytes; null disables. */
  maxBytes: number | null;
  /** Traces deleted per transaction. */
  batchTraces?: number;
  /** How often the job runs. */
  intervalMs?: number;
}

/** The policy of retention days and a size cap in MB; 0 (or less) disables a limit. */
function policyOf(days: number, mb: number): RetentionPolicy {
  return { maxAgeDays: days > 0 ? days : null, maxBytes: mb > 0 ? Math.round(mb * 1024 * 1024) : null };
}

/** SPECLENS_RETENTION_DAYS and SPECLENS_MAX_DB_MB alone; unset or 0 disables a limit. */
export function retentionFromEnv(env: Record<string, string | undefined> = process.env): RetentionPolicy {
  const defaults = envSettings(env);
  return policyOf(defaults.retentionDays.value, defaults.maxDbMb.value);
}

/**
 * The policy in force now: the values saved on /settings, else the environment's (see
 * db/queries/settings.ts). Read at every pass, so a saved change applies without a restart.
 */
export function effectiveRetention(db: Pick<SpecLensDb, "select">, env: Record<string, string | undefined> = process.env): RetentionPolicy {
  const settings = effectiveSettings(db, env);
  return policyOf(settings.retentionDays.value, settings.maxDbMb.value);
}

/** Bytes in use: pages minus free pages (SQLite does not shrink the file without VACUUM). */
export function usedBytes(sqlite: Database.Database): number {
  const pageSize = Number(sqlite.pragma("page_size", { simple: true }));
  const pages = Number(sqlite.pragma("page_count", { simple: true }));
  const free = Number(sqlite.pragma("freelist_count", { simple: true }));
  return (pages - free) * pageSize;
}

/** Deletes one trace from every table that holds it. */
export function deleteTraces(sqlite: Database.Database, traceIds: string[]): void {
  const statements = ["spans", "requests", "steps", "tokens"].map((table) => sqlite.prepare(`DELETE FROM ${table} WHERE trace_id = ?`));
  sqlite.transaction(() => {
    for (const id of traceIds) for (const s of statements) s.run(id);
  }).immediate();
}

function oldestTraces(sqlite: Database.Database, limit: number, beforeNs: bigint | null): string[] {
  // spans_start_time_ns_idx makes this a short index scan; a trace's first span is its oldest.
  const rows = sqlite
    .prepare(
      `SELECT DISTINCT trace_id AS traceId FROM (
         SELECT trace_id FROM spans ${beforeNs === null ? "" : "WHERE start_time_ns < ?"} ORDER BY start_time_ns LIMIT ?)`,
    )
    .all(...(beforeNs === null ? [limit * 64] : [beforeNs, limit * 64])) as { traceId: string }[];
  return rows.slice(0, limit).map((r) => r.traceId);
}

/**
 * One bounded pass: at most maxBatches transactions. Returns the number of traces deleted;
 * callers run it again later if there is more to delete.
 */
export function purgeOnce(sqlite: Database.Database, policy: RetentionPolicy, now = Date.now(), maxBatches = 20): number {
  const batch = policy.batchTraces ?? 25;
  let deleted = 0;
  for (let i = 0; i < maxBatches; i++) {
    let ids: string[] = [];
    if (policy.maxAgeDays !== null) {
      const cutoff = BigInt(Math.floor(now - policy.maxAgeDays * 86_400_000)) * 1_000_000n;
      ids = oldestTraces(sqlite, batch, cutoff);
    }
    if (ids.length === 0 && policy.maxBytes !== null && usedBytes(sqlite) > policy.maxBytes) {
      ids = oldestTraces(sqlite, batch, null);
    }
    if (ids.length === 0) break;
    deleteTraces(sqlite, ids);
    deleted += ids.length;
  }
  return deleted;
}

export interface RetentionJob {
  stop: () => void;
  /** Traces deleted so far. */
  deleted: () => number;
}

/**
 * Runs purgeOnce on an unref'd interval, yielding to the event loop between passes. `policy` is either
 * fixed (nothing to do when it sets no limit) or read at the start of every pass (the saved settings
 * can change at any time: with no limit set, a pass only reads them).
 */
export function startRetention(database: () => Database.Database, policy: RetentionPolicy | (() => RetentionPolicy), options: { intervalMs?: number } = {}): RetentionJob {
  let deleted = 0;
  const current = typeof policy === "function" ? policy : () => policy;
  if (typeof policy !== "function" && policy.maxAgeDays === null && policy.maxBytes === null) return { stop: () => {}, deleted: () => 0 };
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    let passPolicy: RetentionPolicy;
    try {
      passPolicy = current();
    } catch (error) {
      console.error("[speclens] retention pass failed: cannot read the retention settings", error);
      running = false;
      return;
    }
    if (passPolicy.maxAgeDays === null && passPolicy.maxBytes === null) {
      running = false;
      return;
    }
    const pass = () => {
      try {
        const n = purgeOnce(database(), passPolicy, Date.now(), 1);
        deleted += n;
        if (n > 0) return void setImmediate(pass);
      } catch (error) {
        console.error("[speclens] retention pass failed", error);
      }
      running = false;
    };
    pass();
  };
  const timer = setInterval(tick, options.intervalMs ?? (typeof policy === "function" ? undefined : policy.intervalMs) ?? 60_000);
  timer.unref();
  setImmediate(tick);
  return { stop: () => clearInterval(timer), deleted: () => deleted };
}
