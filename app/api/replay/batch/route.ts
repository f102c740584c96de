import { authorize } from "@/app/_lib/auth";
import { errorResponse, jsonResponse, parseJsonBody } from "@/app/_lib/http";
import { batchBodySchema, BatchInputError, listBatches, startBatch } from "@/app/_lib/replay/batch";
import { replayErrorResponse } from "@/app/_lib/replay/http";
import { getDb } from "@/db/client";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * POST /api/replay/batch `{ mode, config?, overrides?, trace_ids | filter | alert }`: starts replaying
 * every named original in the background and answers 202 with the job (poll GET /api/replay/batch/{id}).
 */
export async function POST(request: Request): Promise<Response> {
  const auth = authorize(request, "replay");
  if (!auth.ok) return auth.response;
  const parsed = await parseJsonBody(request, batchBodySchema);
  if (!parsed.ok) return parsed.response;
  try {
    return jsonResponse(startBatch(getDb(), parsed.data), { status: 202 });
  } catch (error) {
    if (error instanceof BatchInputError) return errorResponse(400, `${error.param}: ${error.message}`, { param: error.param });
    return replayErrorResponse(error);
  }
}

/** GET /api/replay/batch: the jobs of this process, newest first, without their per-trace items. */
export async function GET(request: Request): Promise<Response> {
  const auth = authorize(request, "traces:read");
  if (!auth.ok) return auth.response;
  return jsonResponse({ jobs: listBatches().map(({ items: _items, ...job }) => job) });
}
