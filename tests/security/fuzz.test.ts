import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, getDatabase, getDb } from "@/db/client";
import { ensureDefaultConfig } from "@/db/queries/configs";
import { call, MUTATING, routeFiles, routeHandlers, type Method, type RouteFile } from "../support/routes";
import { makeTempDir } from "../support/temp";

/*
 * Property-based fuzzing (fast-check) of every route that takes a body, found on disk like the policy
 * test finds them: random JSON values, random text, and valid bodies with one field replaced by anything.
 * Whatever arrives, the answer is never a 5xx, and a 4xx leaves the database exactly as it was (no row
 * in any table, total_changes() unchanged). Every body route also refuses a body past the size limit
 * with 413. The caller is an admin key, so the fuzz reaches validation rather than stopping at 401.
 */

/** Valid bodies per route: the fuzzer mutates one field of these. Unlisted routes get the generic arbitraries only. */
const VALID: Record<string, Record<string, unknown>> = {
  "POST /api/generate": { prompt: "The river", max_tokens: 2, proposer: "ngram" },
  "POST /v1/completions": { model: "speclens", prompt: "The river", max_tokens: 2 },
  "POST /v1/chat/completions": { model: "speclens", messages: [{ role: "user", content: "Hi" }], max_tokens: 2 },
  "POST /api/auth/login": { name: "nobody", password: "not the password" },
  "POST /api/settings/keys": { name: "fuzz", role: "viewer" },
  "POST /api/settings/users": { name: "fuzz", role: "viewer", password: "a long enough password" },
  "PATCH /api/settings/users/[userId]": { role: "viewer" },
  "PATCH /api/settings": { retentionDays: 30, maxDbMb: 0, alertWebhook: "" },
  "POST /api/guardrails": { config: {}, message: "fuzz" },
  "POST /api/guardrails/validate": { config: {} },
  "PUT /api/guardrails/labels/[label]": { version: 1 },
};

/** Routes whose body is not JSON (or that read none); they still must never answer 5xx. */
const NOT_JSON = new Set(["POST /api/otlp/v1/traces", "POST /api/auth/logout", "POST /api/settings/webhook-test"]);

const RUNS = Number(process.env.SPECLENS_FUZZ_RUNS ?? 40);
const ADMIN = { authorization: "Bearer fuzz-admin-key" };
let temp: ReturnType<typeof makeTempDir>;
const saved = { db: process.env.SPECLENS_DB, keys: process.env.SPECLENS_API_KEYS, threads: process.env.SPECLENS_THREADS, bytes: process.env.SPECLENS_MAX_BODY_BYTES };

beforeAll(() => {
  temp = makeTempDir();
  process.env.SPECLENS_DB = path.join(temp.dir, "fuzz.db");
  process.env.SPECLENS_API_KEYS = "fuzz-admin-key:admin";
  process.env.SPECLENS_THREADS = "1";
  delete process.env.SPECLENS_MAX_BODY_BYTES;
  // The engine-defaults config version 1 is created on first use whatever the request; create it now so
  // that "a 4xx writes nothing" is about the request, not that one-time bootstrap.
  ensureDefaultConfig(getDb());
});
afterAll(() => {
  closeDatabase();
  temp.cleanup();
  for (const [name, value] of Object.entries({ SPECLENS_DB: saved.db, SPECLENS_API_KEYS: saved.keys, SPECLENS_THREADS: saved.threads, SPECLENS_MAX_BODY_BYTES: saved.bytes })) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** Every table's row count plus the connection's total_changes(): any write shows up here. */
function snapshot(): string {
  const sqlite = getDatabase().sqlite;
  const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  const counts = tables.map((t) => `${t}=${sqlite.prepare(`SELECT count(*) FROM "${t}"`).pluck().get()}`);
  return `${counts.join(",")};changes=${sqlite.prepare("SELECT total_changes()").pluck().get()}`;
}

/** A valid body with one field replaced by an arbitrary value, removed, or joined by an unknown one. */
function mutatedBody(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid);
  return fc.oneof(
    fc.record({ key: fc.constantFrom(...keys), value: fc.anything() }).map(({ key, value }) => ({ ...valid, [key]: value })),
    fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key))),
    fc.record({ key: fc.string({ maxLength: 12 }), value: fc.jsonValue() }).map(({ key, value }) => ({ ...valid, [key]: value })),
  );
}

function bodies(valid: Record<string, unknown> | undefined): fc.Arbitrary<string> {
  const generic: fc.Arbitrary<string>[] = [
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"),
    fc.string({ maxLength: 64 }),
    fc.constantFrom("", "{", "[]", "null", '{"__proto__": {"polluted": true}}', '{"constructor": {"prototype": {}}}', "\u0000", "1e999"),
  ];
  if (valid) generic.push(mutatedBody(valid).map((v) => JSON.stringify(v) ?? "null"));
  return fc.oneof(...generic);
}

const bodyRoutes = routeFiles();

describe("fuzzing every body route", () => {
  it("finds the body routes", async () => {
    const found: string[] = [];
    for (const route of bodyRoutes) for (const m of Object.keys(await routeHandlers(route))) if (MUTATING.has(m as Method)) found.push(`${m} ${route.pattern}`);
    expect(found).toEqual(expect.arrayContaining(["POST /api/generate", "POST /v1/completions", "POST /api/settings/keys"]));
  });

  describe.each(bodyRoutes.map((r) => [r.pattern, r] as const))("%s", (_pattern, route: RouteFile) => {
    it("answers only 4xx (or 2xx), never 5xx, and a 4xx writes nothing", async () => {
      const handlers = await routeHandlers(route);
      for (const method of (Object.keys(handlers) as Method[]).filter((m) => MUTATING.has(m))) {
        const key = `${method} ${route.pattern}`;
        await fc.assert(
          fc.asyncProperty(bodies(VALID[key]), async (body) => {
            const before = snapshot();
            const response = await call(route, handlers[method]!, method, { headers: ADMIN, body });
            const text = await response.text();
            expect(response.status, `${key} ${JSON.stringify(body).slice(0, 200)} -> ${text.slice(0, 300)}`).toBeLessThan(500);
            if (response.status >= 400) expect(snapshot(), `${key} wrote on a ${response.status}`).toBe(before);
          }),
          { numRuns: RUNS, seed: Number(process.env.SPECLENS_FUZZ_SEED ?? 20261203) },
        );
      }
    }, 120_000);

    it("refuses a body past the size limit with 413 naming the limit", async () => {
      const handlers = await routeHandlers(route);
      for (const method of (Object.keys(handlers) as Method[]).filter((m) => MUTATING.has(m))) {
        const key = `${method} ${route.pattern}`;
        if (NOT_JSON.has(key) || method === "DELETE") continue;
        const before = snapshot();
        const response = await call(route, handlers[method]!, method, { headers: ADMIN, body: JSON.stringify({ prompt: "x".repeat(1024 * 1024 + 10) }) });
        expect(response.status, key).toBe(413);
        expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/SPECLENS_MAX_BODY_BYTES/);
        expect(snapshot()).toBe(before);
      }
    });
  });
});
