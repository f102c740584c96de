import { ProtoReader, ProtobufError, WIRE } from "./protobuf";
import { nodeOf, type AttributeMap, type AttributeValue, type SpanEventRecord, type SpanRecord } from "./span-record";

/*
 * OTLP/HTTP trace ingestion: decodes an ExportTraceServiceRequest, in protobuf or JSON, into the
 * same SpanRecords the local processor produces, so ingested traces fill the same rows. Decoding is
 * all-or-nothing: any malformed part throws OtlpError and nothing is written.
 *
 * Field numbers follow opentelemetry-proto (collector/trace/v1, trace/v1, common/v1, resource/v1).
 */

export class OtlpError extends Error {}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

/** OTLP's SpanKind counts UNSPECIFIED = 0, INTERNAL = 1 ...; the OTel API starts at INTERNAL = 0. */
const toApiKind = (otlpKind: number) => Math.max(0, otlpKind - 1);

const KIND_NAMES = ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"];
const STATUS_NAMES = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

interface PartialSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: number;
  startTimeNs: bigint;
  endTimeNs: bigint;
  statusCode: number;
  statusMessage: string | null;
  attributes: AttributeMap;
  events: SpanEventRecord[];
}

function finish(span: PartialSpan, where: string, resource: AttributeMap, scopeName: string | null): SpanRecord {
  if (!TRACE_ID.test(span.traceId) || /^0+$/.test(span.traceId)) throw new OtlpError(`${where}.traceId: expected 16 non-zero bytes`);
  if (!SPAN_ID.test(span.spanId) || /^0+$/.test(span.spanId)) throw new OtlpError(`${where}.spanId: expected 8 non-zero bytes`);
  if (span.parentSpanId !== null && !SPAN_ID.test(span.parentSpanId)) throw new OtlpError(`${where}.parentSpanId: expected 8 bytes`);
  if (span.name === "") throw new OtlpError(`${where}.name: required`);
  if (span.startTimeNs <= 0n || span.endTimeNs < span.startTimeNs) throw new OtlpError(`${where}: start/end time missing or end before start`);
  if (span.statusCode < 0 || span.statusCode > 2) throw new OtlpError(`${where}.status.code: ${span.statusCode} is not 0, 1 or 2`);
  return { ...span, resource, scopeName, node: nodeOf(resource, "unknown") };
}

// ---------------------------------------------------------------- protobuf

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

function safeInt(value: bigint): AttributeValue {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

function protoAnyValue(r: ProtoReader): AttributeValue {
  let value: AttributeValue = null;
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: r.expect(field, wire, WIRE.bytes); value = r.string(); break;
      case 2: r.expect(field, wire, WIRE.varint); value = r.varint() !== 0n; break;
      case 3: r.expect(field, wire, WIRE.varint); value = safeInt(r.int64()); break;
      case 4: r.expect(field, wire, WIRE.fixed64); value = r.double(); break;
      case 5: { // ArrayValue { repeated AnyValue values = 1 }
        r.expect(field, wire, WIRE.bytes);
        const items: AttributeValue[] = [];
        const a = r.message();
        while (!a.atEnd()) {
          const t = a.tag();
          if (t.field === 1) { a.expect(1, t.wire, WIRE.bytes); items.push(protoAnyValue(a.message())); } else a.skip(t.wire);
        }
        value = items;
        break;
      }
      case 6: { // KeyValueList { repeated KeyValue values = 1 }
        r.expect(field, wire, WIRE.bytes);
        const kv = r.message();
        const map: AttributeMap = {};
        while (!kv.atEnd()) {
          const t = kv.tag();
          if (t.field === 1) { kv.expect(1, t.wire, WIRE.bytes); const [k, v] = protoKeyValue(kv.message()); map[k] = v; } else kv.skip(t.wire);
        }
        value = map;
        break;
      }
      case 7: r.expect(field, wire, WIRE.bytes); value = Buffer.from(r.bytes()).toString("base64"); break;
      default: r.skip(wire);
    }
  }
  return value;
}

