import { authorize } from "@/app/_lib/auth";
import { errorResponse, jsonResponse } from "@/app/_lib/http";
import { parseTraceId } from "@/app/_lib/replay/http";
import { getDb } from "@/db/client";
import { listReplays, loadGeneration } from "@/db/queries/replays";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /api/traces/{traceId}/replays: what this trace replays (replayOf) and its replays, newest first. */
export async function GET(request: Request, { params }: { params: Promise<{ traceId: string }> }): Promise<Response> {
  const auth = authorize(request, "traces:read");
  if (!auth.ok) return auth.response;
  const id = parseTraceId((await params).traceId);
  if (!id.ok) return id.response;
  const db = getDb();
  const stored = loadGeneration(db, id.id);
  if (!stored) return errorResponse(404, `trace ${id.id} not found`);
  return jsonResponse({
    traceId: id.id,
    replayOf: stored.request.replayOf,
    replayMode: stored.request.replayMode,
    replays: listReplays(db, id.id),
  });
}
