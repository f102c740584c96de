import type Database from "better-sqlite3";
import { getTableColumns } from "drizzle-orm";
import { requests, steps, tokens, type NewRequestRow, type NewStepRow, type NewTokenRow } from "../schema";
import { deriveRows } from "./derive";
import { updateRequestSignals } from "./signals";
import type { SpanRecord } from "./span-record";

/*
 * Writes a batch of spans (raw rows, their events and the derived rows) in one transaction. Raw
 * prepared statements rather than drizzle's builder: this is the hot path, and a batch is hundreds of
 * rows. Redelivered spans (an OTLP client retrying) are recognised by their (trace_id, span_id) key and
 * skipped entirely, so a retry never duplicates derived rows.
 */

export interface WriteResult {
  /** Spans stored by this call. */
  written: number;
  /** Spans already stored (redelivery), skipped. */
  duplicates: number;
}

const bigintAsString = (_key: string, value: unknown) => (typeof value === "bigint" ? value.toString() : value);

/** JSON text; a replacer slows JSON.stringify down several times, so it is only used when a bigint is present. */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return JSON.stringify(value, bigintAsString);
  }
}

// Every span of a process shares one resource object: serialise it once.
const resourceJson = new WeakMap<object, string>();
function resourceText(resource: object): string {
  let text = resourceJson.get(resource);
  if (text === undefined) {
    text = jsonText(resource);
    resourceJson.set(resource, text);
  }
  return text;
}

/** INSERT for every column of the table, bound positionally (faster than named parameters). */
function insertSql(table: string, columns: Record<string, { name: string }>): string {
  const names = Object.values(columns).map((c) => c.name);
  return `INSERT OR REPLACE INTO ${table} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`;
}

// The column lists come from the drizzle schema: a hand-kept list once missed queue_ms.
const REQUEST_COLUMNS = Object.keys(getTableColumns(requests)) as (keyof NewRequestRow)[];
const STEP_COLUMNS = Object.keys(getTableColumns(steps)) as (keyof NewStepRow)[];
const TOKEN_COLUMNS = Object.keys(getTableColumns(tokens)) as (keyof NewTokenRow)[];

interface Statements {
  span: Database.Statement;
  event: Database.Statement;
  request: Database.Statement;
  step: Database.Statement;
  token: Database.Statement;
  positions: Database.Statement;
  stepsBefore: Database.Statement;
  laterStep: Database.Statement;
  inflightDone: Database.Statement;
  write: Database.Transaction<(records: SpanRecord[]) => WriteResult>;
}

const cache = new WeakMap<Database.Database, Statements>();

