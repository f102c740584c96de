import { authorize, callerIdentity } from "@/app/_lib/auth";
import { jsonResponse, parseJsonBody } from "@/app/_lib/http";
import { createKeySchema } from "@/app/_lib/security/settings";
import { getDb } from "@/db/client";
import { createApiKey, listApiKeys } from "@/db/queries/auth";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /api/settings/keys: every API key created here (never the secret), revoked ones included. */
export function GET(request: Request): Response {
  const auth = authorize(request, "users:admin");
  if (!auth.ok) return auth.response;
  return jsonResponse({ keys: listApiKeys(getDb()) });
}

/** POST /api/settings/keys {name, role}: a new key; the response is the only time its secret is shown. */
export async function POST(request: Request): Promise<Response> {
  const auth = authorize(request, "users:admin");
  if (!auth.ok) return auth.response;
  const parsed = await parseJsonBody(request, createKeySchema);
  if (!parsed.ok) return parsed.response;
  const { key, record } = createApiKey(getDb(), { ...parsed.data, createdBy: callerIdentity(auth) });
  return jsonResponse({ key, record }, { status: 201 });
}
