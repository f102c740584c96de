import "server-only";
import { timingSafeEqual } from "node:crypto";
import { getDb } from "@/db/client";
import { countActiveUsers, findActiveApiKey, findSessionUser, sha256Hex, touchApiKey } from "@/db/queries/auth";
import { errorResponse } from "./http";
import { AuthConfigError, authRequiredByEnv, isLoopbackHost, parseEnvKeys, rateLimitPerMinute, type EnvKey, type KeyRole, type Role } from "./security/config";
import { RateLimiter } from "./security/rate-limit";

/*
 * The one authorization seam: every route handler calls authorize(request, action) with the action it
 * performs, and POLICY below says which role that action needs. Roles are ordered viewer < editor <
 * admin; `ingest` is a scope of its own (OTLP ingest only), which admin also holds.
 *
 * Credentials, in order:
 *   Authorization: Bearer <key>   a key from SPECLENS_API_KEYS ("key:role") or one created on /settings
 *   the speclens_session cookie   a browser session (/login); state changes must come from our own origin
 *   nothing                       401 once authentication is configured (a user exists, SPECLENS_API_KEYS
 *                                 is set, or SPECLENS_AUTH_REQUIRED=1); before that the caller is the
 *                                 local single-user ("local", admin), which the launcher only allows on
 *                                 the loopback address (tools/serve.ts).
 * Once authentication is configured, a presented credential that is not valid is a 401, never a
 * fall-back to anyone; before that, an unknown key (OpenAI clients always send one) is ignored.
 */

/** Every action a route can perform; a new route picks the action it performs from this list. */
export type Action =
  | "traces:read" // trace list, detail, attribution, raw spans
  | "traces:ingest" // OTLP receiver
  | "metrics:read" // /metrics, metrics time series, home page figures
  | "config:read" // guardrail versions, labels, diff, audit log
  | "config:write" // create a guardrail config version
  | "config:label" // move a label that is not protected
  | "config:label-protected" // move a protected label (production)
  | "generate" // spend compute: /v1/*, /api/generate
  | "replay" // spend compute: replay one trace or a batch
  | "alerts:read"
  | "alerts:ack"
  | "settings:read" // retention, database size cap, global alert webhook (its URL can hold a secret)
  | "settings:write" // change those; add or change a webhook URL in a guardrail config version
  | "users:admin"; // users and API keys

export type { Role, KeyRole } from "./security/config";
export type Requirement = Role | "ingest";

/** The least role each action needs. A Record over Action: an action without an entry does not compile. */
export const POLICY: Readonly<Record<Action, Requirement>> = {
  "traces:read": "viewer",
  "metrics:read": "viewer",
  "config:read": "viewer",
  "alerts:read": "viewer",
  "traces:ingest": "ingest",
  generate: "editor",
  replay: "editor",
  "config:write": "editor",
  "config:label": "editor",
  "alerts:ack": "editor",
  "config:label-protected": "admin",
  "settings:read": "admin",
  "settings:write": "admin",
  "users:admin": "admin",
};

const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };

/** Whether a credential's role satisfies a requirement. */
export function satisfies(role: KeyRole, need: Requirement): boolean {
  if (need === "ingest") return role === "ingest" || role === "admin";
  return role !== "ingest" && RANK[role] >= RANK[need];
}

export type Caller =
  | { kind: "user"; id: number; name: string; role: Role }
  | { kind: "key"; id: number; name: string; role: KeyRole }
  | { kind: "env-key"; fingerprint: string; role: KeyRole }
  | { kind: "local"; role: "admin" };

export type AuthResult = { ok: true; caller: Caller } | { ok: false; response: Response };

/** The caller as the audit log names it: "user:alice", "key:ci#3", "key:env#1a2b3c4d" or "local". */
export function callerIdentity(auth: Caller | { ok: true; caller: Caller }): string {
  const caller = "ok" in auth ? auth.caller : auth;
  switch (caller.kind) {
    case "user":
      return `user:${caller.name}`;
    case "key":
      return `key:${caller.name}#${caller.id}`;
    case "env-key":
      return `key:env#${caller.fingerprint}`;
    case "local":
      return "local";
  }
}

export const SESSION_COOKIE = "speclens_session";

