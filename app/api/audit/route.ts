import { z } from "zod";
import { authorize } from "@/app/_lib/auth";
import { jsonResponse, zodErrorResponse } from "@/app/_lib/http";
import { getDb } from "@/db/client";
import { listAudit } from "@/db/queries/configs";
import { maskAuditWebhooks, mayReadWebhookUrls } from "@/app/_lib/guardrails/webhook-visibility";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const querySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().min(1).optional(),
});

/**
 * GET /api/audit?limit=&before=: the config audit log, newest first: `{ entries, nextBefore }`; pass
 * nextBefore as `before` for the next page (null on the last).
 */
export async function GET(request: Request): Promise<Response> {
  const auth = authorize(request, "config:read");
  if (!auth.ok) return auth.response;
  const query = querySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) return zodErrorResponse(query.error);
  const page = listAudit(getDb(), query.data);
  const reveal = mayReadWebhookUrls(auth.caller);
  return jsonResponse({
    entries: page.entries.map((e) => ({ ...(reveal ? e : maskAuditWebhooks(e)), at: new Date(e.atMs).toISOString() })),
    nextBefore: page.nextBefore,
  });
}
