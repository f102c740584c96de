import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { AttributionView } from "@/app/_components/replay/AttributionView";
import { ReplayPanel } from "@/app/_components/replay/ReplayPanel";
import { OriginLegend, TokenStrip } from "@/app/_components/TokenStrip";
import { formatDurationNs, formatTimestampNs, shortId } from "@/app/_lib/format";
import { getDb } from "@/db/client";
import { getTrace, TRACE_ID_PATTERN, type StepDetail } from "@/db/queries/traces";
import { GuardrailEvents } from "./GuardrailEvents";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ traceId: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Trace ${shortId((await params).traceId)}` };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`);
const ms = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${v.toFixed(1)} ms`);
const STATUS = ["unset", "ok", "error"];

function Positions({ step }: { step: StepDetail }) {
  if (step.verification.positions.length === 0) return <span className="muted">no drafts</span>;
  return (
    <>
      {step.verification.positions.map((p, i) => (
        <span
          key={i}
          className={`badge badge-${p.outcome}`}
          title={`path ${p.path} depth ${p.depth} · token ${p.token} · ${p.outcome} · target p=${p.targetProb?.toFixed(3)}${p.targetArgmax ? " (argmax)" : ""}`}
        >
          {p.outcome === "accepted" ? "✓" : p.outcome === "rejected" ? "✗" : "≈"}
        </span>
      ))}
    </>
  );
}

function Rollback({ step }: { step: StepDetail }) {
  const { target, draft } = step.rollback;
  return (
    <span className="mono">
      target −{target.dropped ?? 0} ({target.lengthBefore}→{target.lengthAfter})
      {draft ? ` · draft −${draft.dropped} (${draft.lengthBefore}→${draft.lengthAfter})` : ""}
    </span>
  );
}

export default async function TracePage({ params }: Props) {
  const { traceId } = await params;
  if (!TRACE_ID_PATTERN.test(traceId)) notFound();
  const trace = getTrace(getDb(), traceId);
  if (!trace) notFound();
  const r = trace.request;

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
        <p className="muted">This trace has {trace.spans.length} span(s) but no generation request span.</p>
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

          <h2 className="section-title">Output tokens</h2>
          <OriginLegend />
          <TokenStrip tokens={trace.tokens} />
          <AttributionView traceId={traceId} completion={r.completion ?? ""} />
          <ReplayPanel traceId={traceId} />
        </>
      )}

      <GuardrailEvents traceId={traceId} />
      <h2 className="section-title">Steps ({trace.steps.length})</h2>
      <div className="table-wrap">
        <table className="data-table" data-testid="step-table">
          <thead>
            <tr>
              <th scope="col" className="num">#</th>
              <th scope="col">Proposer</th>
              <th scope="col" className="num">k</th>
              <th scope="col">Proposals (token ids, draft p)</th>
              <th scope="col">Verification</th>
              <th scope="col">Next</th>
              <th scope="col">Rollback</th>
              <th scope="col" className="num">Draft</th>
              <th scope="col" className="num">Verify</th>
            </tr>
          </thead>
          <tbody>
            {trace.steps.map((s) => (
              <tr key={s.index}>
                <td className="num">{s.index}</td>
                <td>{s.proposer}</td>
                <td className="num">{s.k}</td>
                <td className="mono">
                  {s.proposals.length === 0
                    ? "–"
                    : s.proposals.map((p, i) => (
                        <div key={i} style={{ fontWeight: i === s.verification.pathIndex ? 600 : 400 }}>
                          {p.tokens.map((t, j) => `${t}(${p.draftProbs[j]?.toFixed(2)})`).join(" ")}
                        </div>
                      ))}
                </td>
                <td>
                  <Positions step={s} /> <span className="muted">{s.verification.accepted} accepted</span>
                </td>
                <td className="mono">
                  {s.verification.nextToken} <span className="muted">{s.verification.nextOrigin}</span>
                </td>
                <td>
                  <Rollback step={s} />
                </td>
                <td className="num mono">{ms(s.timings.draftMs)}</td>
                <td className="num mono">{ms(s.timings.verifyMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
