import type { ProcessorStats, SqliteSpanProcessor } from "./sqlite-processor";

/*
 * The process-wide tracing state. Next.js bundles instrumentation.ts and each route separately, so
 * module-level variables are not shared between them; globalThis is.
 */

export interface IngestStats {
  /** OTLP requests accepted / rejected by POST /api/otlp/v1/traces. */
  accepted: number;
  rejected: number;
  spans: number;
  lastError: string | null;
}

interface TracingState {
  processor: SqliteSpanProcessor | null;
  otlpEndpoint: string | null;
  ingest: IngestStats;
  /** Requests found in flight at start-up from a process that died, stored as `interrupted`. */
  interruptedAtStart: number;
}

const holder = globalThis as typeof globalThis & { __speclensTracing?: TracingState };

function state(): TracingState {
  holder.__speclensTracing ??= { processor: null, otlpEndpoint: null, ingest: { accepted: 0, rejected: 0, spans: 0, lastError: null }, interruptedAtStart: 0 };
  return holder.__speclensTracing;
}

export function setActiveProcessor(processor: SqliteSpanProcessor | null, otlpEndpoint: string | null = null): void {
  state().processor = processor;
  state().otlpEndpoint = otlpEndpoint;
}

export function activeProcessor(): SqliteSpanProcessor | null {
  return state().processor;
}

export function noteInterruptedAtStart(count: number): void {
  state().interruptedAtStart += count;
}

export function ingestStats(): IngestStats {
  return state().ingest;
}

/** Writes buffered spans now, so a trace id just returned to a caller can be read back at once. */
export async function flushTraces(): Promise<void> {
  await state().processor?.forceFlush();
}

export interface TracingReport {
  enabled: boolean;
  otlpEndpoint: string | null;
  exporter: ProcessorStats | null;
  ingest: IngestStats;
  interruptedAtStart: number;
}

export function tracingReport(): TracingReport {
  const s = state();
  return { enabled: s.processor !== null, otlpEndpoint: s.otlpEndpoint, exporter: s.processor?.stats() ?? null, ingest: { ...s.ingest }, interruptedAtStart: s.interruptedAtStart };
}
