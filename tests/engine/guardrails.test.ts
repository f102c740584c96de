import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { context, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSteps } from "@/engine/generate";
import {
  DEFAULT_GUARDRAIL_CONFIG, FallbackMonitor, forbiddenOverride, parseGuardrailConfig, specPart, validateGuardrailConfig, vllmSpeculativeConfig,
} from "@/engine/guardrails";
import { A, traceGeneration } from "@/engine/telemetry";
import { DEFAULT_PARAMS, DEFAULT_SPEC_CONFIG, type GenerateResult, type StepRecord } from "@/engine/types";
import { probabilityScript, scriptedModel, scriptedModels } from "../support/scripted";

/*
 * The fallback rule inside the engine, on scripted models (tests/support/scripted.ts): the target
 * counts 1..14 in a cycle; the draft agrees for the first 6 generated tokens, then always guesses 15.
 * With k = 2 and greedy verification: steps 0 and 1 accept 2/2 each (+ bonus), every later step 0/2.
 * A window of 2 drafting steps with minAcceptance 0.5 measures 0.5 after step 2 (not below) and 0
 * after step 3: the rule must act at step 3 and no step after it may draft.
 */

const V = 16;
const PROMPT = [1, 2, 3];
const next = (last: number) => (last % 14) + 1;
const target = scriptedModel(V, probabilityScript(V, (ctx) => ({ [next(ctx[ctx.length - 1])]: 0.9 })), "scripted-target");
// Token 15 is never the target's choice (and 0, the EOS, never comes up).
const draft = scriptedModel(V, probabilityScript(V, (ctx) => (ctx.length - PROMPT.length < 6 ? { [next(ctx[ctx.length - 1])]: 0.9 } : { 15: 0.9 })), "scripted-draft");
const scriptedPair = () => scriptedModels(target, draft);
const params = { ...DEFAULT_PARAMS, maxTokens: 24 };
const config = { ...DEFAULT_SPEC_CONFIG, kMax: 2 };
const rule = { window: 2, minAcceptance: 0.5, cooldownSeconds: 0 };

async function run(gen: AsyncGenerator<StepRecord, GenerateResult>): Promise<{ steps: StepRecord[]; result: GenerateResult }> {
  const steps: StepRecord[] = [];
  for (;;) {
    const n = await gen.next();
    if (n.done) return { steps, result: n.value };
    steps.push(n.value);
  }
}

describe("FallbackMonitor", () => {
  it("measures acceptance over the last N drafting steps, ignores steps that drafted nothing, trips once", () => {
    const m = new FallbackMonitor({ window: 3, minAcceptance: 0.4, cooldownSeconds: 0 });
    expect(m.observe(0, 4, 1)).toBeNull(); // window not full yet
    expect(m.observe(1, 0, 0)).toBeNull(); // drafted nothing: not counted
    expect(m.observe(2, 4, 2)).toBeNull();
    expect(m.observe(3, 4, 2)).toBeNull(); // (1 + 2 + 2) / 12 = 0.417
    const acted = m.observe(4, 4, 0); // (2 + 2 + 0) / 12 = 0.333
    expect(acted).toMatchObject({ rule: "fallback", action: "speculation_off", step: 4, threshold: 0.4 });
    expect(acted!.measured).toBeCloseTo(4 / 12);
    expect(m.off).toBe(true);
    expect(m.observe(5, 4, 0)).toBeNull();
    expect(new FallbackMonitor(null).observe(0, 4, 0)).toBeNull();
  });
});

describe("the fallback rule in the generation loop", () => {
  it("switches speculation off at the step the window says, and the output stays the target's", async () => {
    const models = scriptedPair();
    const guarded = await run(generateSteps(models, PROMPT, params, config, undefined, { fallback: rule }));
    const acted = guarded.steps.filter((s) => s.guardrail);
    expect(acted).toHaveLength(1);
    expect(acted[0].index).toBe(3);
    expect(acted[0].guardrail).toMatchObject({ rule: "fallback", step: 3, measured: 0, threshold: 0.5 });
    expect(guarded.steps.slice(0, 4).map((s) => s.verify.accepted)).toEqual([2, 2, 0, 0]);
    for (const s of guarded.steps.slice(4)) {
      expect(s.k).toBe(0);
      expect(s.paths).toEqual([]);
    }

    // Without the rule the same request keeps drafting (and failing) to the end.
    const plain = await run(generateSteps(scriptedPair(), PROMPT, params, config));
    // (k shrinks only at the very end, where fewer tokens remain than k + 1.)
    expect(plain.steps.slice(4, -2).every((s) => s.k === 2 && s.paths.length === 1)).toBe(true);
    expect(plain.steps.some((s) => s.guardrail)).toBe(false);
    // Lossless either way: both emit exactly the target's own sequence.
    const expected: number[] = [];
    let last = PROMPT[PROMPT.length - 1];
    for (let i = 0; i < 24; i++) expected.push((last = next(last)));
    expect(guarded.result.tokens.map((t) => t.id)).toEqual(expected);
    expect(plain.result.tokens.map((t) => t.id)).toEqual(expected);
    expect(guarded.result.summary.drafted).toBe(4 * 2);
    expect(plain.result.summary.drafted).toBeGreaterThan(30);
  });
});

