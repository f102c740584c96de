import type Database from "better-sqlite3";
import { A } from "@/engine";
import { writeSpans } from "./store";
import type { AttributeMap, SpanRecord } from "./span-record";

/*
 * Requests in flight (table requests_inflight, see db/schema/inflight.ts). The SQLite span processor
 * writes a row when a request span starts; the transaction that stores the finished request deletes it
 * (db/tracing/store.ts). At start-up, rows left by a process of this node that no longer runs are
 * requests that were cut off by a crash, a kill -9 or a power cut: each becomes a stored request with
 * finish reason `interrupted` and an error status, keeping every step and token written before the end,
 * so it is listed, counted and visible instead of silently missing.
 */

export const INTERRUPTED = "interrupted";

export interface InflightStart {
  traceId: string;
  spanId: string;
  node: string;
  pid: number;
  name: string;
  startNs: bigint;
  scope: string;
  attributes: AttributeMap;
  resource: AttributeMap;
}

const bigintAsString = (_key: string, value: unknown) => (typeof value === "bigint" ? value.toString() : value);

export function recordInflight(sqlite: Database.Database, start: InflightStart): void {
  sqlite
    .prepare(
      `INSERT OR REPLACE INTO requests_inflight (trace_id, span_id, node, pid, name, start_ns, scope, attributes, resource)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(start.traceId, start.spanId, start.node, start.pid, start.name, start.startNs, start.scope,
      JSON.stringify(start.attributes, bigintAsString), JSON.stringify(start.resource, bigintAsString));
}

/** Whether a process id is alive on this machine (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

interface InflightRow {
  trace_id: string;
  span_id: string;
  node: string;
  pid: bigint;
  name: string;
  start_ns: bigint;
  scope: string;
  attributes: string;
  resource: string;
}

export interface RecoveryOptions {
  /** This process's node name (host.name); other nodes' rows are theirs to recover. */
  node: string;
  /** The running process, whose own rows are live requests. */
  pid?: number;
  isAlive?: (pid: number) => boolean;
}

/** Turns the in-flight rows of dead processes of this node into `interrupted` requests. Returns their trace ids. */
export function recoverInterrupted(sqlite: Database.Database, options: RecoveryOptions): string[] {
  const pid = options.pid ?? process.pid;
  const isAlive = options.isAlive ?? processAlive;
  const rows = sqlite.prepare("SELECT * FROM requests_inflight WHERE node = ?").safeIntegers(true).all(options.node) as InflightRow[];
  const dead = rows.filter((r) => Number(r.pid) !== pid && !isAlive(Number(r.pid)));
  const recovered: string[] = [];
  for (const row of dead) {
    const record = interruptedRecord(sqlite, row);
    // Stores the request row and deletes the in-flight row in one transaction (store.ts).
    writeSpans(sqlite, [record]);
    // A request span already stored under this id (a race with a retried write) leaves the row: drop it.
    sqlite.prepare("DELETE FROM requests_inflight WHERE trace_id = ?").run(row.trace_id);
    recovered.push(row.trace_id);
  }
  return recovered;
}

function interruptedRecord(sqlite: Database.Database, row: InflightRow): SpanRecord {
  const stored = sqlite
    .prepare(
      `SELECT count(*) AS steps, coalesce(sum(emitted), 0) AS emitted, coalesce(sum(accepted), 0) AS accepted,
              coalesce(sum(drafted), 0) AS drafted, max(end_ns) AS last_end
         FROM steps WHERE trace_id = ?`,
    )
    .safeIntegers(true)
    .get(row.trace_id) as { steps: bigint; emitted: bigint; accepted: bigint; drafted: bigint; last_end: bigint | null };
  const texts = sqlite.prepare("SELECT text FROM tokens WHERE trace_id = ? ORDER BY step_index, offset").pluck().all(row.trace_id) as string[];
  const steps = Number(stored.steps);
  const drafted = Number(stored.drafted);
  const accepted = Number(stored.accepted);
  const attributes: AttributeMap = {
    ...(JSON.parse(row.attributes) as AttributeMap),
    [A.finishReason]: INTERRUPTED,
    [A.finishReasons]: [INTERRUPTED],
    [A.completion]: texts.join(""),
    [A.outputTokens]: Number(stored.emitted),
    [A.steps]: steps,
    [A.drafted]: drafted,
    [A.accepted]: accepted,
    ...(drafted > 0 ? { [A.acceptanceRate]: accepted / drafted } : {}),
    ...(steps > 0 ? { [A.meanAcceptanceLength]: 1 + accepted / steps } : {}),
  };
  const startNs = BigInt(row.start_ns);
  const endNs = stored.last_end !== null && BigInt(stored.last_end) > startNs ? BigInt(stored.last_end) : startNs;
  const resource = JSON.parse(row.resource) as AttributeMap;
  return {
    traceId: row.trace_id,
    spanId: row.span_id,
    parentSpanId: null,
    name: row.name,
    kind: 0,
    startTimeNs: startNs,
    endTimeNs: endNs,
    statusCode: 2,
    statusMessage: `${INTERRUPTED}: the server process (pid ${Number(row.pid)}) stopped while this request was running`,
    attributes,
    events: [],
    resource,
    scopeName: row.scope,
    node: row.node,
  };
}
