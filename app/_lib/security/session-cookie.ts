/*
 * The session cookie: HttpOnly (no script can read it), SameSite=Lax (not sent on cross-site
 * sub-requests or POSTs), Path=/, Secure whenever the browser reached us over TLS (directly or through a
 * proxy that says so in X-Forwarded-Proto), and expiring with the session.
 */

export const SESSION_COOKIE_NAME = "speclens_session";

export function overTls(request: Request): boolean {
  const forwarded = request.headers.get("x-forwarded-proto")?.split(",")[0].trim().toLowerCase();
  return forwarded === "https" || new URL(request.url).protocol === "https:";
}

export function sessionCookie(request: Request, token: string, expiresAtMs: number): string {
  const maxAge = Math.max(0, Math.floor((expiresAtMs - Date.now()) / 1000));
  return [`${SESSION_COOKIE_NAME}=${token}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${maxAge}`, ...(overTls(request) ? ["Secure"] : [])].join("; ");
}

export function clearedSessionCookie(request: Request): string {
  return [`${SESSION_COOKIE_NAME}=`, "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=0", ...(overTls(request) ? ["Secure"] : [])].join("; ");
}

/** Only same-site relative paths are followed after logging in (no open redirect). */
export function safeNext(next: string | null | undefined): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}
