import type { SpanRecord } from "@/db/tracing/span-record";
import { A, STEP_SPAN_NAME } from "@/engine/telemetry";
import { spanIdOf, traceIdOf } from "./spans";

export const T0 = 1_763_840_000_000_000_000n;
export const SECOND = 1_000_000_000n;

export interface Shape {
  proposer?: string;
  verify?: string;
  version?: string;
  node?: string;
  target?: string;
  draft?: string | null;
  finish?: string;
  status?: number;
  cancelled?: boolean;
  rate?: number | null;
  totalMs?: number;
  outputTokens?: number;
  prompt?: string;
  completion?: string;
  startNs?: bigint;
  steps?: number;
  drafted?: number;
  accepted?: number;
  ttftMs?: number;
  queueMs?: number;
  perPosition?: number[];
}

/** A request span as the engine emits it (the derived columns' inputs); each test varies what it checks. */
export function request(n: number, s: Shape = {}): SpanRecord {
  const start = s.startNs ?? T0 + BigInt(n) * SECOND;
  const attributes: SpanRecord["attributes"] = {
    [A.operation]: "text_completion", [A.prompt]: s.prompt ?? `prompt number ${n}`, [A.completion]: s.completion ?? "plain output",
    [A.proposer]: s.proposer ?? "draft-model", [A.verifyMode]: s.verify ?? "greedy", [A.configVersion]: s.version ?? "1",
    [A.targetModelId]: `${s.target ?? "target"}@sha256:aaaaaaaaaaaa`, [A.targetSha256]: "a".repeat(64),
    [A.finishReason]: s.finish ?? "length", [A.steps]: s.steps ?? 3,
    [A.drafted]: s.drafted ?? 8, [A.accepted]: s.accepted ?? 4, [A.firstTokenMs]: s.ttftMs ?? 20, [A.queueWaitMs]: s.queueMs ?? 0,
    [A.perPositionAcceptance]: s.perPosition ?? [0.75, 0.25], [A.outputTokens]: s.outputTokens ?? 10, [A.totalMs]: s.totalMs ?? 100,
    [A.cancelled]: s.cancelled ?? false,
  };
  if (s.rate !== null) attributes[A.acceptanceRate] = s.rate ?? 0.5;
  if (s.draft !== null) {
    attributes[A.draftModelId] = `${s.draft ?? "draft"}@sha256:bbbbbbbbbbbb`;
    attributes[A.draftSha256] = "b".repeat(64);
  }
  return {
    traceId: traceIdOf(n), spanId: spanIdOf(n), parentSpanId: null, name: "text_completion target", kind: 0,
    startTimeNs: start, endTimeNs: start + 5_000_000n, statusCode: s.status ?? 0, statusMessage: null, events: [],
    resource: { "host.name": s.node ?? "node-a" }, scopeName: "speclens-engine", node: s.node ?? "node-a", attributes,
  };
}

export function step(n: number, index: number, accepted: number, drafted: number): SpanRecord {
  return {
    traceId: traceIdOf(n), spanId: spanIdOf(1000 * n + index + 1), parentSpanId: spanIdOf(n), name: STEP_SPAN_NAME, kind: 0,
    startTimeNs: T0 + BigInt(n) * SECOND + BigInt(index), endTimeNs: T0 + BigInt(n) * SECOND + BigInt(index) + 1n,
    statusCode: 0, statusMessage: null, events: [], resource: {}, scopeName: "speclens-engine", node: "node-a",
    attributes: {
      [A.stepIndex]: index, [A.proposer]: "draft-model", [A.k]: drafted, [A.draftTokens]: Array(drafted).fill(1),
      [A.draftProbs]: Array(drafted).fill(0.5), [A.draftPathLengths]: [drafted], [A.pathIndex]: 0, [A.acceptedCount]: accepted,
      [A.emittedIds]: [1], [A.emittedTexts]: ["x"], [A.emittedOrigins]: ["target"],
    },
  };
}

