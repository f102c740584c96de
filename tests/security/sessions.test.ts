import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { POST as login } from "@/app/api/auth/login/route";
import { POST as logout } from "@/app/api/auth/logout/route";
import { DELETE as revokeKey } from "@/app/api/settings/keys/[keyId]/route";
import { GET as listKeys, POST as createKey } from "@/app/api/settings/keys/route";
import { PATCH as patchUser } from "@/app/api/settings/users/[userId]/route";
import { POST as createUser } from "@/app/api/settings/users/route";
import { GET as listTraces } from "@/app/api/traces/route";
import { authorize, callerIdentity } from "@/app/_lib/auth";
import { closeDatabase, getDatabase, getDb } from "@/db/client";
import { insertUser, sha256Hex } from "@/db/queries/auth";
import { hashPassword, verifyPassword } from "@/db/queries/passwords";
import { makeTempDir } from "../support/temp";

/*
 * Browser sessions and API keys end to end through the route handlers, on a real database: login sets
 * an HttpOnly SameSite cookie (Secure behind TLS), the session is checked server-side, expires and ends
 * at logout; keys are shown once, stored hashed, carry a role, record their last use and stop working
 * when revoked; cookie-borne changes only from our own origin; the last admin stays an admin.
 */

const ORIGIN = "http://127.0.0.1:3000";
let temp: ReturnType<typeof makeTempDir>;
const saved = { db: process.env.SPECLENS_DB, keys: process.env.SPECLENS_API_KEYS, hours: process.env.SPECLENS_SESSION_HOURS, rpm: process.env.SPECLENS_RATE_LIMIT_RPM };
const PASSWORD = "correct horse battery";

