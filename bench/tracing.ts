/**
 * npm run bench:tracing [-- --prompts 24 --max-tokens 64 --concurrency 16 --ingest-spans 20000]
 *
 * The tracing benchmark, three parts in one run:
 *  1. overhead: engine tokens/s with tracing off (no SDK registered: the API is a no-op) versus on (real
 *     tracer provider + SQLite processor on a fresh database, flushed after every request as
 *     POST /api/generate does), interleaved per prompt with the order alternating, after a warm-up.
 *  2. ingest: how many spans/s the SQLite processor writes (raw + derived rows), replaying the spans of
 *     real traced generations under fresh trace ids.
 *  3. concurrency: N generations at once, then every request and every step the engine emitted is
 *     counted in the database; peak exporter buffer and process memory are reported.
 * Writes bench/results/tracing.json and bench/results/tracing.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { trace } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { openDatabase, type OpenDatabase } from "../db/client";
import { SqliteSpanProcessor } from "../db/tracing/sqlite-processor";
import { SpecEngine } from "../engine";
import { traceGeneration } from "../engine";
import { DEFAULT_PARAMS, DEFAULT_SPEC_CONFIG, mergeSpecConfig, type GenerateParams, type GenerateResult, type StepRecord } from "../engine";
import { heldoutPrompts } from "../tests/support/models";
import { median } from "./stats";

const { values } = parseArgs({
  options: {
    prompts: { type: "string", default: "24" },
    "max-tokens": { type: "string", default: "64" },
    concurrency: { type: "string", default: "16" },
    "ingest-spans": { type: "string", default: "20000" },
    threads: { type: "string", default: "1" },
  },
});
const PROMPTS = Number(values.prompts);
const MAX_TOKENS = Number(values["max-tokens"]);
const CONCURRENCY = Number(values.concurrency);
const INGEST_SPANS = Number(values["ingest-spans"]);

const config = mergeSpecConfig(DEFAULT_SPEC_CONFIG, { proposer: "draft-model", kMax: 4 });
const params = (seed: number): GenerateParams => ({ ...DEFAULT_PARAMS, maxTokens: MAX_TOKENS, ignoreEos: true, seed });

function freshDatabase(): { database: OpenDatabase; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "speclens-bench-"));
  const database = openDatabase(join(dir, "bench.db"));
  return { database, cleanup: () => { database.sqlite.close(); rmSync(dir, { recursive: true, force: true }); } };
}

function provider(processors: SpanProcessor[]): NodeTracerProvider {
  return new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": "speclens", "service.version": "bench", "host.name": "bench" }),
    spanLimits: { attributeCountLimit: 512 },
    spanProcessors: processors,
  });
}

interface Run { tokens: number; steps: number; ms: number; traceId: string; result: GenerateResult }

async function generate(engine: SpecEngine, prompt: string, seed: number, traced: boolean): Promise<Run> {
  const ids = engine.tokenizer.encode(prompt);
  const started = performance.now();
  let stream: AsyncGenerator<StepRecord, GenerateResult> = engine.stream(ids, params(seed), config);
  let traceId = "";
  if (traced) {
    stream = traceGeneration(stream, { prompt, promptTokenIds: ids, params: params(seed), config, models: engine.modelIds, endpoint: "bench" }, (s) => (traceId = s.spanContext().traceId));
  }
  let steps = 0;
  for (;;) {
    const next = await stream.next();
    if (next.done) return { tokens: next.value.tokens.length, steps, ms: performance.now() - started, traceId, result: next.value };
    steps += 1;
  }
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

const pct = (x: number) => Math.round(x * 1000) / 10;

/**
 * Per prompt, three runs in a rotating order: off, on, and off again. "off again" against "off" is an
 * A/A comparison: the difference it shows is the machine's noise, the floor under which on/off
 * differences mean nothing (this machine trains models in the background).
 */
