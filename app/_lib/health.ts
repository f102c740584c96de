import "server-only";
import packageJson from "@/package.json";
import { getDatabase, resolveDatabasePath } from "@/db/client";
import { checkDatabase, type DatabaseHealth } from "@/db/health";

/** A model the engine has loaded; the engine fills this list once it exists. */
export interface LoadedModel {
  modelId: string;
  role: string;
}

export type HealthReport =
  | { status: "ok"; version: string; database: DatabaseHealth; models: LoadedModel[] }
  | {
      status: "error";
      version: string;
      database: { status: "error"; path: string; message: string };
      models: LoadedModel[];
    };

/** Opens (and migrates, on first use) the database and reports whether it answers queries. */
export function buildHealthReport(): { httpStatus: 200 | 503; body: HealthReport } {
  const version = packageJson.version;
  // No engine is wired into the app yet, so no model is loaded; the engine issue extends this.
  const models: LoadedModel[] = [];
  try {
    const database = checkDatabase(getDatabase());
    return { httpStatus: 200, body: { status: "ok", version, database, models } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      httpStatus: 503,
      body: {
        status: "error",
        version,
        database: { status: "error", path: resolveDatabasePath(), message },
        models,
      },
    };
  }
}
