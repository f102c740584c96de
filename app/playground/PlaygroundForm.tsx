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

/** Prompt form -> POST /api/generate -> the completion coloured by token origin, with its trace. */
export function PlaygroundForm() {
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<GenerateResponse | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = {
      prompt: String(form.get("prompt") ?? ""),
      config: String(form.get("config") ?? "production"),
      max_tokens: Number(form.get("max_tokens")),
      proposer: String(form.get("proposer")),
      temperature: Number(form.get("temperature")),
      seed: Number(form.get("seed")),
      k_max: Number(form.get("k_max")),
    };
    setRunning(true);
    setError(null);
    try {
      const response = await fetch("/api/generate", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const json = (await response.json()) as GenerateResponse & { error?: { message: string } };
      if (!response.ok) throw new Error(json.error?.message ?? `HTTP ${response.status}`);
      setResult(json);
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
            <select name="proposer" defaultValue="draft-model">
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
            <input name="k_max" type="number" min={1} max={16} defaultValue={4} required />
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
        ) : (
          <EmptyState title="No generation yet">
            Write a prompt and press Generate: it runs through the embedded speculative-decoding engine under the chosen config version
            (its proposer and draft length overridden by the fields above), and the completion appears here
            with every token coloured by where it came from (accepted draft, recovered, bonus), linked to its full trace.
          </EmptyState>
        )}
      </section>
    </div>
  );
}
