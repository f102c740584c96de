/**
 * `npm run serve` (and so `npm start`): the launcher in front of `next start` that enforces the safe
 * default. Without authentication configured the dashboard is a local single-user tool, so it listens on
 * 127.0.0.1 only; asked to listen anywhere else without authentication it refuses to start and says
 * why (exit 2). With authentication configured (SPECLENS_API_KEYS, or a user in the database) it listens
 * where asked and sets SPECLENS_AUTH_REQUIRED=1, so revoking the last credential later locks the server
 * rather than opening it.
 *
 *   npm run serve -- [--host <address>] [--port <n>]     (or SPECLENS_HOST / HOSTNAME, PORT)
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { AuthConfigError, isLoopbackHost, parseEnvKeys } from "../app/_lib/security/config";
import { openDatabase, resolveDatabasePath } from "../db/client";
import { countActiveUsers } from "../db/queries/auth";
import { RedactionConfigError, redactionRulesFromEnv } from "../db/tracing/redact";

export interface LaunchPlan {
  host: string;
  port: number;
  authConfigured: boolean;
  /** Why authentication counts as configured, or why the plan was refused. */
  reason: string;
}

function argValue(argv: string[], names: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    for (const name of names) {
      if (arg === name) return argv[i + 1];
      if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
    }
  }
  return undefined;
}

/** Decides where to listen; throws LaunchRefused when the request is unsafe. Pure but for the user count. */
export function planLaunch(argv: string[], env: Record<string, string | undefined>, countUsers: () => number): LaunchPlan {
  const requestedHost = argValue(argv, ["--host", "-H", "--hostname"]) ?? env.SPECLENS_HOST ?? null;
  const port = Number(argValue(argv, ["--port", "-p"]) ?? env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new LaunchRefused(`port: expected 0-65535, got ${port}`);

  let keys: number;
  try {
    keys = parseEnvKeys(env.SPECLENS_API_KEYS).length;
  } catch (error) {
    if (error instanceof AuthConfigError) throw new LaunchRefused(error.message);
    throw error;
  }
  const users = countUsers();
  const reasons = [...(keys > 0 ? [`${keys} key(s) in SPECLENS_API_KEYS`] : []), ...(users > 0 ? [`${users} user(s) in the database`] : [])];
  const authConfigured = reasons.length > 0 || env.SPECLENS_AUTH_REQUIRED === "1";
  const host = requestedHost ?? (authConfigured ? "0.0.0.0" : "127.0.0.1");
  if (!authConfigured && !isLoopbackHost(host)) {
    throw new LaunchRefused(
      `refusing to listen on ${host} without authentication: anyone who can reach it could read every trace, change configs and spend compute.\n` +
        "Either listen on the loopback address only (the default: leave --host/SPECLENS_HOST unset), or configure authentication first:\n" +
        "  npm run admin -- create <name>            (a first admin user for the dashboard), and/or\n" +
        '  SPECLENS_API_KEYS="<key>:<role>,..."      (API keys; roles viewer, editor, admin, ingest)\n' +
        "and put it behind TLS (docs/security.md).",
    );
  }
  return { host, port, authConfigured, reason: authConfigured ? reasons.join(", ") || "SPECLENS_AUTH_REQUIRED=1" : "no authentication configured" };
}

export class LaunchRefused extends Error {}

function countUsersInDatabase(): number {
  const file = resolveDatabasePath();
  const opened = openDatabase(file);
  try {
    return countActiveUsers(opened.db);
  } finally {
    opened.sqlite.close();
  }
}

function main(): void {
  let plan: LaunchPlan;
  try {
    plan = planLaunch(process.argv.slice(2), process.env, countUsersInDatabase);
    redactionRulesFromEnv(process.env);
  } catch (error) {
    if (error instanceof LaunchRefused || error instanceof RedactionConfigError) {
      console.error(`[speclens] ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  console.log(
    plan.authConfigured
      ? `[speclens] authentication on (${plan.reason}); listening on ${plan.host}:${plan.port}`
      : `[speclens] no authentication configured: a local single-user dashboard on http://${plan.host}:${plan.port} (see docs/security.md to serve others)`,
  );
  const next = path.join(path.dirname(require.resolve("next/package.json")), "dist/bin/next");
  const child = spawn(process.execPath, [next, "start", "-H", plan.host, "-p", String(plan.port)], {
    stdio: "inherit",
    env: { ...process.env, ...(plan.authConfigured ? { SPECLENS_AUTH_REQUIRED: "1" } : {}), NEXT_TELEMETRY_DISABLED: "1", NEXT_IGNORE_INCORRECT_LOCKFILE: "1" },
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal === "SIGINT" ? 130 : 143)));
}

if (require.main === module) main();