function protoKeyValue(r: ProtoReader): [string, AttributeValue] {
  let key = "";
  let value: AttributeValue = null;
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1) { r.expect(field, wire, WIRE.bytes); key = r.string(); }
    else if (field === 2) { r.expect(field, wire, WIRE.bytes); value = protoAnyValue(r.message()); }
    else r.skip(wire);
  }
  if (key === "") throw new ProtobufError("attribute with an empty key");
  return [key, value];
}

function protoAttributesInto(map: AttributeMap, r: ProtoReader): void {
  const [k, v] = protoKeyValue(r);
  map[k] = v;
}

function protoEvent(r: ProtoReader): SpanEventRecord {
  const event: SpanEventRecord = { name: "", timeNs: 0n, attributes: {} };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1) { r.expect(field, wire, WIRE.fixed64); event.timeNs = r.fixed64(); }
    else if (field === 2) { r.expect(field, wire, WIRE.bytes); event.name = r.string(); }
    else if (field === 3) { r.expect(field, wire, WIRE.bytes); protoAttributesInto(event.attributes, r.message()); }
    else r.skip(wire);
  }
  return event;
}

function protoSpan(r: ProtoReader): PartialSpan {
  const span: PartialSpan = {
    traceId: "", spanId: "", parentSpanId: null, name: "", kind: 0, startTimeNs: 0n, endTimeNs: 0n,
    statusCode: 0, statusMessage: null, attributes: {}, events: [],
  };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: r.expect(field, wire, WIRE.bytes); span.traceId = hex(r.bytes()); break;
      case 2: r.expect(field, wire, WIRE.bytes); span.spanId = hex(r.bytes()); break;
      case 4: { r.expect(field, wire, WIRE.bytes); const p = r.bytes(); span.parentSpanId = p.length === 0 ? null : hex(p); break; }
      case 5: r.expect(field, wire, WIRE.bytes); span.name = r.string(); break;
      case 6: r.expect(field, wire, WIRE.varint); span.kind = toApiKind(Number(r.varint())); break;
      case 7: r.expect(field, wire, WIRE.fixed64); span.startTimeNs = r.fixed64(); break;
      case 8: r.expect(field, wire, WIRE.fixed64); span.endTimeNs = r.fixed64(); break;
      case 9: r.expect(field, wire, WIRE.bytes); protoAttributesInto(span.attributes, r.message()); break;
      case 11: r.expect(field, wire, WIRE.bytes); span.events.push(protoEvent(r.message())); break;
      case 15: { // Status { string message = 2; StatusCode code = 3 }
        r.expect(field, wire, WIRE.bytes);
        const s = r.message();
        while (!s.atEnd()) {
          const t = s.tag();
          if (t.field === 2) { s.expect(2, t.wire, WIRE.bytes); span.statusMessage = s.string() || null; }
          else if (t.field === 3) { s.expect(3, t.wire, WIRE.varint); span.statusCode = Number(s.varint()); }
          else s.skip(t.wire);
        }
        break;
      }
      default: r.skip(wire);
    }
  }
  return span;
}

