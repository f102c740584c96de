/**
 * Next.js start-up hook. Opening the database here applies pending migrations before the first
 * request, so a schema problem fails loudly at start rather than on whichever page is hit first.
 * Then OpenTelemetry is registered: every generation's spans go to the SQLite exporter (db/tracing)
 * and, when OTEL_EXPORTER_OTLP_ENDPOINT is set, to that OTLP/HTTP backend as well. The engine's model
 * pair starts loading here too, without holding up start-up.
 */
export async function register(): Promise<void> {
  // The edge runtime cannot load native addons; only the Node.js server owns the database.
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { getDatabase, resolveDatabasePath } = await import("@/db/client");
  try {
    const { path, migrations } = getDatabase();
    console.log(
      `[speclens] database ${path}: schema version ${migrations.applied} of ${migrations.available}` +
        (migrations.appliedNow > 0 ? ` (applied ${migrations.appliedNow} now)` : ""),
    );
  } catch (error) {
    // Keep serving: /api/health then reports the failure with a 503 instead of the process dying silently.
    console.error(`[speclens] cannot open database ${resolveDatabasePath()}:`, error);
  }

  // Drift alerts: evaluated on a timer from now on (and after every finished request, see serving/generation.ts).
  const { startAlertScheduler } = await import("@/app/_lib/alerts/scheduler");
  startAlertScheduler();

  // Load the model pair in the background: the first request then finds it ready and /api/health lists
  // the models from the start. A failure is logged and retried by the first request that needs it.
  const { getEngine } = await import("@/app/_lib/engine");
  const loading = performance.now();
  getEngine().then(
    (engine) => {
      const { target, draft } = engine.modelIds;
      console.log(`[speclens] engine ready in ${Math.round(performance.now() - loading)} ms: target ${target.name}, draft ${draft?.name ?? "none"}`);
    },
    (error: unknown) => console.error("[speclens] cannot load the model pair (retried on the first request):", error),
  );

  if (process.env.SPECLENS_TRACING === "off") {
    console.log("[speclens] tracing disabled (SPECLENS_TRACING=off)");
    return;
  }
  const [{ startTracing }, packageJson] = await Promise.all([import("@/db/tracing/provider"), import("@/package.json")]);
  await startTracing(packageJson.version);
  const otlp = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  console.log(`[speclens] tracing to SQLite${otlp ? ` and OTLP/HTTP ${otlp}` : ""}`);
}
