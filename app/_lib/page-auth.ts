import "server-only";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { authEnabled, resolveCaller, satisfies, type Caller, type Role } from "./auth";

/*
 * The server-side check behind every page (the middleware redirects first; this is the check that does
 * not depend on it). The root layout calls requireViewer() for every page except /login; a page that
 * needs more (Settings: admin) calls requirePageRole().
 */

/** Paths a browser may open without a session. */
export const PUBLIC_PAGES = ["/login"] as const;

export const PATH_HEADER = "x-speclens-pathname";
export const NONCE_HEADER = "x-nonce";

/** The signed-in caller of this page render, or null when nobody is and authentication is on. */
export async function pageCaller(): Promise<Caller | null> {
  const resolved = resolveCaller(await headers());
  if ("error" in resolved) return null;
  if (resolved.via === "none" && authEnabled()) return null;
  return resolved.caller;
}

function loginUrl(path: string | null): string {
  return path && path !== "/" ? `/login?next=${encodeURIComponent(path)}` : "/login";
}

/** At least viewer, or a redirect to /login (keeping the page to come back to). */
export async function requireViewer(): Promise<Caller> {
  const caller = await pageCaller();
  if (!caller) redirect(loginUrl((await headers()).get(PATH_HEADER)));
  return caller;
}

/** Whether the signed-in caller holds `role` (a page shows a refusal instead of its content when not). */
export async function callerHas(role: Role): Promise<{ caller: Caller; allowed: boolean }> {
  const caller = await requireViewer();
  return { caller, allowed: satisfies(caller.role, role) };
}

/** The current page's path as the middleware recorded it (null outside a request through it). */
export async function currentPath(): Promise<string | null> {
  return (await headers()).get(PATH_HEADER);
}

export async function cspNonce(): Promise<string | undefined> {
  return (await headers()).get(NONCE_HEADER) ?? undefined;
}
