import { authorize } from "@/app/_lib/auth";
import { errorResponse, jsonResponse, parseJsonBody } from "@/app/_lib/http";
import { parseTraceId, replayErrorResponse } from "@/app/_lib/replay/http";
import { replayBodySchema, runReplay } from "@/app/_lib/replay/run";
import { loadOriginal } from "@/app/_lib/replay/source";
import { getDb } from "@/db/client";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * POST /api/traces/{traceId}/replay `{ mode, config?, overrides? }`: re-runs the stored request as a
 * trace of its own (linked by replay_of) and answers `{ traceId, replayOf, mode, reproduced,
 * firstDivergence, verdict, ... }`. Bad input is a 400 naming the field, with nothing run or stored.
 */
export async function POST(request: Request, { params }: { params: Promise<{ traceId: string }> }): Promise<Response> {
  const auth = authorize(request, "replay");
  if (!auth.ok) return auth.response;
  const id = parseTraceId((await params).traceId);
  if (!id.ok) return id.response;
  const parsed = await parseJsonBody(request, replayBodySchema);
  if (!parsed.ok) return parsed.response;
  const db = getDb();
  const original = loadOriginal(db, id.id);
  if (!original) return errorResponse(404, `trace ${id.id} not found`);
  if (original.tokens.length === 0 && original.finishReason === null) {
    return errorResponse(409, `trace ${id.id} has not finished: nothing to replay yet`, { code: "trace_unfinished" });
  }
  try {
    return jsonResponse(await runReplay(db, original, parsed.data, { signal: request.signal }));
  } catch (error) {
    return replayErrorResponse(error);
  }
}