describe("the fallback rule in the trace", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it("puts a speclens.guardrail.fallback event on the request span and marks the step span", async () => {
    const models = scriptedPair();
    const stream = generateSteps(models, PROMPT, params, config, undefined, { fallback: rule });
    await run(traceGeneration(stream, {
      prompt: "t1 t2 t3", promptTokenIds: PROMPT, params, config, models: { target: models.target.id, draft: models.draft!.id }, configVersion: "7",
    }));
    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.attributes[A.prompt] !== undefined)!;
    const event = request.events.find((e) => e.name === "speclens.guardrail.fallback");
    expect(event?.attributes).toMatchObject({
      [A.guardrailRule]: "fallback", [A.guardrailAction]: "speculation_off", [A.guardrailStep]: 3, [A.guardrailMeasured]: 0, [A.guardrailThreshold]: 0.5,
    });
    const stepSpan = spans.find((s) => s.name === "speclens.step" && s.attributes[A.stepIndex] === 3)!;
    expect(stepSpan.attributes[A.guardrailRule]).toBe("fallback");
    expect(spans.filter((s) => s.name === "speclens.step" && s.attributes[A.guardrailRule] !== undefined)).toHaveLength(1);
  });
});

describe("the guardrail config schema", () => {
  it("accepts the defaults and fills what an older stored body lacks", () => {
    expect(validateGuardrailConfig(DEFAULT_GUARDRAIL_CONFIG)).toEqual({ ok: true, config: DEFAULT_GUARDRAIL_CONFIG });
    expect(parseGuardrailConfig({ proposer: "ngram" })).toEqual({ ...DEFAULT_GUARDRAIL_CONFIG, proposer: "ngram" });
    expect(specPart(DEFAULT_GUARDRAIL_CONFIG)).toEqual(DEFAULT_SPEC_CONFIG);
  });

  it("names every bad field by its path, policy and rules alike", () => {
    const bad = validateGuardrailConfig({
      ...DEFAULT_GUARDRAIL_CONFIG, kMax: 99, load: { maxRunning: -1 }, limits: { ...DEFAULT_GUARDRAIL_CONFIG.limits, maxTokens: 0 }, fallback: { window: 2, minAcceptance: 0.5 },
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.issues.map((i) => i.path).sort()).toEqual(["fallback.cooldownSeconds", "kMax", "limits.maxTokens", "load.maxRunning"]);
  });
});

describe("allowed overrides", () => {
  const limits = (allowed: "all" | "none" | string[], allowLossy: boolean) => ({ maxTokens: 100, timeBudgetMs: 0, overrides: { allowed, allowLossy } }) as never;
  const base = DEFAULT_SPEC_CONFIG;
  it("refuses a field outside the allowed list, and a lossy override where lossy is not allowed", () => {
    expect(forbiddenOverride(limits("all", true), ["verify"], base, { ...base, verify: "lossy" })).toBeNull();
    expect(forbiddenOverride(limits("none", true), ["k_max"], base, { ...base, kMax: 2 })).toMatchObject({ path: "k_max" });
    expect(forbiddenOverride(limits(["k_max"], true), ["k_max", "proposer"], base, base)).toMatchObject({ path: "proposer" });
    expect(forbiddenOverride(limits(["k_max"], true), ["k_max"], base, base)).toBeNull();
    expect(forbiddenOverride(limits("all", false), ["verify"], base, { ...base, verify: "lossy" })).toMatchObject({ path: "verify", message: /lossy/ });
    expect(forbiddenOverride(limits("all", false), ["verify"], base, { ...base, verify: "sampling" })).toBeNull();
    const lossyBase = { ...base, verify: "lossy" as const, lossyThreshold: 0.3 };
    expect(forbiddenOverride(limits("all", false), ["lossy_threshold"], lossyBase, { ...lossyBase, lossyThreshold: 0.1 })).toMatchObject({ path: "lossy_threshold" });
    expect(forbiddenOverride(limits("all", false), ["lossy_threshold"], lossyBase, { ...lossyBase, lossyThreshold: 0.5 })).toBeNull();
  });
});

describe("vLLM's --speculative-config", () => {
  it("maps method, num_speculative_tokens and prompt_lookup_max/min, and lists what does not map", () => {
    expect(vllmSpeculativeConfig({ ...DEFAULT_SPEC_CONFIG, proposer: "ngram", kMax: 5, ngram: { minN: 2, maxN: 3 } }, "d").json).toEqual({
      method: "ngram", num_speculative_tokens: 5, prompt_lookup_max: 3, prompt_lookup_min: 2,
    });
    expect(vllmSpeculativeConfig(DEFAULT_SPEC_CONFIG, "draft-2m").json).toEqual({ method: "draft_model", model: "draft-2m", num_speculative_tokens: 4 });
    expect(vllmSpeculativeConfig({ ...DEFAULT_SPEC_CONFIG, proposer: "off" }, "d").json).toBeNull();
    expect(vllmSpeculativeConfig({ ...DEFAULT_SPEC_CONFIG, verify: "lossy", adaptiveK: true }, "d").unmapped.join(" ")).toMatch(/adaptiveK.*lossy/);
  });
});