beforeAll(async () => {
  temp = makeTempDir();
  process.env.SPECLENS_DB = path.join(temp.dir, "sessions.db");
  delete process.env.SPECLENS_API_KEYS;
  delete process.env.SPECLENS_RATE_LIMIT_RPM;
  const passwordHash = await hashPassword(PASSWORD);
  insertUser(getDb(), { name: "alice", role: "admin", passwordHash, createdBy: "test" });
  insertUser(getDb(), { name: "victor", role: "viewer", passwordHash, createdBy: "test" });
});
afterAll(() => {
  closeDatabase();
  temp.cleanup();
  for (const [name, value] of Object.entries({ SPECLENS_DB: saved.db, SPECLENS_API_KEYS: saved.keys, SPECLENS_SESSION_HOURS: saved.hours, SPECLENS_RATE_LIMIT_RPM: saved.rpm })) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
beforeEach(() => {
  delete process.env.SPECLENS_SESSION_HOURS;
});

async function signIn(name: string, password = PASSWORD, headers: Record<string, string> = {}): Promise<{ status: number; cookie: string | null; token: string | null }> {
  const response = await login(
    new Request(`${ORIGIN}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: ORIGIN, host: "127.0.0.1:3000", "x-forwarded-for": `10.0.0.${Math.floor(Math.random() * 250)}`, ...headers },
      body: JSON.stringify({ name, password }),
    }),
  );
  const cookie = response.headers.get("set-cookie");
  return { status: response.status, cookie, token: cookie ? /speclens_session=([^;]+)/.exec(cookie)![1] : null };
}

const withSession = (token: string, init: RequestInit & { url?: string } = {}) =>
  new Request(init.url ?? `${ORIGIN}/api/settings/keys`, { ...init, headers: { host: "127.0.0.1:3000", cookie: `speclens_session=${token}`, ...(init.headers as Record<string, string>) } });

describe("passwords", () => {
  it("are scrypt hashes that verify only the right password", async () => {
    const stored = await hashPassword("a long enough password");
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifyPassword("a long enough password", stored)).toBe(true);
    expect(await verifyPassword("a long enough passworD", stored)).toBe(false);
    expect(await verifyPassword("anything", null)).toBe(false);
  });
});

describe("login and sessions", () => {
  it("sets an HttpOnly SameSite cookie, Secure behind TLS, and stores only the token's hash", async () => {
    const plain = await signIn("alice");
    expect(plain.status).toBe(200);
    expect(plain.cookie).toMatch(/HttpOnly/);
    expect(plain.cookie).toMatch(/SameSite=Lax/);
    expect(plain.cookie).not.toMatch(/Secure/);
    const stored = getDatabase().sqlite.prepare("SELECT token_hash FROM sessions").pluck().all() as string[];
    expect(stored).toContain(sha256Hex(plain.token!));
    expect(stored).not.toContain(plain.token);
    const tls = await signIn("alice", PASSWORD, { "x-forwarded-proto": "https", origin: "https://127.0.0.1:3000" });
    expect(tls.cookie).toMatch(/; Secure/);
  });

  it("refuses a wrong password and an unknown name alike, and a login from another origin", async () => {
    expect((await signIn("alice", "wrong password!")).status).toBe(401);
    expect((await signIn("mallory", PASSWORD)).status).toBe(401);
    expect((await signIn("alice", PASSWORD, { origin: "https://evil.example" })).status).toBe(403);
  });

  it("limits login attempts per name", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await signIn("bruteforced", "guess number " + i)).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  it("lets the session's role through authorize() and names the user", async () => {
    const { token } = await signIn("victor");
    const read = authorize(withSession(token!, { url: `${ORIGIN}/api/traces` }), "traces:read");
    expect(read.ok && callerIdentity(read)).toBe("user:victor");
    const write = authorize(withSession(token!, { method: "POST", headers: { origin: ORIGIN } }), "config:write");
    expect(write.ok).toBe(false);
    if (!write.ok) expect(write.response.status).toBe(403);
  });

  it("refuses a cookie-borne change from another origin, or with no origin at all", async () => {
    const { token } = await signIn("alice");
    const body = JSON.stringify({ name: "k", role: "viewer" });
    const cross = await createKey(withSession(token!, { method: "POST", headers: { origin: "https://evil.example", "content-type": "application/json" }, body }));
    expect(cross.status).toBe(403);
    expect(((await cross.json()) as { error: { message: string } }).error.message).toMatch(/own origin/);
    expect((await createKey(withSession(token!, { method: "POST", headers: { "content-type": "application/json" }, body }))).status).toBe(403);
    expect((await createKey(withSession(token!, { method: "POST", headers: { origin: ORIGIN, "content-type": "application/json" }, body }))).status).toBe(201);
  });

  it("expires, and ends at logout", async () => {
    process.env.SPECLENS_SESSION_HOURS = "0.01"; // 36 s
    const { token } = await signIn("alice");
    expect(listTraces(withSession(token!, { url: `${ORIGIN}/api/traces` })).status).toBe(200);
    getDatabase().sqlite.prepare("UPDATE sessions SET expires_at_ms = ? WHERE token_hash = ?").run(Date.now() - 1, sha256Hex(token!));
    expect(listTraces(withSession(token!, { url: `${ORIGIN}/api/traces` })).status).toBe(401);

    const second = await signIn("alice");
    const out = logout(withSession(second.token!, { method: "POST", headers: { origin: ORIGIN }, url: `${ORIGIN}/api/auth/logout` }));
    expect(out.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    expect(listTraces(withSession(second.token!, { url: `${ORIGIN}/api/traces` })).status).toBe(401);
  });
});

describe("API keys created on /settings", () => {
  it("are shown once, stored hashed, carry their role, record their last use, and stop working when revoked", async () => {
    const { token } = await signIn("alice");
    const created = await createKey(withSession(token!, { method: "POST", headers: { origin: ORIGIN, "content-type": "application/json" }, body: JSON.stringify({ name: "ci", role: "viewer" }) }));
    const { key, record } = (await created.json()) as { key: string; record: { id: number; lastUsedAtMs: number | null } };
    expect(key).toMatch(/^sl_/);
    const listed = JSON.stringify(await (await listKeys(withSession(token!, { url: `${ORIGIN}/api/settings/keys` }))).json());
    expect(listed).not.toContain(key);
    expect(getDatabase().sqlite.prepare("SELECT key_hash FROM api_keys WHERE id = ?").pluck().get(record.id)).toBe(sha256Hex(key));

    const asKey = (url: string, init: RequestInit = {}) => new Request(url, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } });
    expect(listTraces(asKey(`${ORIGIN}/api/traces`)).status).toBe(200);
    expect(getDatabase().sqlite.prepare("SELECT last_used_at_ms FROM api_keys WHERE id = ?").pluck().get(record.id)).not.toBeNull();
    const denied = await createKey(asKey(`${ORIGIN}/api/settings/keys`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }));
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { message: string } }).error.message).toBe("users:admin needs the admin role; key:ci#" + record.id + " has viewer");

    const revoked = await revokeKey(withSession(token!, { method: "DELETE", headers: { origin: ORIGIN } }), { params: Promise.resolve({ keyId: String(record.id) }) });
    expect(revoked.status).toBe(200);
    expect(listTraces(asKey(`${ORIGIN}/api/traces`)).status).toBe(401);
  });
});

describe("users", () => {
  it("the last active admin can be neither demoted nor disabled; a disabled user's sessions end", async () => {
    const { token } = await signIn("alice");
    const patch = (id: number, body: unknown) =>
      patchUser(withSession(token!, { method: "PATCH", headers: { origin: ORIGIN, "content-type": "application/json" }, body: JSON.stringify(body) }), { params: Promise.resolve({ userId: String(id) }) });
    const aliceId = Number(getDatabase().sqlite.prepare("SELECT id FROM users WHERE name = 'alice'").pluck().get());
    expect((await patch(aliceId, { role: "editor" })).status).toBe(409);
    expect((await patch(aliceId, { disabled: true })).status).toBe(409);

    const created = await createUser(withSession(token!, { method: "POST", headers: { origin: ORIGIN, "content-type": "application/json" }, body: JSON.stringify({ name: "eve", role: "editor", password: "short" }) }));
    expect(created.status).toBe(400);
    const victor = await signIn("victor");
    const victorId = Number(getDatabase().sqlite.prepare("SELECT id FROM users WHERE name = 'victor'").pluck().get());
    expect((await patch(victorId, { disabled: true })).status).toBe(200);
    expect(listTraces(withSession(victor.token!, { url: `${ORIGIN}/api/traces` })).status).toBe(401);
    expect((await signIn("victor")).status).toBe(401);
  });
});

describe("rate limit per key", () => {
  it("answers 429 with Retry-After past SPECLENS_RATE_LIMIT_RPM, naming the limit", () => {
    process.env.SPECLENS_API_KEYS = "rate-key:viewer";
    process.env.SPECLENS_RATE_LIMIT_RPM = "3";
    try {
      const req = () => new Request(`${ORIGIN}/api/traces`, { headers: { authorization: "Bearer rate-key" } });
      const statuses = [1, 2, 3, 4].map(() => listTraces(req()));
      expect(statuses.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      expect(Number(statuses[3].headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      delete process.env.SPECLENS_API_KEYS;
      delete process.env.SPECLENS_RATE_LIMIT_RPM;
    }
  });
});
