/*
 * npm run seed:scale -- --db PATH --requests 100000 [--days 3] [--samples 48] [--max-tokens 80]
 *
 * Fills a database (never the app's own) with generation traces at scale, for bench:dashboard.
 * The traces are real: the shipped model pair generates `samples` requests under several proposers,
 * verify modes and temperatures, traced by the engine's own telemetry and captured as finished spans.
 * Each seeded request is one of them under a new trace id and span ids, moved to a time in the last
 * `days` days (arrival order), on one of three nodes and one of three config versions; 1% end in error.
 * Every span goes through the SQLite span processor's onEnd, i.e. the exporter's own write path, so the
 * raw, derived and full-text rows are exactly what a running server would store.
 */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { trace, type HrTime } from "@opentelemetry/api";
import { resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { openDatabase, resolveDatabasePath } from "../db/client";
import { SqliteSpanProcessor } from "../db/tracing/sqlite-processor";
import { A, DEFAULT_PARAMS, DEFAULT_SPEC_CONFIG, mergeSpecConfig, SpecEngine, STEP_SPAN_NAME, traceGeneration, type GenerateResult, type SpecConfigInput, type StepRecord } from "../engine";
import { heldoutPrompts } from "../tests/support/models";

const { values } = parseArgs({
  options: {
    db: { type: "string" },
    requests: { type: "string", default: "100000" },
    days: { type: "string", default: "3" },
    samples: { type: "string", default: "48" },
    "max-tokens": { type: "string", default: "80" },
    threads: { type: "string", default: "1" },
  },
});

const REQUESTS = Number(values.requests);
const DAYS = Number(values.days);
const SAMPLES = Number(values.samples);
const MAX_TOKENS = Number(values["max-tokens"]);
const NODES = ["node-a", "node-b", "node-c"];
const CONFIG_VERSIONS = ["1", "2", "3"];

/** The mix of real generations sampled from: proposer, verify mode and temperature as users run them. */
const SHAPES: { config: SpecConfigInput; temperature: number }[] = [
  { config: { proposer: "draft-model", kMax: 4 }, temperature: 0 },
  { config: { proposer: "draft-model", kMax: 4 }, temperature: 0 },
  { config: { proposer: "draft-model", kMax: 4 }, temperature: 0.8 },
  { config: { proposer: "ngram", kMax: 4 }, temperature: 0 },
  { config: { proposer: "tree", kMax: 4 }, temperature: 0 },
  { config: { proposer: "draft-model", kMax: 4, verify: "lossy", lossyThreshold: 0.3 }, temperature: 0 },
];

function refuseUnsafeTarget(): string {
  if (!values.db) throw new Error("--db PATH is required (the app's own database is never seeded)");
  const target = resolve(values.db);
  const appDb = resolveDatabasePath({ ...process.env });
  const defaultDb = resolveDatabasePath({} as NodeJS.ProcessEnv);
  if (target === appDb || target === defaultDb) throw new Error(`--db ${target} is the app's database; choose another path`);
  if (existsSync(target) && statSync(target).size > 0) throw new Error(`--db ${target} exists; seed a new file`);
  return target;
}

async function capture(engine: SpecEngine): Promise<ReadableSpan[][]> {
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanLimits: { attributeCountLimit: 512 }, spanProcessors: [new SimpleSpanProcessor(memory)] });
  trace.setGlobalTracerProvider(provider);
  const prompts = heldoutPrompts(SAMPLES, 16);
  for (let i = 0; i < SAMPLES; i++) {
    const shape = SHAPES[i % SHAPES.length];
    const config = mergeSpecConfig(DEFAULT_SPEC_CONFIG, shape.config);
    const params = { ...DEFAULT_PARAMS, maxTokens: MAX_TOKENS, temperature: shape.temperature, topP: shape.temperature > 0 ? 0.95 : 1, seed: 1000 + i };
    const prompt = prompts[i % prompts.length];
    const ids = engine.tokenizer.encode(prompt);
    const stream: AsyncGenerator<StepRecord, GenerateResult> = traceGeneration(engine.stream(ids, params, config), {
      prompt, promptTokenIds: ids, params, config, models: engine.modelIds, endpoint: i % 2 ? "POST /v1/completions" : "POST /api/generate",
      configVersion: "1",
    });
    while (!(await stream.next()).done) {
      // the steps are traced as they are consumed
    }
  }
  const spans = [...memory.getFinishedSpans()];
  await provider.shutdown();
  trace.disable();
  const byTrace = new Map<string, ReadableSpan[]>();
  for (const s of spans) {
    const id = s.spanContext().traceId;
    byTrace.set(id, [...(byTrace.get(id) ?? []), s]);
  }
  return [...byTrace.values()];
}

