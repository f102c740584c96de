import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/app/_components/EmptyState";
import { formatDurationNs, formatTimestampNs, shortId } from "@/app/_lib/format";
import { firstValues, hrefWith } from "@/app/_lib/view-url";
import { getDb } from "@/db/client";
import { listRawTraces } from "@/db/queries/traces";
import "../explorer.css";

export const metadata: Metadata = { title: "Raw spans" };
export const dynamic = "force-dynamic";

/** Every stored trace by its root span, generations or not (e.g. other services' spans sent over OTLP). */
export default async function RawTracesPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const raw = firstValues(await searchParams);
  const before = raw.before && /^\d{1,20}$/.test(raw.before) ? BigInt(raw.before) : undefined;
  const onlyOther = raw.only === "other";
  const page = listRawTraces(getDb(), { beforeNs: before, onlyOther, limit: 50 });
  const view = { only: raw.only };
  return (
    <>
      <header className="page-header">
        <div>
          <h1>Raw spans</h1>
          <p className="purpose">
            Every stored trace by its root span, including OpenTelemetry traces that are not generations.{" "}
            <Link href="/traces">Back to generations</Link>
          </p>
        </div>
        <div className="page-header-aside">
          {onlyOther ? <Link href="/traces/raw">Show all traces</Link> : <Link href="/traces/raw?only=other">Only non-generation traces</Link>}
        </div>
      </header>
      {page.items.length === 0 ? (
        <EmptyState title="No traces">Nothing stored{onlyOther ? " besides generations" : ""}.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="data-table trace-list" data-testid="raw-trace-table">
            <thead>
              <tr>
                <th scope="col">Trace</th>
                <th scope="col">Root span</th>
                <th scope="col">Started</th>
                <th scope="col" className="num">Duration</th>
                <th scope="col" className="num">Spans</th>
                <th scope="col">Kind</th>
                <th scope="col">Node</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((t) => (
                <tr key={t.traceId}>
                  <td className="mono"><Link href={`/traces/${t.traceId}`}>{shortId(t.traceId)}</Link></td>
                  <td>
                    {t.rootName}
                    {t.statusCode === 2 && <span className="status status-error"> error</span>}
                  </td>
                  <td className="mono">{formatTimestampNs(t.startNs)}</td>
                  <td className="num mono">{formatDurationNs(t.endNs - t.startNs)}</td>
                  <td className="num">{t.spanCount}</td>
                  <td>{t.generation ? "generation" : <span className="muted">{t.scopeName ?? "other"}</span>}</td>
                  <td className="muted">{t.node}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager">
        {before !== undefined && <Link href={hrefWith("/traces/raw", view, {})}>« Newest</Link>}
        {page.nextBeforeNs !== null && <Link href={hrefWith("/traces/raw", view, { before: page.nextBeforeNs.toString() })}>Older »</Link>}
      </nav>
    </>
  );
}