/** One cookie's value from a Cookie header. */
export function readCookie(header: string | null, name: string): string | null {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

// --- credentials ------------------------------------------------------------------------------------

const holder = globalThis as typeof globalThis & {
  __speclensEnvKeys?: { raw: string | undefined; keys: EnvKey[] };
  __speclensRateLimiter?: { perMinute: number; limiter: RateLimiter };
  __speclensKeyTouched?: Map<number, number>;
};

function envKeys(): EnvKey[] {
  const raw = process.env.SPECLENS_API_KEYS;
  let cached = holder.__speclensEnvKeys;
  if (!cached || cached.raw !== raw) holder.__speclensEnvKeys = cached = { raw, keys: parseEnvKeys(raw) };
  return cached!.keys;
}

/** Whether unauthenticated callers are refused. */
export function authEnabled(): boolean {
  return envKeys().length > 0 || authRequiredByEnv() || countActiveUsers(getDb()) > 0;
}

function matchEnvKey(presented: string): EnvKey | undefined {
  const hash = Buffer.from(sha256Hex(presented), "hex");
  // Compared as fixed-length hashes in constant time, so a key cannot be guessed by timing.
  return envKeys().find((k) => timingSafeEqual(Buffer.from(k.hash, "hex"), hash));
}

/** Last-used times are written at most once a minute per key: a busy key must not write on every request. */
function noteKeyUsed(id: number): void {
  const touched = (holder.__speclensKeyTouched ??= new Map());
  const now = Date.now();
  if (now - (touched.get(id) ?? 0) < 60_000) return;
  touched.set(id, now);
  try {
    touchApiKey(getDb(), id, now);
  } catch {
    // A locked database must not fail the request over a last-used time; the next use writes it.
  }
}

type Resolved = { caller: Caller; via: "bearer" | "session" | "none" } | { error: string };

function bearerCaller(key: string): Resolved {
  const env = matchEnvKey(key);
  if (env) return { caller: { kind: "env-key", fingerprint: env.fingerprint, role: env.role }, via: "bearer" };
  const stored = findActiveApiKey(getDb(), key);
  if (!stored || !isKeyRoleValue(stored.role)) return { error: "the API key is not valid (unknown or revoked)" };
  noteKeyUsed(stored.id);
  return { caller: { kind: "key", id: stored.id, name: stored.name, role: stored.role }, via: "bearer" };
}

const isKeyRoleValue = (role: string): role is KeyRole => role === "viewer" || role === "editor" || role === "admin" || role === "ingest";
const isRoleValue = (role: string): role is Role => role === "viewer" || role === "editor" || role === "admin";

/** Who is calling, from the request's headers alone; `via: "none"` when it carries no credential. */
export function resolveCaller(headers: Headers): Resolved {
  const authorization = headers.get("authorization");
  if (authorization !== null && authorization.trim() !== "") {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
    if (!match) return { error: 'requires an API key: the Authorization header must be "Bearer <key>"' };
    return bearerCaller(match[1]);
  }
  const token = readCookie(headers.get("cookie"), SESSION_COOKIE);
  if (token) {
    const user = findSessionUser(getDb(), token);
    if (!user || !isRoleValue(user.role)) return { error: "the session has expired or was ended: log in again" };
    return { caller: { kind: "user", id: user.userId, name: user.name, role: user.role }, via: "session" };
  }
  return { caller: { kind: "local", role: "admin" }, via: "none" };
}

// --- origin checks ----------------------------------------------------------------------------------

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The origin the browser used to reach us, as a proxy in front (TLS) or the Host header says. */
export function ownOrigin(request: Request): string {
  const url = new URL(request.url);
  const proto = request.headers.get("x-forwarded-proto")?.split(",")[0].trim() || url.protocol.replace(":", "");
  const host = request.headers.get("x-forwarded-host")?.split(",")[0].trim() || request.headers.get("host") || url.host;
  return `${proto}://${host}`;
}

/**
 * Whether a state-changing request comes from one of our own pages. Browsers send Origin on every
 * cross-site POST, PUT, PATCH and DELETE; without it, Sec-Fetch-Site tells. A request with neither is
 * not from a browser page (curl, a server), and only cookies need this check.
 */
export function sameOrigin(request: Request): "same" | "cross" | "unknown" {
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== "null") return origin.toLowerCase() === ownOrigin(request).toLowerCase() ? "same" : "cross";
  if (origin === "null") return "cross";
  const site = request.headers.get("sec-fetch-site");
  if (site === "same-origin") return "same";
  if (site === "cross-site" || site === "same-site") return "cross";
  return "unknown";
}

