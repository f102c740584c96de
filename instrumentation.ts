/**
 * Next.js start-up hook. Opening the database here applies pending migrations before the first
 * request, so a schema problem fails loudly at start rather than on whichever page is hit first.
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
}
