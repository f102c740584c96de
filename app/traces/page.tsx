import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/app/_components/EmptyState";
import { PageHeader } from "@/app/_components/PageHeader";
import { formatTimestampNs, shortId } from "@/app/_lib/format";
import { describeZodError } from "@/app/_lib/http";
import { toTraceFilters, traceQuerySchema, type TraceQuery } from "@/app/_lib/traces";
import { firstValues, formatMs, formatPct, hrefWith, modelName } from "@/app/_lib/view-url";
import { getDb } from "@/db/client";
import { listTraces, traceFacets, type TraceListItem, type TracePage, type TraceSort } from "@/db/queries/traces";
import { FilterBar } from "./_components/FilterBar";
import { Sparkline } from "./_components/Sparkline";
import "./explorer.css";

export const metadata: Metadata = { title: "Traces" };
// Traces arrive continuously; never serve a build-time snapshot.
export const dynamic = "force-dynamic";

const COLUMNS: { label: string; sort?: TraceSort; className?: string; title?: string }[] = [
  { label: "Time", sort: "start" },
  { label: "Prompt" },
  { label: "Out", sort: "output_tokens", className: "num", title: "output tokens" },
  { label: "tok/s", sort: "tokens_per_s", className: "num" },
  { label: "Accept", sort: "acceptance", className: "num", title: "acceptance rate = accepted / drafted; bars: per step" },
  { label: "Len", className: "num", title: "mean acceptance length = 1 + accepted / steps" },
  { label: "Proposer" },
  { label: "Config", title: "config version" },
  { label: "Models", title: "target / draft" },
  { label: "Latency", sort: "latency", className: "num" },
  { label: "Status" },
  { label: "Node" },
];

function statusOf(t: TraceListItem): { label: string; className: string } {
  if (t.statusCode === 2) return { label: "error", className: "status status-error" };
  if (t.cancelled) return { label: "cancelled", className: "status status-warn" };
  return { label: t.finishReason ?? "ok", className: "status status-ok" };
}

export default async function TracesPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const raw = firstValues(await searchParams);
  const view = Object.fromEntries(Object.entries(raw).filter(([key]) => key !== "cursor"));
  const parsed = traceQuerySchema.safeParse(raw);
  const db = getDb();
  let page: TracePage = { items: [], nextCursor: null };
  let error: string | null = parsed.success ? null : describeZodError(parsed.error);
  const query: TraceQuery | null = parsed.success ? parsed.data : null;
  if (query) {
    try {
      page = listTraces(db, toTraceFilters(query));
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      error = `cursor: ${e.message}`;
    }
  }
  const facets = traceFacets(db);
  const filtered = Object.keys(view).some((k) => !["sort", "order", "limit"].includes(k));
  const sort = query?.sort ?? "start";
  const order = query?.order ?? "desc";

  return (
    <>
      <PageHeader section="/traces">
        <Link href="/traces/raw" className="muted">Raw spans view</Link>
      </PageHeader>
      <FilterBar facets={facets} values={raw} />
      {error && <div className="error-box" role="alert">{error}</div>}
      {page.items.length === 0 && !error ? (
        filtered || raw.cursor ? (
          <EmptyState title="No traces match">Nothing matches these filters. <Link href="/traces">Clear them</Link>.</EmptyState>
        ) : (
          <EmptyState
            title="No traces yet"
            howTo={
              <>
                <p>To produce one, run a prompt in the Playground, or call the completions API:</p>
                <pre>{`curl -s http://localhost:3000/v1/completions \\
  -H 'content-type: application/json' \\
  -d '{"model": "speclens-brown-20m", "prompt": "The jury said", "max_tokens": 32}'`}</pre>
              </>
            }
          >
            Every generation appears here with its acceptance, throughput, proposer, config version and models.
          </EmptyState>
        )
      ) : page.items.length > 0 ? (
        <>
          <div className="table-wrap">
            <table className="data-table trace-list" data-testid="trace-table">
              <thead>
                <tr>
                  {COLUMNS.map((c) => {
                    const active = c.sort !== undefined && c.sort === sort;
                    const next = active && order === "desc" ? "asc" : "desc";
                    return (
                      <th key={c.label} scope="col" className={c.className} title={c.title} aria-sort={active ? (order === "desc" ? "descending" : "ascending") : undefined}>
                        {c.sort ? (
                          <Link href={hrefWith("/traces", view, { sort: c.sort === "start" ? null : c.sort, order: next === "desc" ? null : next })}>
                            {c.label}
                            {active ? (order === "desc" ? " ↓" : " ↑") : ""}
                          </Link>
                        ) : (
                          c.label
                        )}
                      </th>
                    );
                  })}
                </tr>
              </thead>
              <tbody>
                {page.items.map((t) => {
                  const status = statusOf(t);
                  return (
                    <tr key={t.traceId} data-trace-id={t.traceId}>
                      <td className="mono time-cell">
                        <Link href={`/traces/${t.traceId}`} title={`${formatTimestampNs(t.startNs)} · trace ${t.traceId}`}>
                          <span className="sub">{formatTimestampNs(t.startNs).slice(5, 10)}</span>
                          {formatTimestampNs(t.startNs).slice(11, 19)}
                        </Link>
                      </td>
                      <td className="prompt-cell" title={t.promptPreview}>
                        <Link href={`/traces/${t.traceId}`}>{t.promptPreview || <span className="muted">{shortId(t.traceId)}</span>}</Link>
                      </td>
                      <td className="num">{t.outputTokens ?? "–"}</td>
                      <td className="num">{t.tokensPerS === null ? "–" : t.tokensPerS.toFixed(0)}</td>
                      <td className="num accept-cell">
                        <span>{formatPct(t.acceptanceRate)}</span>
                        <Sparkline values={t.sparkline} width={56} height={12} />
                      </td>
                      <td className="num">{t.meanAcceptanceLength === null ? "–" : t.meanAcceptanceLength.toFixed(2)}</td>
                      <td>
                        {t.proposer ?? "–"}
                        {t.verifyMode && <span className="sub">{t.verifyMode}</span>}
                      </td>
                      <td>{t.configVersion ? `v${t.configVersion.replace(/^v/, "")}` : "–"}</td>
                      <td className="models-cell" title={`${t.targetModelId ?? ""}\n${t.draftModelId ?? ""}`}>
                        {modelName(t.targetModelId)}
                        <span className="sub">{t.draftModelId ? modelName(t.draftModelId) : "no draft"}</span>
                      </td>
                      <td className="num">{formatMs(t.totalMs)}</td>
                      <td><span className={status.className}>{status.label}</span></td>
                      <td className="muted">{t.node}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="pages">
            {raw.cursor && <Link href={hrefWith("/traces", view, {})}>« First page</Link>}
            {page.nextCursor ? (
              <Link href={hrefWith("/traces", view, { cursor: page.nextCursor })} rel="next" data-testid="next-page">
                Next page »
              </Link>
            ) : (
              <span className="muted">End of list</span>
            )}
          </nav>
        </>
      ) : null}
    </>
  );
}
