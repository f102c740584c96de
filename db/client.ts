import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { applyMigrations, defaultMigrationsFolder, type MigrationResult } from "./migrate";
import * as schema from "./schema";

/*
 * The database client. Deliberately free of `import "server-only"`: tests, the migration CLI and
 * the engine's CLIs import it too. App modules that wrap it carry that marker instead.
 */

export type SpecLensDb = BetterSQLite3Database<typeof schema>;

export interface OpenDatabase {
  /** Absolute path of the database file (or ":memory:"). */
  path: string;
  db: SpecLensDb;
  /** The underlying better-sqlite3 handle, for pragmas and raw bookkeeping queries. */
  sqlite: Database.Database;
  /** What the start-up migration did and the resulting schema version. */
  migrations: MigrationResult;
}

export interface OpenOptions {
  migrationsFolder?: string;
  /** How long a writer waits for a lock held by another process or connection. */
  busyTimeoutMs?: number;
}

/** SPECLENS_DB if set, else ./data/speclens.db relative to the working directory. */
export function resolveDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.SPECLENS_DB?.trim();
  if (configured === ":memory:") return configured;
  return path.resolve(configured || path.join("data", "speclens.db"));
}

/**
 * Opens (creating if needed) a SpecLens database and brings its schema up to date.
 * WAL lets the dashboard read while the exporter writes; foreign keys are off by default in
 * SQLite and must be enabled per connection.
 */
export function openDatabase(filePath: string, options: OpenOptions = {}): OpenDatabase {
  if (filePath !== ":memory:") fs.mkdirSync(path.dirname(filePath), { recursive: true });

  const sqlite = new Database(filePath);
  try {
    sqlite.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
    // Span timestamps are int64 nanoseconds; see db/schema/columns.ts for why every INTEGER is read as bigint.
    sqlite.defaultSafeIntegers(true);

    const migrations = applyMigrations(sqlite, options.migrationsFolder ?? defaultMigrationsFolder());
    const db = drizzle({ client: sqlite, schema });
    return { path: filePath, db, sqlite, migrations };
  } catch (error) {
    sqlite.close();
    throw error;
  }
}

// Kept on globalThis so Next's dev-mode module reloading does not leak one connection per edit.
const holder = globalThis as typeof globalThis & { __speclensDatabase?: OpenDatabase };

/**
 * The process-wide database, opened and migrated on first use. If SPECLENS_DB changes between
 * calls (tests do this) the old handle is closed and the new path opened. A failed open is not
 * cached, so a later call retries.
 */
export function getDatabase(): OpenDatabase {
  const wanted = resolveDatabasePath();
  const current = holder.__speclensDatabase;
  if (current?.path === wanted && current.sqlite.open) return current;

  if (current?.sqlite.open) current.sqlite.close();
  holder.__speclensDatabase = undefined;
  const opened = openDatabase(wanted);
  holder.__speclensDatabase = opened;
  return opened;
}

/** Shorthand for the typed drizzle handle of the process-wide database. */
export function getDb(): SpecLensDb {
  return getDatabase().db;
}

/** Closes the process-wide database, if open (tests, graceful shutdown). */
export function closeDatabase(): void {
  const current = holder.__speclensDatabase;
  holder.__speclensDatabase = undefined;
  if (current?.sqlite.open) current.sqlite.close();
}
