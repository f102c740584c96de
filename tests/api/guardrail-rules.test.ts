import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { clearCooldowns } from "@/app/_lib/guardrails/cooldown";
import { admissionQueue } from "@/app/_lib/serving/limits";
import { GET as metricsRoute } from "@/app/api/metrics/route";
import { POST as generateRoute } from "@/app/api/generate/route";
import { GET as traceRoute } from "@/app/api/traces/[traceId]/route";
import { POST as chatRoute } from "@/app/v1/chat/completions/route";
import { POST as completionsRoute } from "@/app/v1/completions/route";
import { getDb, getDatabase } from "@/db/client";
import { versionFigures } from "@/db/queries/config-figures";
import { createConfigVersion, moveConfigLabel } from "@/db/queries/configs";
import { listGuardrailEvents } from "@/db/queries/guardrail-events";
import { DEFAULT_GUARDRAIL_CONFIG, type GuardrailConfig } from "@/engine/guardrails";
import { jsonRequest, startEngineApp, type EngineApp } from "../support/engine-app";
import { heldoutPrompts } from "../support/models";

/*
 * The guardrail rules on the real engine (the shipped model pair), through the route handlers, with
 * every trace written to SQLite: fallback (and its cooldown), load, max_tokens cap, forbidden
 * overrides, and the version fixed at admission while its label moves.
 */

let app: EngineApp;
beforeAll(() => {
  app = startEngineApp();
});
afterAll(() => app.close());
beforeEach(() => clearCooldowns());

const PROMPT = heldoutPrompts(1)[0];
const version = (patch: Partial<GuardrailConfig>, message: string) => createConfigVersion(getDb(), { ...DEFAULT_GUARDRAIL_CONFIG, ...patch }, "test", message);
const generate = (body: Record<string, unknown>) => generateRoute(jsonRequest("/api/generate", { prompt: PROMPT, ...body }));

