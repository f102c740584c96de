import { and, asc, desc, eq, gte, inArray, like, lte, ne, or, sql, type SQL, type SQLWrapper } from "drizzle-orm";
import type { SpecLensDb } from "../client";
import { requests, steps, type RequestRow } from "../schema";

/*
 * The trace list: one row per generation from the derived `requests` table, filtered server-side,
 * sorted, and paged by keyset (never OFFSET, so deep pages cost what the first one does and pages
 * neither skip nor repeat rows while traces arrive). Used by GET /api/traces and the Traces page.
 */

export const TRACE_ID_PATTERN = /^[0-9a-f]{32}$/;
export const MAX_TRACE_LIMIT = 200;
export const TRACE_SORTS = ["start", "latency", "acceptance", "tokens_per_s", "output_tokens"] as const;
export type TraceSort = (typeof TRACE_SORTS)[number];
export const TRACE_STATUSES = ["ok", "error", "cancelled"] as const;
export type TraceStatus = (typeof TRACE_STATUSES)[number];

export interface TraceFilters {
  proposer?: string;
  /** Matches the target or the draft: model name, model_id ("name@sha256:…") or full sha256. */
  model?: string;
  finishReason?: string;
  node?: string;
  configVersion?: string;
  verifyMode?: string;
  status?: TraceStatus;
  /** Request start, ns since the Unix epoch, inclusive bounds. */
  sinceNs?: bigint;
  untilNs?: bigint;
  minAcceptance?: number;
  maxAcceptance?: number;
  minLatencyMs?: number;
  maxLatencyMs?: number;
  /** Full-text search over prompt and completion: every word must occur (FTS5, unicode61 tokens). */
  q?: string;
  /** "only": replays alone; "exclude": live traffic alone (requests.replay_of). */
  replay?: "only" | "exclude";
  /** Only the traces that made this alert fire (the breaching window it recorded). */
  alertId?: number;
  /** Only traces that made any alert fire. */
  alerted?: boolean;
  sort?: TraceSort;
  order?: "asc" | "desc";
  limit?: number;
  /** Opaque cursor from a previous page's nextCursor (of the same sort and order). */
  cursor?: string;
}

export type TraceListItem = Pick<
  RequestRow,
  | "traceId" | "node" | "startNs" | "endNs" | "endpoint" | "operation" | "proposer" | "verifyMode" | "targetModelId"
  | "draftModelId" | "inputTokens" | "outputTokens" | "finishReason" | "statusCode" | "steps" | "acceptanceRate"
  | "meanAcceptanceLength" | "totalMs" | "cancelled" | "configVersion" | "tokensPerS"
> & {
  promptPreview: string;
  /** Per-step acceptance (accepted / drafted; null for a step that drafted nothing), at most 48 points. */
  sparkline: (number | null)[];
};

