import { asc, eq, sql } from "drizzle-orm";
import type { SpecLensDb } from "../client";
import { requests, spans, steps, tokens, type RequestRow, type StepRow } from "../schema";

/*
 * Read side of the derived tables: one trace in full (the list lives in trace-list.ts).
 * Used by GET /api/traces, GET /api/traces/{traceId} and the Traces pages alike.
 */

export { decodeCursor, encodeCursor, listRawTraces, listTraces, MAX_TRACE_LIMIT, TRACE_ID_PATTERN, TRACE_SORTS, TRACE_STATUSES, traceFacets } from "./trace-list";
export type { RawTraceItem, TraceFilters, TraceListItem, TracePage, TraceSort, TraceStatus } from "./trace-list";

export interface ExaminedPosition {
  path: number | null;
  depth: number | null;
  token: number | null;
  outcome: string | null;
  targetProb: number | null;
  targetArgmax: boolean;
  /** Recorded by newer engines: what the target alone would emit here, the proposer's probability, the test. */
  targetChoice?: { token: number | null; prob: number | null };
  draftProb?: number | null;
  pointMass?: boolean;
  acceptProb?: number | null;
  uniform?: number | null;
}

export interface StepDetail {
  index: number;
  spanId: string;
  startNs: bigint;
  endNs: bigint;
  proposer: string;
  k: number;
  /** [numPaths] proposals: each path's draft tokens and the proposer's probabilities. */
  proposals: { tokens: number[]; draftProbs: number[] }[];
  verification: {
    pathIndex: number;
    accepted: number;
    drafted: number;
    /** [examined] per-position result with the target's probability. */
    positions: ExaminedPosition[];
    nextToken: number | null;
    nextOrigin: string | null;
    nextTokenProb: number | null;
  };
  rollback: {
    target: { dropped: number | null; lengthBefore: number | null; lengthAfter: number | null };
    draft: { dropped: number; lengthBefore: number | null; lengthAfter: number | null } | null;
  };
  timings: { draftMs: number | null; verifyMs: number | null; overheadMs: number | null };
  kvBytes: { target: number | null; draft: number | null };
  emitted: number;
}

export interface TokenDetail {
  position: number | null;
  step: number;
  id: number;
  text: string;
  origin: string;
  prob: number | null;
  logprob: number | null;
  /** The proposer's probability, for a drafted token (null otherwise or when not recorded). */
  draftProb: number | null;
  /** What the target alone would have emitted at this position, when recorded. */
  targetChoice: { token: number; prob: number | null } | null;
}

export interface SpanSummary {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  startNs: bigint;
  endNs: bigint;
  statusCode: number;
  events: number;
}

export interface TraceDetail {
  traceId: string;
  /** null when the trace has spans but no generation request span (yet). */
  request: RequestRow | null;
  params: unknown;
  config: unknown;
  perPositionAcceptance: number[];
  steps: StepDetail[];
  tokens: TokenDetail[];
  spans: SpanSummary[];
}

function splitPaths(step: StepRow): { tokens: number[]; draftProbs: number[] }[] {
  const all = JSON.parse(step.draftTokensJson) as number[];
  const probs = JSON.parse(step.draftProbsJson) as number[];
  const lengths = JSON.parse(step.pathLengthsJson) as number[];
  let at = 0;
  return lengths.map((n) => {
    const path = { tokens: all.slice(at, at + n), draftProbs: probs.slice(at, at + n) };
    at += n;
    return path;
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function stepDetail(s: StepRow): StepDetail {
  return {
    index: s.stepIndex, spanId: s.spanId, startNs: s.startNs, endNs: s.endNs, proposer: s.proposer, k: s.k,
    proposals: splitPaths(s),
    verification: {
      pathIndex: s.pathIndex, accepted: s.accepted, drafted: s.drafted,
      positions: JSON.parse(s.examinedJson) as ExaminedPosition[],
      nextToken: s.nextToken, nextOrigin: s.nextOrigin, nextTokenProb: s.nextTokenProb,
    },
    rollback: {
      target: { dropped: s.rollbackTargetDropped, lengthBefore: s.rollbackTargetBefore, lengthAfter: s.rollbackTargetAfter },
      draft: s.rollbackDraftDropped === null ? null : { dropped: s.rollbackDraftDropped, lengthBefore: s.rollbackDraftBefore, lengthAfter: s.rollbackDraftAfter },
    },
    timings: { draftMs: s.draftMs, verifyMs: s.verifyMs, overheadMs: s.overheadMs },
    kvBytes: { target: s.kvTargetBytes, draft: s.kvDraftBytes },
    emitted: s.emitted,
  };
}

/** One trace in full, or null when nothing of it is stored. */
export function getTrace(db: SpecLensDb, traceId: string): TraceDetail | null {
  const request = db.select().from(requests).where(eq(requests.traceId, traceId)).get() ?? null;
  const spanRows = db
    .select({
      spanId: spans.spanId, parentSpanId: spans.parentSpanId, name: spans.name, startNs: spans.startTimeNs,
      endNs: spans.endTimeNs, statusCode: spans.statusCode,
      // Outer columns spelled out: drizzle renders a column unqualified inside sql``, and an unqualified
      // trace_id here would bind to the events table itself (counting every event stored, per span).
      events: sql<number>`(select count(*) from span_events e where e.trace_id = "spans"."trace_id" and e.span_id = "spans"."span_id")`.mapWith(Number),
    })
    .from(spans)
    .where(eq(spans.traceId, traceId))
    .orderBy(asc(spans.startTimeNs))
    .all();
  if (!request && spanRows.length === 0) return null;
  const stepRows = db.select().from(steps).where(eq(steps.traceId, traceId)).orderBy(asc(steps.stepIndex)).all();
  const tokenRows = db
    .select()
    .from(tokens)
    .where(eq(tokens.traceId, traceId))
    .orderBy(asc(tokens.stepIndex), asc(tokens.offset))
    .all();
  return {
    traceId,
    request,
    params: request ? parseJson(request.paramsJson) : null,
    config: request ? parseJson(request.configJson) : null,
    perPositionAcceptance: request ? (JSON.parse(request.perPositionJson) as number[]) : [],
    steps: stepRows.map(stepDetail),
    tokens: tokenRows.map((t) => ({
      position: t.position, step: t.stepIndex, id: t.tokenId, text: t.text, origin: t.origin, prob: t.prob, logprob: t.logprob,
      draftProb: t.draftProb ?? null,
      targetChoice: t.targetChoice === null || t.targetChoice === undefined ? null : { token: t.targetChoice, prob: t.targetChoiceProb ?? null },
    })),
    spans: spanRows,
  };
}

/** Counts used by the benchmark and tests: derived rows per table. */
export function countDerived(db: SpecLensDb): { requests: number; steps: number; tokens: number } {
  const n = (table: typeof requests | typeof steps | typeof tokens) =>
    db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(table).get()?.n ?? 0;
  return { requests: n(requests), steps: n(steps), tokens: n(tokens) };
}
