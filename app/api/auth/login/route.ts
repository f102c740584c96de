import { z } from "zod";
import { ownOrigin, sameOrigin } from "@/app/_lib/auth";
import { errorResponse, jsonResponse, readBodyText, zodErrorResponse } from "@/app/_lib/http";
import { RateLimiter } from "@/app/_lib/security/rate-limit";
import { safeNext, sessionCookie } from "@/app/_lib/security/session-cookie";
import { sessionLifetimeMs } from "@/app/_lib/security/config";
import { getDb } from "@/db/client";
import { createSession, findUserByName } from "@/db/queries/auth";
import { verifyPassword } from "@/db/queries/passwords";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const loginSchema = z.strictObject({
  name: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  next: z.string().max(2048).optional(),
});

/** Ten attempts a minute per name and per address: enough for typos, far too few for guessing. */
const holder = globalThis as typeof globalThis & { __speclensLoginLimiter?: RateLimiter };
const attempts = () => (holder.__speclensLoginLimiter ??= new RateLimiter(10));

function clientAddress(request: Request): string {
  return request.headers.get("x-forwarded-for")?.split(",")[0].trim() || request.headers.get("x-real-ip") || "direct";
}

/**
 * POST /api/auth/login: public by nature (it is how a caller gets a credential). Accepts the login
 * form (urlencoded: answers with 303 redirects, so it works without JavaScript) or JSON (answers 200
 * or 401). Sets the session cookie on success.
 */
export async function POST(request: Request): Promise<Response> {
  const form = (request.headers.get("content-type") ?? "").startsWith("application/x-www-form-urlencoded");
  const back = (error: string, next?: string) =>
    new Response(null, { status: 303, headers: { location: `/login?error=${error}${next ? `&next=${encodeURIComponent(next)}` : ""}` } });

  // Login CSRF: a foreign page must not sign the browser in to an account of the attacker's choosing.
  if (sameOrigin(request) === "cross") {
    return form ? back("origin") : errorResponse(403, `login: the request must come from ${ownOrigin(request)}`, { code: "forbidden" });
  }
  const text = await readBodyText(request);
  if (!text.ok) return text.response;
  let body: unknown;
  try {
    body = form ? Object.fromEntries(new URLSearchParams(text.text)) : JSON.parse(text.text);
  } catch {
    return errorResponse(400, "body: not valid JSON");
  }
  const parsed = loginSchema.safeParse(body);
  if (!parsed.success) return form ? back("invalid") : zodErrorResponse(parsed.error);
  const { name, password } = parsed.data;
  const next = safeNext(parsed.data.next);

  const wait = Math.max(attempts().take(`name:${name.toLowerCase()}`), attempts().take(`addr:${clientAddress(request)}`));
  if (wait > 0) {
    return form ? back("limited", next) : errorResponse(429, `login: too many attempts, retry in ${wait} s`, { code: "rate_limited", headers: { "retry-after": String(wait) } });
  }

  const db = getDb();
  const user = findUserByName(db, name);
  // verifyPassword hashes even without a user, so an unknown name answers as slowly as a wrong password.
  const valid = await verifyPassword(password, user?.passwordHash ?? null);
  if (!user || !valid || user.disabled !== 0) {
    return form ? back("invalid", next) : errorResponse(401, "login: wrong name or password", { code: "invalid_credentials" });
  }
  const session = createSession(db, user.id, sessionLifetimeMs());
  const cookie = sessionCookie(request, session.token, session.expiresAtMs);
  if (form) return new Response(null, { status: 303, headers: { location: next, "set-cookie": cookie } });
  return jsonResponse({ user: user.name, role: user.role, expires_at: new Date(session.expiresAtMs).toISOString() }, { headers: { "set-cookie": cookie } });
}
