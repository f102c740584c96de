import { z } from "zod";
import { authorize } from "@/app/_lib/auth";
import { getEngine } from "@/app/_lib/engine";
import { errorResponse, jsonResponse, zodErrorResponse } from "@/app/_lib/http";
import { attribute, AttributionRangeError } from "@/app/_lib/replay/attribution";
import { parseTraceId, replayErrorResponse } from "@/app/_lib/replay/http";
import { loadOriginal } from "@/app/_lib/replay/source";
import { getDb } from "@/db/client";
import { latestReplay } from "@/db/queries/replays";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const offset = z.coerce.number().int().min(0).max(10_000_000);
const querySchema = z
  .strictObject({ start: offset.optional(), end: offset.optional() })
  .superRefine((q, ctx) => {
    if ((q.start === undefined) !== (q.end === undefined)) {
      ctx.addIssue({ code: "custom", path: [q.start === undefined ? "start" : "end"], message: "give start and end together (character offsets into the completion)" });
    } else if (q.start !== undefined && q.end !== undefined && q.end <= q.start) {
      ctx.addIssue({ code: "custom", path: ["end"], message: `must be greater than start (${q.start})` });
    }
  });

/**
 * GET /api/traces/{traceId}/attribution?start=&end=: every output token's origin with the target's and
 * the draft's probabilities, the output against the target-only counterfactual, and for the span
 * [start, end) of the completion (character offsets) a verdict with its evidence. The first call runs
 * the target-only replay (which spends compute, so it also needs the replay action); later calls reuse it.
 */
export async function GET(request: Request, { params }: { params: Promise<{ traceId: string }> }): Promise<Response> {
  const auth = authorize(request, "traces:read");
  if (!auth.ok) return auth.response;
  const id = parseTraceId((await params).traceId);
  if (!id.ok) return id.response;
  const query = querySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) return zodErrorResponse(query.error);
  const db = getDb();
  const original = loadOriginal(db, id.id);
  if (!original) return errorResponse(404, `trace ${id.id} not found`);
  const { start, end } = query.data;
  try {
    const engine = await getEngine();
    if (!latestReplay(db, id.id, "target-only", engine.modelIds.target.sha256)) {
      const spend = authorize(request, "replay");
      if (!spend.ok) return spend.response;
    }
    const range = start !== undefined && end !== undefined ? { start, end } : null;
    return jsonResponse(await attribute(db, original, range));
  } catch (error) {
    if (error instanceof AttributionRangeError) return errorResponse(400, `${error.param}: ${error.message}`, { param: error.param });
    return replayErrorResponse(error);
  }
}
