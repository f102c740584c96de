import path from "node:path";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { trace } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, type OpenDatabase } from "@/db/client";
import { maskPieces, RedactingSpanProcessor, RedactionConfigError, redactionRulesFromEnv, redactRecords } from "@/db/tracing/redact";
import { fromReadableSpan } from "@/db/tracing/span-record";
import { SqliteSpanProcessor } from "@/db/tracing/sqlite-processor";
import { A, traceGeneration } from "@/engine/telemetry";
import type { GenerateResult, StepRecord } from "@/engine/types";
import { makeTempDir } from "../support/temp";
import { drain, FAKE_INFO, FAKE_RESULT, FAKE_STEPS } from "./helpers";

/*
 * Redaction before anything is written: the presets and custom patterns, masking on the joined text (a
 * match split across tokens, steps or the prompt boundary is masked in every piece), through the real
 * tracer into SQLite and an exporter beside it (what OTLP would send); token ids, origins and
 * probabilities are kept.
 */

const rules = redactionRulesFromEnv({ SPECLENS_REDACT: "email,digits" });

describe("masking", () => {
  it("masks a match split across pieces: the label where it starts, nothing of it elsewhere", () => {
    expect(maskPieces(["write to bo", "b@exam", "ple.com today"], rules)).toEqual(["write to [email]", "", " today"]);
    expect(maskPieces(["id 1234", "567 ok"], rules)).toEqual(["id [digits]", " ok"]);
    expect(maskPieces(["12345 is short"], rules)).toEqual(["12345 is short"]);
  });

  it("reads presets and custom patterns, and refuses bad settings by name", () => {
    const custom = redactionRulesFromEnv({ SPECLENS_REDACT_PATTERNS: '["secret-[a-z]+"]' });
    expect(maskPieces(["my secret-sauce"], custom)).toEqual(["my [redacted]"]);
    expect(() => redactionRulesFromEnv({ SPECLENS_REDACT: "emails" })).toThrow(RedactionConfigError);
    expect(() => redactionRulesFromEnv({ SPECLENS_REDACT_PATTERNS: "[" })).toThrow(/SPECLENS_REDACT_PATTERNS/);
    expect(() => redactionRulesFromEnv({ SPECLENS_REDACT_PATTERNS: '["(unclosed"]' })).toThrow(/not a valid regular expression/);
    expect(() => redactionRulesFromEnv({ SPECLENS_REDACT_PATTERNS: '["x*"]' })).toThrow(/empty string/);
  });
});

/** Two steps whose output holds an e-mail address split across them. */
const STEPS: StepRecord[] = [
  { ...FAKE_STEPS[0], textDelta: " mail bob@exam", emitted: FAKE_STEPS[0].emitted.map((t, i) => ({ ...t, text: [" mail", " bob@", "exam"][i] })) },
  { ...FAKE_STEPS[1], textDelta: "ple.org", emitted: FAKE_STEPS[1].emitted.map((t) => ({ ...t, text: "ple.org" })) },
];
async function* leakyStream(): AsyncGenerator<StepRecord, GenerateResult> {
  for (const step of STEPS) yield step;
  return { ...FAKE_RESULT, text: " mail bob@example.org", tokens: STEPS.flatMap((s) => s.emitted) };
}

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

function redactingFixture(): { database: OpenDatabase; memory: InMemorySpanExporter; sqlite: SqliteSpanProcessor } {
  const temp = makeTempDir("speclens-redact-");
  const database = openDatabase(path.join(temp.dir, "r.db"));
  const sqlite = new SqliteSpanProcessor({ database: () => database.sqlite, log: () => {} });
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "host.name": "node-a" }),
    spanLimits: { attributeCountLimit: 512 },
    spanProcessors: [new RedactingSpanProcessor(rules, [sqlite, new SimpleSpanProcessor(memory)])],
  });
  provider.register();
  cleanup = async () => {
    await provider.shutdown();
    trace.disable();
    database.sqlite.close();
    temp.cleanup();
  };
  return { database, memory, sqlite };
}

describe("the redacting span processor", () => {
  it("masks the prompt, the completion and every token piece before SQLite and the exporter see them; ids, origins, probabilities kept", async () => {
    const { database, memory, sqlite } = redactingFixture();
    let traceId = "";
    await drain(traceGeneration(leakyStream(), { ...FAKE_INFO, prompt: "call 0612345678 or mail" }, (s) => (traceId = s.spanContext().traceId)));
    await sqlite.forceFlush();
    const db = database.sqlite;

    const request = db.prepare("SELECT prompt, completion FROM requests WHERE trace_id = ?").get(traceId) as { prompt: string; completion: string };
    expect(request).toEqual({ prompt: "call [digits] or mail", completion: " mail [email]" });
    const tokens = db.prepare("SELECT token_id, text, origin, prob FROM tokens WHERE trace_id = ? ORDER BY step_index, offset").all(traceId) as { token_id: bigint; text: string; origin: string; prob: number }[];
    expect(tokens.map((t) => t.text)).toEqual([" mail", " [email]", "", ""]);
    expect(tokens.map((t) => Number(t.token_id))).toEqual(STEPS.flatMap((s) => s.emitted.map((e) => e.id)));
    expect(tokens.map((t) => t.origin)).toEqual(STEPS.flatMap((s) => s.emitted.map((e) => e.origin)));
    expect(tokens.map((t) => t.prob)).toEqual(STEPS.flatMap((s) => s.emitted.map((e) => e.prob)));

    const everything = JSON.stringify(db.prepare("SELECT attributes FROM spans").all()) + JSON.stringify(db.prepare("SELECT attributes FROM requests_inflight").all());
    expect(everything).not.toMatch(/0612345678|bob@|ple\.org|[^a-z.]exam[^a-z]/);
    const exported = JSON.stringify(memory.getFinishedSpans().map((s) => s.attributes));
    expect(memory.getFinishedSpans()).toHaveLength(3);
    expect(exported).not.toMatch(/0612345678|bob@|ple\.org|[^a-z.]exam[^a-z]/);
    expect(exported).toContain("[email]");
  });

  it("masks spans received over OTLP the same way", () => {
    const { memory } = redactingFixture();
    void memory;
    const tracer = trace.getTracer("speclens-test");
    const span = tracer.startSpan("text_completion t", { attributes: { [A.operation]: "text_completion", [A.prompt]: "x" } });
    span.end();
    const record = { ...fromReadableSpan(memory.getFinishedSpans()[0]), attributes: { [A.operation]: "text_completion", [A.prompt]: "mail alice@example.com", [A.completion]: " ok 99999999" } };
    const [masked] = redactRecords([record], rules);
    expect(masked.attributes[A.prompt]).toBe("mail [email]");
    expect(masked.attributes[A.completion]).toBe(" ok [digits]");
  });
});
