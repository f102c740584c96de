/**
 * npm run bench:load [-- --clients 16 --seconds 60 --max-tokens 64 --url http://host:3000]
 *
 * The serving load test: N concurrent clients, each streaming completions from POST /v1/completions
 * back to back for the given time (greedy, ignore_eos, fixed max_tokens: vLLM's fixed-length
 * benchmarking style), with held-out prompts. Starts the production build on a free port with a fresh
 * database unless --url names a running server. Afterwards every finished request's trace is read back
 * from GET /api/traces/{id} and checked complete: the request row, every step in order, and exactly the
 * tokens the client received. Reports statuses, p50/p99 latency and time to first token, aggregate
 * tokens/s, and the server's exporter counters; writes bench/results/load.json and load.md; exits
 * non-zero on any 5xx or incomplete trace.
 * Needs `npm run build` first when it starts the server itself.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { heldoutPrompts } from "../tests/support/models";
import { startApp, type RunningApp } from "../tools/app-process";
import { percentile } from "./stats";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "16" },
    seconds: { type: "string", default: "60" },
    "max-tokens": { type: "string", default: "64" },
    url: { type: "string" },
  },
});
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const MAX_TOKENS = Number(values["max-tokens"]);

interface Outcome {
  status: number;
  /** Finished with [DONE] and a final chunk. */
  complete: boolean;
  traceId: string | null;
  text: string;
  completionTokens: number;
  ttftMs: number | null;
  latencyMs: number;
  error: string | null;
}