/** Decodes a binary ExportTraceServiceRequest. */
export function decodeOtlpProtobuf(body: Uint8Array): SpanRecord[] {
  const out: SpanRecord[] = [];
  try {
    const root = new ProtoReader(body);
    let rs = 0;
    while (!root.atEnd()) {
      const { field, wire } = root.tag();
      if (field !== 1) { root.skip(wire); continue; }
      root.expect(field, wire, WIRE.bytes);
      const r = root.message();
      const resource: AttributeMap = {};
      const scoped: { scopeName: string | null; spans: PartialSpan[] }[] = [];
      while (!r.atEnd()) {
        const t = r.tag();
        if (t.field === 1) { // Resource { repeated KeyValue attributes = 1 }
          r.expect(1, t.wire, WIRE.bytes);
          const res = r.message();
          while (!res.atEnd()) {
            const u = res.tag();
            if (u.field === 1) { res.expect(1, u.wire, WIRE.bytes); protoAttributesInto(resource, res.message()); } else res.skip(u.wire);
          }
        } else if (t.field === 2) { // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2 }
          r.expect(2, t.wire, WIRE.bytes);
          const ss = r.message();
          const entry = { scopeName: null as string | null, spans: [] as PartialSpan[] };
          while (!ss.atEnd()) {
            const u = ss.tag();
            if (u.field === 1) {
              ss.expect(1, u.wire, WIRE.bytes);
              const scope = ss.message();
              while (!scope.atEnd()) {
                const v = scope.tag();
                if (v.field === 1) { scope.expect(1, v.wire, WIRE.bytes); entry.scopeName = scope.string(); } else scope.skip(v.wire);
              }
            } else if (u.field === 2) { ss.expect(2, u.wire, WIRE.bytes); entry.spans.push(protoSpan(ss.message())); }
            else ss.skip(u.wire);
          }
          scoped.push(entry);
        } else r.skip(t.wire);
      }
      scoped.forEach((s, si) => s.spans.forEach((span, i) => out.push(finish(span, `resourceSpans[${rs}].scopeSpans[${si}].spans[${i}]`, resource, s.scopeName))));
      rs += 1;
    }
  } catch (error) {
    if (error instanceof ProtobufError || error instanceof TypeError) throw new OtlpError(`malformed protobuf: ${error.message}`);
    throw error;
  }
  return out;
}

// ---------------------------------------------------------------- JSON

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function arrayAt(obj: Json, key: string, where: string): unknown[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpError(`${where}.${key}: expected an array`);
  return v;
}

/** OTLP/JSON ids are hex; protobuf's canonical JSON mapping would be base64, accepted too. */
function jsonId(v: unknown, bytes: number, where: string, optional = false): string | null {
  if ((v === undefined || v === "" || v === null) && optional) return null;
  if (typeof v !== "string") throw new OtlpError(`${where}: expected a hex string`);
  const lower = v.toLowerCase();
  if (lower.length === bytes * 2 && /^[0-9a-f]+$/.test(lower)) return lower;
  const decoded = Buffer.from(v, "base64");
  if (decoded.length === bytes && /^[A-Za-z0-9+/=_-]+$/.test(v)) return decoded.toString("hex");
  throw new OtlpError(`${where}: expected ${bytes * 2} hex characters`);
}

function jsonUint64(v: unknown, where: string): bigint {
  if (typeof v === "string" && /^\d{1,20}$/.test(v)) return BigInt(v);
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return BigInt(v);
  throw new OtlpError(`${where}: expected an unsigned integer (string or number)`);
}

function jsonEnum(v: unknown, names: string[], where: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < names.length) return v;
  if (typeof v === "string" && names.includes(v)) return names.indexOf(v);
  throw new OtlpError(`${where}: ${JSON.stringify(v)} is not a valid value`);
}

function jsonAnyValue(v: unknown, where: string): AttributeValue {
  if (!isObject(v)) throw new OtlpError(`${where}: expected an AnyValue object`);
  if ("stringValue" in v) {
    if (typeof v.stringValue !== "string") throw new OtlpError(`${where}.stringValue: expected a string`);
    return v.stringValue;
  }
  if ("boolValue" in v) {
    if (typeof v.boolValue !== "boolean") throw new OtlpError(`${where}.boolValue: expected a boolean`);
    return v.boolValue;
  }
  if ("intValue" in v) {
    const i = v.intValue;
    if (typeof i === "number" && Number.isInteger(i)) return i;
    if (typeof i === "string" && /^-?\d{1,20}$/.test(i)) return safeInt(BigInt(i));
    throw new OtlpError(`${where}.intValue: expected an integer`);
  }
  if ("doubleValue" in v) {
    const d = v.doubleValue;
    if (typeof d === "number") return d;
    if (d === "NaN" || d === "Infinity" || d === "-Infinity") return Number(d);
    throw new OtlpError(`${where}.doubleValue: expected a number`);
  }
  if ("arrayValue" in v) {
    if (!isObject(v.arrayValue)) throw new OtlpError(`${where}.arrayValue: expected an object`);
    return arrayAt(v.arrayValue, "values", `${where}.arrayValue`).map((item, i) => jsonAnyValue(item, `${where}.arrayValue.values[${i}]`));
  }
  if ("kvlistValue" in v) {
    if (!isObject(v.kvlistValue)) throw new OtlpError(`${where}.kvlistValue: expected an object`);
    return jsonAttributes(v.kvlistValue.values, `${where}.kvlistValue.values`);
  }
  if ("bytesValue" in v) {
    if (typeof v.bytesValue !== "string") throw new OtlpError(`${where}.bytesValue: expected base64`);
    return v.bytesValue;
  }
  return null;
}

