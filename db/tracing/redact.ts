import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { A, STEP_SPAN_NAME } from "@/engine";
import type { AttributeMap, SpanRecord } from "./span-record";

/*
 * Redaction: prompt and output text masked by regular expressions before anything is written or
 * exported. Configured by
 *   SPECLENS_REDACT           comma-separated presets: email (-> [email]), digits (runs of 6+ digits -> [digits])
 *   SPECLENS_REDACT_PATTERNS  custom regular expressions (-> [redacted]): a JSON array of strings, or one pattern
 * A bad setting stops the server at start, naming it (RedactionConfigError).
 *
 * What is masked: the prompt, the completion, the stop sequences, every emitted token's text and every
 * step's text delta. Masking
 * runs on the joined text (prompt + every token of every step), so an e-mail address split across
 * tokens, across steps, or across the prompt/output boundary is masked in every piece: the token where a
 * match starts shows the label, the other pieces of that match become empty. Token ids, origins,
 * probabilities and timings are kept: the trace stays useful for speculative-decoding analysis.
 *
 * To see a whole output before masking it, the step spans of a request are held until the request span
 * ends, then released, masked, to the SQLite processor and the OTLP exporter alike. The price: when the
 * process dies mid-request, that request comes back `interrupted` without its steps.
 */

export interface Rule {
  pattern: RegExp; // always global
  label: string;
}

export class RedactionConfigError extends Error {}

const PRESETS: Record<string, Rule> = {
  email: { pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, label: "[email]" },
  digits: { pattern: /\d{6,}/g, label: "[digits]" },
};