function statementsFor(sqlite: Database.Database): Statements {
  const cached = cache.get(sqlite);
  if (cached) return cached;
  const s = {
    span: sqlite.prepare(
      `INSERT INTO spans (trace_id, span_id, parent_span_id, name, kind, start_time_ns, end_time_ns, status_code,
         status_message, attributes, resource, scope_name, node)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    event: sqlite.prepare(`INSERT INTO span_events (trace_id, span_id, name, time_ns, attributes) VALUES (?, ?, ?, ?, ?)`),
    request: sqlite.prepare(insertSql("requests", getTableColumns(requests))),
    step: sqlite.prepare(insertSql("steps", getTableColumns(steps))),
    token: sqlite.prepare(insertSql("tokens", getTableColumns(tokens))),
    // The slow path of token positions (see nextPosition): renumber a whole trace. A step is
    // positioned only when every earlier step is stored (its rank among the stored steps equals its
    // index); tokens after a missing step stay NULL until it arrives.
    positions: sqlite.prepare(
      `UPDATE tokens SET position = r.pos
         FROM (SELECT t.step_index AS s, t.offset AS o,
                      CASE WHEN st.rank = t.step_index THEN row_number() OVER (ORDER BY t.step_index, t.offset) - 1 END AS pos
                 FROM tokens AS t
                 JOIN (SELECT step_index, row_number() OVER (ORDER BY step_index) - 1 AS rank
                         FROM steps WHERE trace_id = @traceId) AS st ON st.step_index = t.step_index
                WHERE t.trace_id = @traceId) AS r
        WHERE tokens.trace_id = @traceId AND tokens.step_index = r.s AND tokens.offset = r.o
          AND tokens.position IS NOT r.pos`,
    ),
    stepsBefore: sqlite.prepare(
      `SELECT count(*) AS n, coalesce(sum(emitted), 0) AS tokens FROM steps WHERE trace_id = ? AND step_index < ?`,
    ),
    laterStep: sqlite.prepare(`SELECT 1 FROM steps WHERE trace_id = ? AND step_index > ? LIMIT 1`),
    // A stored request is no longer in flight (db/tracing/inflight.ts); same transaction, so a crash
    // leaves either the in-flight row or the request, never neither.
    inflightDone: sqlite.prepare(`DELETE FROM requests_inflight WHERE trace_id = ?`),
  } as Statements;
  s.write = sqlite.transaction((records: SpanRecord[]) => writeAll(s, records));
  cache.set(sqlite, s);
  return s;
}

function row<T extends object>(columns: (keyof T)[], value: T): unknown[] {
  return columns.map((c) => value[c] ?? null);
}

/** Where the next step of a trace starts in the completion, for the steps of one batch. */
type Cursor = Map<string, { nextStep: number; nextPosition: number }>;

/**
 * The position in the completion of a step's first token, or null when an earlier step of its trace
 * is not stored yet. Steps normally arrive in order, so this is one indexed count per trace and batch;
 * a step that arrives early or late (separate OTLP batches) marks its trace for renumbering instead.
 */
function nextPosition(s: Statements, cursor: Cursor, renumber: Set<string>, traceId: string, stepIndex: number): number | null {
  const known = cursor.get(traceId);
  if (known && known.nextStep === stepIndex) return known.nextPosition;
  const before = s.stepsBefore.get(traceId, stepIndex) as { n: bigint; tokens: bigint };
  if (s.laterStep.get(traceId, stepIndex)) renumber.add(traceId);
  if (Number(before.n) !== stepIndex) {
    renumber.add(traceId);
    return null;
  }
  return Number(before.tokens);
}

function writeAll(s: Statements, records: SpanRecord[]): WriteResult {
  let written = 0;
  let duplicates = 0;
  const cursor: Cursor = new Map();
  const renumber = new Set<string>();
  const touched = new Set<string>();
  for (const r of records) {
    const inserted = s.span.run(
      r.traceId, r.spanId, r.parentSpanId, r.name, r.kind, r.startTimeNs, r.endTimeNs, r.statusCode, r.statusMessage,
      jsonText(r.attributes), resourceText(r.resource), r.scopeName, r.node,
    );
    if (inserted.changes === 0) {
      duplicates += 1;
      continue;
    }
    written += 1;
    for (const e of r.events) s.event.run(r.traceId, r.spanId, e.name, e.timeNs, jsonText(e.attributes));
    const derived = deriveRows(r);
    if (derived.kind !== "none") touched.add(r.traceId);
    if (derived.kind === "request") {
      s.request.run(row(REQUEST_COLUMNS, derived.request));
      s.inflightDone.run(r.traceId);
    }
    if (derived.kind === "step") {
      const { step, tokens } = derived;
      const first = nextPosition(s, cursor, renumber, r.traceId, step.stepIndex);
      s.step.run(row(STEP_COLUMNS, step));
      for (const t of tokens) s.token.run(row(TOKEN_COLUMNS, { ...t, position: first === null ? null : first + t.offset }));
      if (first === null) cursor.delete(r.traceId);
      else cursor.set(r.traceId, { nextStep: step.stepIndex + 1, nextPosition: first + tokens.length });
    }
  }
  for (const traceId of renumber) s.positions.run({ traceId });
  // In the same transaction: a request row never shows without its alert signals.
  updateRequestSignals(s.positions.database, touched);
  return { written, duplicates };
}

/** Stores spans in one IMMEDIATE transaction: all of the batch or, on any error, none of it. */
export function writeSpans(sqlite: Database.Database, records: SpanRecord[]): WriteResult {
  if (records.length === 0) return { written: 0, duplicates: 0 };
  return statementsFor(sqlite).write.immediate(records);
}
