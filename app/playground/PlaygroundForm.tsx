"use client";

import Link from "next/link";
import { useState, type FormEvent } from "react";
import { EmptyState } from "@/app/_components/EmptyState";
import { OriginLegend, TokenStrip, type StripToken } from "@/app/_components/TokenStrip";

const PROPOSERS = ["draft-model", "ngram", "tree", "off"] as const;

interface GenerateResponse {
  trace_id: string;
  config_version: number;
  text: string;
  finish_reason: string;
  usage: { prompt_tokens: number; completion_tokens: number };
  summary: { steps: number; drafted: number; accepted: number; acceptanceRate: number; meanAcceptanceLength: number };
  timings: { totalMs: number };
  models: { target: { model_id: string }; draft: { model_id: string } | null };
  tokens: StripToken[];
}

/** Server-sent events from a fetch body: yields {event, data} as each event completes. */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length > 0) yield { event, data: data.join("\n") };
    }
  }
}

/**
 * Prompt form -> POST /api/generate with stream: true -> tokens appear as the verifier accepts them,
 * coloured by origin, then the summary and the link to the trace.
 */
export function PlaygroundForm() {
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<GenerateResponse | null>(null);
  const [live, setLive] = useState<{ traceId: string; tokens: StripToken[]; steps: number } | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    // Proposer and k max override the config version only when chosen: left blank, the version's own
    // policy runs (and a version that forbids overrides still accepts the Playground's requests).
    const proposer = String(form.get("proposer") ?? "");
    const kMax = String(form.get("k_max") ?? "");
    const body = {
      prompt: String(form.get("prompt") ?? ""),
      config: String(form.get("config") ?? "production"),
      max_tokens: Number(form.get("max_tokens")),
      temperature: Number(form.get("temperature")),
      seed: Number(form.get("seed")),
      ...(proposer !== "" ? { proposer } : {}),
      ...(kMax !== "" ? { k_max: Number(kMax) } : {}),
      stream: true,
    };
    setRunning(true);
    setError(null);
    setResult(null);
    setLive(null);
    try {
      const response = await fetch("/api/generate", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      if (!response.ok || !response.body) {
        const json = (await response.json()) as { error?: { message: string } };
        throw new Error(json.error?.message ?? `HTTP ${response.status}`);
      }
      let tokens: StripToken[] = [];
      for await (const { event, data } of sseEvents(response.body)) {
        const payload = JSON.parse(data);
        if (event === "start") setLive({ traceId: payload.trace_id, tokens: [], steps: 0 });
        if (event === "step") {
          tokens = tokens.concat(payload.tokens as StripToken[]);
          const snapshot = tokens;
          setLive((prev) => (prev ? { ...prev, tokens: snapshot, steps: payload.step + 1 } : prev));
        }
        if (event === "done") setResult(payload as GenerateResponse);
        if (event === "error") throw new Error(payload.error?.message ?? "generation failed");
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setRunning(false);
    }
  }

  return (
    <div className="playground">
      <form className="form" onSubmit={submit} aria-label="Generation">
        <label>
          Prompt
          <textarea name="prompt" rows={6} required defaultValue="The jury said that the city" />
        </label>
        <div className="form-row">
          <label>
            Config (label or version)
            <input name="config" type="text" defaultValue="production" required />
          </label>
          <label>
            Max tokens
            <input name="max_tokens" type="number" min={1} max={2048} defaultValue={64} required />
          </label>
          <label>
            Proposer
            <select name="proposer" defaultValue="">
              <option value="">the version&apos;s</option>
              {PROPOSERS.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </label>
          <label>
            Temperature
            <input name="temperature" type="number" min={0} max={5} step={0.05} defaultValue={0} required />
          </label>
          <label>
            Seed
            <input name="seed" type="number" min={0} step={1} defaultValue={0} required />
          </label>
          <label>
            Draft length (k max)
            <input name="k_max" type="number" min={1} max={16} placeholder="the version's" />
          </label>
        </div>
        <button className="button" type="submit" disabled={running}>
          {running ? "Generating…" : "Generate"}
        </button>
      </form>
      <section aria-live="polite">
        {error && (
          <p className="error-box" role="alert">
            {error}
          </p>
        )}
        {live && !result && (
          <div data-testid="playground-live">
            <OriginLegend />
            <TokenStrip tokens={live.tokens} />
            <p className="muted">
              {live.steps} steps, {live.tokens.length} tokens so far · trace <span className="mono">{live.traceId}</span>
            </p>
          </div>
        )}
        {result ? (
          <div data-testid="playground-result">
            <OriginLegend />
            <TokenStrip tokens={result.tokens} />
            <dl className="kv" style={{ marginTop: 14 }}>
              <dt>Trace</dt>
              <dd>
                <Link href={`/traces/${result.trace_id}`} className="mono" data-testid="trace-link">
                  {result.trace_id}
                </Link>
              </dd>
              <dt>Config version</dt>
              <dd>{result.config_version}</dd>
              <dt>Finish reason</dt>
              <dd>{result.finish_reason}</dd>
              <dt>Tokens</dt>
              <dd>
                {result.usage.prompt_tokens} prompt, {result.usage.completion_tokens} completion in {result.summary.steps} steps ·{" "}
                {result.timings.totalMs.toFixed(0)} ms
              </dd>
              <dt>Acceptance</dt>
              <dd>
                {result.summary.accepted}/{result.summary.drafted} drafted ({(result.summary.acceptanceRate * 100).toFixed(1)}%), mean
                acceptance length {result.summary.meanAcceptanceLength.toFixed(2)}
              </dd>
              <dt>Models</dt>
              <dd className="mono">
                target {result.models.target.model_id}
                {result.models.draft ? ` · draft ${result.models.draft.model_id}` : ""}
              </dd>
            </dl>
          </div>
        ) : live ? null : (
          <EmptyState title="No generation yet">
            Write a prompt and press Generate: it runs through the embedded speculative-decoding engine under the chosen config version
            (its proposer and draft length overridden only where you choose them above), and the completion appears here
            with every token coloured by where it came from (accepted draft, recovered, bonus), linked to its full trace.
          </EmptyState>
        )}
      </section>
    </div>
  );
}
