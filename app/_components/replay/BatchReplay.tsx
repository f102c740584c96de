"use client";

import Link from "next/link";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { fetchJson, VERDICT_LABELS } from "./types";
import "./replay.css";

interface BatchJson {
  id: string;
  mode: string;
  source: string;
  state: "running" | "done" | "cancelled";
  total: number;
  done: number;
  items: { traceId: string; replayTraceId: string | null; reproduced: boolean | null; verdict: string | null; divergence: number | null; error: string | null }[];
  summary: { reproduced: number; diverged: number; failed: number; verdicts: Record<string, number>; divergencePositions: number[] };
}

/** Batch replay: ids, a filter or an alert -> POST /api/replay/batch -> a progress bar, cancel, summary. */
export function BatchReplay({ initialAlert }: { initialAlert: string | null }) {
  const [source, setSource] = useState<"trace_ids" | "filter" | "alert">(initialAlert ? "alert" : "filter");
  const [job, setJob] = useState<BatchJson | null>(null);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setInterval> | null>(null);

  useEffect(() => () => {
    if (timer.current) clearInterval(timer.current);
  }, []);

  function poll(id: string) {
    if (timer.current) clearInterval(timer.current);
    timer.current = setInterval(async () => {
      try {
        const next = await fetchJson<BatchJson>(`/api/replay/batch/${id}`);
        setJob(next);
        if (next.state !== "running" && timer.current) clearInterval(timer.current);
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
        if (timer.current) clearInterval(timer.current);
      }
    }, 500);
  }

  async function start(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body: Record<string, unknown> = { mode: String(form.get("mode")) };
    if (source === "trace_ids") body.trace_ids = String(form.get("trace_ids") ?? "").split(/[\s,]+/).filter(Boolean);
    if (source === "alert") body.alert = Number(form.get("alert"));
    if (source === "filter") {
      const filter: Record<string, unknown> = { limit: Number(form.get("limit") || 20) };
      const proposer = String(form.get("proposer") ?? "");
      if (proposer) filter.proposer = proposer;
      const maxAcceptance = String(form.get("max_acceptance") ?? "");
      if (maxAcceptance) filter.max_acceptance = Number(maxAcceptance);
      body.filter = filter;
    }
    setError(null);
    try {
      const started = await fetchJson<BatchJson>("/api/replay/batch", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      setJob({ ...started, items: started.items ?? [] });
      poll(started.id);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  async function cancel() {
    if (!job) return;
    try {
      setJob(await fetchJson<BatchJson>(`/api/replay/batch/${job.id}`, { method: "DELETE" }));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  const pct = job && job.total > 0 ? Math.round((job.done / job.total) * 100) : 0;
  return (
    <section className="card" data-testid="batch-replay">
      <h2>Batch replay</h2>
      <form className="form" onSubmit={start} aria-label="Batch replay">
        <label>
          Mode
          <select name="mode" defaultValue="exact">
            <option value="exact">exact (does it reproduce?)</option>
            <option value="target-only">target-only (the counterfactual)</option>
            <option value="draft-only">draft-only</option>
          </select>
        </label>
        <fieldset className="replay-modes">
          <legend>Traces</legend>
          {(["filter", "trace_ids", "alert"] as const).map((s) => (
            <label key={s}>
              <input type="radio" name="source" value={s} checked={source === s} onChange={() => setSource(s)} /> {s === "trace_ids" ? "trace ids" : s}
            </label>
          ))}
        </fieldset>
        {source === "trace_ids" && (
          <label>
            Trace ids (one per line)
            <textarea name="trace_ids" rows={4} required />
          </label>
        )}
        {source === "alert" && (
          <label>
            Alert id
            <input name="alert" type="number" min={1} defaultValue={initialAlert ?? ""} required />
          </label>
        )}
        {source === "filter" && (
          <div className="replay-config">
            <label>Proposer <input name="proposer" placeholder="any" size={12} /></label>
            <label>Acceptance at most <input name="max_acceptance" type="number" step="0.01" min={0} max={1} size={6} /></label>
            <label>At most <input name="limit" type="number" min={1} max={500} defaultValue={20} size={6} /> traces</label>
          </div>
        )}
        <button type="submit" className="button" disabled={job?.state === "running"}>Replay them all</button>
      </form>
      {error && <p className="error-text" role="alert">{error}</p>}
      {job && (
        <div data-testid="batch-job">
          <p>
            {job.mode} replay of {job.source}: <strong data-testid="batch-progress">{job.done} / {job.total}</strong> ({job.state})
            {job.state === "running" && (
              <>
                {" "}
                <button type="button" className="button" onClick={cancel}>Cancel</button>
              </>
            )}
          </p>
          <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={job.total} aria-valuenow={job.done}>
            <div style={{ width: `${pct}%` }} />
          </div>
          <p data-testid="batch-summary">
            {job.summary.reproduced} reproduced · {job.summary.diverged} diverged · {job.summary.failed} failed
            {Object.keys(job.summary.verdicts).length > 0 && " · verdicts: "}
            {Object.entries(job.summary.verdicts).map(([v, n]) => `${VERDICT_LABELS[v] ?? v} ${n}`).join(", ")}
            {job.summary.divergencePositions.length > 0 && ` · divergence positions: ${job.summary.divergencePositions.join(", ")}`}
          </p>
          {job.items.length > 0 && (
            <table className="aligned">
              <thead><tr><th>Trace</th><th>Replay</th><th>Verdict</th><th>First divergence</th></tr></thead>
              <tbody>
                {job.items.map((i) => (
                  <tr key={i.traceId}>
                    <td><Link className="mono" href={`/traces/${i.traceId}`}>{i.traceId.slice(0, 12)}</Link></td>
                    <td>{i.replayTraceId ? <Link className="mono" href={`/traces/${i.replayTraceId}`}>{i.replayTraceId.slice(0, 12)}</Link> : i.error}</td>
                    <td>{i.verdict ? VERDICT_LABELS[i.verdict] ?? i.verdict : "–"}</td>
                    <td>{i.divergence ?? "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
