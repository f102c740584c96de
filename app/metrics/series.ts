import type { MetricSeries } from "@/db/queries/metrics";
import type { ChartRow } from "./_components/MetricChart";

/** Short, readable series names: "speclens-brown-20m@sha256:…" loses its hash, versions get a "v". */
export function seriesLabel(group: string, groupBy: string): string {
  if (groupBy === "config_version") return group === "none" ? "no version" : `v${group.replace(/^v/, "")}`;
  if (groupBy === "model_pair") return group.replace(/@sha256:[0-9a-f]+/g, "");
  return group;
}

/**
 * Series as chart rows: one row per bucket of the range (empty buckets stay null, so the lines show
 * gaps rather than interpolating over an outage), one column per series.
 */
export function toChartRows(
  series: MetricSeries[],
  opts: { fromMs: number; toMs: number; bucketMs: number; groupBy: string; percentiles: boolean },
): { rows: ChartRow[]; keys: string[] } {
  const rows: ChartRow[] = [];
  const index = new Map<number, ChartRow>();
  for (let t = opts.fromMs; t < opts.toMs; t += opts.bucketMs) {
    const row = { t } as ChartRow;
    rows.push(row);
    index.set(t, row);
  }
  const keys: string[] = [];
  const grouped = opts.groupBy !== "none";
  const fields: ("p50" | "p95" | "p99" | "value")[] = opts.percentiles ? (grouped ? ["p95"] : ["p50", "p95", "p99"]) : ["value"];
  for (const s of series) {
    for (const field of fields) {
      const key = grouped ? seriesLabel(s.group, opts.groupBy) : field === "value" ? "all" : field;
      keys.push(key);
      for (const row of rows) row[key] = null;
      for (const p of s.points) {
        const row = index.get(p.t);
        if (row) row[key] = p[field] ?? null;
      }
    }
  }
  return { rows, keys };
}
