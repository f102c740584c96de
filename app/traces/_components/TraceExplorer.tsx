"use client";

import { useMemo, useState } from "react";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { TraceView } from "../_lib/trace-view";
import { StepWaterfall } from "./StepWaterfall";
import { TokenPanel } from "./TokenPanel";

/** The interactive half of the trace page: output tokens with their panel, the charts and the step waterfall. */
export function TraceExplorer({ view }: { view: TraceView }) {
  const [selected, setSelected] = useState<number | null>(null);
  const [selectedStep, setSelectedStep] = useState<number | null>(null);
  const token = selected === null ? null : view.tokens[selected];
  const perPosition = useMemo(() => view.perPosition.map((rate, i) => ({ position: `${i + 1}`, rate })), [view.perPosition]);
  const kv = useMemo(() => view.steps.map((s) => ({ step: s.index, target: s.kvTarget, draft: s.kvDraft })), [view.steps]);
  const hasDraftKv = kv.some((k) => k.draft !== null);

  return (
    <>
      <h2 className="section-title">Output tokens</h2>
      <div className={token ? "tokens-with-panel" : undefined}>
        <p className="token-strip" data-testid="token-strip">
          {view.tokens.map((t) => (
            <button
              type="button"
              key={t.index}
              className={`tok tok-${t.origin}${t.index === selected ? " tok-selected" : ""}${selectedStep === t.step && t.index !== selected ? " tok-in-step" : ""}`}
              data-origin={t.origin}
              data-index={t.index}
              title={`#${t.index} · step ${t.step} · ${t.origin}${t.prob === null ? "" : ` · p=${t.prob.toFixed(3)}`}`}
              onClick={() => {
                setSelected(t.index === selected ? null : t.index);
                setSelectedStep(t.step);
              }}
            >
              {t.text.replace(/\n/g, "↵\n")}
            </button>
          ))}
        </p>
        {token && <TokenPanel token={token} verifyMode={view.verifyMode} lossyThreshold={view.lossyThreshold} onClose={() => setSelected(null)} />}
      </div>

      <div className="chart-row">
        <section className="card chart-card" data-testid="per-position-chart">
          <h2>Per-position acceptance</h2>
          {perPosition.length === 0 ? (
            <p className="muted">Nothing was drafted.</p>
          ) : (
            <ResponsiveContainer width="100%" height={180}>
              <BarChart data={perPosition} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="position" tick={{ fontSize: 12 }} label={{ value: "draft position", position: "insideBottomRight", offset: -2, fontSize: 11 }} />
                <YAxis domain={[0, 1]} tick={{ fontSize: 12 }} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} />
                <Tooltip formatter={(v) => `${(Number(v) * 100).toFixed(1)}%`} />
                <Bar dataKey="rate" name="acceptance" fill="#1f9d55" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          )}
        </section>
        <section className="card chart-card" data-testid="kv-chart">
          <h2>KV cache length over the steps</h2>
          <ResponsiveContainer width="100%" height={180}>
            <LineChart data={kv} margin={{ top: 8, right: 8, bottom: 0, left: -8 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="step" tick={{ fontSize: 12 }} />
              <YAxis tick={{ fontSize: 12 }} />
              <Tooltip />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              <Line type="stepAfter" dataKey="target" name="target" stroke="#2f6fed" dot={false} isAnimationActive={false} />
              {hasDraftKv && <Line type="stepAfter" dataKey="draft" name="draft" stroke="#8e44ad" dot={false} isAnimationActive={false} />}
            </LineChart>
          </ResponsiveContainer>
        </section>
      </div>

      <h2 className="section-title">Steps ({view.steps.length})</h2>
      <StepWaterfall steps={view.steps} selectedStep={selectedStep} onSelectStep={setSelectedStep} />
    </>
  );
}