async function overhead(engine: SpecEngine, prompts: string[]) {
  const db = freshDatabase();
  const processor = new SqliteSpanProcessor({ database: () => db.database.sqlite });
  const tracing = provider([processor]);
  type Mode = "off" | "on" | "offAgain";
  const totals: Record<Mode, { tokens: number; ms: number }> = { off: { tokens: 0, ms: 0 }, on: { tokens: 0, ms: 0 }, offAgain: { tokens: 0, ms: 0 } };
  const pairOn: number[] = [];
  const pairAA: number[] = [];
  const setTracing = (on: boolean) => (on ? trace.setGlobalTracerProvider(tracing) : trace.disable());
  const runMode = async (mode: Mode, prompt: string, seed: number) => {
    const on = mode === "on";
    setTracing(on);
    const started = performance.now();
    const run = await generate(engine, prompt, seed, on);
    if (on) await processor.forceFlush(); // as POST /api/generate does before answering
    const ms = performance.now() - started;
    setTracing(false);
    return { tokens: run.tokens, ms };
  };
  for (const mode of ["off", "on"] as const) await runMode(mode, prompts[0], 0); // warm-up
  const modes: Mode[] = ["off", "on", "offAgain"];
  for (let i = 0; i < prompts.length; i++) {
    const tps: Partial<Record<Mode, number>> = {};
    for (let j = 0; j < modes.length; j++) {
      const mode = modes[(i + j) % modes.length];
      const r = await runMode(mode, prompts[i], i);
      totals[mode].tokens += r.tokens;
      totals[mode].ms += r.ms;
      tps[mode] = r.tokens / r.ms;
    }
    pairOn.push(1 - tps.on! / tps.off!);
    pairAA.push(1 - tps.offAgain! / tps.off!);
  }
  await tracing.shutdown();
  const rate = (m: Mode) => totals[m].tokens / (totals[m].ms / 1000);
  const stats = processor.stats();
  db.cleanup();
  return {
    requestsPerMode: prompts.length,
    maxTokens: MAX_TOKENS,
    offTokensPerSec: Math.round(rate("off") * 10) / 10,
    onTokensPerSec: Math.round(rate("on") * 10) / 10,
    offAgainTokensPerSec: Math.round(rate("offAgain") * 10) / 10,
    /** 1 - on/off over all tokens, in %. */
    slowdownPct: pct(1 - rate("on") / ((rate("off") + rate("offAgain")) / 2)),
    /** Median over prompts of the per-prompt slowdown, in %. */
    medianSlowdownPct: pct(median(pairOn)),
    /** The same statistic for off against off: the noise floor. */
    noiseMedianPct: pct(median(pairAA)),
    noiseTotalPct: pct(1 - rate("offAgain") / rate("off")),
    spansWritten: stats.exported,
    exporterWriteMsPerRequest: Math.round((stats.writeMs / (prompts.length + 1)) * 100) / 100,
  };
}

/**
 * The deterministic part of the overhead: the CPU time tracing adds to one request, measured by
 * replaying a recorded generation's steps (no model work) with tracing off and on.
 */
async function cpuCost(engine: SpecEngine, prompt: string) {
  const ids = engine.tokenizer.encode(prompt);
  const recorded = await engine.generate(ids, params(0), config);
  async function* replay(): AsyncGenerator<StepRecord, GenerateResult> {
    for (const s of recorded.steps) yield s;
    return recorded;
  }
  const info = { prompt, promptTokenIds: ids, params: params(0), config, models: engine.modelIds };
  const db = freshDatabase();
  const processor = new SqliteSpanProcessor({ database: () => db.database.sqlite });
  const tracing = provider([processor]);
  const time = async (on: boolean, n: number) => {
    if (on) trace.setGlobalTracerProvider(tracing);
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const stream = on ? traceGeneration(replay(), info) : replay();
      for (;;) if ((await stream.next()).done) break;
      if (on) await processor.forceFlush();
    }
    trace.disable();
    return (performance.now() - started) / n;
  };
  await time(false, 50);
  await time(true, 50);
  const off = await time(false, 300);
  const on = await time(true, 300);
  await tracing.shutdown();
  db.cleanup();
  const requestMs = recorded.timings.totalMs;
  return {
    stepsPerRequest: recorded.steps.length,
    tracingMsPerRequest: Math.round((on - off) * 100) / 100,
    requestMs: Math.round(requestMs),
    sharePct: Math.round(((on - off) / requestMs) * 1000) / 10,
  };
}

