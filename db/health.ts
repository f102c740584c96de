import type { OpenDatabase } from "./client";
import { readSchemaVersion } from "./migrate";

export interface DatabaseHealth {
  status: "ok";
  path: string;
  journalMode: string;
  foreignKeys: boolean;
  /** Number of applied migrations. */
  schemaVersion: number;
  /** Migrations shipped with this build; greater than schemaVersion means some are pending. */
  availableMigrations: number;
  /** sha256 of the latest applied migration file. */
  latestMigration: string | null;
}

/**
 * Checks an open database by actually querying it: a handle that opened once but whose file was
 * since removed or locked fails here rather than reporting a stale "ok".
 */
export function checkDatabase(database: OpenDatabase): DatabaseHealth {
  const { sqlite } = database;
  const journalMode = String(sqlite.pragma("journal_mode", { simple: true }));
  const foreignKeys = Number(sqlite.pragma("foreign_keys", { simple: true })) === 1;
  const version = readSchemaVersion(sqlite, database.migrations.available);
  return {
    status: "ok",
    path: database.path,
    journalMode,
    foreignKeys,
    schemaVersion: version.applied,
    availableMigrations: version.available,
    latestMigration: version.latestHash,
  };
}
