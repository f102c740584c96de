import { and, asc, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { SpecLensDb } from "../client";
import { requests, spans, steps, tokens, type RequestRow, type StepRow, type TokenRow } from "../schema";

/*
 * Read side of replay: a stored trace as replay needs it (request row, steps, tokens in output order,
 * the prompt's token ids from the raw request span), and the replays linked to a trace
 * (requests.replay_of), newest first.
 */

export interface StoredGeneration {
  request: RequestRow;
  steps: StepRow[];
  /** In output order. */
  tokens: TokenRow[];
  /** The prompt's token ids as the engine ran them, from the raw request span; null if not stored. */
  promptTokenIds: number[] | null;
}

export function loadGeneration(db: SpecLensDb, traceId: string): StoredGeneration | null {
  const request = db.select().from(requests).where(eq(requests.traceId, traceId)).get();
  if (!request) return null;
  const stepRows = db.select().from(steps).where(eq(steps.traceId, traceId)).orderBy(asc(steps.stepIndex)).all();
  const tokenRows = db.select().from(tokens).where(eq(tokens.traceId, traceId)).orderBy(asc(tokens.stepIndex), asc(tokens.offset)).all();
  const span = db.select({ attributes: spans.attributes }).from(spans).where(and(eq(spans.traceId, traceId), eq(spans.spanId, request.spanId))).get();
  const ids = span?.attributes["speclens.prompt.token_ids"];
  const promptTokenIds = Array.isArray(ids) && ids.every((v) => typeof v === "number" || typeof v === "string") ? ids.map(Number) : null;
  return { request, steps: stepRows, tokens: tokenRows, promptTokenIds };
}

export interface ReplayListItem {
  traceId: string;
  replayMode: string | null;
  startNs: bigint;
  finishReason: string | null;
  statusCode: number;
  outputTokens: number | null;
  targetSha256: string | null;
  configVersion: string | null;
}

/** The replays of a trace, newest first. */
export function listReplays(db: SpecLensDb, traceId: string, limit = 50): ReplayListItem[] {
  return db
    .select({
      traceId: requests.traceId, replayMode: requests.replayMode, startNs: requests.startNs, finishReason: requests.finishReason,
      statusCode: requests.statusCode, outputTokens: requests.outputTokens, targetSha256: requests.targetSha256, configVersion: requests.configVersion,
    })
    .from(requests)
    .where(eq(requests.replayOf, traceId))
    .orderBy(desc(requests.startNs))
    .limit(limit)
    .all();
}

/** The newest finished replay of a trace in one mode on the given target, for reuse; null if none. */
export function latestReplay(db: SpecLensDb, traceId: string, mode: string, targetSha256: string): string | null {
  const row = db
    .select({ traceId: requests.traceId })
    .from(requests)
    .where(and(
      eq(requests.replayOf, traceId), eq(requests.replayMode, mode), eq(requests.targetSha256, targetSha256),
      sql`${requests.finishReason} is not null and ${requests.finishReason} != 'abort' and ${requests.statusCode} != 2`,
    ))
    .orderBy(desc(requests.startNs))
    .limit(1)
    .get();
  return row?.traceId ?? null;
}

/** The ids among `traceIds` that are stored originals (not replays), in the order given. */
export function originalsAmong(db: SpecLensDb, traceIds: readonly string[]): string[] {
  if (traceIds.length === 0) return [];
  const found = new Set(
    db.select({ traceId: requests.traceId }).from(requests).where(and(inArray(requests.traceId, [...traceIds]), isNull(requests.replayOf))).all().map((r) => r.traceId),
  );
  return traceIds.filter((id) => found.has(id));
}

/**
 * The trace ids of an alert's breaching window (alerts.trace_ids_json), read by name so replay does not
 * depend on the alerts module: null when there is no such alert, or no alerts table in this database.
 */
export function alertTraceIds(db: SpecLensDb, alertId: number): string[] | null {
  try {
    const row = db.get<{ trace_ids_json: string } | undefined>(sql`select trace_ids_json from alerts where id = ${alertId}`);
    if (!row) return null;
    const ids = JSON.parse(row.trace_ids_json) as unknown;
    return Array.isArray(ids) ? ids.filter((v): v is string => typeof v === "string") : [];
  } catch (error) {
    if (error instanceof Error && /no such table/.test(error.message)) return null;
    throw error;
  }
}

/** How many stored traces are originals (not replays): what a batch could replay. */
export function countOriginals(db: SpecLensDb): number {
  return Number(db.select({ n: sql<number>`count(*)` }).from(requests).where(isNull(requests.replayOf)).get()?.n ?? 0);
}
