import "server-only";
import { z } from "zod";
import { MAX_TRACE_LIMIT, type TraceFilters } from "@/db/queries/traces";

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

export const traceQuerySchema = z.strictObject({
  proposer: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  finish_reason: z.string().min(1).optional(),
  node: z.string().min(1).optional(),
  since: instant.optional(),
  until: instant.optional(),
  min_acceptance: fraction.optional(),
  max_acceptance: fraction.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_TRACE_LIMIT).default(50),
  cursor: z.string().min(1).optional(),
});

export function toTraceFilters(q: z.infer<typeof traceQuerySchema>): TraceFilters {
  return {
    proposer: q.proposer, model: q.model, finishReason: q.finish_reason, node: q.node, sinceNs: q.since, untilNs: q.until,
    minAcceptance: q.min_acceptance, maxAcceptance: q.max_acceptance, limit: q.limit, cursor: q.cursor,
  };
}
