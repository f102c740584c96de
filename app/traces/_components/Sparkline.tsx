/** Per-step acceptance as a tiny bar chart: one bar per step (or run of steps), height = accepted / drafted. */
export function Sparkline({ values, width = 96, height = 20 }: { values: (number | null)[]; width?: number; height?: number }) {
  if (values.length === 0) return <span className="muted">–</span>;
  const w = width / values.length;
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label="per-step acceptance">
      {values.map((v, i) =>
        v === null ? (
          <rect key={i} x={i * w} y={height - 1} width={Math.max(w - 0.5, 0.5)} height={1} className="spark-none" />
        ) : (
          <rect key={i} x={i * w} y={height - Math.max(v * height, 1)} width={Math.max(w - 0.5, 0.5)} height={Math.max(v * height, 1)} className="spark-bar" />
        ),
      )}
    </svg>
  );
}
