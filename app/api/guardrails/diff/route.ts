import { authorize } from "@/app/_lib/auth";
import { errorResponse, jsonResponse } from "@/app/_lib/http";
import { getDb } from "@/db/client";
import { diffConfigVersions, selectorVersion } from "@/db/queries/configs";
import { maskWebhookChanges, mayReadWebhookUrls } from "@/app/_lib/guardrails/webhook-visibility";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /api/guardrails/diff?from=A&to=B: `{ from, to, changes: [{ path, from, to }] }`, field by field. */
export async function GET(request: Request): Promise<Response> {
  const auth = authorize(request, "config:read");
  if (!auth.ok) return auth.response;
  const url = new URL(request.url);
  const ends: number[] = [];
  for (const name of ["from", "to"] as const) {
    const raw = url.searchParams.get(name);
    const version = raw === null ? null : selectorVersion(raw);
    if (version === null || version < 1) return errorResponse(400, `${name}: expected a version number, got ${JSON.stringify(raw)}`, { param: name });
    ends.push(version);
  }
  const diff = diffConfigVersions(getDb(), ends[0], ends[1]);
  if ("missing" in diff) return errorResponse(404, `${diff.missing === ends[0] ? "from" : "to"}: there is no version ${diff.missing}`);
  return jsonResponse(mayReadWebhookUrls(auth.caller) ? diff : { ...diff, changes: maskWebhookChanges(diff.changes) });
}