/** A captured span under a new trace id, so the replay writes new rows rather than duplicates. */
function retrace(span: ReadableSpan, traceId: string): ReadableSpan {
  const ctx = span.spanContext();
  return {
    name: span.name, kind: span.kind, startTime: span.startTime, endTime: span.endTime, status: span.status,
    attributes: span.attributes, links: span.links, events: span.events, duration: span.duration, ended: true,
    resource: span.resource, instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0,
    spanContext: () => ({ ...ctx, traceId }),
    parentSpanContext: span.parentSpanContext ? { ...span.parentSpanContext, traceId } : undefined,
  };
}

async function ingest(engine: SpecEngine, prompts: string[]) {
  const memory = new InMemorySpanExporter();
  const capture = provider([new SimpleSpanProcessor(memory)]);
  trace.setGlobalTracerProvider(capture);
  for (let i = 0; i < 4; i++) await generate(engine, prompts[i % prompts.length], i, true);
  trace.disable();
  // Read before shutdown: shutting the in-memory exporter down empties it.
  const captured = [...memory.getFinishedSpans()];
  await capture.shutdown();
  if (captured.length === 0) throw new Error("no spans captured to replay");

  const db = freshDatabase();
  const processor = new SqliteSpanProcessor({ database: () => db.database.sqlite });
  const replays = Math.ceil(INGEST_SPANS / captured.length);
  const spans: ReadableSpan[] = [];
  for (let r = 0; r < replays; r++) {
    const traceId = (r + 1).toString(16).padStart(32, "0");
    for (const s of captured) spans.push(retrace(s, traceId));
  }
  const started = performance.now();
  for (const s of spans) processor.onEnd(s);
  await processor.forceFlush();
  const seconds = (performance.now() - started) / 1000;
  const stats = processor.stats();
  const tokenRows = Number((db.database.sqlite.prepare("SELECT count(*) AS n FROM tokens").get() as { n: bigint }).n);
  db.cleanup();
  return {
    spans: spans.length,
    spansPerSec: Math.round(spans.length / seconds),
    stepSpansPerRequest: Math.round((captured.length / 4 - 1) * 10) / 10,
    tokenRowsWritten: tokenRows,
    batches: stats.batches,
    backpressureFlushes: stats.backpressureFlushes,
    dropped: stats.dropped,
  };
}

async function concurrent(engine: SpecEngine, prompts: string[]) {
  const db = freshDatabase();
  const processor = new SqliteSpanProcessor({ database: () => db.database.sqlite });
  const tracing = provider([processor]);
  trace.setGlobalTracerProvider(tracing);
  const baseline = process.memoryUsage();
  let peakHeap = baseline.heapUsed;
  let peakRss = baseline.rss;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }, 5);
  const started = performance.now();
  const runs = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => generate(engine, prompts[i % prompts.length], 100 + i, true)));
  await processor.forceFlush();
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  trace.disable();

  const sqlite = db.database.sqlite;
  const count = (sql: string, ...args: unknown[]) => Number((sqlite.prepare(sql).get(...args) as { n: bigint }).n);
  let requestsFound = 0;
  let stepsFound = 0;
  let tokensFound = 0;
  const missing: string[] = [];
  for (const run of runs) {
    const hasRequest = count("SELECT count(*) AS n FROM requests WHERE trace_id = ?", run.traceId) === 1;
    const steps = count("SELECT count(*) AS n FROM steps WHERE trace_id = ?", run.traceId);
    const stepSpans = count("SELECT count(*) AS n FROM spans WHERE trace_id = ? AND name = 'speclens.step'", run.traceId);
    const tokens = count("SELECT count(*) AS n FROM tokens WHERE trace_id = ?", run.traceId);
    requestsFound += hasRequest ? 1 : 0;
    stepsFound += Math.min(steps, stepSpans);
    tokensFound += tokens;
    if (!hasRequest || steps !== run.steps || stepSpans !== run.steps || tokens !== run.tokens) missing.push(run.traceId);
  }
  const stats = processor.stats();
  const avgSpanBytes = count("SELECT avg(length(attributes)) AS n FROM spans");
  await tracing.shutdown();
  db.cleanup();
  return {
    concurrency: CONCURRENCY,
    wallMs: Math.round(wallMs),
    requestsEmitted: runs.length,
    requestsStored: requestsFound,
    stepsEmitted: runs.reduce((n, r) => n + r.steps, 0),
    stepsStored: stepsFound,
    tokensEmitted: runs.reduce((n, r) => n + r.tokens, 0),
    tokensStored: tokensFound,
    incompleteTraces: missing.length,
    dropped: stats.dropped,
    failures: stats.failures,
    peakQueuedSpans: stats.peakQueued,
    peakQueuedBytesEstimate: stats.peakQueued * avgSpanBytes,
    peakHeapDeltaMb: mb(peakHeap - baseline.heapUsed),
    peakRssMb: mb(peakRss),
  };
}

