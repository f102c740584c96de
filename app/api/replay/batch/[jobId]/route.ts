import { authorize } from "@/app/_lib/auth";
import { errorResponse, jsonResponse } from "@/app/_lib/http";
import { cancelBatch, getBatch } from "@/app/_lib/replay/batch";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ jobId: string }> };

/** GET /api/replay/batch/{jobId}: progress (done of total), the summary so far and every finished item. */
export async function GET(request: Request, { params }: Ctx): Promise<Response> {
  const auth = authorize(request, "traces:read");
  if (!auth.ok) return auth.response;
  const { jobId } = await params;
  const job = getBatch(jobId);
  return job ? jsonResponse(job) : errorResponse(404, `jobId: no batch replay ${jobId} in this process`, { param: "jobId" });
}

/** DELETE /api/replay/batch/{jobId}: cancels a running job; what already ran stays stored. */
export async function DELETE(request: Request, { params }: Ctx): Promise<Response> {
  const auth = authorize(request, "replay");
  if (!auth.ok) return auth.response;
  const { jobId } = await params;
  const job = cancelBatch(jobId);
  return job ? jsonResponse(job) : errorResponse(404, `jobId: no batch replay ${jobId} in this process`, { param: "jobId" });
}
