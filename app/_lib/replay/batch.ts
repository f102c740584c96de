import "server-only";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { SpecLensDb } from "@/db/client";
import { resolveConfig } from "@/db/queries/configs";
import { alertTraceIds, originalsAmong } from "@/db/queries/replays";
import { listTraces, TRACE_ID_PATTERN, type TraceFilters } from "@/db/queries/traces";
import { DEFAULT_SPEC_CONFIG } from "@/engine";
import { applySpecOverrides } from "../spec-config";
import { REPLAY_MODES, type Verdict } from "./compare";
import { replayBodySchema, runReplay } from "./run";
import { loadOriginal } from "./source";

/*
 * Batch replay: every trace of a list, a filter or an alert's breaching window replayed one after
 * another (each through the one generation path, so the queue bounds the load), with progress, cancel
 * and a summary. Jobs live in this process's memory (on globalThis, shared by Next's route bundles);
 * each replay is a stored trace, but a job's summary is lost on restart.
 */

export const MAX_BATCH = 500;

const filterSchema = z.strictObject({
  proposer: z.string().min(1).max(32).optional(),
  model: z.string().min(1).max(200).optional(),
  finish_reason: z.string().min(1).max(32).optional(),
  since_ms: z.number().int().min(0).optional(),
  until_ms: z.number().int().min(0).optional(),
  min_acceptance: z.number().min(0).max(1).optional(),
  max_acceptance: z.number().min(0).max(1).optional(),
  limit: z.number().int().min(1).max(MAX_BATCH).default(100),
});

export const batchBodySchema = z
  .strictObject({
    mode: z.enum(REPLAY_MODES),
    config: z.union([z.string().min(1).max(64), z.number().int().min(1)]).optional(),
    overrides: z.record(z.string(), z.unknown()).optional(),
    trace_ids: z.array(z.string().regex(TRACE_ID_PATTERN, "expected 32 lowercase hexadecimal characters")).min(1).max(MAX_BATCH).optional(),
    filter: filterSchema.optional(),
    alert: z.number().int().min(1).optional(),
  })
  .superRefine((body, ctx) => {
    const given = (["trace_ids", "filter", "alert"] as const).filter((k) => body[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: "custom", path: [given[1] ?? "trace_ids"], message: `give exactly one of trace_ids, filter or alert (got ${given.length === 0 ? "none" : given.join(", ")})` });
    }
    const single = replayBodySchema.safeParse({ mode: body.mode, config: body.config, overrides: body.overrides });
    if (!single.success) for (const issue of single.error.issues) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
  });
export type BatchBody = z.infer<typeof batchBodySchema>;

export interface BatchItem {
  traceId: string;
  replayTraceId: string | null;
  reproduced: boolean | null;
  verdict: Verdict | null;
  divergence: number | null;
  error: string | null;
}

export interface BatchSummary {
  reproduced: number;
  diverged: number;
  failed: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** First-divergence positions of the diverged replays, ascending. */
  divergencePositions: number[];
}

export interface BatchJob {
  id: string;
  mode: BatchBody["mode"];
  source: string;
  state: "running" | "done" | "cancelled";
  total: number;
  done: number;
  createdAtMs: number;
  finishedAtMs: number | null;
  items: BatchItem[];
  summary: BatchSummary;
}

const holder = globalThis as typeof globalThis & { __speclensReplayJobs?: Map<string, { job: BatchJob; abort: AbortController }> };
const jobs = () => (holder.__speclensReplayJobs ??= new Map());

export class BatchInputError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

