import type { Metadata } from "next";
import Link from "next/link";
import { formatTimestampNs } from "@/app/_lib/format";
import { formatMs, formatPct, requestTimeMs } from "@/app/_lib/view-url";
import { listAlerts } from "@/db/alerts/store";
import { getDatabase, getDb } from "@/db/client";
import { autoBucketMs, metricSeries, overview } from "@/db/queries/metrics";
import { listTraces } from "@/db/queries/traces";
import { MetricChart } from "./metrics/_components/MetricChart";
import { toChartRows } from "./metrics/series";
import { Sparkline } from "./traces/_components/Sparkline";
import "./traces/explorer.css";
import "./metrics/metrics.css";
import "./alerts/alerts.css";

export const metadata: Metadata = { title: "Overview" };
export const dynamic = "force-dynamic";

const DAY_MS = 86_400_000;

/** The last 24 hours at a glance: open alerts, volume, acceptance, throughput, errors, and the latest traces. */
export default function Home() {
  const db = getDb();
  const toMs = requestTimeMs();
  const fromNs = BigInt(toMs - DAY_MS) * 1_000_000n;
  const toNs = BigInt(toMs) * 1_000_000n;
  const day = overview(db, fromNs, toNs);
  const bucketMs = autoBucketMs(fromNs, toNs, 48);
  const alignedFrom = Math.floor((toMs - DAY_MS) / bucketMs) * bucketMs;
  const chart = (metric: "acceptance_rate" | "requests_per_minute" | "tokens_per_s") =>
    toChartRows(metricSeries(db, { metric, fromNs: BigInt(alignedFrom) * 1_000_000n, toNs, bucketMs }), { fromMs: alignedFrom, toMs, bucketMs, groupBy: "none", percentiles: false });
  const latest = listTraces(db, { limit: 8 }).items;
  // Firing first, then pending (listAlerts orders them so).
  const open = listAlerts(getDatabase().sqlite, "open", 5);
  const figures = [
    { label: "Requests", value: day.requests.toLocaleString("en-US"), testId: "home-requests" },
    { label: "Acceptance rate", value: formatPct(day.acceptanceRate) },
    { label: "Mean acceptance length", value: day.meanAcceptanceLength?.toFixed(2) ?? "–" },
    { label: "Tokens / s", value: day.tokensPerS?.toFixed(0) ?? "–" },
    { label: "p95 latency", value: formatMs(day.p95LatencyMs) },
    { label: "Errors", value: day.requests ? `${day.errors} (${formatPct(day.errors / day.requests)})` : "0" },
  ];
  const acceptance = chart("acceptance_rate");
  const volume = chart("requests_per_minute");
  const throughput = chart("tokens_per_s");

  return (
    <>
      <header className="page-header">
        <div>
          <h1>Last 24 hours</h1>
          <p className="purpose">Speculative decoding at a glance: how much the draft saves, how fast, and what failed.</p>
        </div>
        <div className="page-header-aside">
          <Link href="/metrics">All metrics</Link> · <Link href="/traces?range=24h">All traces</Link>
        </div>
      </header>
      <div className="stat-row" data-testid="home-figures">
        {figures.map((f) => (
          <div className="card stat" key={f.label} data-testid={f.testId}>
            <div className="muted">{f.label}</div>
            <div className="stat-value">{f.value}</div>
          </div>
        ))}
      </div>
      {open.length > 0 && (
        <section className="card home-alerts" data-testid="home-alerts">
          <h2>
            Open alerts <Link href="/alerts" className="muted">all alerts</Link>
          </h2>
          <ul className="latest-list">
            {open.map((a) => (
              <li key={a.id}>
                <span className={`alert-state state-${a.state}`}>{a.state}</span>{" "}
                <Link href={`/alerts#alert-${a.id}`}>{a.rule}</Link>{" "}
                <span className="muted latest-meta">
                  {a.series.proposer}
                  {a.configVersion ? ` · config v${a.configVersion}` : ""} · {a.value?.toFixed(3) ?? "–"} vs baseline {a.baseline?.toFixed(3) ?? "–"}
                  {a.acknowledged ? ` · acknowledged by ${a.acknowledged.by}` : ""}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <div className="metric-grid home-charts">
        <MetricChart title="Acceptance rate" unit="ratio" rows={acceptance.rows} keys={acceptance.keys} testId="home-acceptance" />
        <MetricChart title="Requests per minute" unit="requests/min" rows={volume.rows} keys={volume.keys} />
        <MetricChart title="Tokens per second" unit="tokens/s" rows={throughput.rows} keys={throughput.keys} />
        <section className="card" data-testid="home-latest">
          <h2>Latest traces</h2>
          {latest.length === 0 ? (
            <p className="muted">
              Nothing yet. Run a prompt in the <Link href="/playground">Playground</Link>.
            </p>
          ) : (
            <ul className="latest-list">
              {latest.map((t) => (
                <li key={t.traceId}>
                  <Link href={`/traces/${t.traceId}`} className="latest-prompt">{t.promptPreview || t.traceId}</Link>
                  <span className="muted latest-meta">
                    {formatTimestampNs(t.startNs).slice(11, 19)} · {t.proposer} · {formatPct(t.acceptanceRate)}
                  </span>
                  <Sparkline values={t.sparkline} width={56} height={14} />
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </>
  );
}
