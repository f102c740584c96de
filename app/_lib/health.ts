import "server-only";
import packageJson from "@/package.json";
import { getDatabase, resolveDatabasePath } from "@/db/client";
import { checkDatabase, type DatabaseHealth } from "@/db/health";
import { tracingReport, type TracingReport } from "@/db/tracing/runtime";
import { loadedModels } from "./engine";

/** A model the engine has loaded (listed once the first generation has loaded the engine). */
export interface LoadedModel {
  modelId: string;
  role: string;
}

/**
 * The trace exporter's counters, present once tracing is registered (instrumentation.ts). `status` is
 * "degraded" when spans were ever dropped or a write failure left spans waiting for a retry.
 */
export type TracingHealth = TracingReport & { status: "ok" | "degraded" };

function tracingHealth(): { tracing?: TracingHealth } {
  const report = tracingReport();
  if (!report.enabled) return {};
  const e = report.exporter;
  const degraded = e !== null && (e.dropped > 0 || (e.lastError !== null && e.queued > 0));
  return { tracing: { status: degraded ? "degraded" : "ok", ...report } };
}

export type HealthReport =
  | { status: "ok"; version: string; database: DatabaseHealth; models: LoadedModel[]; tracing?: TracingHealth }
  | {
      status: "error";
      version: string;
      database: { status: "error"; path: string; message: string };
      models: LoadedModel[];
      tracing?: TracingHealth;
    };

/** Opens (and migrates, on first use) the database and reports whether it answers queries. */
export function buildHealthReport(): { httpStatus: 200 | 503; body: HealthReport } {
  const version = packageJson.version;
  // Only an engine that is already loaded is listed: a health probe must never trigger a model load.
  const models: LoadedModel[] = loadedModels();
  try {
    const database = checkDatabase(getDatabase());
    return { httpStatus: 200, body: { status: "ok", version, database, models, ...tracingHealth() } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      httpStatus: 503,
      body: {
        status: "error",
        version,
        database: { status: "error", path: resolveDatabasePath(), message },
        models,
        ...tracingHealth(),
      },
    };
  }
}