/** The originals a batch body names, newest first for a filter; replays are never replayed again. */
export function batchTraceIds(db: SpecLensDb, body: BatchBody): { ids: string[]; source: string } {
  if (body.trace_ids) {
    const ids = originalsAmong(db, [...new Set(body.trace_ids)]);
    const missing = body.trace_ids.find((id) => !ids.includes(id));
    if (missing) throw new BatchInputError("trace_ids", `${missing} is not a stored original trace (unknown, or itself a replay)`);
    return { ids, source: `${ids.length} trace ids` };
  }
  if (body.alert !== undefined) {
    const ids = alertTraceIds(db, body.alert);
    if (ids === null) throw new BatchInputError("alert", `no alert ${body.alert}`);
    return { ids: originalsAmong(db, ids).slice(0, MAX_BATCH), source: `alert ${body.alert}` };
  }
  const f = body.filter!;
  const filters: TraceFilters = {
    proposer: f.proposer, model: f.model, finishReason: f.finish_reason,
    sinceNs: f.since_ms === undefined ? undefined : BigInt(f.since_ms) * 1_000_000n,
    untilNs: f.until_ms === undefined ? undefined : BigInt(f.until_ms) * 1_000_000n,
    minAcceptance: f.min_acceptance, maxAcceptance: f.max_acceptance,
  };
  const ids: string[] = [];
  let cursor: string | undefined;
  // Page through the list until `limit` originals are found (replays in the list are skipped).
  for (let pages = 0; ids.length < f.limit && pages < 50; pages++) {
    const page = listTraces(db, { ...filters, limit: 200, cursor });
    ids.push(...originalsAmong(db, page.items.map((t) => t.traceId)));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return { ids: ids.slice(0, f.limit), source: `filter ${JSON.stringify(f)}` };
}

function emptySummary(): BatchSummary {
  return { reproduced: 0, diverged: 0, failed: 0, verdicts: {}, divergencePositions: [] };
}

/** Starts a job in the background and returns it at once (done = 0). */
export function startBatch(db: SpecLensDb, body: BatchBody): BatchJob {
  if (body.mode === "config") {
    // Judge the selector and overrides once, before any replay runs, so bad input is a 400.
    if (body.config !== undefined && !resolveConfig(db, body.config)) throw new BatchInputError("config", `no config label or version ${JSON.stringify(body.config)}`);
    applySpecOverrides(DEFAULT_SPEC_CONFIG, body.overrides ?? {}, "overrides");
  }
  const { ids, source } = batchTraceIds(db, body);
  if (ids.length === 0) throw new BatchInputError(body.trace_ids ? "trace_ids" : body.alert !== undefined ? "alert" : "filter", "matches no stored original trace");
  const job: BatchJob = {
    id: randomUUID(), mode: body.mode, source, state: "running", total: ids.length, done: 0,
    createdAtMs: Date.now(), finishedAtMs: null, items: [], summary: emptySummary(),
  };
  const abort = new AbortController();
  jobs().set(job.id, { job, abort });
  void runBatch(db, job, ids, body, abort.signal);
  return job;
}

async function runBatch(db: SpecLensDb, job: BatchJob, ids: string[], body: BatchBody, signal: AbortSignal): Promise<void> {
  const replayBody = { mode: body.mode, config: body.config, overrides: body.overrides };
  for (const traceId of ids) {
    if (signal.aborted) break;
    const item: BatchItem = { traceId, replayTraceId: null, reproduced: null, verdict: null, divergence: null, error: null };
    try {
      const original = loadOriginal(db, traceId);
      if (!original) throw new Error("no longer stored");
      const answer = await runReplay(db, original, replayBody, { signal });
      // Cancelled mid-replay: that replay stopped early, so it says nothing about reproduction.
      if (signal.aborted) break;
      Object.assign(item, { replayTraceId: answer.traceId, reproduced: answer.reproduced, verdict: answer.verdict, divergence: answer.firstDivergence?.position ?? null });
      if (answer.reproduced) job.summary.reproduced++;
      else {
        job.summary.diverged++;
        if (item.divergence !== null) job.summary.divergencePositions = [...job.summary.divergencePositions, item.divergence].sort((a, b) => a - b);
      }
      job.summary.verdicts[answer.verdict] = (job.summary.verdicts[answer.verdict] ?? 0) + 1;
    } catch (error) {
      if (signal.aborted) break;
      item.error = error instanceof Error ? error.message : String(error);
      job.summary.failed++;
    }
    job.items.push(item);
    job.done++;
  }
  job.state = signal.aborted ? "cancelled" : "done";
  job.finishedAtMs = Date.now();
}

export function getBatch(id: string): BatchJob | null {
  return jobs().get(id)?.job ?? null;
}

export function listBatches(): BatchJob[] {
  return [...jobs().values()].map((j) => j.job).sort((a, b) => b.createdAtMs - a.createdAtMs);
}

/** Cancels a running job: the replay in flight stops at its next step (its trace ends cancelled). */
export function cancelBatch(id: string): BatchJob | null {
  const entry = jobs().get(id);
  if (!entry) return null;
  if (entry.job.state === "running") entry.abort.abort();
  return entry.job;
}
