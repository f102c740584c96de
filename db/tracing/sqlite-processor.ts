import type Database from "better-sqlite3";
import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { A } from "@/engine";
import { recordInflight } from "./inflight";
import { fromReadableSpan, hrTimeToNs, nodeOf, type AttributeMap } from "./span-record";
import { writeSpans } from "./store";

/*
 * The SQLite span processor: buffers finished spans and writes them (raw + derived rows) in one
 * transaction per batch, on a short timer or as soon as a batch is full.
 *
 * It never drops silently. Memory is bounded by backpressure: when the buffer holds maxQueueSize
 * spans, onEnd writes synchronously before returning, so a producer that outruns the writer is slowed
 * down instead of losing spans. A failed write keeps its spans buffered and retries; only if writes keep
 * failing while the buffer reaches hardLimit are the oldest spans dropped, counted in `dropped`, logged,
 * and surfaced through stats() (GET /api/health). Exporter failures never throw into the app.
 *
 * Its own writes are not traced: better-sqlite3 has no OTel instrumentation registered, and none must be.
 */

export interface SqliteProcessorOptions {
  /** The connection to write to, resolved per flush (the process-wide one by default; tests pass their own). */
  database: () => Database.Database;
  /** Spans per transaction. */
  maxBatchSize?: number;
  /** Buffered spans at which onEnd writes synchronously (backpressure). */
  maxQueueSize?: number;
  /** While writes fail, spans beyond this many are dropped (counted) rather than exhausting memory. */
  hardLimit?: number;
  /** How long a finished span may wait in the buffer. */
  flushIntervalMs?: number;
  /** Which spans to store; by default those of SpecLens tracers (scope "speclens*"). */
  accept?: (span: ReadableSpan) => boolean;
  /** Where failures are reported (console.error by default). */
  log?: (message: string, error?: unknown) => void;
  /** Longest wait between retries of a failing write (the wait doubles from flushIntervalMs). */
  maxRetryDelayMs?: number;
}

export interface ProcessorStats {
  /** Spans written to the database. */
  exported: number;
  /** Spans already stored (same trace and span id), skipped. */
  duplicates: number;
  batches: number;
  /** Failed write attempts (their spans stay buffered and are retried). */
  failures: number;
  /** Spans lost because writes kept failing with a full buffer. Should always be 0. */
  dropped: number;
  /** Spans not stored because no SpecLens tracer produced them (e.g. Next.js's own spans). */
  ignored: number;
  /** Synchronous writes forced by a full buffer. */
  backpressureFlushes: number;
  queued: number;
  peakQueued: number;
  /** Total time spent writing, ms. */
  writeMs: number;
  lastError: string | null;
  lastErrorAt: string | null;
  /** Write failures in a row (0 once a write succeeds); the retry delay doubles with each. */
  consecutiveFailures: number;
  retryDelayMs: number;
  /** In-flight markers written at request start (see db/tracing/inflight.ts), and those that failed. */
  inflightMarked: number;
  inflightFailures: number;
}

const defaultAccept = (span: ReadableSpan) => span.instrumentationScope.name.startsWith("speclens");

