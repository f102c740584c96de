"use client";

import Link from "next/link";
import { useRef, useState } from "react";
import { fetchJson, p3, type AttributionJson } from "./types";
import { VerdictBadge } from "./VerdictBadge";
import "./replay.css";

/**
 * The trace page's attribution view (one include line): select output text with the mouse and read
 * whether the draft or the target produced it, with the evidence side by side: the original and the
 * target-only counterfactual aligned around the first divergence, and the probabilities there.
 */
export function AttributionView({ traceId, completion }: { traceId: string; completion: string }) {
  const textRef = useRef<HTMLPreElement>(null);
  const [data, setData] = useState<AttributionJson | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function load(range: { start: number; end: number } | null) {
    setLoading(true);
    setError(null);
    try {
      const query = range ? `?start=${range.start}&end=${range.end}` : "";
      setData(await fetchJson<AttributionJson>(`/api/traces/${traceId}/attribution${query}`));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoading(false);
    }
  }

  /** Character offsets of the mouse selection within the output text; null when it lies elsewhere. */
  function selectedRange(): { start: number; end: number } | null {
    const container = textRef.current;
    const selection = window.getSelection();
    if (!container || !selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    if (!container.contains(range.startContainer) || !container.contains(range.endContainer)) return null;
    const before = document.createRange();
    before.selectNodeContents(container);
    before.setEnd(range.startContainer, range.startOffset);
    const start = before.toString().length;
    const end = start + range.toString().length;
    return end > start ? { start, end } : null;
  }

  const span = data?.span ?? null;
  const draftAt = data?.firstDraftIntroduced ?? null;
  const inSpan = (i: number) => span !== null && i >= span.positions[0] && i <= span.positions[1];

  return (
    <section className="card" data-testid="attribution" style={{ marginTop: "1.5rem" }}>
      <h2>Attribution: draft or target?</h2>
      <p className="muted">
        Select part of the output with the mouse to see whether the draft or the target produced it. The first time, the
        target-only replay runs (the counterfactual); later selections reuse it.{" "}
        <button type="button" className="button" onClick={() => load(null)} disabled={loading}>
          Attribute the whole output
        </button>
      </p>
      <pre
        ref={textRef}
        className="card attribution-text"
        data-testid="attribution-text"
        onMouseUp={() => {
          const range = selectedRange();
          if (range) void load(range);
        }}
      >
        {data
          ? data.tokens.map((t) => (
              <span
                key={t.position}
                className={`att-tok${t.draftIntroduced ? " att-draft" : draftAt !== null && t.position > draftAt ? " att-after" : ""}${inSpan(t.position) ? " att-selected" : ""}`}
                title={`#${t.position} · ${t.origin} · target p=${p3(t.targetProb)} · draft p=${p3(t.draftProb)}${t.targetChoice && t.draftIntroduced ? ` · target alone: ${JSON.stringify(t.targetChoice.text)}` : ""}`}
              >
                {completion.slice(t.start, t.end)}
              </span>
            ))
          : completion}
      </pre>
      {loading && <p className="muted" role="status">Attributing…</p>}
      {error && <p className="error-text" role="alert">{error}</p>}
      {data && <Evidence data={data} />}
    </section>
  );
}

function Evidence({ data }: { data: AttributionJson }) {
  const verdict = data.span ?? data.overall;
  const d = data.overall.firstDivergence;
  const e = verdict.draftEvidence;
  const center = data.firstDraftIntroduced ?? d?.position ?? 0;
  const from = Math.max(0, center - 3);
  const to = Math.min(Math.max(data.tokens.length, data.targetOnly.tokens.length), center + 5);
  const rows = Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
  return (
    <div data-testid="attribution-evidence">
      <p>
        <VerdictBadge verdict={verdict.verdict} />{" "}
        {data.span ? (
          <>
            for <span className="mono">{JSON.stringify(data.span.text)}</span> (characters {data.span.start}–{data.span.end}, tokens{" "}
            {data.span.positions[0]}–{data.span.positions[1]}) {data.span.inTargetOnly ? "· appears in the target-only output" : "· not in the target-only output"}
          </>
        ) : (
          "for the whole output"
        )}
      </p>
      <p data-testid="attribution-explanation">{verdict.explanation}</p>
      <div className="evidence">
        <div>
          <h3>Aligned outputs {d ? `(first divergence at ${d.position})` : "(identical)"}</h3>
          <table className="aligned" data-testid="aligned">
            <thead>
              <tr><th>#</th><th>This trace</th><th>origin</th><th>Target only</th></tr>
            </thead>
            <tbody>
              {rows.map((i) => {
                const o = data.tokens[i];
                const t = data.targetOnly.tokens[i];
                return (
                  <tr key={i} className={d && i === d.position ? "diverged" : undefined}>
                    <td>{i}</td>
                    <td className="mono">{o ? JSON.stringify(o.text) : "—"}</td>
                    <td>{o?.origin ?? ""}</td>
                    <td className="mono">{t ? JSON.stringify(t.text) : "—"}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <p className="muted">
            Target-only replay <Link href={`/traces/${data.targetOnly.traceId}`} className="mono">{data.targetOnly.traceId.slice(0, 12)}</Link>
            {data.targetOnly.reused ? " (reused)" : " (ran now)"}
          </p>
        </div>
        <div>
          <h3>Probabilities {e ? `at position ${e.position}` : d ? `at position ${d.position}` : ""}</h3>
          <dl className="kv" data-testid="probabilities">
            {e ? (
              <>
                <dt>Draft token</dt><dd className="mono">{JSON.stringify(e.text)}</dd>
                <dt>Draft p</dt><dd className="mono">{p3(e.draftProb)}</dd>
                <dt>Target p</dt><dd className="mono">{p3(e.targetProb)}</dd>
                <dt>Target alone</dt><dd className="mono">{e.targetChoice ? `${JSON.stringify(e.targetChoice.text)} (p=${p3(e.targetChoice.prob)})` : "–"}</dd>
                <dt>Config</dt><dd>version {e.configVersion ?? "?"} · lossy threshold {e.lossyThreshold ?? "–"}</dd>
              </>
            ) : d ? (
              <>
                <dt>This trace</dt><dd className="mono">{d.original ? JSON.stringify(d.original.text) : "ended"}</dd>
                <dt>Target only</dt><dd className="mono">{d.replay ? JSON.stringify(d.replay.text) : "ended"}</dd>
                <dt>Target top-2 margin</dt><dd className="mono">{d.targetTop2Margin === null ? "–" : d.targetTop2Margin.toExponential(2)}</dd>
              </>
            ) : (
              <><dt>Outputs</dt><dd>identical: the target alone writes this output</dd></>
            )}
            {data.overall.modelChanges.length > 0 && (<><dt>Models</dt><dd className="error-text">{data.overall.modelChanges.join("; ")}</dd></>)}
          </dl>
        </div>
      </div>
    </div>
  );
}
