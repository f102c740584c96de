import { hostname } from "node:os";
import type { HrTime } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

/**
 * A finished span in one plain shape, whichever way it arrived: from this process's tracer provider
 * (fromReadableSpan) or from another node over OTLP (db/tracing/otlp.ts). Everything downstream (raw
 * rows, derived rows) is written from this shape, which is what makes ingested traces
 * indistinguishable from local ones.
 */
export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };
export type AttributeMap = Record<string, AttributeValue>;

export interface SpanEventRecord {
  name: string;
  timeNs: bigint;
  attributes: AttributeMap;
}

export interface SpanRecord {
  traceId: string; // 32 lowercase hex
  spanId: string; // 16 lowercase hex
  parentSpanId: string | null;
  name: string;
  kind: number; // OTel SpanKind, 0..4 (API numbering: internal = 0)
  startTimeNs: bigint;
  endTimeNs: bigint;
  statusCode: number; // 0 unset, 1 ok, 2 error
  statusMessage: string | null;
  attributes: AttributeMap;
  events: SpanEventRecord[];
  resource: AttributeMap;
  scopeName: string | null;
  node: string;
}

/** HrTime [seconds, nanoseconds] to integer ns, exactly (no double rounding). */
export function hrTimeToNs(time: HrTime): bigint {
  return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);
}

/** The node a span came from: the resource's host.name, else service.instance.id, else the fallback. */
export function nodeOf(resource: AttributeMap, fallback: string = hostname()): string {
  for (const key of ["host.name", "service.instance.id"]) {
    const value = resource[key];
    if (typeof value === "string" && value !== "") return value;
  }
  return fallback;
}

function copyAttributes(attrs: Readonly<Record<string, unknown>>): AttributeMap {
  const out: AttributeMap = {};
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined) out[key] = value as AttributeValue;
  }
  return out;
}

// The SDK shares one Resource between all spans of a provider: convert it once, keeping its identity
// (the store caches its JSON by object).
const resources = new WeakMap<object, { attributes: AttributeMap; node: string }>();
function resourceOf(span: ReadableSpan): { attributes: AttributeMap; node: string } {
  let entry = resources.get(span.resource);
  if (!entry) {
    const attributes = copyAttributes(span.resource.attributes);
    entry = { attributes, node: nodeOf(attributes) };
    resources.set(span.resource, entry);
  }
  return entry;
}

export function fromReadableSpan(span: ReadableSpan): SpanRecord {
  const context = span.spanContext();
  const resource = resourceOf(span);
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    kind: span.kind,
    startTimeNs: hrTimeToNs(span.startTime),
    endTimeNs: hrTimeToNs(span.endTime),
    statusCode: span.status.code,
    statusMessage: span.status.message ?? null,
    // A finished span is immutable, so its attributes object is used as is, without a copy.
    attributes: span.attributes as AttributeMap,
    events: span.events.map((e) => ({ name: e.name, timeNs: hrTimeToNs(e.time), attributes: copyAttributes(e.attributes ?? {}) })),
    resource: resource.attributes,
    scopeName: span.instrumentationScope.name ?? null,
    node: resource.node,
  };
}