async function main(): Promise<void> {
  const engine = await SpecEngine.load({ threads: Number(values.threads) });
  const prompts = heldoutPrompts(Math.max(PROMPTS, CONCURRENCY));
  const models = engine.modelIds;
  console.log(`models: target ${models.target.name} (${models.target.sha256.slice(0, 12)}), draft ${models.draft?.name} (${models.draft?.sha256.slice(0, 12)})`);

  const cpu = await cpuCost(engine, prompts[0]);
  console.log("tracing CPU cost", cpu);
  const overheadResult = await overhead(engine, prompts.slice(0, PROMPTS));
  console.log("overhead", overheadResult);
  const ingestResult = await ingest(engine, prompts);
  console.log("ingest", ingestResult);
  const concurrentResult = await concurrent(engine, prompts);
  console.log("concurrency", concurrentResult);

  const report = { date: new Date().toISOString(), models, config, cpuCost: cpu, overhead: overheadResult, ingest: ingestResult, concurrency: concurrentResult };
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/tracing.json", JSON.stringify(report, null, 2) + "\n");
  const md = [
    `# Tracing benchmark (${report.date})`,
    "",
    `Models: target \`${models.target.name}\` sha256 ${models.target.sha256.slice(0, 12)}, draft \`${models.draft?.name}\` sha256 ${models.draft?.sha256.slice(0, 12)}; draft-model k=4, greedy, ${MAX_TOKENS} tokens, 1 thread.`,
    "",
    "| Measure | Value |",
    "| --- | --- |",
    `| tokens/s, tracing off / on (SQLite) / off again | ${overheadResult.offTokensPerSec} / ${overheadResult.onTokensPerSec} / ${overheadResult.offAgainTokensPerSec} |`,
    `| slowdown, all tokens (target: at most 5%) | ${overheadResult.slowdownPct}% |`,
    `| slowdown, median per prompt | ${overheadResult.medianSlowdownPct}% |`,
    `| noise floor: off again vs off (median / all tokens) | ${overheadResult.noiseMedianPct}% / ${overheadResult.noiseTotalPct}% |`,
    `| tracing CPU time per request (replayed steps, no model work) | ${cpu.tracingMsPerRequest} ms for ${cpu.stepsPerRequest} steps = ${cpu.sharePct}% of a ${cpu.requestMs} ms request |`,
    `| exporter ingest | ${ingestResult.spansPerSec} spans/s (${ingestResult.spans} spans, ${ingestResult.tokenRowsWritten} token rows) |`,
    `| ${CONCURRENCY} concurrent requests: requests stored / emitted | ${concurrentResult.requestsStored} / ${concurrentResult.requestsEmitted} |`,
    `| steps stored / emitted | ${concurrentResult.stepsStored} / ${concurrentResult.stepsEmitted} |`,
    `| tokens stored / emitted | ${concurrentResult.tokensStored} / ${concurrentResult.tokensEmitted} |`,
    `| dropped spans | ${concurrentResult.dropped} |`,
    `| peak exporter buffer | ${concurrentResult.peakQueuedSpans} spans (~${Math.round(concurrentResult.peakQueuedBytesEstimate / 1024)} KiB of attributes) |`,
    `| peak heap growth / peak RSS during the run | ${concurrentResult.peakHeapDeltaMb} MB / ${concurrentResult.peakRssMb} MB |`,
    "",
  ].join("\n");
  writeFileSync("bench/results/tracing.md", md);
  console.log(md);
  await engine.dispose();
  const ok = concurrentResult.incompleteTraces === 0 && concurrentResult.dropped === 0;
  if (!ok) {
    console.error(`FAIL: ${concurrentResult.incompleteTraces} incomplete traces, ${concurrentResult.dropped} dropped spans`);
    process.exitCode = 1;
  }
}

void main();
