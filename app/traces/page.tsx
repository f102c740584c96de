import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/app/_components/EmptyState";
import { PageHeader } from "@/app/_components/PageHeader";
import { formatDurationNs, formatTimestampNs, shortId } from "@/app/_lib/format";
import { getDb } from "@/db/client";
import { countSpans, listRecentTraces } from "@/db/queries/spans";

export const metadata: Metadata = { title: "Traces" };
// Traces arrive continuously; never serve a build-time snapshot.
export const dynamic = "force-dynamic";

export default function TracesPage() {
  const db = getDb();
  const traces = listRecentTraces(db, { limit: 100 });
  const spanTotal = countSpans(db);

  return (
    <>
      <PageHeader section="/traces">
        {traces.length > 0 && (
          <span className="muted">
            {spanTotal} span{spanTotal === 1 ? "" : "s"} stored
          </span>
        )}
      </PageHeader>
      {traces.length === 0 ? (
        <EmptyState
          title="No traces yet"
          howTo={
            <>
              <p>To produce one, run a prompt in the Playground, or call the completions API:</p>
              <pre>{`curl -s http://localhost:3000/v1/completions \\
  -H 'content-type: application/json' \\
  -d '{"prompt": "The capital of France is", "max_tokens": 32}'`}</pre>
            </>
          }
        >
          Run a generation from the Playground or POST /v1/completions; every draft proposal, verification
          and rollback will appear here as a span, with the model_id of the draft and target models.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="data-table" data-testid="trace-table">
            <thead>
              <tr>
                <th scope="col">Trace</th>
                <th scope="col">Root span</th>
                <th scope="col">Started</th>
                <th scope="col" className="num">Duration</th>
                <th scope="col" className="num">Spans</th>
                <th scope="col" className="num">Errors</th>
                <th scope="col">Node</th>
              </tr>
            </thead>
            <tbody>
              {traces.map((trace) => (
                <tr key={trace.traceId}>
                  <td className="mono" title={trace.traceId}>
                    <Link href={`/traces/${trace.traceId}`}>{shortId(trace.traceId)}</Link>
                  </td>
                  <td>{trace.rootName ?? <span className="muted">root span not exported</span>}</td>
                  <td className="mono">{formatTimestampNs(trace.startTimeNs)}</td>
                  <td className="num mono">{formatDurationNs(trace.durationNs)}</td>
                  <td className="num">{trace.spanCount}</td>
                  <td className={trace.errorCount > 0 ? "num error-text" : "num"}>{trace.errorCount}</td>
                  <td className="muted">{trace.node}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
