import { hostname } from "node:os";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { getDatabase } from "../client";
import { recoverInterrupted } from "./inflight";
import { RedactingSpanProcessor, redactionRulesFromEnv } from "./redact";
import { effectiveRetention, startRetention } from "./retention";
import { noteInterruptedAtStart, setActiveProcessor } from "./runtime";
import { SqliteSpanProcessor } from "./sqlite-processor";

export interface TracingHandle {
  provider: NodeTracerProvider;
  processor: SqliteSpanProcessor;
  shutdown: () => Promise<void>;
}

/**
 * Registers the global tracer provider: resource (service.name, service.version, host.name), the SQLite
 * processor, and an OTLP/HTTP exporter when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-specific
 * variable) is set. Spans leave this process the same way to both.
 */
export async function startTracing(serviceVersion: string, env: NodeJS.ProcessEnv = process.env): Promise<TracingHandle> {
  // Read first: a bad redaction setting must stop the start, before any span could be written unmasked.
  const redaction = redactionRulesFromEnv(env);
  const processor = new SqliteSpanProcessor({
    database: () => getDatabase().sqlite,
    accept: env.SPECLENS_TRACE_ALL_SPANS === "1" ? () => true : undefined,
  });
  const processors: SpanProcessor[] = [processor];
  const otlpEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || null;
  if (otlpEndpoint) {
    // Loaded only when used; the exporter reads the OTEL_EXPORTER_OTLP_* variables itself.
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      "service.name": env.OTEL_SERVICE_NAME || "speclens",
      "service.version": serviceVersion,
      "host.name": env.SPECLENS_NODE || hostname(),
    }),
    // A step span carries ~40 attributes; leave headroom over the SDK's default limit of 128.
    spanLimits: { attributeCountLimit: 512 },
    // Redaction sits in front of both exporters, so SQLite and OTLP receive the same masked spans.
    spanProcessors: redaction.length > 0 ? [new RedactingSpanProcessor(redaction, processors)] : processors,
  });
  provider.register();
  setActiveProcessor(processor, otlpEndpoint);
  try {
    const node = env.SPECLENS_NODE || hostname();
    const recovered = recoverInterrupted(getDatabase().sqlite, { node });
    noteInterruptedAtStart(recovered.length);
    if (recovered.length > 0) console.warn(`[speclens] ${recovered.length} request(s) were running when the server last stopped: stored as interrupted`);
  } catch (error) {
    console.error("[speclens] could not recover interrupted requests (retried at the next start):", error);
  }
  // Read at every pass: retention saved on /settings applies without a restart (the environment is the default).
  const retention = startRetention(() => getDatabase().sqlite, () => effectiveRetention(getDatabase().db, env));

  let stopping: Promise<void> | null = null;
  const shutdown = () => {
    stopping ??= (async () => {
      retention.stop();
      await provider.shutdown();
    })();
    return stopping;
  };
  // Flush before the process goes: buffered spans are the last seconds of the audit record.
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      void shutdown().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    });
  }
  // forceFlush writes synchronously, so it also completes inside an "exit" handler (after process.exit()).
  process.once("exit", () => void processor.forceFlush());
  return { provider, processor, shutdown };
}