/** One streamed completion, timed from the request to the first text and to [DONE]. */
async function streamCompletion(baseUrl: string, model: string, prompt: string): Promise<Outcome> {
  const started = performance.now();
  const outcome: Outcome = { status: 0, complete: false, traceId: null, text: "", completionTokens: 0, ttftMs: null, latencyMs: 0, error: null };
  try {
    const response = await fetch(`${baseUrl}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, prompt, max_tokens: MAX_TOKENS, temperature: 0, ignore_eos: true, stream: true, stream_options: { include_usage: true } }),
    });
    outcome.status = response.status;
    outcome.traceId = response.headers.get("x-speclens-trace-id");
    if (response.status !== 200) {
      outcome.error = await response.text();
      return outcome;
    }
    const decoder = new TextDecoder();
    const reader = response.body!.getReader();
    let buffer = "";
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      buffer += decoder.decode(read.value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (!event.startsWith("data: ")) continue;
        const data = event.slice(6);
        if (data === "[DONE]") {
          outcome.complete = true;
          continue;
        }
        const chunk = JSON.parse(data) as { choices: { text: string }[]; usage?: { completion_tokens: number }; error?: { message: string } };
        if (chunk.error) outcome.error = chunk.error.message;
        for (const choice of chunk.choices ?? []) {
          if (choice.text && outcome.ttftMs === null) outcome.ttftMs = performance.now() - started;
          outcome.text += choice.text ?? "";
        }
        if (chunk.usage) outcome.completionTokens = chunk.usage.completion_tokens;
      }
    }
  } catch (error) {
    outcome.error = error instanceof Error ? error.message : String(error);
  }
  outcome.latencyMs = performance.now() - started;
  return outcome;
}

interface TraceCheck {
  traceId: string;
  ok: boolean;
  problem: string | null;
}

/** The stored trace has the request, every step in order, and exactly the tokens the client received. */
async function checkTrace(baseUrl: string, o: Outcome): Promise<TraceCheck> {
  const traceId = o.traceId!;
  const response = await fetch(`${baseUrl}/api/traces/${traceId}`);
  if (response.status !== 200) return { traceId, ok: false, problem: `GET /api/traces/${traceId}: ${response.status}` };
  const trace = (await response.json()) as {
    request: { outputTokens: number; completion: string; steps: number; finishReason: string } | null;
    steps: { index: number }[];
    tokens: unknown[];
  };
  const problems: string[] = [];
  if (!trace.request) problems.push("no request row");
  else {
    if (trace.request.outputTokens !== o.completionTokens) problems.push(`outputTokens ${trace.request.outputTokens} != ${o.completionTokens} received`);
    if (trace.request.completion !== o.text) problems.push("stored completion differs from the streamed text");
    if (trace.steps.length !== trace.request.steps) problems.push(`${trace.steps.length} steps stored of ${trace.request.steps}`);
  }
  if (trace.steps.some((s, i) => s.index !== i)) problems.push("step indices not contiguous");
  if (trace.tokens.length !== o.completionTokens) problems.push(`${trace.tokens.length} tokens stored of ${o.completionTokens}`);
  return { traceId, ok: problems.length === 0, problem: problems.join("; ") || null };
}

async function main(): Promise<void> {
  let app: RunningApp | null = null;
  let tempDir: string | null = null;
  let baseUrl = values.url;
  if (!baseUrl) {
    tempDir = mkdtempSync(join(tmpdir(), "speclens-load-"));
    app = await startApp(join(tempDir, "load.db"));
    baseUrl = app.baseUrl;
  }
  try {
    const models = (await (await fetch(`${baseUrl}/v1/models`)).json()) as { data: { id: string }[] };
    const model = models.data[0].id;
    const prompts = heldoutPrompts(64);
    // Warm-up: load the engine and touch every code path once before the clock starts.
    await streamCompletion(baseUrl, model, prompts[0]);

    console.log(`load: ${CLIENTS} streaming clients for ${SECONDS} s, max_tokens ${MAX_TOKENS}, against ${baseUrl}`);
    const outcomes: Outcome[] = [];
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < deadline) outcomes.push(await streamCompletion(baseUrl!, model, prompts[next++ % prompts.length]));
      }),
    );
    const wallS = (performance.now() - started) / 1000;

    const finished = outcomes.filter((o) => o.status === 200 && o.complete && o.error === null);
    const checks = await Promise.all(finished.map((o) => checkTrace(baseUrl!, o)));
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(metrics)?.[1] ?? NaN);

    const byStatus: Record<string, number> = {};
    for (const o of outcomes) byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
    const latencies = finished.map((o) => o.latencyMs).sort((a, b) => a - b);
    const ttfts = finished.map((o) => o.ttftMs ?? o.latencyMs).sort((a, b) => a - b);
    const tokens = finished.reduce((n, o) => n + o.completionTokens, 0);
    const report = {
      clients: CLIENTS,
      seconds: SECONDS,
      maxTokens: MAX_TOKENS,
      wallS,
      requests: outcomes.length,
      byStatus,
      serverErrors: outcomes.filter((o) => o.status >= 500).length,
      failed: outcomes.length - finished.length,
      finished: finished.length,
      tracesComplete: checks.filter((c) => c.ok).length,
      incompleteTraces: checks.filter((c) => !c.ok),
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      ttftMs: { p50: percentile(ttfts, 50), p99: percentile(ttfts, 99) },
      completionTokens: tokens,
      aggregateTokensPerS: tokens / wallS,
      exporter: { spansExported: metric("speclens_exporter_spans_exported_total"), spansDropped: metric("speclens_exporter_spans_dropped_total"), writeFailures: metric("speclens_exporter_write_failures_total") },
      errors: [...new Set(outcomes.map((o) => o.error).filter((e) => e !== null))].slice(0, 5),
    };
    mkdirSync("bench/results", { recursive: true });
    writeFileSync("bench/results/load.json", JSON.stringify(report, null, 2) + "\n");
    const md = [
      `# Serving load: ${CLIENTS} streaming clients, ${SECONDS} s, max_tokens ${MAX_TOKENS}`,
      "",
      "`npm run bench:load` (greedy, ignore_eos, default config: draft-model, k = 4)",
      "",
      "| requests | statuses | 5xx | finished | complete traces | latency p50 / p99 | TTFT p50 / p99 | aggregate tokens/s | spans exported / dropped |",
      "|---|---|---|---|---|---|---|---|---|",
      `| ${report.requests} | ${Object.entries(byStatus).map(([s, n]) => `${s}: ${n}`).join(", ")} | ${report.serverErrors} | ${report.finished} | ${report.tracesComplete} / ${report.finished} | ${(report.latencyMs.p50 / 1000).toFixed(2)} s / ${(report.latencyMs.p99 / 1000).toFixed(2)} s | ${(report.ttftMs.p50 / 1000).toFixed(2)} s / ${(report.ttftMs.p99 / 1000).toFixed(2)} s | ${report.aggregateTokensPerS.toFixed(1)} | ${report.exporter.spansExported} / ${report.exporter.spansDropped} |`,
      "",
    ].join("\n");
    writeFileSync("bench/results/load.md", md);
    console.log(md);
    if (report.incompleteTraces.length > 0) console.error("incomplete traces:", report.incompleteTraces.slice(0, 5));
    if (report.errors.length > 0) console.error("errors:", report.errors);
    if (report.serverErrors > 0 || report.incompleteTraces.length > 0) process.exitCode = 1;
  } finally {
    await app?.stop();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

void main();
