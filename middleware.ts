import { NextResponse, type NextRequest } from "next/server";
import { getDb } from "@/db/client";
import { countActiveUsers, findSessionUser } from "@/db/queries/auth";
import { authRequiredByEnv, parseEnvKeys } from "@/app/_lib/security/config";
import { contentSecurityPolicy, newNonce } from "@/app/_lib/security/headers";

/*
 * Runs before every page and API request (Node.js runtime: it reads the session from the database).
 * Pages: a browser without a valid session gets the login form once authentication is configured, and
 * every page gets a per-request CSP nonce. API routes are left to authorize() in each handler, which
 * answers 401/403 in the API's own error shape rather than with a redirect.
 * The root layout repeats the session check server-side (app/_lib/page-auth.ts), so a page is never
 * served on the strength of this file alone.
 */

export const config = {
  runtime: "nodejs",
  // Static assets need neither a session nor a nonce.
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};

const SESSION_COOKIE = "speclens_session";
const isApi = (path: string) => path.startsWith("/api/") || path.startsWith("/v1/");

function signedIn(request: NextRequest): boolean {
  const token = request.cookies.get(SESSION_COOKIE)?.value;
  return token !== undefined && findSessionUser(getDb(), token) !== undefined;
}

function authOn(): boolean {
  return parseEnvKeys(process.env.SPECLENS_API_KEYS).length > 0 || authRequiredByEnv() || countActiveUsers(getDb()) > 0;
}

export function middleware(request: NextRequest): NextResponse {
  const path = request.nextUrl.pathname;
  if (isApi(path)) return NextResponse.next();

  // Prometheus scrapers ask /metrics for text (rewritten to the API); only browsers get the page.
  const wantsPage = path !== "/metrics" || (request.headers.get("accept") ?? "").includes("text/html");
  if (wantsPage && path !== "/login") {
    let allowed: boolean;
    try {
      allowed = !authOn() || signedIn(request);
    } catch {
      // No database, no way to check a session: let the page render its own error, still behind the layout's check.
      allowed = true;
    }
    if (!allowed) {
      // The login form is served in place of the page (a rewrite, the address bar keeps the page to come
      // back to). Not a redirect: Next rewrites a middleware redirect to 127.0.0.1 into "localhost",
      // another origin for the browser, whose session cookie would then be set for the wrong host.
      const login = request.nextUrl.clone();
      login.pathname = "/login";
      login.search = path === "/" ? "" : `?next=${encodeURIComponent(path + request.nextUrl.search)}`;
      return withPageHeaders(request, "/login", (headers) => NextResponse.rewrite(login, { request: { headers } }));
    }
  }
  return withPageHeaders(request, path, (headers) => NextResponse.next({ request: { headers } }));
}

/** A fresh CSP nonce for the page (Next reads it from the request's CSP header and puts it on its scripts). */
function withPageHeaders(request: NextRequest, path: string, respond: (headers: Headers) => NextResponse): NextResponse {
  const nonce = newNonce();
  const csp = contentSecurityPolicy(nonce);
  const forwarded = new Headers(request.headers);
  forwarded.set("content-security-policy", csp);
  forwarded.set("x-nonce", nonce);
  forwarded.set("x-speclens-pathname", path);
  const response = respond(forwarded);
  response.headers.set("content-security-policy", csp);
  return response;
}