function jsonAttributes(list: unknown, where: string): AttributeMap {
  const map: AttributeMap = {};
  if (list === undefined || list === null) return map;
  if (!Array.isArray(list)) throw new OtlpError(`${where}: expected an array`);
  list.forEach((kv, i) => {
    if (!isObject(kv) || typeof kv.key !== "string" || kv.key === "") throw new OtlpError(`${where}[${i}].key: expected a non-empty string`);
    map[kv.key] = kv.value === undefined ? null : jsonAnyValue(kv.value, `${where}[${i}].value`);
  });
  return map;
}

function jsonSpan(s: unknown, where: string): PartialSpan {
  if (!isObject(s)) throw new OtlpError(`${where}: expected an object`);
  const status = isObject(s.status) ? s.status : {};
  return {
    traceId: jsonId(s.traceId, 16, `${where}.traceId`)!,
    spanId: jsonId(s.spanId, 8, `${where}.spanId`)!,
    parentSpanId: jsonId(s.parentSpanId, 8, `${where}.parentSpanId`, true),
    name: typeof s.name === "string" ? s.name : "",
    kind: toApiKind(jsonEnum(s.kind, KIND_NAMES, `${where}.kind`)),
    startTimeNs: jsonUint64(s.startTimeUnixNano, `${where}.startTimeUnixNano`),
    endTimeNs: jsonUint64(s.endTimeUnixNano, `${where}.endTimeUnixNano`),
    statusCode: jsonEnum(status.code, STATUS_NAMES, `${where}.status.code`),
    statusMessage: typeof status.message === "string" && status.message !== "" ? status.message : null,
    attributes: jsonAttributes(s.attributes, `${where}.attributes`),
    events: arrayAt(s, "events", where).map((e, i) => {
      const w = `${where}.events[${i}]`;
      if (!isObject(e)) throw new OtlpError(`${w}: expected an object`);
      return { name: typeof e.name === "string" ? e.name : "", timeNs: jsonUint64(e.timeUnixNano, `${w}.timeUnixNano`), attributes: jsonAttributes(e.attributes, `${w}.attributes`) };
    }),
  };
}

/** Decodes an OTLP/JSON ExportTraceServiceRequest (already parsed from text). */
export function decodeOtlpJson(body: unknown): SpanRecord[] {
  if (!isObject(body)) throw new OtlpError("body: expected an ExportTraceServiceRequest object");
  const out: SpanRecord[] = [];
  arrayAt(body, "resourceSpans", "body").forEach((rs, r) => {
    const where = `resourceSpans[${r}]`;
    if (!isObject(rs)) throw new OtlpError(`${where}: expected an object`);
    const resource = jsonAttributes(isObject(rs.resource) ? rs.resource.attributes : undefined, `${where}.resource.attributes`);
    arrayAt(rs, "scopeSpans", where).forEach((ss, si) => {
      const w = `${where}.scopeSpans[${si}]`;
      if (!isObject(ss)) throw new OtlpError(`${w}: expected an object`);
      const scopeName = isObject(ss.scope) && typeof ss.scope.name === "string" ? ss.scope.name : null;
      arrayAt(ss, "spans", w).forEach((s, i) => out.push(finish(jsonSpan(s, `${w}.spans[${i}]`), `${w}.spans[${i}]`, resource, scopeName)));
    });
  });
  return out;
}
