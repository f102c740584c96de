import { authorize } from "@/app/_lib/auth";
import { servingMetrics } from "@/app/_lib/serving/metrics";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * GET /metrics (rewritten here for non-browser clients, see next.config.js) and GET /api/metrics:
 * Prometheus text exposition format.
 */
export async function GET(request: Request): Promise<Response> {
  const auth = authorize(request, "metrics:read");
  if (!auth.ok) return auth.response;
  const { registry } = servingMetrics();
  return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType, "cache-control": "no-store" } });
}