// --- authorize --------------------------------------------------------------------------------------

function refuse(status: 401 | 403 | 429 | 503, message: string, headers: Record<string, string> = {}): AuthResult {
  const code = { 401: "invalid_api_key", 403: "forbidden", 429: "rate_limited", 503: "auth_unavailable" }[status];
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="speclens"';
  return { ok: false, response: errorResponse(status, message, { code, headers }) };
}

function rateLimiter(): RateLimiter {
  const perMinute = rateLimitPerMinute();
  let cached = holder.__speclensRateLimiter;
  if (!cached || cached.perMinute !== perMinute) holder.__speclensRateLimiter = cached = { perMinute, limiter: new RateLimiter(perMinute) };
  return cached!.limiter;
}

/**
 * May this request perform `action`? 401 without a valid credential (once authentication is
 * configured), 403 when the role is too low or a cookie-borne change comes from another origin,
 * 429 past the per-key rate limit. Every message names the action.
 */
export function authorize(request: Request, action: Action): AuthResult {
  let resolved: Resolved;
  let enabled: boolean;
  try {
    resolved = resolveCaller(request.headers);
    enabled = ("caller" in resolved && resolved.via !== "none") || authEnabled();
    // Without authentication configured, a credential nobody issued is ignored: OpenAI clients always
    // send some key ("Bearer unused"), and the local user is who they are.
    if ("error" in resolved && !enabled) resolved = { caller: { kind: "local", role: "admin" }, via: "none" };
  } catch (error) {
    if (error instanceof AuthConfigError) return refuse(503, `${action}: the server's authentication settings are invalid: ${error.message}`);
    // The credential stores live in the database; without it nobody can be checked, so nobody gets in.
    return refuse(503, `${action}: cannot check credentials: ${error instanceof Error ? error.message : String(error)}`);
  }
  if ("error" in resolved) return refuse(401, `${action}${resolved.error.startsWith("requires") ? " " : ": "}${resolved.error}`);
  const { caller, via } = resolved;
  if (via === "none" && enabled) {
    return refuse(401, `${action} requires an API key or a session: send "Authorization: Bearer <key>", or log in`);
  }

  const need = POLICY[action];
  if (!satisfies(caller.role, need)) {
    return refuse(403, `${action} needs the ${need === "ingest" ? "ingest scope" : `${need} role`}; ${callerIdentity(caller)} has ${caller.role}`);
  }

  if (!SAFE_METHODS.has(request.method.toUpperCase())) {
    const origin = sameOrigin(request);
    // A cookie rides along on cross-site requests; the local user has no credential at all. Either way
    // only our own pages (or a non-browser client) may change state.
    if (via === "session" && origin !== "same") {
      return refuse(403, `${action}: a change made with a session cookie must come from the dashboard's own origin (${ownOrigin(request)})`);
    }
    if (via === "none" && origin === "cross") return refuse(403, `${action}: cross-origin requests cannot change state`);
  }
  if (via === "none") {
    // DNS rebinding: a page on evil.example resolved to 127.0.0.1 reaches the local dashboard with its own Host.
    const host = new URL(ownOrigin(request)).hostname;
    if (!isLoopbackHost(host)) return refuse(403, `${action}: without authentication the dashboard only answers on a loopback host name, not ${host}`);
    return { ok: true, caller };
  }

  const retryAfter = rateLimiter().take(callerIdentity(caller));
  if (retryAfter > 0) {
    return refuse(429, `${action}: rate limit of ${rateLimitPerMinute()} requests per minute per key exceeded for ${callerIdentity(caller)}`, {
      "retry-after": String(retryAfter),
    });
  }
  return { ok: true, caller };
}

/**
 * A further action an authorized request needs because of what it carries (a config version that adds
 * or changes a webhook URL also needs settings:write): null when the caller may, else the 403 naming
 * the action and the fields (`param`: the first), in the shape authorize() answers.
 */
export function requireAlso(caller: Caller, action: Action, reason: string, fields: string[]): Response | null {
  const need = POLICY[action];
  if (satisfies(caller.role, need)) return null;
  return errorResponse(403, `${action} needs the ${need === "ingest" ? "ingest scope" : `${need} role`} to ${reason} (${fields.join(", ")}); ${callerIdentity(caller)} has ${caller.role}`, {
    code: "forbidden", param: fields[0] ?? null,
  });
}
