import path from "node:path";
import type Database from "better-sqlite3";
import { readMigrationFiles } from "drizzle-orm/migrator";

/** drizzle's own bookkeeping table, kept so drizzle-kit and this migrator agree on what ran. */
export const MIGRATIONS_TABLE = "__drizzle_migrations";

export interface SchemaVersion {
  /** Number of migrations applied to this database; this is the schema version. */
  applied: number;
  /** Number of migrations shipped in the migrations folder. */
  available: number;
  /** sha256 of the last applied migration file, or null on an empty database. */
  latestHash: string | null;
}

export interface MigrationResult extends SchemaVersion {
  /** How many migrations this call applied (0 when another process got there first). */
  appliedNow: number;
}

/** The committed migrations live next to this file; SPECLENS_MIGRATIONS overrides for tooling. */
export function defaultMigrationsFolder(): string {
  return process.env.SPECLENS_MIGRATIONS ?? path.join(process.cwd(), "db", "migrations");
}

/**
 * Applies every pending drizzle-kit migration, idempotently.
 *
 * drizzle-orm's bundled migrator reads the last applied migration *before* opening its deferred
 * transaction, so two processes starting at once (say `next start` and a CLI) can both decide to
 * apply the same migration and one fails with "table already exists". Here the read and the writes
 * happen inside one BEGIN IMMEDIATE transaction: the second process waits on the busy timeout,
 * then sees the migrations as applied and does nothing. The bookkeeping is drizzle's, unchanged.
 */
export function applyMigrations(
  sqlite: Database.Database,
  migrationsFolder: string = defaultMigrationsFolder(),
): MigrationResult {
  const migrations = readMigrationFiles({ migrationsFolder });

  const applyPending = sqlite.transaction((): number => {
    sqlite.exec(
      `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
    );
    const last = sqlite
      .prepare(`SELECT created_at AS createdAt FROM "${MIGRATIONS_TABLE}" ORDER BY created_at DESC LIMIT 1`)
      .get() as { createdAt: number | bigint } | undefined;
    const insert = sqlite.prepare(`INSERT INTO "${MIGRATIONS_TABLE}" ("hash", "created_at") VALUES (?, ?)`);

    let appliedNow = 0;
    for (const migration of migrations) {
      if (last !== undefined && Number(last.createdAt) >= migration.folderMillis) continue;
      for (const statement of migration.sql) {
        if (statement.trim() !== "") sqlite.exec(statement);
      }
      insert.run(migration.hash, migration.folderMillis);
      appliedNow += 1;
    }
    return appliedNow;
  });

  const appliedNow = applyPending.immediate();
  return { appliedNow, ...readSchemaVersion(sqlite, migrations.length) };
}

/** Reads which migrations a database has, without changing it. */
export function readSchemaVersion(sqlite: Database.Database, available: number): SchemaVersion {
  const hasTable = sqlite
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`)
    .get(MIGRATIONS_TABLE);
  if (!hasTable) return { applied: 0, available, latestHash: null };

  const row = sqlite
    .prepare(
      `SELECT count(*) AS applied,
              (SELECT hash FROM "${MIGRATIONS_TABLE}" ORDER BY created_at DESC LIMIT 1) AS latestHash
         FROM "${MIGRATIONS_TABLE}"`,
    )
    .get() as { applied: number | bigint; latestHash: string | null };
  return { applied: Number(row.applied), available, latestHash: row.latestHash };
}

/** Number of migrations shipped in a migrations folder. */
export function countAvailableMigrations(migrationsFolder: string = defaultMigrationsFolder()): number {
  return readMigrationFiles({ migrationsFolder }).length;
}