export class SqliteSpanProcessor implements SpanProcessor {
  private queue: ReadableSpan[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly counters: Omit<ProcessorStats, "queued"> = {
    exported: 0, duplicates: 0, batches: 0, failures: 0, dropped: 0, ignored: 0, backpressureFlushes: 0,
    peakQueued: 0, writeMs: 0, lastError: null, lastErrorAt: null, consecutiveFailures: 0, retryDelayMs: 0,
    inflightMarked: 0, inflightFailures: 0,
  };
  private readonly maxBatchSize: number;
  private readonly maxQueueSize: number;
  private readonly hardLimit: number;
  private readonly flushIntervalMs: number;
  private readonly accept: (span: ReadableSpan) => boolean;
  private readonly log: (message: string, error?: unknown) => void;
  private readonly maxRetryDelayMs: number;

  constructor(private readonly options: SqliteProcessorOptions) {
    this.maxBatchSize = options.maxBatchSize ?? 512;
    this.maxQueueSize = Math.max(options.maxQueueSize ?? 4096, this.maxBatchSize);
    this.hardLimit = Math.max(options.hardLimit ?? this.maxQueueSize * 4, this.maxQueueSize);
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.accept = options.accept ?? defaultAccept;
    this.log = options.log ?? ((message, error) => console.error(`[speclens] ${message}`, error ?? ""));
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
  }

  /**
   * A request span starting: mark it in flight, so that a crash before it is stored leaves a trace of it
   * (recovered as `interrupted` at the next start). A failed marker is counted, never thrown.
   */
  onStart(span: Span, _parentContext: Context): void {
    if (span.parentSpanContext || !this.accept(span as unknown as ReadableSpan)) return;
    const attributes = span.attributes as AttributeMap;
    if (typeof attributes[A.operation] !== "string" || !(A.prompt in attributes)) return;
    const context = span.spanContext();
    const resource = span.resource.attributes as AttributeMap;
    try {
      recordInflight(this.options.database(), {
        traceId: context.traceId, spanId: context.spanId, node: nodeOf(resource), pid: process.pid, name: span.name,
        startNs: hrTimeToNs(span.startTime), scope: span.instrumentationScope.name, attributes: { ...attributes }, resource,
      });
      this.counters.inflightMarked += 1;
    } catch (error) {
      this.counters.inflightFailures += 1;
      this.counters.lastError = error instanceof Error ? error.message : String(error);
      this.counters.lastErrorAt = new Date().toISOString();
      this.log("could not mark a request in flight (it is still traced when it ends)", error);
    }
  }

  onEnd(span: ReadableSpan): void {
    if (!this.accept(span)) {
      this.counters.ignored += 1;
      return;
    }
    this.queue.push(span);
    this.counters.peakQueued = Math.max(this.counters.peakQueued, this.queue.length);
    // While the database refuses writes, a synchronous flush per span would block on busy_timeout every
    // time: leave it to the retry timer (the hard limit still bounds memory).
    const backpressure = this.queue.length >= this.maxQueueSize && this.counters.consecutiveFailures === 0;
    if (this.closed || backpressure) {
      if (!this.closed) this.counters.backpressureFlushes += 1;
      this.flushNow();
    } else {
      if (this.queue.length >= this.maxQueueSize) this.shedOverflow();
      this.schedule();
    }
  }

  /** Writes everything buffered. Resolves once it is in the database (or counted as failed). */
  forceFlush(): Promise<void> {
    this.flushNow();
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.closed = true;
    this.flushNow();
    return Promise.resolve();
  }

  stats(): ProcessorStats {
    return { ...this.counters, queued: this.queue.length };
  }

  private schedule(): void {
    if (this.timer) return;
    // Unref'd: a pending flush must not keep a CLI or test process alive; shutdown flushes the rest.
    // While writes fail (locked or full database) the wait doubles up to maxRetryDelayMs.
    const delay = this.counters.consecutiveFailures === 0
      ? this.flushIntervalMs
      : Math.min(this.maxRetryDelayMs, this.flushIntervalMs * 2 ** Math.min(this.counters.consecutiveFailures, 16));
    this.counters.retryDelayMs = this.counters.consecutiveFailures === 0 ? 0 : delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushNow();
    }, delay);
    this.timer.unref();
  }

  /** Synchronous: better-sqlite3 writes on this thread; a batch of a few hundred spans takes a few ms. */
  private flushNow(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.maxBatchSize);
      if (!this.writeBatch(batch)) break;
      this.queue.splice(0, batch.length);
    }
    if (this.queue.length > 0) {
      this.shedOverflow();
      if (!this.closed) this.schedule();
    }
  }

  private writeBatch(batch: ReadableSpan[]): boolean {
    const started = performance.now();
    try {
      const result = writeSpans(this.options.database(), batch.map(fromReadableSpan));
      this.counters.exported += result.written;
      this.counters.duplicates += result.duplicates;
      this.counters.batches += 1;
      this.counters.consecutiveFailures = 0;
      this.counters.retryDelayMs = 0;
      return true;
    } catch (error) {
      this.counters.failures += 1;
      this.counters.consecutiveFailures += 1;
      this.counters.lastError = error instanceof Error ? error.message : String(error);
      this.counters.lastErrorAt = new Date().toISOString();
      this.log(`trace export failed (${batch.length} spans kept for retry)`, error);
      return false;
    } finally {
      this.counters.writeMs += performance.now() - started;
    }
  }

  private shedOverflow(): void {
    const excess = this.queue.length - this.hardLimit;
    if (excess <= 0) return;
    this.queue.splice(0, excess);
    this.counters.dropped += excess;
    this.log(`trace export dropped ${excess} spans: the database kept failing with ${this.hardLimit} spans buffered`);
  }
}
