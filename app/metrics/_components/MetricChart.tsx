"use client";

import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

const COLORS = ["#2f6fed", "#1f9d55", "#c98a00", "#8e44ad", "#d64545", "#16a2b8", "#5d6877", "#e67e22"];

export type ChartRow = { t: number } & Record<string, number | null>;

function formatValue(v: number, unit: string): string {
  if (unit === "ratio") return `${(v * 100).toFixed(1)}%`;
  if (unit === "ms") return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v >= 100 ? 0 : 1)} ms`;
  return v >= 100 ? v.toFixed(0) : v.toFixed(2);
}

function formatTime(t: number, spanMs: number): string {
  const iso = new Date(t).toISOString();
  return spanMs > 2 * 86_400_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}

/** One metric over time, a line per series (groups, or p50/p95/p99). Gaps are buckets without data. */
export function MetricChart({ title, unit, rows, keys, testId }: { title: string; unit: string; rows: ChartRow[]; keys: string[]; testId?: string }) {
  const spanMs = rows.length > 1 ? rows[rows.length - 1].t - rows[0].t : 0;
  const empty = rows.every((r) => keys.every((k) => r[k] === null || r[k] === undefined));
  // Sparse series (a few buckets with data) would be invisible as lines between gaps: draw their points.
  const sparse = keys.some((k) => rows.filter((r) => r[k] !== null && r[k] !== undefined).length <= 12);
  return (
    <section className="card chart-card" data-testid={testId}>
      <h2>
        {title} <span className="muted unit">{unit}</span>
      </h2>
      {empty ? (
        <p className="muted chart-empty">No data in this range.</p>
      ) : (
        <ResponsiveContainer width="100%" height={200}>
          <LineChart data={rows} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="t" type="number" scale="time" domain={["dataMin", "dataMax"]} tickFormatter={(t: number) => formatTime(t, spanMs)} tick={{ fontSize: 11 }} minTickGap={40} />
            <YAxis tick={{ fontSize: 11 }} width={56} tickFormatter={(v: number) => formatValue(v, unit)} domain={unit === "ratio" ? [0, 1] : [0, "auto"]} />
            <Tooltip labelFormatter={(t) => new Date(Number(t)).toISOString().replace("T", " ").slice(0, 16)} formatter={(v) => formatValue(Number(v), unit)} />
            {keys.length > 1 && <Legend wrapperStyle={{ fontSize: 11 }} />}
            {keys.map((k, i) => (
              <Line key={k} type="monotone" dataKey={k} stroke={COLORS[i % COLORS.length]} dot={sparse ? { r: 3 } : false} strokeWidth={1.6} isAnimationActive={false} connectNulls={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
    </section>
  );
}

/** Per-position acceptance, a bar per group at each draft position. */
export function PerPositionChart({ groups }: { groups: { group: string; rates: number[] }[] }) {
  const positions = Math.max(0, ...groups.map((g) => g.rates.length));
  const rows = Array.from({ length: positions }, (_, i) => ({ position: `${i + 1}`, ...Object.fromEntries(groups.map((g) => [g.group, g.rates[i] ?? null])) }));
  return (
    <section className="card chart-card" data-testid="chart-per-position">
      <h2>
        Per-position acceptance <span className="muted unit">ratio, by draft position</span>
      </h2>
      {positions === 0 ? (
        <p className="muted chart-empty">No drafted tokens in this range.</p>
      ) : (
        <ResponsiveContainer width="100%" height={200}>
          <BarChart data={rows} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="position" tick={{ fontSize: 11 }} />
            <YAxis domain={[0, 1]} tick={{ fontSize: 11 }} width={56} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} />
            <Tooltip formatter={(v) => `${(Number(v) * 100).toFixed(1)}%`} />
            {groups.length > 1 && <Legend wrapperStyle={{ fontSize: 11 }} />}
            {groups.map((g, i) => (
              <Bar key={g.group} dataKey={g.group} fill={COLORS[i % COLORS.length]} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      )}
    </section>
  );
}
