import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/app/_components/EmptyState";
import { PageHeader } from "@/app/_components/PageHeader";
import { deliveryLog } from "@/app/_lib/alerts/webhooks";
import { getDatabase } from "@/db/client";
import { maskUrl } from "@/db/queries/settings";
import { alertChart, alertHistory, listAlerts, type AlertView } from "@/db/alerts/store";
import { AckForm } from "./AckForm";
import { AlertChart } from "./AlertChart";
import "./alerts.css";

export const metadata: Metadata = { title: "Alerts" };
export const dynamic = "force-dynamic";

const METRIC_LABELS: Record<AlertView["rule"], string> = {
  "acceptance-floor": "acceptance rate",
  "acceptance-drift": "acceptance rate",
  "target-confidence-drift": "target confidence",
  "draft-confidence-drift": "draft confidence",
  "position-drift": "acceptance at the drifting position",
};

const fmt = (v: number | null) => (v === null ? "–" : v.toFixed(3));
const when = (iso: string | null) => (iso ? iso.replace("T", " ").slice(0, 19) + " UTC" : "–");
const CHARTED = 12;
const TRACES_SHOWN = 12;

function AlertCard({ alert, charted }: { alert: AlertView; charted: boolean }) {
  const { sqlite } = getDatabase();
  const history = alertHistory(sqlite, alert.id);
  const deliveries = deliveryLog(sqlite, alert.id, 10);
  const points = charted ? alertChart(sqlite, alert) : [];
  const version = alert.configVersion;
  return (
    <article className={`alert-card alert-${alert.state}`} id={`alert-${alert.id}`} data-testid="alert-card" data-state={alert.state}>
      <header className="alert-head">
        <span className={`alert-state state-${alert.state}`}>{alert.state}</span>
        <h2>{alert.rule}</h2>
        <span className="muted">#{alert.id}</span>
        {alert.acknowledged && <span className="alert-acked" title={alert.acknowledged.note}>acknowledged by {alert.acknowledged.by}</span>}
      </header>
      <dl className="alert-facts">
        <dt>Config version</dt>
        <dd>{version ? <Link href={`/guardrails?version=${encodeURIComponent(version)}`}>v{version}</Link> : "–"}</dd>
        <dt>Series</dt>
        <dd className="mono">{alert.series.proposer} · target {alert.series.targetModelId ?? "–"} · draft {alert.series.draftModelId ?? "none"}</dd>
        <dt>Value now / baseline / threshold</dt>
        <dd className="mono">{fmt(alert.value)} / {fmt(alert.baseline)} / {fmt(alert.threshold)}</dd>
        <dt>Opened · fired · resolved</dt>
        <dd>{when(alert.openedAt)} · {when(alert.firedAt)} · {when(alert.resolvedAt)}</dd>
        <dt>Why</dt>
        <dd>{alert.detail}</dd>
      </dl>
      {charted && (
        <AlertChart
          points={points}
          label={METRIC_LABELS[alert.rule]}
          firedAtMs={alert.firedAt ? Date.parse(alert.firedAt) : null}
          resolvedAtMs={alert.resolvedAt ? Date.parse(alert.resolvedAt) : null}
        />
      )}
      <section>
        <h3>The {alert.traceIds.length} requests of the window that made it {alert.firedAt ? "fire" : "breach"}</h3>
        <ul className="alert-traces">
          {alert.traceIds.slice(-TRACES_SHOWN).reverse().map((id) => (
            <li key={id}><Link href={`/traces/${id}`} className="mono">{id.slice(0, 8)}</Link></li>
          ))}
          {alert.traceIds.length > TRACES_SHOWN && <li className="muted">and {alert.traceIds.length - TRACES_SHOWN} earlier</li>}
        </ul>
        {alert.traceIds.length > 0 && <Link href={`/replay?alert=${alert.id}`} data-testid="alert-replay">Replay them all</Link>}
      </section>
      <details>
        <summary>History ({history.length}) and webhook deliveries ({deliveries.length})</summary>
        <ol className="alert-history">
          {history.map((t, i) => (
            <li key={i}>{when(t.at)}: {t.fromState ?? "–"} → <strong>{t.toState}</strong> (value {fmt(t.value)}, by {t.by}){t.note && `: ${t.note}`}</li>
          ))}
        </ol>
        {deliveries.length > 0 && (
          <table className="alert-deliveries">
            <thead><tr><th>At</th><th>Event</th><th>URL</th><th>Attempt</th><th>Result</th></tr></thead>
            <tbody>
              {deliveries.map((d, i) => (
                <tr key={i}><td>{when(d.at)}</td><td>{d.event}</td><td className="mono" title="path and query hidden: a webhook URL is a secret (admins see it on /settings)">{maskUrl(d.url)}</td><td>{d.attempt}</td><td>{d.ok ? `ok ${d.status}` : d.error}</td></tr>
              ))}
            </tbody>
          </table>
        )}
      </details>
      <AckForm alertId={alert.id} />
    </article>
  );
}

export default function AlertsPage() {
  const alerts = listAlerts(getDatabase().sqlite, "all", 100);
  const firing = alerts.filter((a) => a.state === "firing").length;
  return (
    <>
      <PageHeader section="/alerts" />
      {alerts.length === 0 ? (
        <EmptyState
          title="No alerts"
          howTo={<p>Run <code>npm run traffic</code> against a running server to watch a drift alert fire and resolve (see docs/alerts.md).</p>}
        >
          Every config version&apos;s traffic is checked after each request and every 15 s: acceptance below a floor, acceptance and
          confidence drifting from the version&apos;s baseline (a request-level test at a stated false-alarm rate), and per-position drift.
        </EmptyState>
      ) : (
        <>
          <p className="alert-summary">{firing} firing · {alerts.length - firing} pending or resolved (newest 100)</p>
          {alerts.map((alert, i) => <AlertCard key={alert.id} alert={alert} charted={i < CHARTED} />)}
        </>
      )}
    </>
  );
}
