import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type RunningApp } from "../../tools/app-process";
import { parseServerTiming } from "../support/server-timing";
import { makeTempDir } from "../support/temp";

/*
 * The OpenAI-compatible API against the running production server, driven by the official `openai`
 * client exactly as an application would use it. The server runs with one engine slot and one waiting
 * place, so that a full queue can be produced on purpose.
 */

let temp: ReturnType<typeof makeTempDir>;
let app: RunningApp;
let client: OpenAI;
let model: string;

beforeAll(async () => {
  temp = makeTempDir("speclens-openai-");
  app = await startApp(path.join(temp.dir, "speclens.db"), { SPECLENS_MAX_RUNNING: "1", SPECLENS_MAX_QUEUE: "1", SPECLENS_THREADS: "1" });
  client = new OpenAI({ baseURL: `${app.baseUrl}/v1`, apiKey: "unused", maxRetries: 0 });
  model = (await client.models.list()).data[0].id;
});

afterAll(async () => {
  await app?.stop();
  temp?.cleanup();
});

interface SpeclensSummary {
  trace_id: string;
  steps: number;
  config_version: number;
  proposer: string;
  drafted: number;
  accepted: number;
  acceptance_rate: number;
  mean_acceptance_length: number;
}

interface StoredTrace {
  request: { endpoint: string; operation: string; proposer: string; configVersion: string; outputTokens: number; completion: string; cancelled: number; finishReason: string };
  tokens: unknown[];
}

async function storedTrace(traceId: string): Promise<StoredTrace> {
  const response = await fetch(`${app.baseUrl}/api/traces/${traceId}`);
  expect(response.status).toBe(200);
  return (await response.json()) as StoredTrace;
}

const PROMPT = "The jury said that the city";

/** vLLM's extensions and ours ride in the body beside OpenAI's fields, as an application would send them. */
type Extensions = { ignore_eos?: boolean; min_tokens?: number; speclens?: { config?: string | number; overrides?: Record<string, unknown> } };
type CompletionBody = OpenAI.CompletionCreateParamsNonStreaming & Extensions;

