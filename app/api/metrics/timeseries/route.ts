import { authorize } from "@/app/_lib/auth";
import { jsonResponse, zodErrorResponse } from "@/app/_lib/http";
import { metricsQuerySchema } from "@/app/_lib/metrics-query";
import { getDb } from "@/db/client";
import { METRIC_UNITS, metricSeries, perPositionAcceptance } from "@/db/queries/metrics";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * GET /api/metrics/timeseries?metric=&groupBy=&from=&to=&bucket=: SQL aggregates per time bucket over
 * the stored requests, one series per group. metric=per_position gives per-position acceptance over
 * the whole range instead of a time series.
 */
export function GET(request: Request): Response {
  const auth = authorize(request, "metrics:read");
  if (!auth.ok) return auth.response;
  const parsed = metricsQuerySchema().safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return zodErrorResponse(parsed.error);
  const q = parsed.data;
  const range = { from: new Date(Number(q.fromNs / 1_000_000n)).toISOString(), to: new Date(Number(q.toNs / 1_000_000n)).toISOString() };
  if (q.metric === "per_position") {
    return jsonResponse({ metric: q.metric, groupBy: q.groupBy, ...range, unit: "ratio", series: perPositionAcceptance(getDb(), q) });
  }
  const series = metricSeries(getDb(), { ...q, metric: q.metric });
  return jsonResponse({ metric: q.metric, groupBy: q.groupBy, ...range, bucketMs: q.bucketMs, unit: METRIC_UNITS[q.metric], series });
}
