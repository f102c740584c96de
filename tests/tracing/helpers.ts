import path from "node:path";
import { context, propagation, trace } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeTracerProvider, type SpanProcessor } from "@opentelemetry/sdk-trace-node";
import { openDatabase, type OpenDatabase } from "@/db/client";
import { SqliteSpanProcessor, type SqliteProcessorOptions } from "@/db/tracing/sqlite-processor";
import type { ModelId } from "@/engine/runtime/model-folder";
import { DEFAULT_PARAMS, DEFAULT_SPEC_CONFIG, type GenerateResult, type StepRecord } from "@/engine/types";
import { makeTempDir } from "../support/temp";

export interface TracingFixture {
  database: OpenDatabase;
  processor: SqliteSpanProcessor;
  provider: NodeTracerProvider;
  close: () => Promise<void>;
}

/** A real tracer provider, registered globally (the engine traces through @opentelemetry/api), writing to a temp database. */
export function startTracingFixture(options: Partial<SqliteProcessorOptions> = {}, extra: SpanProcessor[] = []): TracingFixture {
  const temp = makeTempDir("speclens-tracing-");
  const database = openDatabase(path.join(temp.dir, "speclens.db"));
  const processor = new SqliteSpanProcessor({ database: () => database.sqlite, log: () => {}, ...options });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": "speclens", "service.version": "test", "host.name": "node-a" }),
    spanLimits: { attributeCountLimit: 512 },
    spanProcessors: [processor, ...extra],
  });
  provider.register();
  return {
    database,
    processor,
    provider,
    close: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      database.sqlite.close();
      temp.cleanup();
    },
  };
}

export const TARGET: ModelId = { name: "fake-target", sha256: "a".repeat(64) };
export const DRAFT: ModelId = { name: "fake-draft", sha256: "b".repeat(64) };

/** Step 0: two drafts accepted + bonus. Step 1: first draft rejected, recovered token. */
export const FAKE_STEPS: StepRecord[] = [
  {
    index: 0, proposer: "draft-model", k: 2, position: 0,
    paths: [{ tokens: [11, 12], draftProbs: [0.9, 0.75], pointMass: [true, true] }],
    verify: {
      pathIndex: 0, accepted: 2, nextToken: 13, nextOrigin: "bonus", nextTokenProb: 0.5, nextTargetChoice: { token: 13, prob: 0.5 },
      examined: [
        { path: 0, depth: 0, token: 11, outcome: "accepted", targetProb: 0.8, targetArgmax: true, targetChoice: { token: 11, prob: 0.8 }, draftProb: 0.9, pointMass: true, acceptProb: 1, uniform: 0 },
        { path: 0, depth: 1, token: 12, outcome: "accepted", targetProb: 0.6, targetArgmax: true, targetChoice: { token: 12, prob: 0.6 }, draftProb: 0.75, pointMass: true, acceptProb: 1, uniform: 0 },
      ],
    },
    emitted: [
      { id: 11, text: " the", origin: "accepted", prob: 0.8, draftProb: 0.9, targetChoice: { token: 11, prob: 0.8 }, logprob: -0.223, topLogprobs: [], step: 0 },
      { id: 12, text: " cat", origin: "accepted", prob: 0.6, draftProb: 0.75, targetChoice: { token: 12, prob: 0.6 }, logprob: -0.51, topLogprobs: [], step: 0 },
      { id: 13, text: " sat", origin: "bonus", prob: 0.5, draftProb: null, targetChoice: { token: 13, prob: 0.5 }, logprob: -0.69, topLogprobs: [], step: 0 },
    ],
    textDelta: " the cat sat",
    counts: { drafted: 2, accepted: 2, discarded: 0, draftedAt: [1, 1], acceptedAt: [1, 1] },
    rollback: { target: { dropped: 0, evicted: 0, lengthBefore: 8, lengthAfter: 8 }, draft: { dropped: 0, evicted: 0, lengthBefore: 7, lengthAfter: 7 } },
    timings: { draftMs: 1.25, verifyMs: 3.5, overheadMs: 0.125 },
    kvBytes: { target: 4096, draft: 1024 },
  },
  {
    index: 1, proposer: "draft-model", k: 2, position: 3,
    paths: [{ tokens: [21, 22], draftProbs: [0.4, 0.3], pointMass: [true, true] }],
    verify: {
      pathIndex: 0, accepted: 0, nextToken: 23, nextOrigin: "recovered", nextTokenProb: 0.7, nextTargetChoice: { token: 23, prob: 0.7 },
      examined: [{ path: 0, depth: 0, token: 21, outcome: "rejected", targetProb: 0.05, targetArgmax: false, targetChoice: { token: 23, prob: 0.7 }, draftProb: 0.4, pointMass: true, acceptProb: 0, uniform: 0 }],
    },
    emitted: [{ id: 23, text: " down", origin: "recovered", prob: 0.7, draftProb: null, targetChoice: { token: 23, prob: 0.7 }, logprob: -0.36, topLogprobs: [], step: 1 }],
    textDelta: " down",
    counts: { drafted: 2, accepted: 0, discarded: 0, draftedAt: [1, 1], acceptedAt: [0, 0] },
    rollback: { target: { dropped: 2, evicted: 0, lengthBefore: 13, lengthAfter: 11 }, draft: { dropped: 1, evicted: 0, lengthBefore: 12, lengthAfter: 11 } },
    timings: { draftMs: 1.5, verifyMs: 3.25, overheadMs: 0.25 },
    kvBytes: { target: 5120, draft: 1280 },
  },
];

export const FAKE_RESULT: GenerateResult = {
  text: " the cat sat down",
  tokens: FAKE_STEPS.flatMap((s) => s.emitted),
  promptTokens: 3,
  finishReason: "length",
  summary: {
    proposer: "draft-model", verify: "greedy", steps: 2, drafted: 4, accepted: 2, discarded: 0,
    acceptanceRate: 0.5, meanAcceptanceLength: 2, perPositionAcceptance: [0.5, 0.5],
  },
  models: { target: TARGET, draft: DRAFT },
  timings: { prefillMs: 2.5, totalMs: 12.75, firstTokenMs: 4.5 },
};

export async function* fakeStream(summary: Partial<GenerateResult["summary"]> = {}): AsyncGenerator<StepRecord, GenerateResult> {
  for (const step of FAKE_STEPS) yield step;
  return { ...FAKE_RESULT, summary: { ...FAKE_RESULT.summary, ...summary } };
}

export const FAKE_INFO = {
  prompt: "Once upon a",
  promptTokenIds: [1, 2, 3],
  params: { ...DEFAULT_PARAMS, maxTokens: 4, seed: 7, temperature: 0 },
  config: { ...DEFAULT_SPEC_CONFIG, kMax: 2 },
  models: { target: TARGET, draft: DRAFT },
  configVersion: "v3",
  endpoint: "test",
};

/** Drains a (traced) generation and returns its result. */
export async function drain<T>(gen: AsyncGenerator<StepRecord, T>): Promise<T> {
  for (;;) {
    const next = await gen.next();
    if (next.done) return next.value;
  }
}
