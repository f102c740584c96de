import { authorize } from "@/app/_lib/auth";
import { errorResponse, jsonResponse, parseJsonBody } from "@/app/_lib/http";
import { parseId, updateUserSchema } from "@/app/_lib/security/settings";
import { getDb } from "@/db/client";
import { countActiveAdmins, findUserById, updateUser } from "@/db/queries/auth";
import { hashPassword } from "@/db/queries/passwords";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * PATCH /api/settings/users/{id} {role?, disabled?, password?}. Any change ends that user's sessions.
 * The last active admin can be neither demoted nor disabled: nobody could manage users afterwards.
 */
export async function PATCH(request: Request, { params }: { params: Promise<{ userId: string }> }): Promise<Response> {
  const auth = authorize(request, "users:admin");
  if (!auth.ok) return auth.response;
  const id = parseId((await params).userId);
  if (id === null) return errorResponse(400, "userId: expected a positive integer", { param: "userId" });
  const parsed = await parseJsonBody(request, updateUserSchema);
  if (!parsed.ok) return parsed.response;
  const db = getDb();
  const user = findUserById(db, id);
  if (!user) return errorResponse(404, `user ${id} not found`);
  const { role, disabled, password } = parsed.data;
  const losesAdmin = user.role === "admin" && user.disabled === 0 && ((role !== undefined && role !== "admin") || disabled === true);
  if (losesAdmin && countActiveAdmins(db, id) === 0) {
    return errorResponse(409, `${role !== undefined ? "role" : "disabled"}: ${user.name} is the last active admin`, { param: role !== undefined ? "role" : "disabled" });
  }
  updateUser(db, id, {
    ...(role !== undefined ? { role } : {}),
    ...(disabled !== undefined ? { disabled: disabled ? 1 : 0 } : {}),
    ...(password !== undefined ? { passwordHash: await hashPassword(password) } : {}),
  });
  const { passwordHash: _omit, ...updated } = findUserById(db, id)!;
  return jsonResponse({ user: updated });
}