describe("the openai client against SpecLens", () => {
  it("lists the served model with its draft", async () => {
    const models = await client.models.list();
    expect(models.data).toHaveLength(1);
    const served = models.data[0] as OpenAI.Models.Model & { speclens: { model_id: string; draft: { model_id: string } | null } };
    expect(served.object).toBe("model");
    expect(served.speclens.model_id).toMatch(/@sha256:[0-9a-f]{12}$/);
    expect(served.speclens.draft?.model_id).toMatch(/@sha256:[0-9a-f]{12}$/);
    expect((await client.models.retrieve(served.speclens.model_id)).id).toBe(served.id);
  });

  it("completes text, and the trace behind it is stored under the id in the header", async () => {
    const body: CompletionBody = { model, prompt: PROMPT, max_tokens: 24, temperature: 0, ignore_eos: true, speclens: { overrides: { proposer: "draft-model", k_max: 3 } } };
    const { data, response } = await client.completions.create(body).withResponse();
    const traceId = response.headers.get("x-speclens-trace-id");
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(data.id).toBe(`cmpl-${traceId}`);
    expect(data.object).toBe("text_completion");
    expect(data.model).toBe(model);
    expect(data.choices[0].finish_reason).toBe("length");
    expect(data.usage).toMatchObject({ completion_tokens: 24, total_tokens: data.usage!.prompt_tokens + 24 });
    const summary = (data as unknown as { speclens: SpeclensSummary }).speclens;
    expect(summary).toMatchObject({ trace_id: traceId, proposer: "draft-model", config_version: 1 });
    expect(summary.drafted).toBeGreaterThan(0);
    expect(summary.mean_acceptance_length).toBeCloseTo(1 + summary.accepted / summary.steps, 10);

    const trace = await storedTrace(traceId!);
    expect(trace.request).toMatchObject({ endpoint: "POST /v1/completions", operation: "text_completion", proposer: "draft-model", configVersion: "1", outputTokens: 24, completion: data.choices[0].text });
    expect(trace.tokens).toHaveLength(24);
  });

  it("streams the same greedy text, ending with the speculation summary", async () => {
    const body: CompletionBody = { model, prompt: PROMPT, max_tokens: 32, temperature: 0, ignore_eos: true };
    const whole = await client.completions.create(body);
    const stream = await client.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let finish: string | null = null;
    let summary: SpeclensSummary | null = null;
    let usageSeen: OpenAI.CompletionUsage | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      for (const choice of chunk.choices) {
        text += choice.text;
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      const extra = chunk as unknown as { speclens?: SpeclensSummary };
      if (extra.speclens) summary = extra.speclens;
      if (chunk.usage) usageSeen = chunk.usage;
    }
    expect(text).toBe(whole.choices[0].text);
    expect(finish).toBe("length");
    expect(chunks).toBeGreaterThan(2);
    expect(usageSeen?.completion_tokens).toBe(32);
    expect(summary?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect((await storedTrace(summary!.trace_id)).request.outputTokens).toBe(32);
  });

  it("times the handler's phases in a Server-Timing header", async () => {
    const parse = (header: string | null) => parseServerTiming(header ?? "");
    const post = (extra: Record<string, unknown>) =>
      fetch(`${app.baseUrl}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, prompt: PROMPT, max_tokens: 16, temperature: 0, ignore_eos: true, ...extra }),
      });

    const response = await post({});
    const body = (await response.json()) as { speclens: { timings: { total_ms: number } } };
    const phases = parse(response.headers.get("server-timing"));
    expect(Object.keys(phases)).toEqual(["auth", "parse", "prepare", "start", "queue", "generate", "trace", "total"]);
    // generate is the engine's own total, as the body reports it; the handler's total holds every phase but the queue wait (inside generate's span of time).
    expect(phases.generate).toBeCloseTo(body.speclens.timings.total_ms, 1);
    expect(phases.trace).toBeGreaterThan(0);
    const { auth, parse: parsing, prepare, start, generate, trace, total } = phases;
    expect(total).toBeGreaterThanOrEqual(auth + parsing + prepare + start + generate + trace - 0.05);

    // A stream's headers leave before the generation: the phases before it only.
    const streamed = await post({ stream: true });
    expect(Object.keys(parse(streamed.headers.get("server-timing")))).toEqual(["auth", "parse", "prepare", "start"]);
    await streamed.text();
  });

  it("reports completions logprobs with up to 5 alternatives per token", async () => {
    const body: CompletionBody = { model, prompt: PROMPT, max_tokens: 8, temperature: 0, logprobs: 3, ignore_eos: true };
    const out = await client.completions.create(body);
    const lp = out.choices[0].logprobs!;
    expect(lp.tokens).toHaveLength(8);
    expect(lp.token_logprobs!.every((v) => v <= 0)).toBe(true);
    expect(lp.top_logprobs!.every((top) => Object.keys(top).length >= 3 && Object.keys(top).length <= 4)).toBe(true);
    expect(lp.tokens!.join("")).toBe(out.choices[0].text);
    // Greedy: the chosen token is the most likely one.
    lp.top_logprobs!.forEach((top, i) => expect(Math.max(...Object.values(top))).toBeCloseTo(lp.token_logprobs![i], 5));
  });

  it("chats, streaming and not, with logprobs", async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: "system", content: "You answer in plain English." },
      { role: "user", content: "What did the jury say about the election?" },
    ];
    const whole = await client.chat.completions.create({ model, messages, max_tokens: 16, temperature: 0, seed: 5, logprobs: true, top_logprobs: 2 });
    expect(whole.object).toBe("chat.completion");
    const message = whole.choices[0].message;
    expect(message.role).toBe("assistant");
    expect(typeof message.content).toBe("string");
    expect(message.content).not.toContain("\nUser:");
    const content = whole.choices[0].logprobs!.content!;
    expect(content.map((t) => t.token).join("")).toContain(message.content!.trimEnd().slice(0, 5));
    expect(content.every((t) => t.top_logprobs.length === 2 && t.bytes!.length > 0)).toBe(true);

    const stream = await client.chat.completions.create({ model, messages, max_tokens: 16, temperature: 0, seed: 5, stream: true });
    let text = "";
    let role: string | undefined;
    for await (const chunk of stream) {
      role ??= chunk.choices[0]?.delta.role;
      text += chunk.choices[0]?.delta.content ?? "";
    }
    expect(role).toBe("assistant");
    expect(text).toBe(message.content);
  });

  it("samples reproducibly with a seed", async () => {
    const body: CompletionBody = { model, prompt: PROMPT, max_tokens: 16, temperature: 0.9, top_p: 0.95, seed: 42, ignore_eos: true };
    const [a, b] = [await client.completions.create(body), await client.completions.create(body)];
    expect(a.choices[0].text).toBe(b.choices[0].text);
  });
});

describe("bad requests", () => {
  const post = (route: string, body: string) =>
    fetch(`${app.baseUrl}/v1/${route}`, { method: "POST", headers: { "content-type": "application/json" }, body });

  it.each([
    ["completions", "{", null],
    ["completions", JSON.stringify({ model: "m" }), "prompt"],
    ["completions", JSON.stringify({ prompt: "x" }), "model"],
    ["completions", JSON.stringify({ model: "MODEL", prompt: "x", max_tokens: "ten" }), "max_tokens"],
    ["completions", JSON.stringify({ model: "MODEL", prompt: "x", temperature: 3 }), "temperature"],
    ["completions", JSON.stringify({ model: "MODEL", prompt: "x", n: 2 }), "n"],
    ["completions", JSON.stringify({ model: "MODEL", prompt: "x", tools: [] }), null],
    ["completions", JSON.stringify({ model: "MODEL", prompt: "x", max_tokens: 100000 }), "max_tokens"],
    ["completions", JSON.stringify({ model: "MODEL", prompt: ["a", "b"] }), "prompt"],
    ["completions", JSON.stringify({ model: "MODEL", prompt: "x", speclens: { overrides: { proposer: "magic" } } }), "speclens.overrides.proposer"],
    ["completions", JSON.stringify({ model: "MODEL", prompt: "x", speclens: { config: "nightly" } }), "speclens.config"],
    ["chat/completions", JSON.stringify({ model: "MODEL", messages: [] }), "messages"],
    ["chat/completions", JSON.stringify({ model: "MODEL", messages: [{ role: "wizard", content: "hi" }] }), "messages.0.role"],
  ])("POST /v1/%s %s is a 400 naming the field", async (route, body, param) => {
    const before = await traceCount();
    const response = await post(route, body.replace("MODEL", model));
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { message: string; type: string; param: string | null } };
    expect(error.type).toBe("invalid_request_error");
    expect(error.message.length).toBeGreaterThan(5);
    if (param) {
      expect(error.param).toBe(param);
      expect(error.message.startsWith(param)).toBe(true);
    }
    expect(await traceCount()).toBe(before);
  });

  it("answers an unknown model with 404 model_not_found, as OpenAI does", async () => {
    await expect(client.completions.create({ model: "gpt-4o", prompt: "x" })).rejects.toMatchObject({ status: 404, code: "model_not_found" });
  });

  it("surfaces the 400 through the openai client with its message", async () => {
    await expect(client.completions.create({ model, prompt: "x", max_tokens: -1 })).rejects.toMatchObject({ status: 400, param: "max_tokens" });
  });
});

async function traceCount(): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page = (await (await fetch(`${app.baseUrl}/api/traces?limit=200${cursor ? `&cursor=${cursor}` : ""}`)).json()) as { traces: unknown[]; next_cursor: string | null };
    count += page.traces.length;
    cursor = page.next_cursor;
  } while (cursor);
  return count;
}

/** Opens a streaming completion with fetch and returns once its first event has arrived. */
async function openStream(maxTokens: number): Promise<{ traceId: string; abort: () => void; done: Promise<void> }> {
  const controller = new AbortController();
  const response = await fetch(`${app.baseUrl}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, prompt: PROMPT, max_tokens: maxTokens, temperature: 0, ignore_eos: true, stream: true }),
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const traceId = response.headers.get("x-speclens-trace-id")!;
  const reader = response.body!.getReader();
  const done = (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // aborted
    }
  })();
  return { traceId, abort: () => controller.abort(), done };
}

/** The trace once its request span is stored (step spans of a generation being cancelled may come first). */
async function waitForTrace(traceId: string): Promise<StoredTrace> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${app.baseUrl}/api/traces/${traceId}`);
    const trace = response.status === 200 ? ((await response.json()) as StoredTrace) : null;
    if (trace?.request) return trace;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`trace ${traceId} never arrived`);
}

describe("queueing and cancellation", () => {
  it("answers 429 with Retry-After when every slot and waiting place is taken, and changes nothing", async () => {
    const running = await openStream(400);
    const waiting = await openStream(400);
    const before = await traceCount();
    const refused = await fetch(`${app.baseUrl}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, prompt: PROMPT, max_tokens: 4 }),
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("queue_full");

    running.abort();
    waiting.abort();
    await Promise.all([running.done, waiting.done]);
    const [first, second] = await Promise.all([waitForTrace(running.traceId), waitForTrace(waiting.traceId)]);
    expect(first.request.cancelled).toBe(1);
    expect(second.request.cancelled).toBe(1);
    // The two cancelled requests are stored; the refused one left nothing behind.
    expect(await traceCount()).toBe(before + 2);
  });

  it("ends a stream whose client disconnects as a cancelled trace with what was generated", async () => {
    const stream = await openStream(400);
    await new Promise((resolve) => setTimeout(resolve, 300));
    stream.abort();
    await stream.done;
    const trace = await waitForTrace(stream.traceId);
    expect(trace.request).toMatchObject({ cancelled: 1, finishReason: "abort" });
    expect(trace.request.outputTokens).toBeLessThan(400);
    expect(trace.tokens).toHaveLength(trace.request.outputTokens);
  });
});

