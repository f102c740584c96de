"use client";

import { Area, CartesianGrid, ComposedChart, Legend, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface ChartPoint {
  atMs: number;
  traceId: string;
  value: number;
  threshold: number;
  baseline: number | null;
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/**
 * The alert's metric over the rolling window, request by request, around the moment it fired: the
 * baseline as a line inside its band (baseline to threshold and mirrored: where the test stays quiet),
 * the threshold dashed, and the firing and resolving moments marked.
 */
export function AlertChart({ points, firedAtMs, resolvedAtMs, label }: { points: ChartPoint[]; firedAtMs: number | null; resolvedAtMs: number | null; label: string }) {
  if (points.length === 0) return <p className="muted">No window of this series can be charted (too few requests).</p>;
  const data = points.map((p) => ({
    ...p,
    band: p.baseline === null ? null : ([p.baseline - Math.abs(p.baseline - p.threshold), p.baseline + Math.abs(p.baseline - p.threshold)] as [number, number]),
  }));
  const values = data.flatMap((d) => [d.value, d.threshold, ...(d.band ?? [])]);
  const lo = Math.max(0, Math.min(...values) - 0.02);
  const hi = Math.min(1, Math.max(...values) + 0.02);
  return (
    <div className="alert-chart" data-testid="alert-chart" role="img" aria-label={`${label} over the rolling window around the firing moment`}>
      <ResponsiveContainer width="100%" height={220}>
        <ComposedChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#e3e6eb" strokeDasharray="3 3" />
          <XAxis dataKey="atMs" type="number" domain={["dataMin", "dataMax"]} tickFormatter={time} fontSize={11} />
          <YAxis domain={[lo, hi]} tickFormatter={(v: number) => v.toFixed(2)} fontSize={11} width={44} />
          <Tooltip labelFormatter={(v) => time(Number(v))} formatter={(v) => (Array.isArray(v) ? v.map((x) => Number(x).toFixed(3)).join(" – ") : Number(v).toFixed(3))} />
          <Legend verticalAlign="top" height={24} iconSize={10} wrapperStyle={{ fontSize: 12 }} />
          <Area dataKey="band" name="baseline band" stroke="none" fill="#1f9d55" fillOpacity={0.12} isAnimationActive={false} />
          <Line dataKey="baseline" name="baseline" stroke="#1f9d55" dot={false} strokeWidth={1} isAnimationActive={false} />
          <Line dataKey="threshold" name="threshold" stroke="#d64545" strokeDasharray="5 4" dot={false} strokeWidth={1.5} isAnimationActive={false} />
          <Line dataKey="value" name={label} stroke="#2f6fed" dot={false} strokeWidth={2} isAnimationActive={false} />
          {firedAtMs !== null && <ReferenceLine x={firedAtMs} stroke="#d64545" label={{ value: "fired", fontSize: 11, fill: "#d64545", position: "insideTopLeft" }} />}
          {resolvedAtMs !== null && <ReferenceLine x={resolvedAtMs} stroke="#1f9d55" label={{ value: "resolved", fontSize: 11, fill: "#1f9d55", position: "insideTopRight" }} />}
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}
