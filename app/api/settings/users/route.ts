import { authorize, callerIdentity } from "@/app/_lib/auth";
import { errorResponse, jsonResponse, parseJsonBody } from "@/app/_lib/http";
import { createUserSchema } from "@/app/_lib/security/settings";
import { getDb } from "@/db/client";
import { findUserByName, insertUser, listUsers } from "@/db/queries/auth";
import { hashPassword } from "@/db/queries/passwords";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /api/settings/users: every user (never a password hash). */
export function GET(request: Request): Response {
  const auth = authorize(request, "users:admin");
  if (!auth.ok) return auth.response;
  return jsonResponse({ users: listUsers(getDb()) });
}

/** POST /api/settings/users {name, role, password}: a new user; 409 when the name is taken. */
export async function POST(request: Request): Promise<Response> {
  const auth = authorize(request, "users:admin");
  if (!auth.ok) return auth.response;
  const parsed = await parseJsonBody(request, createUserSchema);
  if (!parsed.ok) return parsed.response;
  const db = getDb();
  if (findUserByName(db, parsed.data.name)) return errorResponse(409, `name: a user named ${parsed.data.name} exists`, { param: "name" });
  const passwordHash = await hashPassword(parsed.data.password);
  const user = insertUser(db, { name: parsed.data.name, role: parsed.data.role, passwordHash, createdBy: callerIdentity(auth) });
  return jsonResponse({ user }, { status: 201 });
}
