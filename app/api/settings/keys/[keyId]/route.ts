import { authorize } from "@/app/_lib/auth";
import { errorResponse, jsonResponse } from "@/app/_lib/http";
import { parseId } from "@/app/_lib/security/settings";
import { getDb } from "@/db/client";
import { revokeApiKey } from "@/db/queries/auth";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** DELETE /api/settings/keys/{id}: revokes the key at once (it stays listed, marked revoked). */
export async function DELETE(request: Request, { params }: { params: Promise<{ keyId: string }> }): Promise<Response> {
  const auth = authorize(request, "users:admin");
  if (!auth.ok) return auth.response;
  const id = parseId((await params).keyId);
  if (id === null) return errorResponse(400, "keyId: expected a positive integer", { param: "keyId" });
  if (!revokeApiKey(getDb(), id)) return errorResponse(404, `key ${id} not found or already revoked`);
  return jsonResponse({ revoked: id });
}
