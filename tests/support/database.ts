import path from "node:path";
import { afterEach, beforeEach } from "vitest";
import { openDatabase, type OpenDatabase } from "@/db/client";
import { makeTempDir } from "./temp";

/**
 * Registers a suite's beforeEach and afterEach: every test gets a fresh, migrated database in a
 * temporary folder of its own, closed and removed after the test. Returns the current test's database
 * (register the suite's own beforeEach after this call to seed it).
 */
export function freshDatabasePerTest(): () => OpenDatabase {
  let temp: ReturnType<typeof makeTempDir> | undefined;
  let database: OpenDatabase | undefined;
  beforeEach(() => {
    temp = makeTempDir();
    database = openDatabase(path.join(temp.dir, "speclens.db"));
  });
  afterEach(() => {
    database?.sqlite.close();
    temp?.cleanup();
    database = temp = undefined;
  });
  return () => {
    if (!database) throw new Error("no database: freshDatabasePerTest's beforeEach has not run for this test");
    return database;
  };
}
