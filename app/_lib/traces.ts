import "server-only";
import { z } from "zod";
import { MAX_TRACE_LIMIT, TRACE_SORTS, TRACE_STATUSES, type TraceFilters } from "@/db/queries/traces";

/** An instant as ns since the epoch ("1763840000000000000") or an ISO-8601 date ("2025-11-22T10:00:00Z"). */
const instant = z.string().transform((value, ctx): bigint => {
  if (/^\d{1,20}$/.test(value)) return BigInt(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: "expected ns since the Unix epoch or an ISO-8601 date" });
    return z.NEVER;
  }
  return BigInt(ms) * 1_000_000n;
});

const fraction = z.coerce.number().min(0).max(1);
const millis = z.coerce.number().min(0);

/** Relative time ranges the list offers ("the last hour"); `since`/`until` take precedence. */
export const TIME_RANGES = { "15m": 15 * 60_000, "1h": 3_600_000, "6h": 6 * 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 } as const;
export type TimeRange = keyof typeof TIME_RANGES;

/**
 * The trace list's query parameters, shared by GET /api/traces and the Traces page (whose URL is the
 * whole view). The original names (proposer, model, finish_reason, node, since, until, min/max_acceptance,
 * limit, cursor) keep their meaning.
 */
export const traceQuerySchema = z.strictObject({
  proposer: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  finish_reason: z.string().min(1).optional(),
  node: z.string().min(1).optional(),
  config_version: z.string().min(1).optional(),
  verify_mode: z.string().min(1).optional(),
  status: z.enum(TRACE_STATUSES).optional(),
  range: z.enum(Object.keys(TIME_RANGES) as [TimeRange, ...TimeRange[]]).optional(),
  since: instant.optional(),
  until: instant.optional(),
  min_acceptance: fraction.optional(),
  max_acceptance: fraction.optional(),
  min_latency_ms: millis.optional(),
  max_latency_ms: millis.optional(),
  q: z.string().max(200).optional(),
  replay: z.enum(["only", "exclude"]).optional(),
  alert: z.coerce.number().int().min(1).optional(),
  alerted: z.enum(["1"]).optional(),
  sort: z.enum(TRACE_SORTS).default("start"),
  order: z.enum(["asc", "desc"]).default("desc"),
  limit: z.coerce.number().int().min(1).max(MAX_TRACE_LIMIT).default(50),
  cursor: z.string().min(1).optional(),
});

export type TraceQuery = z.infer<typeof traceQuerySchema>;

export function toTraceFilters(q: TraceQuery, now = Date.now()): TraceFilters {
  const since = q.since ?? (q.range ? BigInt(now - TIME_RANGES[q.range]) * 1_000_000n : undefined);
  return {
    proposer: q.proposer, model: q.model, finishReason: q.finish_reason, node: q.node, configVersion: q.config_version,
    verifyMode: q.verify_mode, status: q.status, sinceNs: since, untilNs: q.until,
    minAcceptance: q.min_acceptance, maxAcceptance: q.max_acceptance, minLatencyMs: q.min_latency_ms, maxLatencyMs: q.max_latency_ms,
    q: q.q?.trim() || undefined, replay: q.replay, alertId: q.alert, alerted: q.alerted === "1", sort: q.sort, order: q.order, limit: q.limit, cursor: q.cursor,
  };
}
