import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GET } from "@/app/api/health/route";
import { closeDatabase } from "@/db/client";
import packageJson from "@/package.json";
import { committedMigrationCount, makeTempDir } from "../support/temp";

let temp: ReturnType<typeof makeTempDir>;
const savedDbEnv = process.env.SPECLENS_DB;

beforeEach(() => {
  temp = makeTempDir();
});
afterEach(() => {
  closeDatabase();
  if (savedDbEnv === undefined) delete process.env.SPECLENS_DB;
  else process.env.SPECLENS_DB = savedDbEnv;
  temp.cleanup();
});

describe("GET /api/health", () => {
  it("answers 200 with the database status, WAL mode and the applied schema version", async () => {
    const file = path.join(temp.dir, "health.db");
    process.env.SPECLENS_DB = file;

    const response = GET();
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual({
      status: "ok",
      version: packageJson.version,
      database: {
        status: "ok",
        path: file,
        journalMode: "wal",
        foreignKeys: true,
        schemaVersion: committedMigrationCount(),
        availableMigrations: committedMigrationCount(),
        latestMigration: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
      models: [],
    });
    // The health check opened (and so created and migrated) the configured file.
    expect(fs.existsSync(file)).toBe(true);
  });

  it("answers 503 with the error when the database cannot be opened", async () => {
    // A regular file where the database directory should be: mkdir fails (EEXIST).
    const blocker = path.join(temp.dir, "not-a-dir");
    fs.writeFileSync(blocker, "");
    const file = path.join(blocker, "speclens.db");
    process.env.SPECLENS_DB = file;

    const response = GET();
    expect(response.status).toBe(503);
    const body = (await response.json()) as { status: string; database: { status: string; path: string; message: string } };
    expect(body.status).toBe("error");
    expect(body.database.status).toBe("error");
    expect(body.database.path).toBe(file);
    expect(body.database.message).toMatch(/EEXIST|ENOTDIR/);
  });

  it("recovers once the database becomes reachable again", async () => {
    const blocker = path.join(temp.dir, "later-a-dir");
    fs.writeFileSync(blocker, "");
    process.env.SPECLENS_DB = path.join(blocker, "speclens.db");
    expect(GET().status).toBe(503);

    fs.rmSync(blocker);
    const response = GET();
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe("ok");
  });
});
