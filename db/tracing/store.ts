import type Database from "better-sqlite3";
import type { NewRequestRow, NewStepRow, NewTokenRow } from "../schema";
import { deriveRows } from "./derive";
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

function camelToSnake(key: string): string {
  return key.replace(/[A-Z0-9]+/g, (m) => `_${m.toLowerCase()}`).replace(/([a-z])_(\d)/g, "$1$2");
}

/** INSERT for every column of a derived row type; the column list is derived from one sample row. */
function insertSql(table: string, columns: string[]): string {
  return `INSERT OR REPLACE INTO ${table} (${columns.map(camelToSnake).join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`;
}

const REQUEST_COLUMNS: (keyof NewRequestRow)[] = [
  "traceId", "spanId", "node", "startNs", "endNs", "endpoint", "operation", "requestModel", "responseModel", "prompt",
  "completion", "paramsJson", "configJson", "configVersion", "proposer", "verifyMode", "targetModelId", "targetSha256",
  "draftModelId", "draftSha256", "seed", "temperature", "maxTokens", "inputTokens", "outputTokens", "finishReason",
  "statusCode", "statusMessage", "steps", "drafted", "accepted", "acceptanceRate", "meanAcceptanceLength",
  "perPositionJson", "prefillMs", "ttftMs", "totalMs", "cancelled",
];
const STEP_COLUMNS: (keyof NewStepRow)[] = [
  "traceId", "stepIndex", "spanId", "startNs", "endNs", "proposer", "k", "draftTokensJson", "draftProbsJson",
  "pathLengthsJson", "pathIndex", "accepted", "drafted", "examinedJson", "nextToken", "nextOrigin", "nextTokenProb",
  "emitted", "rollbackTargetDropped", "rollbackTargetBefore", "rollbackTargetAfter", "rollbackDraftDropped",
  "rollbackDraftBefore", "rollbackDraftAfter", "draftMs", "verifyMs", "overheadMs", "kvTargetBytes", "kvDraftBytes",
];
const TOKEN_COLUMNS: (keyof NewTokenRow)[] = ["traceId", "stepIndex", "offset", "tokenId", "text", "origin", "prob", "logprob"];

interface Statements {
  span: Database.Statement;
  event: Database.Statement;
  request: Database.Statement;
  step: Database.Statement;
  token: Database.Statement;
  positions: Database.Statement;
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
    request: sqlite.prepare(insertSql("requests", REQUEST_COLUMNS)),
    step: sqlite.prepare(insertSql("steps", STEP_COLUMNS)),
    token: sqlite.prepare(insertSql("tokens", TOKEN_COLUMNS)),
    // Steps may arrive in any order (several batches, or OTLP from another node): positions are
    // renumbered over the whole trace whenever one of its steps is written.
    positions: sqlite.prepare(
      `UPDATE tokens SET position = r.pos
         FROM (SELECT step_index AS s, offset AS o, row_number() OVER (ORDER BY step_index, offset) - 1 AS pos
                 FROM tokens WHERE trace_id = @traceId) AS r
        WHERE tokens.trace_id = @traceId AND tokens.step_index = r.s AND tokens.offset = r.o
          AND tokens.position IS NOT r.pos`,
    ),
  } as Statements;
  s.write = sqlite.transaction((records: SpanRecord[]) => writeAll(s, records));
  cache.set(sqlite, s);
  return s;
}

function row<T extends object>(columns: (keyof T)[], value: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) out[c as string] = value[c] ?? null;
  return out;
}

function writeAll(s: Statements, records: SpanRecord[]): WriteResult {
  let written = 0;
  let duplicates = 0;
  const tracesWithSteps = new Set<string>();
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
    if (derived.kind === "request") s.request.run(row(REQUEST_COLUMNS, derived.request));
    if (derived.kind === "step") {
      s.step.run(row(STEP_COLUMNS, derived.step));
      for (const t of derived.tokens) s.token.run(row(TOKEN_COLUMNS, t));
      tracesWithSteps.add(r.traceId);
    }
  }
  for (const traceId of tracesWithSteps) s.positions.run({ traceId });
  return { written, duplicates };
}

/** Stores spans in one IMMEDIATE transaction: all of the batch or, on any error, none of it. */
export function writeSpans(sqlite: Database.Database, records: SpanRecord[]): WriteResult {
  if (records.length === 0) return { written: 0, duplicates: 0 };
  return statementsFor(sqlite).write.immediate(records);
}
