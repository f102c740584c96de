import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { AttributionView } from "@/app/_components/replay/AttributionView";
import { ReplayPanel } from "@/app/_components/replay/ReplayPanel";
import { OriginLegend } from "@/app/_components/TokenStrip";
import { loadedEngine } from "@/app/_lib/engine";
import { formatDurationNs, formatTimestampNs, shortId } from "@/app/_lib/format";
import { getDb } from "@/db/client";
import { getTrace, TRACE_ID_PATTERN } from "@/db/queries/traces";
import { formatModelId } from "@/engine";
import { TraceExplorer } from "../_components/TraceExplorer";
import { buildTraceView, tokenTextFor } from "../_lib/trace-view";
import "../explorer.css";
import { GuardrailEvents } from "./GuardrailEvents";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ traceId: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Trace ${shortId((await params).traceId)}` };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`);
const ms = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${v.toFixed(1)} ms`);
const STATUS = ["unset", "ok", "error"];

/** A trace without a generation (e.g. another service's spans sent over OTLP): its spans as a tree by start time. */
function SpanList({ spans }: { spans: NonNullable<ReturnType<typeof getTrace>>["spans"] }) {
  const start = spans[0]?.startNs ?? 0n;
  return (
    <div className="table-wrap">
      <table className="data-table" data-testid="span-table">
        <thead>
          <tr>
            <th scope="col">Span</th>
            <th scope="col">Parent</th>
            <th scope="col" className="num">Offset</th>
            <th scope="col" className="num">Duration</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">Events</th>
          </tr>
        </thead>
        <tbody>
          {spans.map((s) => (
            <tr key={s.spanId}>
              <td>{s.name} <span className="muted mono">{s.spanId}</span></td>
              <td className="mono muted">{s.parentSpanId ?? "root"}</td>
              <td className="num mono">{formatDurationNs(s.startNs - start)}</td>
              <td className="num mono">{formatDurationNs(s.endNs - s.startNs)}</td>
              <td className={s.statusCode === 2 ? "error-text" : undefined}>{STATUS[s.statusCode] ?? s.statusCode}</td>
              <td className="num">{s.events}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export default async function TracePage({ params }: Props) {
  const { traceId } = await params;
  if (!TRACE_ID_PATTERN.test(traceId)) notFound();
  const trace = getTrace(getDb(), traceId);
  if (!trace) notFound();
  const r = trace.request;
  // Draft tokens that were rejected never reach the output: their text comes from the tokenizer, when
  // the loaded target is the trace's own model (never loaded just for this page).
  const engine = loadedEngine();
  const tokenizer = engine && r && formatModelId(engine.modelIds.target) === r.targetModelId ? (id: number) => engine.tokenizer.tokenText(id) : null;
  const view = buildTraceView(trace, tokenTextFor(trace, tokenizer));

  return (
    <>
      <header className="page-header">
        <div>
          <h1>
            Trace <span className="mono">{shortId(traceId)}</span>
          </h1>
          <p className="purpose mono">{traceId}</p>
        </div>
        <div className="page-header-aside">
          <Link href="/traces">All traces</Link>
        </div>
      </header>

      {!r ? (
        <SpanList spans={trace.spans} />
      ) : (
        <>
          <div className="cards">
            <section className="card" data-testid="trace-request">
              <h2>Request</h2>
              <dl className="kv">
                <dt>Started</dt>
                <dd className="mono">{formatTimestampNs(r.startNs)}</dd>
                <dt>Duration</dt>
                <dd>{formatDurationNs(r.endNs - r.startNs)}</dd>
                <dt>Node</dt>
                <dd>{r.node}</dd>
                <dt>Endpoint</dt>
                <dd>{r.endpoint ?? "–"}</dd>
                <dt>Status</dt>
                <dd className={r.statusCode === 2 ? "error-text" : undefined}>
                  {STATUS[r.statusCode] ?? r.statusCode}
                  {r.statusMessage ? `: ${r.statusMessage}` : ""}
                </dd>
                <dt>Finish</dt>
                <dd>
                  {r.finishReason ?? "–"}
                  {r.cancelled ? " (cancelled)" : ""}
                </dd>
                <dt>Parameters</dt>
                <dd className="mono">
                  seed {r.seed} · temperature {r.temperature} · max_tokens {r.maxTokens}
                </dd>
              </dl>
            </section>
            <section className="card" data-testid="trace-models">
              <h2>Models and config</h2>
              <dl className="kv">
                <dt>Target</dt>
                <dd className="mono" title={r.targetSha256 ?? undefined}>
                  {r.targetModelId ?? "–"}
                </dd>
                <dt>Draft</dt>
                <dd className="mono" title={r.draftSha256 ?? undefined}>
                  {r.draftModelId ?? "none (no draft model used)"}
                </dd>
                <dt>Proposer</dt>
                <dd>{r.proposer}</dd>
                <dt>Verify</dt>
                <dd>{r.verifyMode}</dd>
                <dt>Config version</dt>
                <dd>{r.configVersion ?? <span className="muted">none recorded</span>}</dd>
              </dl>
            </section>
            <section className="card" data-testid="trace-summary">
              <h2>Speculation</h2>
              <dl className="kv">
                <dt>Tokens</dt>
                <dd>
                  {r.inputTokens} in · {r.outputTokens} out · {r.steps} steps
                </dd>
                <dt>Accepted</dt>
                <dd>
                  {r.accepted}/{r.drafted} ({pct(r.acceptanceRate)})
                </dd>
                <dt>Mean acc. length</dt>
                <dd>{r.meanAcceptanceLength?.toFixed(2) ?? "–"}</dd>
                <dt>Per position</dt>
                <dd className="mono">{trace.perPositionAcceptance.map((p) => pct(p)).join(" · ") || "–"}</dd>
                <dt>Timings</dt>
                <dd>
                  {r.queueMs !== null && <>queued {ms(r.queueMs)} · </>}prefill {ms(r.prefillMs)} · first token {ms(r.ttftMs)} · total {ms(r.totalMs)}
                </dd>
              </dl>
            </section>
          </div>

          <h2 className="section-title">Prompt</h2>
          <pre className="card prompt-box">{r.prompt}</pre>

          <OriginLegend />
          <TraceExplorer view={view} />
          <GuardrailEvents traceId={traceId} />
          <AttributionView traceId={traceId} completion={r.completion ?? ""} />
          <ReplayPanel traceId={traceId} />
        </>
      )}
    </>
  );
}
