"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { fetchJson, p3, type ReplayJson } from "./types";
import { VerdictBadge } from "./VerdictBadge";

const MODES = [
  { mode: "exact", label: "Exact", title: "Same prompt, parameters, seed and config version: does it reproduce?" },
  { mode: "target-only", label: "Target only", title: "The target alone, same parameters and seed: the counterfactual" },
  { mode: "draft-only", label: "Draft only", title: "The draft alone, same parameters and seed" },
] as const;

/** Replay buttons -> POST /api/traces/{id}/replay -> verdict, first divergence and a link to the replay's trace. */
export function ReplayControls({ traceId, configVersion }: { traceId: string; configVersion: string | null }) {
  const router = useRouter();
  const [running, setRunning] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [answer, setAnswer] = useState<ReplayJson | null>(null);
  const [config, setConfig] = useState(configVersion ?? "");
  const [overrides, setOverrides] = useState("{}");

  async function run(mode: string) {
    setRunning(mode);
    setError(null);
    try {
      let body: Record<string, unknown> = { mode };
      if (mode === "config") {
        let parsed: unknown;
        try {
          parsed = JSON.parse(overrides || "{}");
        } catch {
          throw new Error("overrides: not valid JSON");
        }
        body = { mode, overrides: parsed, ...(config ? { config: /^\d+$/.test(config) ? Number(config) : config } : {}) };
      }
      const json = await fetchJson<ReplayJson>(`/api/traces/${traceId}/replay`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      setAnswer(json);
      router.refresh();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setRunning(null);
    }
  }

  const d = answer?.firstDivergence;
  return (
    <div>
      <div className="replay-modes" role="group" aria-label="Replay mode">
        {MODES.map((m) => (
          <button key={m.mode} type="button" className="button" title={m.title} disabled={running !== null} onClick={() => run(m.mode)}>
            {running === m.mode ? "Replaying…" : m.label}
          </button>
        ))}
      </div>
      <div className="replay-config">
        <label>
          Config label or version
          <input name="replay-config" value={config} onChange={(e) => setConfig(e.target.value)} size={10} />
        </label>
        <label>
          Overrides (snake_case JSON)
          <textarea name="replay-overrides" rows={2} value={overrides} onChange={(e) => setOverrides(e.target.value)} />
        </label>
        <button type="button" className="button" disabled={running !== null} onClick={() => run("config")}>
          {running === "config" ? "Replaying…" : "Replay with this config"}
        </button>
      </div>
      {error && <p className="error-text" role="alert">{error}</p>}
      {answer && (
        <div data-testid="replay-answer">
          <p>
            <VerdictBadge verdict={answer.verdict} /> {answer.mode} replay{" "}
            <Link href={`/traces/${answer.traceId}`} className="mono" data-testid="replay-link">{answer.traceId.slice(0, 12)}</Link>:{" "}
            {answer.reproduced ? "reproduced token for token" : `diverged at position ${d?.position}`}
          </p>
          <p>{answer.explanation}</p>
          {d && (
            <dl className="kv" data-testid="replay-divergence">
              <dt>Original</dt>
              <dd className="mono">{d.original ? `${JSON.stringify(d.original.text)} (${d.original.origin})` : "ended"}</dd>
              <dt>Replay</dt>
              <dd className="mono">{d.replay ? JSON.stringify(d.replay.text) : "ended"}</dd>
              <dt>Target top-2 margin</dt>
              <dd className="mono">{p3(d.targetTop2Margin)}</dd>
            </dl>
          )}
          {answer.adjustments.length > 0 && <p className="muted">{answer.adjustments.join("; ")}</p>}
        </div>
      )}
    </div>
  );
}
