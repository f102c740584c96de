import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POLICY, satisfies, type Action, type Requirement } from "@/app/_lib/auth";
import { closeDatabase } from "@/db/client";
import { call, MUTATING, routeFiles, routeHandlers, type Method, type RouteFile } from "../support/routes";
import { makeTempDir } from "../support/temp";

/*
 * The authorization policy, checked against every route handler on disk. For each route.ts and each
 * method it exports: without a credential it answers 401 naming an action of the policy; with a key one
 * rank too low, 403 naming the same action; with a key of exactly the role the policy asks, neither.
 * A new route that does not call authorize() (or calls it after doing work) fails here, on any branch.
 * Routes that are public by nature are listed, with the reason.
 */

const PUBLIC_ROUTES: Record<string, string> = {
  "/api/health": "load balancers and the health badge probe it before anyone logs in",
  "/api/auth/login": "how a caller gets a credential",
  "/api/auth/logout": "ends the caller's own session only",
};

/**
 * The action each known route must check. Routes not listed here (new ones, other branches') still get
 * every check below against whatever action they name; listing them pins the action, so a route that
 * checks the wrong one fails too.
 */
const ROUTE_ACTIONS: Record<string, Action> = {
  "POST /api/generate": "generate",
  "GET /api/metrics": "metrics:read",
  "POST /api/otlp/v1/traces": "traces:ingest",
  "GET /api/traces": "traces:read",
  "GET /api/traces/[traceId]": "traces:read",
  "GET /api/settings/keys": "users:admin",
  "POST /api/settings/keys": "users:admin",
  "DELETE /api/settings/keys/[keyId]": "users:admin",
  "GET /api/settings/users": "users:admin",
  "POST /api/settings/users": "users:admin",
  "PATCH /api/settings/users/[userId]": "users:admin",
  "GET /api/settings": "settings:read",
  "PATCH /api/settings": "settings:write",
  "POST /api/settings/webhook-test": "settings:write",
  "POST /v1/completions": "generate",
  "POST /v1/chat/completions": "generate",
  "GET /v1/models": "generate",
  "GET /v1/models/[model]": "generate",
  // guard branch (issue 11)
  "GET /api/audit": "config:read",
  "GET /api/guardrails": "config:read",
  "POST /api/guardrails": "config:write",
  "GET /api/guardrails/[version]": "config:read",
  "GET /api/guardrails/diff": "config:read",
  "POST /api/guardrails/validate": "config:read",
  "PUT /api/guardrails/labels/[label]": "config:label", // the example label is "canary"
};

/** Routes whose action depends on a parameter: the other value, checked as well. */
const VARIANTS: { method: Method; pattern: string; params: Record<string, string>; action: Action }[] = [
  { method: "PUT", pattern: "/api/guardrails/labels/[label]", params: { label: "production" }, action: "config:label-protected" },
];

const KEYS = { viewer: "test-viewer-key", editor: "test-editor-key", admin: "test-admin-key", ingest: "test-ingest-key" } as const;
const bearer = (role: keyof typeof KEYS) => ({ authorization: `Bearer ${KEYS[role]}` });

/** A credential that does NOT satisfy the requirement, as close to it as possible. */
const BELOW: Record<Requirement, keyof typeof KEYS> = { viewer: "ingest", editor: "viewer", admin: "editor", ingest: "editor" };
const EXACT: Record<Requirement, keyof typeof KEYS> = { viewer: "viewer", editor: "editor", admin: "admin", ingest: "ingest" };

let temp: ReturnType<typeof makeTempDir>;
const saved = { db: process.env.SPECLENS_DB, keys: process.env.SPECLENS_API_KEYS };