interface GenerateOut { trace_id: string; config_version: number; text: string; summary: { drafted: number; steps: number }; usage: { completion_tokens: number } }
interface TraceOut {
  request: { configVersion: string; proposer: string };
  config: { proposer: string; kMax: number };
  steps: { index: number; proposals: { tokens: number[] }[]; verification: { accepted: number } }[];
}
const trace = async (id: string) => (await (await traceRoute(new Request(`http://localhost/api/traces/${id}`), { params: Promise.resolve({ traceId: id }) })).json()) as TraceOut;
const counts = () => {
  const sqlite = getDatabase().sqlite;
  return ["requests", "spans", "config_versions", "config_audit"].map((t) => Number((sqlite.prepare(`select count(*) n from ${t}`).get() as { n: bigint }).n));
};
const metricValue = async (rule: string, action: string) => {
  const text = await (await metricsRoute(new Request("http://localhost/metrics"))).text();
  const line = text.split("\n").find((l) => l.startsWith(`speclens_guardrail_actions_total{rule="${rule}",action="${action}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
};

describe("the fallback rule on the shipped pair", () => {
  it("switches speculation off at the first step whose window misses the threshold, traced and counted", async () => {
    // Window 1, threshold 1: the rule acts at the first drafting step with any rejection.
    const v = version({ fallback: { window: 1, minAcceptance: 1, cooldownSeconds: 0 } }, "strict fallback");
    const before = await metricValue("fallback", "speculation_off");
    const res = await generate({ config: v, max_tokens: 48, k_max: 4 });
    expect(res.status).toBe(200);
    const out = (await res.json()) as GenerateOut;
    const t = await trace(out.trace_id);
    const firstMiss = t.steps.find((s) => s.proposals.length > 0 && s.verification.accepted < s.proposals[0].tokens.length)!;
    expect(firstMiss).toBeDefined();
    const events = listGuardrailEvents(getDb(), out.trace_id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ rule: "fallback", action: "speculation_off", step: firstMiss.index, threshold: 1 });
    expect(events[0].measured).toBeLessThan(1);
    // Drafting before and at that step, none after.
    expect(t.steps.slice(0, firstMiss.index + 1).every((s) => s.proposals.length > 0)).toBe(true);
    expect(t.steps.slice(firstMiss.index + 1).every((s) => s.proposals.length === 0)).toBe(true);
    expect(t.steps.length).toBeGreaterThan(firstMiss.index + 1);
    expect(await metricValue("fallback", "speculation_off")).toBe(before + 1);
    expect(versionFigures(getDb(), v).get(v)).toMatchObject({ requests: 1, ruleActions: 1 });

    // Lossless: the output is the one the target alone gives.
    const off = (await (await generate({ config: v, max_tokens: 48, proposer: "off" })).json()) as GenerateOut;
    expect(out.text).toBe(off.text);
  });

  it("cools the version down: new requests of it run without speculation for the cooldown", async () => {
    const v = version({ fallback: { window: 1, minAcceptance: 1, cooldownSeconds: 60 } }, "fallback with cooldown");
    const first = (await (await generate({ config: v, max_tokens: 32 })).json()) as GenerateOut;
    expect(listGuardrailEvents(getDb(), first.trace_id).map((e) => e.rule)).toEqual(["fallback"]);
    const second = (await (await generate({ config: v, max_tokens: 32 })).json()) as GenerateOut;
    expect(second.summary.drafted).toBe(0);
    expect((await trace(second.trace_id)).request.proposer).toBe("off");
    const [cool] = listGuardrailEvents(getDb(), second.trace_id);
    expect(cool).toMatchObject({ rule: "cooldown", action: "speculation_off", step: null, threshold: 60 });
    expect(cool.measured).toBeGreaterThan(50);
    // Other versions are not affected.
    const other = (await (await generate({ max_tokens: 16 })).json()) as GenerateOut;
    expect(other.summary.drafted).toBeGreaterThan(0);
  });
});

describe("the load rule", () => {
  it("runs a request admitted while more than N are in flight without speculation, decided at admission", async () => {
    const v = version({ load: { maxRunning: 0 } }, "no speculation under any load");
    const [a, b] = await Promise.all([generate({ config: v, max_tokens: 24 }), generate({ config: v, max_tokens: 24 })]);
    const outs = [(await a.json()) as GenerateOut, (await b.json()) as GenerateOut];
    const events = outs.map((o) => listGuardrailEvents(getDb(), o.trace_id));
    const loaded = outs.filter((_, i) => events[i].length > 0);
    const alone = outs.filter((_, i) => events[i].length === 0);
    expect(loaded).toHaveLength(1);
    expect(alone).toHaveLength(1);
    expect(events.flat()[0]).toMatchObject({ rule: "load", action: "speculation_off", step: null, measured: 1, threshold: 0 });
    expect(loaded[0].summary.drafted).toBe(0);
    expect(alone[0].summary.drafted).toBeGreaterThan(0);
    expect(loaded[0].text).toBe(alone[0].text);
  });
});

describe("limits and overrides", () => {
  it("refuses a lossy override under a production version that forbids it: 403 naming the field, nothing run", async () => {
    const v = version({ limits: { maxTokens: 64, timeBudgetMs: 0, overrides: { allowed: "all", allowLossy: false } } }, "no lossy overrides");
    moveConfigLabel(getDb(), { label: "production", version: v, actor: "test" });
    const before = counts();
    const refusedBefore = await metricValue("overrides", "refused");
    const res = await generate({ verify: "lossy", max_tokens: 8 });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { param: "verify", code: "override_not_allowed" } });
    const openai = await completionsRoute(jsonRequest("/v1/completions", { model: "speclens-brown-20m", prompt: PROMPT, max_tokens: 8, speclens: { overrides: { verify: "lossy" } } }));
    expect(openai.status).toBe(403);
    expect(await openai.json()).toMatchObject({ error: { param: "speclens.overrides.verify", code: "override_not_allowed" } });
    expect(counts()).toEqual(before);
    expect(await metricValue("overrides", "refused")).toBe(refusedBefore + 2);
    // Non-lossy overrides still pass.
    expect((await generate({ k_max: 2, max_tokens: 8 })).status).toBe(200);
    moveConfigLabel(getDb(), { label: "production", version: 1, actor: "test" });
  });

  it("refuses overrides outside the allowed list", async () => {
    const v = version({ limits: { maxTokens: 64, timeBudgetMs: 0, overrides: { allowed: ["k_max"], allowLossy: true } } }, "only k_max");
    expect((await generate({ config: v, k_max: 2, max_tokens: 8 })).status).toBe(200);
    const res = await generate({ config: v, proposer: "ngram", max_tokens: 8 });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("proposer");
  });

  it("caps max_tokens: above the cap is a 400 naming the field; without one, the cap bounds the default", async () => {
    const v = version({ limits: { maxTokens: 8, timeBudgetMs: 0, overrides: { allowed: "all", allowLossy: true } } }, "short answers");
    const before = counts();
    const res = await generate({ config: v, max_tokens: 9 });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { param: "max_tokens", code: "max_tokens_above_cap" } });
    const chat = await chatRoute(jsonRequest("/v1/chat/completions", { model: "speclens-brown-20m", messages: [{ role: "user", content: "hi" }], max_completion_tokens: 50, speclens: { config: v } }));
    expect(chat.status).toBe(400);
    expect(((await chat.json()) as { error: { param: string } }).error.param).toBe("max_completion_tokens");
    expect(counts()).toEqual(before);
    const uncapped = await chatRoute(jsonRequest("/v1/chat/completions", { model: "speclens-brown-20m", messages: [{ role: "user", content: "Tell me about the city" }], speclens: { config: v }, ignore_eos: true }));
    expect(uncapped.status).toBe(200);
    expect(((await uncapped.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(8);
  });
});

describe("the time budget cap", () => {
  it("caps a longer budget at the version's and records it on the trace", async () => {
    const v = version({ limits: { maxTokens: 2048, timeBudgetMs: 1, overrides: { allowed: "all", allowLossy: true } } }, "1 ms budget");
    const out = (await (await generate({ config: v, max_tokens: 64, time_budget_ms: 60_000, ignore_eos: true })).json()) as GenerateOut & { finish_reason: string };
    expect(out.finish_reason).toBe("time_budget");
    expect(out.usage.completion_tokens).toBeLessThan(64);
    expect(listGuardrailEvents(getDb(), out.trace_id)).toEqual([
      expect.objectContaining({ rule: "limits", action: "capped", step: null, measured: 60_000, threshold: 1 }),
    ]);
  });
});

describe("the version is fixed at admission", () => {
  it("a label moved while a request runs does not change that request; the next one runs under the new version", async () => {
    const a = version({ kMax: 2 }, "canary A");
    const b = version({ kMax: 5, proposer: "ngram" }, "canary B");
    moveConfigLabel(getDb(), { label: "canary", version: a, actor: "test" });
    const pending = generate({ config: "canary", max_tokens: 96, ignore_eos: true });
    // Move the label once the request holds its slot (is running).
    while (admissionQueue().stats().running === 0) await new Promise((r) => setTimeout(r, 1));
    moveConfigLabel(getDb(), { label: "canary", version: b, actor: "test" });
    const out = (await (await pending).json()) as GenerateOut;
    expect(out.config_version).toBe(a);
    const t = await trace(out.trace_id);
    expect(t.request.configVersion).toBe(String(a));
    expect(t.config).toMatchObject({ proposer: "draft-model", kMax: 2 });
    expect(t.steps.every((s) => s.proposals.every((p) => p.tokens.length <= 2))).toBe(true);
    const next = (await (await generate({ config: "canary", max_tokens: 8 })).json()) as GenerateOut;
    expect(next.config_version).toBe(b);
    expect((await trace(next.trace_id)).config).toMatchObject({ proposer: "ngram", kMax: 5 });
  });
});