export interface TracePage {
  items: TraceListItem[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

const SORT_COLUMN = {
  start: requests.startNs,
  latency: requests.totalMs,
  acceptance: requests.acceptanceRate,
  tokens_per_s: requests.tokensPerS,
  output_tokens: requests.outputTokens,
} as const;

interface Cursor {
  /** The sort value of the last row (ns as a decimal string for start); null for a row without one. */
  value: string | number | null;
  traceId: string;
}

/**
 * Cursor = base64url of [value, trace_id] of the last row. The start sort keeps the original format
 * ([ns string, trace_id]), so cursors handed out before sorting existed still work.
 */
export function encodeCursor(value: bigint | number | null, traceId: string): string {
  return Buffer.from(JSON.stringify([typeof value === "bigint" ? value.toString() : value, traceId])).toString("base64url");
}

export function decodeCursor(cursor: string, sort: TraceSort = "start"): Cursor {
  try {
    const [value, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [unknown, unknown];
    const validValue = sort === "start"
      ? typeof value === "string" && /^\d{1,20}$/.test(value)
      : value === null || (typeof value === "number" && Number.isFinite(value));
    if (validValue && typeof id === "string" && TRACE_ID_PATTERN.test(id)) return { value: value as Cursor["value"], traceId: id };
  } catch {
    // fall through to the error below
  }
  throw new RangeError("cursor is not one returned by this API for this sort");
}

/** The words of a search as an FTS5 query: each quoted (no operator injection), all required. */
export function ftsQuery(q: string): string | null {
  const words = q.match(/[\p{L}\p{N}_]+/gu) ?? [];
  return words.length === 0 ? null : words.slice(0, 16).map((w) => `"${w}"`).join(" ");
}

// Below this many matches the search drives the query: its matches are read (~3 µs each) and sorted.
// Above it the time (or sort) index drives it and each candidate row is checked against the search
// index (~0.1 ms each), stopping after one page, so a word in most prompts ("the") costs a page's worth
// of checks instead of sorting 100k matches. The two costs cross near 10k matches at 100k requests.
const SELECTIVE_MATCHES = 10_000;

function searchCondition(db: SpecLensDb, match: string): SQL {
  const n = db.get<{ n: number }>(
    sql`SELECT count(*) AS n FROM (SELECT rowid FROM requests_fts WHERE requests_fts MATCH ${match} LIMIT ${SELECTIVE_MATCHES + 1})`,
  );
  return Number(n.n) <= SELECTIVE_MATCHES
    ? sql`${requests}.rowid IN (SELECT rowid FROM requests_fts WHERE requests_fts MATCH ${match})`
    : sql`EXISTS (SELECT 1 FROM requests_fts WHERE requests_fts MATCH ${match} AND requests_fts.rowid = ${requests}.rowid)`;
}

// A value range matching more rows than this is read in list order (the start or sort index, filtering
// as it goes: a page is found after a few hundred rows) rather than through its own index (every match
// fetched and sorted). Below it, the range index finds the few matches directly.
const WIDE_RANGE = 3000;

/** min <= column <= max, with the index choice made from the range's actual width (one index-only count). */
function rangeCondition(db: SpecLensDb, column: "acceptance_rate" | "total_ms", min: number | undefined, max: number | undefined): SQL | null {
  if (min === undefined && max === undefined) return null;
  const bounds = (col: SQL) =>
    sql.join([min !== undefined ? sql`${col} >= ${min}` : null, max !== undefined ? sql`${col} <= ${max}` : null].filter((x): x is SQL => x !== null), sql` AND `);
  const indexed = sql.raw(column);
  const n = db.get<{ n: number }>(sql`SELECT count(*) AS n FROM (SELECT 1 FROM requests WHERE ${bounds(indexed)} LIMIT ${WIDE_RANGE})`);
  // Unary + keeps SQLite from using the column's index for this term.
  return Number(n.n) >= WIDE_RANGE ? bounds(sql.raw(`+${column}`)) : bounds(indexed);
}

function filterConditions(db: SpecLensDb, f: TraceFilters): SQL[] {
  const where: SQL[] = [];
  if (f.proposer) where.push(eq(requests.proposer, f.proposer));
  if (f.finishReason) where.push(eq(requests.finishReason, f.finishReason));
  if (f.node) where.push(eq(requests.node, f.node));
  if (f.configVersion) where.push(eq(requests.configVersion, f.configVersion));
  if (f.verifyMode) where.push(eq(requests.verifyMode, f.verifyMode));
  if (f.status === "error") where.push(eq(requests.statusCode, 2));
  if (f.status === "cancelled") where.push(eq(requests.cancelled, 1));
  if (f.status === "ok") where.push(ne(requests.statusCode, 2), eq(requests.cancelled, 0));
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
  const acceptance = rangeCondition(db, "acceptance_rate", f.minAcceptance, f.maxAcceptance);
  if (acceptance) where.push(acceptance);
  const latency = rangeCondition(db, "total_ms", f.minLatencyMs, f.maxLatencyMs);
  if (latency) where.push(latency);
  if (f.replay === "only") where.push(sql`${requests.replayOf} IS NOT NULL`);
  if (f.replay === "exclude") where.push(sql`${requests.replayOf} IS NULL`);
  // An alert records the trace ids of the window that made it fire as a JSON array.
  if (f.alertId !== undefined) {
    where.push(sql`${requests.traceId} IN (SELECT j.value FROM alerts a, json_each(a.trace_ids_json) j WHERE a.id = ${f.alertId})`);
  }
  if (f.alerted) where.push(sql`${requests.traceId} IN (SELECT j.value FROM alerts a, json_each(a.trace_ids_json) j)`);
  const match = f.q ? ftsQuery(f.q) : null;
  if (match) where.push(searchCondition(db, match));
  return where;
}

const listColumns = {
  traceId: requests.traceId, node: requests.node, startNs: requests.startNs, endNs: requests.endNs,
  endpoint: requests.endpoint, operation: requests.operation, proposer: requests.proposer,
  verifyMode: requests.verifyMode, targetModelId: requests.targetModelId, draftModelId: requests.draftModelId,
  inputTokens: requests.inputTokens, outputTokens: requests.outputTokens, finishReason: requests.finishReason,
  statusCode: requests.statusCode, steps: requests.steps, acceptanceRate: requests.acceptanceRate,
  meanAcceptanceLength: requests.meanAcceptanceLength, totalMs: requests.totalMs, cancelled: requests.cancelled,
  configVersion: requests.configVersion, tokensPerS: requests.tokensPerS,
  promptPreview: sql<string>`substr(${requests.prompt}, 1, 160)`,
};

type Row = Omit<TraceListItem, "sparkline">;

/**
 * Rows with a sort value come in value order; rows without one (e.g. acceptance of an `off` request)
 * come after them when descending and before them when ascending, as SQLite orders NULL lowest. Each
 * of the two segments is an index range, so a page is at most two short range reads.
 */
function segments(column: SQLWrapper, dir: "asc" | "desc", cursor: { value: unknown; traceId: string } | null): { where: SQL | undefined; nulls: boolean }[] {
  const id = requests.traceId;
  const after = (value: unknown) => (dir === "desc" ? sql`(${column}, ${id}) < (${value}, ${cursor!.traceId})` : sql`(${column}, ${id}) > (${value}, ${cursor!.traceId})`);
  const nullsAfter = dir === "desc" ? sql`${id} < ${cursor?.traceId}` : sql`${id} > ${cursor?.traceId}`;
  const valued = { where: sql`${column} IS NOT NULL`, nulls: false };
  const empty = { where: sql`${column} IS NULL`, nulls: true };
  if (!cursor) return dir === "desc" ? [valued, empty] : [empty, valued];
  if (cursor.value === null) {
    const restOfNulls = { where: and(sql`${column} IS NULL`, nullsAfter), nulls: true };
    return dir === "desc" ? [restOfNulls] : [restOfNulls, valued];
  }
  const restOfValues = { where: after(cursor.value), nulls: false };
  return dir === "desc" ? [restOfValues, empty] : [restOfValues];
}

/** Requests, newest first unless sorted otherwise, one page at a time. Throws RangeError on a malformed cursor. */
export function listTraces(db: SpecLensDb, filters: TraceFilters = {}): TracePage {
  const limit = Math.max(1, Math.min(filters.limit ?? 50, MAX_TRACE_LIMIT));
  const sort = filters.sort ?? "start";
  const dir = filters.order ?? "desc";
  const cursor = filters.cursor ? decodeCursor(filters.cursor, sort) : null;
  const where = filterConditions(db, filters);
  const column = SORT_COLUMN[sort];
  const order = dir === "desc" ? [desc(column), desc(requests.traceId)] : [asc(column), asc(requests.traceId)];
  let rows: Row[] = [];
  if (sort === "start") {
    // start_ns is never null: one range.
    const start = cursor ? segments(column, dir, { value: BigInt(cursor.value as string), traceId: cursor.traceId })[0].where : undefined;
    rows = db.select(listColumns).from(requests).where(and(...where, start)).orderBy(...order).limit(limit + 1).all();
  } else {
    for (const segment of segments(column, dir, cursor)) {
      const want = limit + 1 - rows.length;
      if (want <= 0) break;
      rows = rows.concat(db.select(listColumns).from(requests).where(and(...where, segment.where)).orderBy(...order).limit(want).all());
    }
  }
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const lastValue = last ? (sort === "start" ? last.startNs : sortValue(last, sort)) : null;
  return {
    items: withSparklines(db, items),
    nextCursor: rows.length > limit && last ? encodeCursor(lastValue, last.traceId) : null,
  };
}

function sortValue(row: Row, sort: Exclude<TraceSort, "start">): number | null {
  if (sort === "latency") return row.totalMs;
  if (sort === "acceptance") return row.acceptanceRate;
  if (sort === "tokens_per_s") return row.tokensPerS;
  return row.outputTokens;
}

const SPARK_POINTS = 48;

/** Per-step acceptance of the page's traces, read by primary key (a page is at most 200 traces). */
function withSparklines(db: SpecLensDb, items: Row[]): TraceListItem[] {
  if (items.length === 0) return [];
  const rows = db
    .select({ traceId: steps.traceId, accepted: steps.accepted, drafted: steps.drafted })
    .from(steps)
    .where(inArray(steps.traceId, items.map((i) => i.traceId)))
    .orderBy(asc(steps.traceId), asc(steps.stepIndex))
    .all();
  const byTrace = new Map<string, (number | null)[]>();
  for (const r of rows) {
    const list = byTrace.get(r.traceId) ?? [];
    list.push(r.drafted > 0 ? r.accepted / r.drafted : null);
    byTrace.set(r.traceId, list);
  }
  return items.map((item) => ({ ...item, sparkline: downsample(byTrace.get(item.traceId) ?? []) }));
}

/** Mean of equal runs, so a 2,000-step trace still draws as SPARK_POINTS points. */
function downsample(values: (number | null)[]): (number | null)[] {
  if (values.length <= SPARK_POINTS) return values;
  const out: (number | null)[] = [];
  for (let i = 0; i < SPARK_POINTS; i++) {
    const run = values.slice(Math.floor((i * values.length) / SPARK_POINTS), Math.floor(((i + 1) * values.length) / SPARK_POINTS));
    const known = run.filter((v): v is number => v !== null);
    out.push(known.length ? known.reduce((a, b) => a + b, 0) / known.length : null);
  }
  return out;
}

export type TraceFacets = Record<"proposer" | "verifyMode" | "configVersion" | "node" | "finishReason" | "model", string[]>;

// The choices change when a new proposer, version or node first appears; re-reading them on every page
// view would cost one index scan per field at 100k requests, so they are kept for a few seconds.
const FACETS_TTL_MS = 15_000;
const facetCache = new WeakMap<SpecLensDb, { at: number; facets: TraceFacets }>();

/** Distinct values of the list's categorical filters, for the filter bar's choices. */
export function traceFacets(db: SpecLensDb, now = Date.now()): TraceFacets {
  const cached = facetCache.get(db);
  if (cached && now - cached.at < FACETS_TTL_MS) return cached.facets;
  const facets = readFacets(db);
  facetCache.set(db, { at: now, facets });
  return facets;
}

function readFacets(db: SpecLensDb): TraceFacets {
  // Each is a skip-scan of a (column, start_ns) index: one probe per distinct value.
  const distinct = (column: string) =>
    db.all<{ v: string }>(sql.raw(`SELECT DISTINCT ${column} AS v FROM requests WHERE ${column} IS NOT NULL ORDER BY 1 LIMIT 50`)).map((r) => String(r.v));
  const models = [...new Set([...distinct("target_model_id"), ...distinct("draft_model_id")])];
  return {
    proposer: distinct("proposer"), verifyMode: distinct("verify_mode"), configVersion: distinct("config_version"),
    node: distinct("node"), finishReason: distinct("finish_reason"), model: models,
  };
}

export interface RawTraceItem {
  traceId: string;
  rootName: string;
  startNs: bigint;
  endNs: bigint;
  statusCode: number;
  node: string;
  scopeName: string | null;
  spanCount: number;
  /** Whether the trace is a generation (has a requests row), i.e. also in the main list. */
  generation: boolean;
}

/**
 * Traces as raw spans, newest root span first: every trace stored, including OTLP-ingested ones that
 * are not generations (other services' spans). Reads root spans through the start-time index, so a page
 * costs the same however many spans are stored.
 */
export function listRawTraces(
  db: SpecLensDb,
  options: { limit?: number; beforeNs?: bigint; onlyOther?: boolean } = {},
): { items: RawTraceItem[]; nextBeforeNs: bigint | null } {
  const limit = Math.max(1, Math.min(options.limit ?? 50, MAX_TRACE_LIMIT));
  const rows = db.all<{ trace_id: string; name: string; start_time_ns: bigint; end_time_ns: bigint; status_code: bigint; node: string; scope_name: string | null; spans: bigint; generation: bigint }>(sql`
    SELECT s.trace_id, s.name, s.start_time_ns, s.end_time_ns, s.status_code, s.node, s.scope_name,
           (SELECT count(*) FROM spans c WHERE c.trace_id = s.trace_id) AS spans,
           EXISTS (SELECT 1 FROM requests r WHERE r.trace_id = s.trace_id) AS generation
      FROM spans s
     WHERE s.parent_span_id IS NULL
       ${options.beforeNs !== undefined ? sql`AND s.start_time_ns < ${options.beforeNs}` : sql``}
       ${options.onlyOther ? sql`AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.trace_id = s.trace_id)` : sql``}
     ORDER BY s.start_time_ns DESC
     LIMIT ${limit + 1}`);
  const items = rows.slice(0, limit).map((r) => ({
    traceId: r.trace_id, rootName: r.name, startNs: BigInt(r.start_time_ns), endNs: BigInt(r.end_time_ns),
    statusCode: Number(r.status_code), node: r.node, scopeName: r.scope_name, spanCount: Number(r.spans), generation: Number(r.generation) === 1,
  }));
  return { items, nextBeforeNs: rows.length > limit ? items[items.length - 1].startNs : null };
}
