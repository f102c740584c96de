import { ownOrigin, readCookie, sameOrigin, SESSION_COOKIE } from "@/app/_lib/auth";
import { errorResponse, jsonResponse } from "@/app/_lib/http";
import { clearedSessionCookie } from "@/app/_lib/security/session-cookie";
import { getDb } from "@/db/client";
import { deleteSession } from "@/db/queries/auth";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** POST /api/auth/logout: ends the session (deleted server-side, not just forgotten by the browser). */
export function POST(request: Request): Response {
  if (sameOrigin(request) === "cross") return errorResponse(403, `logout: the request must come from ${ownOrigin(request)}`, { code: "forbidden" });
  const token = readCookie(request.headers.get("cookie"), SESSION_COOKIE);
  if (token) deleteSession(getDb(), token);
  const cookie = clearedSessionCookie(request);
  const form = (request.headers.get("content-type") ?? "").startsWith("application/x-www-form-urlencoded");
  if (form) return new Response(null, { status: 303, headers: { location: "/login", "set-cookie": cookie } });
  return jsonResponse({ logged_out: true }, { headers: { "set-cookie": cookie } });
}
