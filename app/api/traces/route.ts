import { authorize } from "@/app/_lib/auth";
import { errorResponse, jsonResponse, zodErrorResponse } from "@/app/_lib/http";
import { toTraceFilters, traceQuerySchema } from "@/app/_lib/traces";
import { getDb } from "@/db/client";
import { listTraces } from "@/db/queries/traces";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /api/traces: generation requests, newest first, filtered, one keyset page at a time. */
export function GET(request: Request): Response {
  const auth = authorize(request, "traces:read");
  if (!auth.ok) return auth.response;
  const query = Object.fromEntries(new URL(request.url).searchParams);
  const parsed = traceQuerySchema.safeParse(query);
  if (!parsed.success) return zodErrorResponse(parsed.error);
  try {
    const page = listTraces(getDb(), toTraceFilters(parsed.data));
    return jsonResponse({ traces: page.items, next_cursor: page.nextCursor });
  } catch (error) {
    if (error instanceof RangeError) return errorResponse(400, `cursor: ${error.message}`, { param: "cursor" });
    throw error;
  }
}