export function redactionRulesFromEnv(env: Record<string, string | undefined> = process.env): Rule[] {
  const rules: Rule[] = [];
  for (const name of (env.SPECLENS_REDACT ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    const preset = PRESETS[name];
    if (!preset) throw new RedactionConfigError(`SPECLENS_REDACT: unknown preset "${name}" (expected ${Object.keys(PRESETS).join(", ")})`);
    rules.push(preset);
  }
  const raw = env.SPECLENS_REDACT_PATTERNS?.trim();
  if (raw) {
    let sources: unknown;
    try {
      sources = raw.startsWith("[") ? JSON.parse(raw) : [raw];
    } catch (error) {
      throw new RedactionConfigError(`SPECLENS_REDACT_PATTERNS: not a JSON array of strings (${(error as Error).message})`);
    }
    if (!Array.isArray(sources) || !sources.every((s) => typeof s === "string" && s !== "")) {
      throw new RedactionConfigError("SPECLENS_REDACT_PATTERNS: expected a JSON array of non-empty strings");
    }
    for (const source of sources as string[]) {
      let pattern: RegExp;
      try {
        pattern = new RegExp(source, "g");
      } catch (error) {
        throw new RedactionConfigError(`SPECLENS_REDACT_PATTERNS: ${JSON.stringify(source)} is not a valid regular expression (${(error as Error).message})`);
      }
      if (pattern.test("")) throw new RedactionConfigError(`SPECLENS_REDACT_PATTERNS: ${JSON.stringify(source)} matches the empty string`);
      rules.push({ pattern, label: "[redacted]" });
    }
  }
  return rules;
}

/** Every match of every rule as [start, end, label], earliest first, overlaps merged (the first rule's label wins). */
function matches(text: string, rules: Rule[]): [number, number, string][] {
  const found: [number, number, string][] = [];
  for (const rule of rules) {
    rule.pattern.lastIndex = 0;
    for (const m of text.matchAll(rule.pattern)) if (m[0].length > 0) found.push([m.index, m.index + m[0].length, rule.label]);
  }
  found.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: [number, number, string][] = [];
  for (const m of found) {
    const last = merged[merged.length - 1];
    if (last && m[0] < last[1]) last[1] = Math.max(last[1], m[1]);
    else merged.push([...m]);
  }
  return merged;
}

/**
 * Masks a text made of pieces (prompt, then token texts), returning each piece masked: characters inside
 * a match are removed, and the piece where a match starts gets its label at that point.
 */
export function maskPieces(pieces: string[], rules: Rule[]): string[] {
  const joined = pieces.join("");
  const found = matches(joined, rules);
  if (found.length === 0) return pieces;
  const out: string[] = [];
  let offset = 0;
  for (const piece of pieces) {
    const start = offset;
    const end = offset + piece.length;
    offset = end;
    let result = "";
    let at = start;
    for (const [mStart, mEnd, label] of found) {
      if (mEnd <= start || mStart >= end) continue;
      if (mStart > at) result += joined.slice(at, mStart);
      if (mStart >= start) result += label;
      at = Math.min(mEnd, end);
    }
    out.push(result + joined.slice(at, end));
  }
  return out;
}

export function maskText(text: string, rules: Rule[]): string {
  return maskPieces([text], rules)[0];
}

const strings = (value: unknown): string[] | null => (Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : null);

/**
 * Masks one request's attributes and its steps' attributes together (new objects; the inputs are not
 * changed). Steps must be in step order.
 */
export function redactGroup(request: AttributeMap | null, steps: AttributeMap[], rules: Rule[]): { request: AttributeMap | null; steps: AttributeMap[] } {
  const prompt = typeof request?.[A.prompt] === "string" ? (request[A.prompt] as string) : "";
  const stepTexts = steps.map((s) => strings(s[A.emittedTexts]) ?? []);
  // Prompt + every token: one text, so matches across tokens, steps and the prompt boundary are found.
  const masked = maskPieces([prompt, ...stepTexts.flat()], rules);
  // The steps' text deltas (the decoded output, step by step) joined with the prompt the same way.
  const deltas = maskPieces([prompt, ...steps.map((s) => (typeof s[A.textDelta] === "string" ? (s[A.textDelta] as string) : ""))], rules);
  let cursor = 1;
  const maskedSteps = steps.map((s, i) => {
    const texts = masked.slice(cursor, cursor + stepTexts[i].length);
    cursor += stepTexts[i].length;
    const out: AttributeMap = A.emittedTexts in s ? { ...s, [A.emittedTexts]: texts } : { ...s };
    if (typeof s[A.textDelta] === "string") out[A.textDelta] = deltas[i + 1];
    return out;
  });
  let maskedRequest: AttributeMap | null = null;
  if (request) {
    maskedRequest = { ...request };
    if (typeof request[A.prompt] === "string") maskedRequest[A.prompt] = masked[0];
    if (typeof request[A.completion] === "string") {
      // The completion is the decoded output, close to but not always the joined token texts: mask it
      // joined with the prompt as well.
      maskedRequest[A.completion] = maskPieces([prompt, request[A.completion] as string], rules)[1];
    }
    const stops = strings(request[A.stopSequences]);
    if (stops) maskedRequest[A.stopSequences] = stops.map((s) => maskText(s, rules));
  }
  return { request: maskedRequest, steps: maskedSteps };
}

/** Spans received over OTLP: masked per trace within the payload, as local spans are. */
export function redactRecords(records: SpanRecord[], rules: Rule[]): SpanRecord[] {
  if (rules.length === 0) return records;
  const byTrace = new Map<string, SpanRecord[]>();
  for (const r of records) byTrace.set(r.traceId, [...(byTrace.get(r.traceId) ?? []), r]);
  const out = new Map<SpanRecord, SpanRecord>();
  for (const group of byTrace.values()) {
    const request = group.find((r) => r.name !== STEP_SPAN_NAME && A.prompt in r.attributes) ?? null;
    const steps = group.filter((r) => r.name === STEP_SPAN_NAME).sort((a, b) => Number(a.attributes[A.stepIndex] ?? 0) - Number(b.attributes[A.stepIndex] ?? 0));
    const masked = redactGroup(request?.attributes ?? null, steps.map((s) => s.attributes), rules);
    if (request) out.set(request, { ...request, attributes: masked.request! });
    steps.forEach((s, i) => out.set(s, { ...s, attributes: masked.steps[i] }));
  }
  return records.map((r) => out.get(r) ?? r);
}

/** A finished span with other attributes (everything else read through to the original). */
function withAttributes(span: ReadableSpan, attributes: AttributeMap): ReadableSpan {
  return Object.create(span, { attributes: { value: attributes, enumerable: true } }) as ReadableSpan;
}

/**
 * The span processor in front of the exporters: masks the prompt as the request span starts (so the
 * in-flight marker holds no clear text), holds each request's step spans until the request ends, masks
 * the group and hands it on.
 */
export class RedactingSpanProcessor implements SpanProcessor {
  private readonly held = new Map<string, ReadableSpan[]>();

  constructor(private readonly rules: Rule[], private readonly next: SpanProcessor[]) {}

  onStart(span: Span, parentContext: Context): void {
    const prompt = span.attributes[A.prompt];
    if (typeof prompt === "string") span.setAttribute(A.prompt, maskText(prompt, this.rules));
    const stops = strings(span.attributes[A.stopSequences]);
    if (stops) span.setAttribute(A.stopSequences, stops.map((s) => maskText(s, this.rules)));
    for (const p of this.next) p.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    const traceId = span.spanContext().traceId;
    if (span.name === STEP_SPAN_NAME) {
      this.held.set(traceId, [...(this.held.get(traceId) ?? []), span]);
      return;
    }
    const steps = this.held.get(traceId) ?? [];
    this.held.delete(traceId);
    const isRequest = typeof span.attributes[A.prompt] === "string";
    if (!isRequest && steps.length === 0) {
      this.forward(span);
      return;
    }
    steps.sort((a, b) => Number(a.attributes[A.stepIndex] ?? 0) - Number(b.attributes[A.stepIndex] ?? 0));
    const masked = redactGroup(isRequest ? (span.attributes as AttributeMap) : null, steps.map((s) => s.attributes as AttributeMap), this.rules);
    steps.forEach((s, i) => this.forward(withAttributes(s, masked.steps[i])));
    this.forward(masked.request ? withAttributes(span, masked.request) : span);
  }

  private forward(span: ReadableSpan): void {
    for (const p of this.next) p.onEnd(span);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.next.map((p) => p.forceFlush()));
  }

  async shutdown(): Promise<void> {
    // Steps of requests that never ended are released masked on their own rather than lost.
    for (const [traceId, steps] of this.held) {
      this.held.delete(traceId);
      const masked = redactGroup(null, steps.map((s) => s.attributes as AttributeMap), this.rules);
      steps.forEach((s, i) => this.forward(withAttributes(s, masked.steps[i])));
    }
    await Promise.all(this.next.map((p) => p.shutdown()));
  }
}
