import fs from "node:fs";
import path from "node:path";

/*
 * Every route handler on disk (app/**\/route.ts) and the HTTP methods it exports, for the tests that must
 * cover routes nobody has written yet: a route added on any branch is found here without a list to update.
 */

const ROOT = path.resolve(__dirname, "../..");
export const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
export type Method = (typeof METHODS)[number];
export const MUTATING: ReadonlySet<Method> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Response | Promise<Response>;

export interface RouteFile {
  /** "app/api/traces/[traceId]/route.ts" */
  file: string;
  /** "/api/traces/[traceId]" */
  pattern: string;
  /** Example values for the dynamic segments. */
  params: Record<string, string>;
  /** The URL path with the examples filled in. */
  path: string;
}

function walk(dir: string, found: string[]): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, found);
    else if (entry.name === "route.ts" || entry.name === "route.tsx") found.push(full);
  }
}

/** A plausible value per segment name, so a handler gets past its own parameter checks. */
function exampleValue(name: string): string {
  if (/trace/i.test(name)) return "0123456789abcdef0123456789abcdef";
  if (/model/i.test(name)) return "no-such-model";
  if (/label/i.test(name)) return "canary";
  return "1";
}

export function routeFiles(): RouteFile[] {
  const found: string[] = [];
  walk(path.join(ROOT, "app"), found);
  return found.sort().map((full) => {
    const file = path.relative(ROOT, full);
    // Route groups "(name)" do not appear in URLs; private folders "_x" hold no routes.
    const segments = path.dirname(file).split(path.sep).slice(1).filter((s) => !/^\(.*\)$/.test(s));
    const params: Record<string, string> = {};
    const urlSegments = segments.map((segment) => {
      const dynamic = /^\[\[?(?:\.\.\.)?([^\]]+)\]?\]$/.exec(segment);
      if (!dynamic) return segment;
      params[dynamic[1]] = exampleValue(dynamic[1]);
      return params[dynamic[1]];
    });
    return { file, pattern: `/${segments.join("/")}`, params, path: `/${urlSegments.join("/")}` };
  });
}

/** The route's exported method handlers (loaded through vitest, so "@/..." and server-only resolve). */
export async function routeHandlers(route: RouteFile): Promise<Partial<Record<Method, Handler>>> {
  const mod = (await import(/* @vite-ignore */ path.join(ROOT, route.file))) as Record<string, unknown>;
  const handlers: Partial<Record<Method, Handler>> = {};
  for (const method of METHODS) if (typeof mod[method] === "function") handlers[method] = mod[method] as Handler;
  return handlers;
}

export function call(route: RouteFile, handler: Handler, method: Method, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
  const hasBody = MUTATING.has(method);
  const request = new Request(`http://127.0.0.1:3000${route.path}`, {
    method,
    headers: { ...(hasBody ? { "content-type": "application/json" } : {}), ...init.headers },
    body: hasBody ? (init.body ?? "{}") : undefined,
  });
  return Promise.resolve(handler(request, { params: Promise.resolve({ ...route.params }) }));
}
