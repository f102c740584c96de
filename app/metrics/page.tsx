import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/app/_components/EmptyState";
import { PageHeader } from "@/app/_components/PageHeader";
import { TIME_RANGES, type TimeRange } from "@/app/_lib/traces";
import { firstValues, hrefWith, requestTimeMs } from "@/app/_lib/view-url";
import { getDb } from "@/db/client";
import { autoBucketMs, GROUP_BYS, metricSeries, perPositionAcceptance, PERCENTILE_METRICS, type GroupBy, type MetricName } from "@/db/queries/metrics";
import { traceFacets } from "@/db/queries/traces";
import { MetricChart, PerPositionChart } from "./_components/MetricChart";
import { seriesLabel, toChartRows } from "./series";
import "../traces/explorer.css";
import "./metrics.css";

export const metadata: Metadata = { title: "Metrics" };
export const dynamic = "force-dynamic";

const CHARTS: { metric: MetricName; title: string; unit: string }[] = [
  { metric: "acceptance_rate", title: "Acceptance rate", unit: "accepted / drafted" },
  { metric: "mean_acceptance_length", title: "Mean acceptance length", unit: "tokens per target pass" },
  { metric: "tokens_per_s", title: "Tokens per second", unit: "output tokens / request time" },
  { metric: "requests_per_minute", title: "Requests per minute", unit: "started" },
  { metric: "ttft", title: "Time to first token", unit: "ms" },
  { metric: "tpot", title: "Time per output token", unit: "ms" },
  { metric: "latency", title: "Request latency", unit: "ms" },
  { metric: "queue_wait", title: "Queue wait", unit: "ms" },
];
const UNITS: Partial<Record<MetricName, string>> = { acceptance_rate: "ratio", ttft: "ms", tpot: "ms", latency: "ms", queue_wait: "ms" };
const RANGES: TimeRange[] = ["1h", "6h", "24h", "7d", "30d"];
const GROUP_LABELS: Record<GroupBy, string> = { none: "nothing", config_version: "config version", model_pair: "model pair", proposer: "proposer", verify_mode: "verify mode", node: "node" };

export default async function MetricsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const raw = firstValues(await searchParams);
  const range: TimeRange = (RANGES as string[]).includes(raw.range ?? "") ? (raw.range as TimeRange) : "24h";
  const groupBy: GroupBy = (GROUP_BYS as readonly string[]).includes(raw.groupBy ?? "") ? (raw.groupBy as GroupBy) : "none";
  const versions = raw.versions?.split(",").map((v) => v.trim()).filter(Boolean);
  const db = getDb();
  const toMs = requestTimeMs();
  const fromMs = toMs - TIME_RANGES[range];
  const bucketMs = autoBucketMs(BigInt(fromMs) * 1_000_000n, BigInt(toMs) * 1_000_000n);
  // Buckets aligned to the bucket width, so a reload a minute later shows the same buckets.
  const alignedFrom = Math.floor(fromMs / bucketMs) * bucketMs;
  const base = { fromNs: BigInt(alignedFrom) * 1_000_000n, toNs: BigInt(toMs) * 1_000_000n, bucketMs, groupBy, configVersions: versions };
  // Two versions side by side: grouped by version unless another grouping was asked for.
  const effectiveGroup: GroupBy = versions && versions.length > 1 && groupBy === "none" ? "config_version" : groupBy;
  const charts = CHARTS.map((c) => {
    const series = metricSeries(db, { ...base, groupBy: effectiveGroup, metric: c.metric });
    const percentiles = (PERCENTILE_METRICS as readonly string[]).includes(c.metric);
    return { ...c, ...toChartRows(series, { fromMs: alignedFrom, toMs, bucketMs, groupBy: effectiveGroup, percentiles }), percentiles };
  });
  const perPosition = perPositionAcceptance(db, { ...base, groupBy: effectiveGroup }).map((g) => ({ ...g, group: seriesLabel(g.group, effectiveGroup) }));
  const versionChoices = traceFacets(db).configVersion;
  const view = { range: raw.range, groupBy: raw.groupBy, versions: raw.versions };
  const total = charts.find((c) => c.metric === "requests_per_minute")!;
  const anyData = total.rows.some((r) => total.keys.some((k) => (r[k] ?? 0) > 0));

  return (
    <>
      <PageHeader section="/metrics">
        <span className="muted">{`${bucketMs / 60_000}-minute buckets`}</span>
      </PageHeader>
      <form className="filter-bar" method="get" action="/metrics" data-testid="metrics-controls">
        <label className="filter">
          <span>Range</span>
          <select name="range" defaultValue={range}>
            {RANGES.map((r) => (
              <option key={r} value={r}>last {r}</option>
            ))}
          </select>
        </label>
        <label className="filter">
          <span>Group by</span>
          <select name="groupBy" defaultValue={groupBy}>
            {GROUP_BYS.map((g) => (
              <option key={g} value={g}>{GROUP_LABELS[g]}</option>
            ))}
          </select>
        </label>
        <label className="filter">
          <span>Config versions (compare)</span>
          <input name="versions" defaultValue={raw.versions} placeholder={versionChoices.slice(0, 2).join(",") || "e.g. 1,2"} />
        </label>
        <div className="filter-actions">
          <button type="submit" className="button">Apply</button>
          {versionChoices.length >= 2 && (
            <Link href={hrefWith("/metrics", view, { versions: versionChoices.slice(-2).join(",") })}>
              Compare v{versionChoices.at(-2)} and v{versionChoices.at(-1)}
            </Link>
          )}
        </div>
      </form>
      {!anyData && (
        <EmptyState
          title={`No requests in the last ${range}${versions ? ` for version ${versions.join(", ")}` : ""}`}
          howTo={<p>Generate from the <Link href="/playground">Playground</Link> or the OpenAI API (POST /v1/completions): every traced request counts.</p>}
        >
          Acceptance rate, mean acceptance length, tokens per second, latency percentiles and per-position acceptance are computed
          from the stored requests, per time bucket, and can be grouped by config version, model pair, proposer, verify mode or node.
        </EmptyState>
      )}
      <div className="metric-grid">
        {charts.map((c) => (
          <MetricChart
            key={c.metric}
            title={c.percentiles ? `${c.title} ${effectiveGroup === "none" ? "p50 / p95 / p99" : "p95"}` : c.title}
            unit={UNITS[c.metric] ?? c.unit}
            rows={c.rows}
            keys={c.keys}
            testId={`chart-${c.metric}`}
          />
        ))}
        <PerPositionChart groups={perPosition} />
      </div>
    </>
  );
}
