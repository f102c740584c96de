import { z } from "zod";
import { authorize } from "@/app/_lib/auth";
import { errorResponse, jsonResponse } from "@/app/_lib/http";
import { getDatabase } from "@/db/client";
import { listAlerts } from "@/db/alerts/store";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const querySchema = z.object({ state: z.enum(["firing", "pending", "resolved", "open", "all"]).default("all") });

/** GET /api/alerts?state=firing|resolved|all (also pending, open): firing first, then pending, then resolved, newest first. */
export async function GET(request: Request): Promise<Response> {
  const auth = authorize(request, "alerts:read");
  if (!auth.ok) return auth.response;
  const parsed = querySchema.safeParse({ state: new URL(request.url).searchParams.get("state") ?? undefined });
  if (!parsed.success) return errorResponse(400, `state: expected one of firing, pending, resolved, open, all`, { param: "state" });
  const alerts = listAlerts(getDatabase().sqlite, parsed.data.state).map((a) => ({
    id: a.id,
    rule: a.rule,
    state: a.state,
    configVersion: a.configVersion,
    series: a.series,
    value: a.value,
    baseline: a.baseline,
    threshold: a.threshold,
    detail: a.detail,
    openedAt: a.openedAt,
    firedAt: a.firedAt,
    resolvedAt: a.resolvedAt,
    acknowledged: a.acknowledged,
    traceIds: a.traceIds,
  }));
  return jsonResponse({ alerts });
}