const NS_PER_S = 1_000_000_000n;
const toNs = (t: HrTime) => BigInt(t[0]) * NS_PER_S + BigInt(t[1]);
const toHr = (ns: bigint): HrTime => [Number(ns / NS_PER_S), Number(ns % NS_PER_S)];
const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/** One captured trace under a new identity, time, node and config version. */
function resample(spans: ReadableSpan[], startNs: bigint, resource: Resource, configVersion: string, failed: boolean): ReadableSpan[] {
  const traceId = hex(16);
  const root = spans.find((s) => s.name !== STEP_SPAN_NAME)!;
  const shift = startNs - toNs(root.startTime);
  const ids = new Map(spans.map((s) => [s.spanContext().spanId, hex(8)]));
  return spans.map((s) => {
    const ctx = s.spanContext();
    const isRoot = s === root;
    const attributes = isRoot ? { ...s.attributes, [A.configVersion]: configVersion } : s.attributes;
    const status = isRoot && failed ? { code: 2, message: "seeded failure" } : s.status;
    return {
      name: s.name, kind: s.kind, status, attributes, links: s.links, duration: s.duration, ended: true, resource,
      startTime: toHr(toNs(s.startTime) + shift), endTime: toHr(toNs(s.endTime) + shift),
      events: s.events.map((e) => ({ ...e, time: toHr(toNs(e.time) + shift) })),
      instrumentationScope: s.instrumentationScope, droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0,
      spanContext: () => ({ ...ctx, traceId, spanId: ids.get(ctx.spanId)! }),
      parentSpanContext: s.parentSpanContext ? { ...s.parentSpanContext, traceId, spanId: ids.get(s.parentSpanContext.spanId) ?? hex(8) } : undefined,
    };
  });
}

async function main(): Promise<void> {
  const target = refuseUnsafeTarget();
  const started = performance.now();
  const engine = await SpecEngine.load({ threads: Number(values.threads) });
  const samples = await capture(engine);
  console.log(`captured ${samples.length} real generations in ${Math.round(performance.now() - started)} ms`);

  const database = openDatabase(target);
  database.sqlite.pragma("cache_size = -1000000"); // 1 GB page cache: the token indexes are written in random key order
  const processor = new SqliteSpanProcessor({ database: () => database.sqlite, maxBatchSize: 4096, maxQueueSize: 8192, flushIntervalMs: 60_000 });
  const resources = NODES.map((node) => resourceFromAttributes({ "service.name": "speclens", "host.name": node }));
  const endNs = BigInt(Date.now()) * 1_000_000n;
  const spanNs = BigInt(Math.round(DAYS * 86_400)) * NS_PER_S;
  const seedStarted = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const startNs = endNs - spanNs + (spanNs * BigInt(i)) / BigInt(REQUESTS) + BigInt(Math.floor(Math.random() * 1e9));
    const sample = samples[(i * 7919) % samples.length];
    for (const span of resample(sample, startNs, resources[i % NODES.length], CONFIG_VERSIONS[Math.floor(i / 11) % 3], i % 100 === 42)) {
      processor.onEnd(span);
    }
    if ((i + 1) % 5000 === 0) {
      await processor.forceFlush();
      const s = (performance.now() - seedStarted) / 1000;
      console.log(`${i + 1} requests, ${Math.round(s)} s, ${Math.round((i + 1) / s)} req/s, ${(statSync(target).size / 2 ** 30).toFixed(2)} GiB`);
    }
  }
  await processor.forceFlush();
  await processor.shutdown();
  const stats = processor.stats();
  database.sqlite.exec("ANALYZE");
  database.sqlite.pragma("wal_checkpoint(TRUNCATE)");
  const count = (table: string) => Number((database.sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: bigint }).n);
  const summary = {
    requests: count("requests"), steps: count("steps"), tokens: count("tokens"), spans: count("spans"),
    bytes: statSync(target).size, seconds: Math.round((performance.now() - started) / 1000), dropped: stats.dropped,
  };
  database.sqlite.close();
  console.log(JSON.stringify(summary));
  console.log(`${(summary.bytes / 2 ** 30).toFixed(2)} GiB, ${((summary.bytes / summary.requests) * 100_000 / 2 ** 30).toFixed(2)} GiB per 100k requests`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
