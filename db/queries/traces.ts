import { and, asc, desc, eq, gte, like, lt, lte, or, sql, type SQL } from "drizzle-orm";
import type { SpecLensDb } from "../client";
import { requests, spanEvents, spans, steps, tokens, type RequestRow, type StepRow } from "../schema";

/*
 * Read side of the derived tables: the trace list (filters + keyset pagination) and one trace in full.
 * Used by GET /api/traces, GET /api/traces/{traceId} and the Traces pages alike.
 */

export const TRACE_ID_PATTERN = /^[0-9a-f]{32}$/;
export const MAX_TRACE_LIMIT = 200;

export interface TraceFilters {
  proposer?: string;
  /** Matches the target or the draft: model name, model_id ("name@sha256:…") or full sha256. */
  model?: string;
  finishReason?: string;
  node?: string;
  /** Request start, ns since the Unix epoch, inclusive bounds. */
  sinceNs?: bigint;
  untilNs?: bigint;
  minAcceptance?: number;
  maxAcceptance?: number;
  limit?: number;
  /** Opaque cursor from a previous page's nextCursor. */
  cursor?: string;
}

export type TraceListItem = Pick<
  RequestRow,
  | "traceId" | "node" | "startNs" | "endNs" | "endpoint" | "operation" | "proposer" | "verifyMode" | "targetModelId"
  | "draftModelId" | "inputTokens" | "outputTokens" | "finishReason" | "statusCode" | "steps" | "acceptanceRate"
  | "meanAcceptanceLength" | "totalMs" | "cancelled" | "configVersion"
> & { promptPreview: string };

export interface TracePage {
  items: TraceListItem[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** Cursor = base64url of [start_ns, trace_id] of the last row: pages stay stable while traces arrive. */
export function encodeCursor(startNs: bigint, traceId: string): string {
  return Buffer.from(JSON.stringify([startNs.toString(), traceId])).toString("base64url");
}

export function decodeCursor(cursor: string): { startNs: bigint; traceId: string } {
  try {
    const [ns, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [unknown, unknown];
    if (typeof ns === "string" && /^\d{1,20}$/.test(ns) && typeof id === "string" && TRACE_ID_PATTERN.test(id)) {
      return { startNs: BigInt(ns), traceId: id };
    }
  } catch {
    // fall through to the error below
  }
  throw new RangeError("cursor is not one returned by this API");
}

function filterConditions(f: TraceFilters): SQL[] {
  const where: SQL[] = [];
  if (f.proposer) where.push(eq(requests.proposer, f.proposer));
  if (f.finishReason) where.push(eq(requests.finishReason, f.finishReason));
  if (f.node) where.push(eq(requests.node, f.node));
  if (f.model) {
    const m = f.model;
    where.push(
      or(
        eq(requests.targetModelId, m), eq(requests.draftModelId, m), eq(requests.targetSha256, m), eq(requests.draftSha256, m),
        like(requests.targetModelId, `${m}@%`), like(requests.draftModelId, `${m}@%`),
      )!,
    );
  }
  if (f.sinceNs !== undefined) where.push(gte(requests.startNs, f.sinceNs));
  if (f.untilNs !== undefined) where.push(lte(requests.startNs, f.untilNs));
  if (f.minAcceptance !== undefined) where.push(gte(requests.acceptanceRate, f.minAcceptance));
  if (f.maxAcceptance !== undefined) where.push(lte(requests.acceptanceRate, f.maxAcceptance));
  if (f.cursor) {
    const c = decodeCursor(f.cursor);
    where.push(or(lt(requests.startNs, c.startNs), and(eq(requests.startNs, c.startNs), lt(requests.traceId, c.traceId)))!);
  }
  return where;
}

/** Requests, newest first, one page at a time. Throws RangeError on a malformed cursor. */
export function listTraces(db: SpecLensDb, filters: TraceFilters = {}): TracePage {
  const limit = Math.max(1, Math.min(filters.limit ?? 50, MAX_TRACE_LIMIT));
  const rows = db
    .select({
      traceId: requests.traceId, node: requests.node, startNs: requests.startNs, endNs: requests.endNs,
      endpoint: requests.endpoint, operation: requests.operation, proposer: requests.proposer,
      verifyMode: requests.verifyMode, targetModelId: requests.targetModelId, draftModelId: requests.draftModelId,
      inputTokens: requests.inputTokens, outputTokens: requests.outputTokens, finishReason: requests.finishReason,
      statusCode: requests.statusCode, steps: requests.steps, acceptanceRate: requests.acceptanceRate,
      meanAcceptanceLength: requests.meanAcceptanceLength, totalMs: requests.totalMs, cancelled: requests.cancelled,
      configVersion: requests.configVersion, promptPreview: sql<string>`substr(${requests.prompt}, 1, 120)`,
    })
    .from(requests)
    .where(and(...filterConditions(filters)))
    .orderBy(desc(requests.startNs), desc(requests.traceId))
    .limit(limit + 1)
    .all();
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.startNs, last.traceId) : null };
}

export interface ExaminedPosition {
  path: number | null;
  depth: number | null;
  token: number | null;
  outcome: string | null;
  targetProb: number | null;
  targetArgmax: boolean;
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
      events: sql<number>`(select count(*) from ${spanEvents} e where e.trace_id = ${spans.traceId} and e.span_id = ${spans.spanId})`.mapWith(Number),
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
