import { count, countDistinct, desc, sql } from "drizzle-orm";
import type { SpecLensDb } from "../client";
import { spans } from "../schema";

/** One row of the trace list: a trace summarised from its spans. */
export interface TraceSummary {
  traceId: string;
  /** Name of the span without a parent; null when the root span has not been exported (yet). */
  rootName: string | null;
  /** Earliest span start, ns since the Unix epoch. */
  startTimeNs: bigint;
  /** Latest span end minus earliest span start, in ns. */
  durationNs: bigint;
  spanCount: number;
  /** Spans whose OTel status code is ERROR (2). */
  errorCount: number;
  /** Node that produced the trace (the smallest name if several nodes contributed spans). */
  node: string;
}

export function countSpans(db: SpecLensDb): number {
  return db.select({ n: count() }).from(spans).get()?.n ?? 0;
}

export function countTraces(db: SpecLensDb): number {
  return db.select({ n: countDistinct(spans.traceId) }).from(spans).get()?.n ?? 0;
}

/** The most recently started traces, newest first; [] on an empty database. */
export function listRecentTraces(db: SpecLensDb, options: { limit?: number } = {}): TraceSummary[] {
  const limit = Math.max(1, Math.min(options.limit ?? 50, 500));
  const startTimeNs = sql`min(${spans.startTimeNs})`.mapWith(BigInt);

  return db
    .select({
      traceId: spans.traceId,
      rootName: sql<string | null>`max(case when ${spans.parentSpanId} is null then ${spans.name} end)`,
      startTimeNs,
      durationNs: sql`max(${spans.endTimeNs}) - min(${spans.startTimeNs})`.mapWith(BigInt),
      spanCount: count(),
      errorCount: sql`sum(case when ${spans.statusCode} = 2 then 1 else 0 end)`.mapWith(Number),
      node: sql<string>`min(${spans.node})`,
    })
    .from(spans)
    .groupBy(spans.traceId)
    .orderBy(desc(startTimeNs))
    .limit(limit)
    .all();
}
