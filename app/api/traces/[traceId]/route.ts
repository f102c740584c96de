import { authorize } from "@/app/_lib/auth";
import { errorResponse, jsonResponse } from "@/app/_lib/http";
import { getDb } from "@/db/client";
import { getTrace, TRACE_ID_PATTERN } from "@/db/queries/traces";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /api/traces/{traceId}: the request, its models, parameters, steps and output tokens. */
export async function GET(request: Request, { params }: { params: Promise<{ traceId: string }> }): Promise<Response> {
  const auth = authorize(request, "traces:read");
  if (!auth.ok) return auth.response;
  const { traceId } = await params;
  const id = traceId.toLowerCase();
  if (!TRACE_ID_PATTERN.test(id)) return errorResponse(400, "traceId: expected 32 hexadecimal characters");
  const trace = getTrace(getDb(), id);
  if (!trace) return errorResponse(404, `trace ${id} not found`);
  return jsonResponse(trace);
}