describe("GET /metrics", () => {
  it("serves Prometheus text to a scraper, counting the speculation above", async () => {
    const response = await fetch(`${app.baseUrl}/metrics`, { headers: { accept: "text/plain;version=0.0.4;q=0.9,*/*;q=0.1" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^speclens_spec_decode_num_draft_tokens_total\{proposer="draft-model"\} [1-9]/m);
    expect(text).toMatch(/^speclens_spec_decode_num_accepted_tokens_per_pos_total\{proposer="draft-model",position="0"\} \d+/m);
    expect(text).toMatch(/^speclens_request_rejected_total\{reason="queue_full"\} [1-9]/m);
    expect(text).toMatch(/^speclens_time_to_first_token_seconds_count\{endpoint="POST \/v1\/completions"\} [1-9]/m);
    expect(text).toMatch(/^speclens_num_requests_waiting 0$/m);
    expect(text).toMatch(/^speclens_exporter_spans_dropped_total 0$/m);
    expect(text).toMatch(/^speclens_model_info\{role="target",model_id="[^"]+@sha256:[0-9a-f]{12}",sha256="[0-9a-f]{64}"\} 1/m);
  });

  it("still shows the dashboard page to a browser", async () => {
    const response = await fetch(`${app.baseUrl}/metrics`, { headers: { accept: "text/html,application/xhtml+xml" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
  });
});
