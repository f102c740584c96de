import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate as drizzleMigrate } from "drizzle-orm/better-sqlite3/migrator";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import { MIGRATIONS_TABLE } from "@/db/migrate";
import { committedMigrationCount, makeTempDir, MIGRATIONS_FOLDER } from "../support/temp";

const ROOT = path.resolve(__dirname, "../..");

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  temp = makeTempDir();
});
afterEach(() => temp.cleanup());

function tableNames(sqlite: Database.Database): string[] {
  const rows = sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[];
  return rows.map((row) => row.name);
}

describe("openDatabase", () => {
  it("creates the file and its directory, applies every committed migration and sets the connection pragmas", () => {
    const file = path.join(temp.dir, "nested", "speclens.db");
    const { sqlite, migrations } = openDatabase(file);

    expect(fs.existsSync(file)).toBe(true);
    expect(migrations.appliedNow).toBe(committedMigrationCount());
    expect(migrations.applied).toBe(committedMigrationCount());
    expect(migrations.latestHash).toMatch(/^[0-9a-f]{64}$/);
    expect(tableNames(sqlite)).toEqual(expect.arrayContaining(["spans", "span_events", MIGRATIONS_TABLE]));
    expect(sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(Number(sqlite.pragma("foreign_keys", { simple: true }))).toBe(1);
    expect(Number(sqlite.pragma("busy_timeout", { simple: true }))).toBe(5000);
    sqlite.close();
  });

  it("is idempotent: reopening applies nothing and keeps the schema version", () => {
    const file = path.join(temp.dir, "speclens.db");
    openDatabase(file).sqlite.close();
    const second = openDatabase(file);
    expect(second.migrations.appliedNow).toBe(0);
    expect(second.migrations.applied).toBe(committedMigrationCount());
    const rows = second.sqlite.prepare(`SELECT count(*) AS n FROM "${MIGRATIONS_TABLE}"`).get() as { n: bigint };
    expect(Number(rows.n)).toBe(committedMigrationCount());
    second.sqlite.close();
  });

  it("keeps drizzle's bookkeeping, so drizzle's own migrator sees nothing left to do", () => {
    const file = path.join(temp.dir, "speclens.db");
    openDatabase(file).sqlite.close();
    const sqlite = new Database(file);
    // Would fail with "table `span_events` already exists" if the journal rows were not drizzle's.
    expect(() => drizzleMigrate(drizzle({ client: sqlite }), { migrationsFolder: MIGRATIONS_FOLDER })).not.toThrow();
    sqlite.close();
  });

  it("rolls back a failing migration as a whole and leaves the schema version unchanged", () => {
    const folder = path.join(temp.dir, "migrations");
    fs.cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
    const file = path.join(temp.dir, "speclens.db");
    openDatabase(file, { migrationsFolder: folder }).sqlite.close();

    // A second migration whose first statement succeeds and second fails.
    const journalPath = path.join(folder, "meta/_journal.json");
    const journal = JSON.parse(fs.readFileSync(journalPath, "utf8")) as { entries: Record<string, unknown>[] };
    const last = journal.entries.at(-1)!;
    journal.entries.push({ ...last, idx: journal.entries.length, when: Number(last.when) + 1000, tag: "9999_broken" });
    fs.writeFileSync(journalPath, JSON.stringify(journal));
    fs.writeFileSync(
      path.join(folder, "9999_broken.sql"),
      "CREATE TABLE half_done (id integer);\n--> statement-breakpoint\nCREATE TABLE spans (id integer);",
    );

    expect(() => openDatabase(file, { migrationsFolder: folder })).toThrow(/already exists/);
    const sqlite = new Database(file);
    expect(tableNames(sqlite)).not.toContain("half_done");
    const applied = sqlite.prepare(`SELECT count(*) AS n FROM "${MIGRATIONS_TABLE}"`).get() as { n: number };
    expect(applied.n).toBe(committedMigrationCount());
    sqlite.close();
  });

  it("is safe when several processes migrate the same new database at once", async () => {
    const file = path.join(temp.dir, "speclens.db");
    const runs = Array.from({ length: 4 }, () => runMigrateCli(file));
    const results = await Promise.all(runs);

    for (const result of results) expect(result.code, result.output).toBe(0);
    // Exactly one process applied each migration; the others found them applied.
    const appliedNow = results.map((result) => Number(/applied (\d+) migration/.exec(result.output)?.[1]));
    expect(appliedNow.reduce((sum, n) => sum + n, 0)).toBe(committedMigrationCount());

    const sqlite = new Database(file);
    const rows = sqlite.prepare(`SELECT count(*) AS n FROM "${MIGRATIONS_TABLE}"`).get() as { n: number };
    expect(rows.n).toBe(committedMigrationCount());
    sqlite.close();
  }, 60_000);
});

function runMigrateCli(file: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, "node_modules/.bin/tsx"), ["db/migrate-cli.ts"], {
      cwd: ROOT,
      env: { ...process.env, SPECLENS_DB: file },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}
