import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST } from "@/app/api/generate/route";
import { GET as getTraceRoute } from "@/app/api/traces/[traceId]/route";
import { GET as healthRoute } from "@/app/api/health/route";
import { jsonRequest, startEngineApp } from "../support/engine-app";
import { parseServerTiming } from "../support/server-timing";

/*
 * End to end: POST /api/generate on the real engine (the shipped pair, or SPECLENS_TARGET_DIR /
 * SPECLENS_DRAFT_DIR) with a real tracer provider and the SQLite processor; the trace id it returns
 * must read back from GET /api/traces/{id} with everything the engine emitted.
 */

let close: () => Promise<void>;
beforeAll(() => ({ close } = startEngineApp()));
afterAll(() => close());

const generate = (body: unknown) => POST(jsonRequest("/api/generate", body));

interface GenerateBody {
  trace_id: string;
  text: string;
  finish_reason: string;
  summary: { steps: number; drafted: number; accepted: number; acceptanceRate: number };
  models: { target: { model_id: string; sha256: string }; draft: { model_id: string; sha256: string } | null };
  tokens: { id: number; text: string; origin: string; prob: number; logprob: number; step: number }[];
  timings: { totalMs: number };
}

describe("POST /api/generate, traced end to end", () => {
  it.each(["draft-model", "ngram", "tree"] as const)("stores the %s generation it answers, step by step and token by token", async (proposer) => {
    const response = await generate({ prompt: "The jury said that the city", max_tokens: 24, proposer, seed: 3, k_max: 3 });
    expect(response.status).toBe(200);
    const out = (await response.json()) as GenerateBody;
    expect(out.trace_id).toMatch(/^[0-9a-f]{32}$/);
    // Server-Timing: the handler's phases, generate being the engine's own total from the body.
    const phases = parseServerTiming(response.headers.get("server-timing") ?? "");
    expect(Object.keys(phases)).toEqual(["auth", "parse", "prepare", "queue", "generate", "trace", "total"]);
    expect(phases.generate).toBeCloseTo(out.timings.totalMs, 1);

    const traceResponse = await getTraceRoute(new Request(`http://localhost/api/traces/${out.trace_id}`), { params: Promise.resolve({ traceId: out.trace_id }) });
    expect(traceResponse.status).toBe(200);
    const trace = (await traceResponse.json()) as {
      request: Record<string, unknown>;
      steps: { index: number; proposer: string; proposals: { tokens: number[] }[]; verification: { accepted: number; positions: unknown[] }; rollback: { target: { dropped: number } } }[];
      tokens: { position: number; id: number; text: string; origin: string; prob: number; logprob: number; step: number }[];
      params: { maxTokens: number; seed: number };
      config: { proposer: string; kMax: number };
    };
    expect(trace.request).toMatchObject({
      completion: out.text, finishReason: out.finish_reason, proposer, endpoint: "POST /api/generate",
      targetModelId: out.models.target.model_id, targetSha256: out.models.target.sha256,
      // The engine names a draft model only when the proposer used one (not for n-gram lookup).
      draftModelId: out.models.draft?.model_id ?? null, draftSha256: out.models.draft?.sha256 ?? null,
      steps: out.summary.steps, drafted: out.summary.drafted, accepted: out.summary.accepted, outputTokens: out.tokens.length,
      maxTokens: 24, seed: 3,
    });
    expect(trace.params).toMatchObject({ maxTokens: 24, seed: 3 });
    expect(trace.config).toMatchObject({ proposer, kMax: 3 });
    expect(trace.steps.map((s) => s.index)).toEqual(Array.from({ length: out.summary.steps }, (_, i) => i));
    expect(trace.steps.reduce((n, s) => n + s.verification.accepted, 0)).toBe(out.summary.accepted);
    // The stored tokens carry the response's fields, plus what the trace adds (draft probability, target choice).
    expect(trace.tokens).toMatchObject(out.tokens.map((t, position) => ({ position, ...t })));
    expect(new Set(trace.tokens.map((t) => t.origin)).size).toBeGreaterThan(0);
  });

  it("lists the loaded models and the exporter's counters in /api/health", async () => {
    const health = (await healthRoute().json()) as {
      models: { role: string; modelId: string }[];
      tracing: { status: string; exporter: { exported: number; dropped: number; failures: number; queued: number } };
    };
    expect(health.models.map((m) => m.role)).toEqual(["target", "draft"]);
    expect(health.models[0].modelId).toMatch(/@sha256:[0-9a-f]{12}$/);
    expect(health.tracing.status).toBe("ok");
    expect(health.tracing.exporter).toMatchObject({ dropped: 0, failures: 0, queued: 0 });
    expect(health.tracing.exporter.exported).toBeGreaterThan(3);
  });

  it.each([
    [{ max_tokens: 4 }, /^prompt:/],
    [{ prompt: "x", max_tokens: 0 }, /^max_tokens:/],
    [{ prompt: "x", temperature: -1 }, /^temperature:/],
    [{ prompt: "x", proposer: "magic" }, /^proposer:/],
    [{ prompt: "x", tree: { width: 0 } }, /^tree\.width:/],
    [{ prompt: "x", ngram: { min_n: 4, max_n: 2 } }, /^ngram\.min_n:/],
    [{ prompt: "x", config: "nightly" }, /^config:/],
    [{ prompt: "x", colour: "red" }, /colour/],
  ])("rejects %j with 400 naming the field", async (body, message) => {
    const response = await generate(body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(message);
  });

  it("streams start, one step event per speculative step, then done with the whole response", async () => {
    const response = await generate({ prompt: "The jury said that the city", max_tokens: 20, proposer: "draft-model", k_max: 4, stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const traceId = response.headers.get("x-speclens-trace-id");
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(Object.keys(parseServerTiming(response.headers.get("server-timing") ?? ""))).toEqual(["auth", "parse", "prepare", "start"]);
    const events = (await response.text()).trim().split("\n\n").map((block) => {
      const [event, data] = block.split("\n");
      return { event: event.replace("event: ", ""), data: JSON.parse(data.replace("data: ", "")) };
    });
    expect(events[0]).toMatchObject({ event: "start", data: { trace_id: traceId } });
    const done = events.at(-1)!;
    expect(done.event).toBe("done");
    const body = done.data as GenerateBody;
    expect(body.trace_id).toBe(traceId);
    const steps = events.slice(1, -1);
    expect(steps.every((e) => e.event === "step")).toBe(true);
    expect(steps.length).toBe(body.summary.steps);
    // The streamed tokens, in order, are the response's tokens.
    const streamed = steps.flatMap((e) => (e.data as { tokens: { id: number }[] }).tokens.map((t) => t.id));
    expect(streamed).toEqual(body.tokens.map((t) => t.id));
  });

  it("rejects a body that is not JSON", async () => {
    const response = await POST(new Request("http://localhost/api/generate", { method: "POST", body: "{" }));
    expect(response.status).toBe(400);
  });
});
