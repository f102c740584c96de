import { createHash } from "node:crypto";

/*
 * Authentication settings from the environment, shared by the server and the launcher (tools/serve.ts);
 * free of "server-only" so the launcher and the admin command can import it.
 *
 *   SPECLENS_API_KEYS        "key:role,key2:role2"; role is viewer | editor | admin | ingest. A bare key
 *                            (no ":role") is an admin key, as before roles existed.
 *   SPECLENS_AUTH_REQUIRED   "1": refuse unauthenticated callers even when no credential is configured
 *                            (the launcher sets it when it starts with authentication configured, so that
 *                            revoking the last credential locks the server rather than opening it).
 *   SPECLENS_SESSION_HOURS   browser session lifetime (default 12).
 *   SPECLENS_RATE_LIMIT_RPM  requests per minute per key or user (default 0: no limit).
 */

export const ROLES = ["viewer", "editor", "admin"] as const;
export type Role = (typeof ROLES)[number];
/** What a credential may carry: a role, or the ingest scope (OTLP ingest only). */
export const KEY_ROLES = [...ROLES, "ingest"] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

export const isKeyRole = (value: string): value is KeyRole => (KEY_ROLES as readonly string[]).includes(value);

export interface EnvKey {
  /** SHA-256 of the key (hex): keys are compared by hash, never kept in clear beyond parsing. */
  hash: string;
  role: KeyRole;
  /** The first 8 hex digits of the hash, naming the key in the audit log without revealing it. */
  fingerprint: string;
}

export class AuthConfigError extends Error {}

/** Parses SPECLENS_API_KEYS; throws AuthConfigError naming the entry at fault. */
export function parseEnvKeys(raw: string | undefined): EnvKey[] {
  const keys: EnvKey[] = [];
  for (const [index, entry] of (raw ?? "").split(",").map((e) => e.trim()).entries()) {
    if (entry === "") continue;
    const colon = entry.lastIndexOf(":");
    let key = entry;
    let role: KeyRole = "admin";
    if (colon >= 0) {
      const suffix = entry.slice(colon + 1).trim();
      // An unknown role is an error, never silently part of the key: "k:editr" must not become an admin key.
      if (!isKeyRole(suffix)) {
        throw new AuthConfigError(`SPECLENS_API_KEYS entry ${index + 1}: unknown role "${suffix}" (expected ${KEY_ROLES.join(", ")})`);
      }
      role = suffix;
      key = entry.slice(0, colon).trim();
    }
    if (key === "") throw new AuthConfigError(`SPECLENS_API_KEYS entry ${index + 1}: empty key`);
    const hash = createHash("sha256").update(key).digest("hex");
    keys.push({ hash, role, fingerprint: hash.slice(0, 8) });
  }
  return keys;
}

export function authRequiredByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.SPECLENS_AUTH_REQUIRED === "1";
}

function numberFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new AuthConfigError(`${name} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

export function sessionLifetimeMs(env: NodeJS.ProcessEnv = process.env): number {
  return numberFromEnv(env, "SPECLENS_SESSION_HOURS", 12, 0.01) * 3_600_000;
}

export function rateLimitPerMinute(env: NodeJS.ProcessEnv = process.env): number {
  return Math.floor(numberFromEnv(env, "SPECLENS_RATE_LIMIT_RPM", 0, 0));
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "[::1]", "localhost"]);

/** Host names (without port) that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  return LOOPBACK_HOSTS.has(name) || /^127\.\d+\.\d+\.\d+$/.test(name) || name.endsWith(".localhost");
}