beforeAll(() => {
  temp = makeTempDir();
  process.env.SPECLENS_DB = path.join(temp.dir, "policy.db");
  process.env.SPECLENS_API_KEYS = Object.entries(KEYS).map(([role, key]) => `${key}:${role}`).join(",");
});
afterAll(() => {
  closeDatabase();
  temp.cleanup();
  for (const [name, value] of [["SPECLENS_DB", saved.db], ["SPECLENS_API_KEYS", saved.keys]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const routes = routeFiles();

describe("the policy table", () => {
  it("ranks viewer < editor < admin and keeps ingest a scope of its own", () => {
    expect(satisfies("viewer", "viewer") && !satisfies("viewer", "editor")).toBe(true);
    expect(satisfies("admin", "editor") && satisfies("admin", "ingest")).toBe(true);
    expect(satisfies("ingest", "viewer") || satisfies("editor", "ingest")).toBe(false);
  });

  it("gives the roles the issue describes", () => {
    const least = (role: Requirement) => Object.entries(POLICY).filter(([, need]) => need === role).map(([a]) => a).sort();
    expect(least("viewer")).toEqual(["alerts:read", "config:read", "metrics:read", "traces:read"]);
    expect(least("editor")).toEqual(["alerts:ack", "config:label", "config:write", "generate", "replay"]);
    expect(least("admin")).toEqual(["config:label-protected", "settings:read", "settings:write", "users:admin"]);
    expect(least("ingest")).toEqual(["traces:ingest"]);
  });

  it("finds the route handlers on disk", () => {
    expect(routes.length).toBeGreaterThanOrEqual(10);
    expect(routes.map((r) => r.pattern)).toContain("/api/generate");
  });

  it("lists only public routes that exist", () => {
    for (const pattern of Object.keys(PUBLIC_ROUTES)) expect(routes.map((r) => r.pattern)).toContain(pattern);
  });
});

async function checkRoute(route: RouteFile, method: Method, handler: Parameters<typeof call>[1], expected: Action | undefined): Promise<void> {
  const what = `${method} ${route.path} (${route.file})`;
  const anonymous = await call(route, handler, method);
  expect(anonymous.status, `${what} without a credential: does it call authorize() first?`).toBe(401);
  const message = ((await anonymous.json()) as { error: { message: string } }).error.message;
  const action = /^([a-z-]+(?::[a-z-]+)?)\b/.exec(message)?.[1] as Action | undefined;
  expect(action && action in POLICY, `${what} names no policy action: ${message}`).toBe(true);
  if (expected) expect(action, `${what} checks the wrong action`).toBe(expected);
  const need = POLICY[action!];

  const low = await call(route, handler, method, { headers: bearer(BELOW[need]) });
  expect(low.status, `${what} with a ${BELOW[need]} key (${action} needs ${need})`).toBe(403);
  expect(((await low.json()) as { error: { message: string } }).error.message).toContain(action);

  // The role the policy names gets past authorization (GETs under /v1 would load the models: skipped).
  if (MUTATING.has(method) || !/^\/v1\//.test(route.pattern)) {
    const exact = await call(route, handler, method, { headers: bearer(EXACT[need]) });
    expect([401, 403], `${what} refused its own role ${need}`).not.toContain(exact.status);
  }
}

describe.each(routes.filter((r) => !(r.pattern in PUBLIC_ROUTES)).map((r) => [r.pattern, r] as const))("%s", (_pattern, route) => {
  it("refuses callers without a credential (401) and with a role too low (403), naming its action of the policy", async () => {
    const handlers = await routeHandlers(route);
    const methods = Object.keys(handlers) as Method[];
    expect(methods.length, `${route.file} exports no HTTP method`).toBeGreaterThan(0);
    for (const method of methods) {
      await checkRoute(route, method, handlers[method]!, ROUTE_ACTIONS[`${method} ${route.pattern}`]);
      for (const variant of VARIANTS.filter((v) => v.method === method && v.pattern === route.pattern)) {
        const params = { ...route.params, ...variant.params };
        const path = route.pattern.replace(/\[([^\]]+)\]/g, (_, name: string) => params[name]);
        await checkRoute({ ...route, params, path }, method, handlers[method]!, variant.action);
      }
    }
  });
});

describe("pages", () => {
  it("are all behind the root layout's requireViewer()", () => {
    const layout = fs.readFileSync(path.resolve(__dirname, "../../app/layout.tsx"), "utf8");
    expect(layout).toMatch(/await requireViewer\(\)/);
  });

  it("have no server actions that could skip authorize()", () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/\.(ts|tsx)$/.test(entry.name)) {
          const text = fs.readFileSync(full, "utf8");
          if (/^\s*["']use server["']/m.test(text) && !/authorize\(/.test(text)) offenders.push(path.relative(process.cwd(), full));
        }
      }
    };
    walk(path.resolve(__dirname, "../../app"));
    expect(offenders, "server actions must call authorize()").toEqual([]);
  });
});
