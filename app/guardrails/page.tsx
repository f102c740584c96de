import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/app/_components/EmptyState";
import { PageHeader } from "@/app/_components/PageHeader";
import { loadedModels } from "@/app/_lib/engine";
import { getDb } from "@/db/client";
import { versionFigures } from "@/db/queries/config-figures";
import { DEFAULT_CONFIG_LABEL, diffConfigVersions, listAudit, listConfigLabels, listConfigVersions, previousLabelVersion, protectedLabels, selectorVersion } from "@/db/queries/configs";
import { specPart, vllmSpeculativeConfig } from "@/engine";
import { GuardrailEditor } from "./GuardrailEditor";
import { LabelMover, type LabelRow } from "./LabelMover";
import "./guardrails.css";
import { maskAuditWebhooks, maskConfigWebhooks, maskWebhookChanges, mayReadWebhookUrls } from "@/app/_lib/guardrails/webhook-visibility";
import { requireViewer } from "@/app/_lib/page-auth";

export const metadata: Metadata = { title: "Guardrails" };
export const dynamic = "force-dynamic";

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const pct = (v: number | null) => (v === null ? "–" : `${(v * 100).toFixed(1)}%`);
const fixed = (v: number | null, digits = 2) => (v === null ? "–" : v.toFixed(digits));
const when = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
const show = (v: unknown) => (v === undefined ? "—" : JSON.stringify(v));

/*
 * The Guardrails page: labels (move them, roll back), versions with their figures from the requests
 * table, the editor (form + JSON, validated by the server as you type) opened on a label or version,
 * a diff between any two versions, the vLLM equivalent, and the audit log. Reads come from db/ here;
 * changes go through the JSON API (/api/guardrails/*), so the page and API clients share one path.
 */
export default async function GuardrailsPage({ searchParams }: Props) {
  const query = await searchParams;
  const db = getDb();
  // Webhook URLs inside versions are secrets: shown cut to scheme and host to callers without settings:read.
  const reveal = mayReadWebhookUrls(await requireViewer());
  const versions = listConfigVersions(db).map((v) => (reveal ? v : { ...v, config: maskConfigWebhooks(v.config) }));
  const labels = listConfigLabels(db);
  const figures = versionFigures(db);
  const guarded = protectedLabels();
  const draftName = loadedModels().find((m) => m.role === "draft")?.name ?? "<draft model>";

  // The editor opens a label (the default: production) or a version: ?edit=production | ?edit=3
  const editSelector = one(query.edit) ?? DEFAULT_CONFIG_LABEL;
  const editVersion = selectorVersion(editSelector);
  const editLabel = editVersion === null ? labels.find((l) => l.label === editSelector) ?? labels.find((l) => l.label === DEFAULT_CONFIG_LABEL) : undefined;
  const base = versions.find((v) => v.version === (editVersion ?? editLabel?.version)) ?? versions[0];

  const diffFrom = Number(one(query.from) ?? (versions[1]?.version ?? 1));
  const diffTo = Number(one(query.to) ?? versions[0].version);
  const fullDiff = diffConfigVersions(db, diffFrom, diffTo);
  const diff = reveal || "missing" in fullDiff ? fullDiff : { ...fullDiff, changes: maskWebhookChanges(fullDiff.changes) };

  const before = Number(one(query.before)) || undefined;
  const fullAudit = listAudit(db, { limit: 25, before });
  const audit = reveal ? fullAudit : { ...fullAudit, entries: fullAudit.entries.map(maskAuditWebhooks) };

  const labelRows: LabelRow[] = labels.map((l) => ({
    label: l.label, version: l.version, updatedBy: l.updatedBy, updatedAt: when(l.updatedAtMs),
    isProtected: guarded.includes(l.label), previousVersion: previousLabelVersion(db, l.label),
  }));
  const selectedVllm = vllmSpeculativeConfig(specPart(base.config), draftName);

  return (
    <>
      <PageHeader section="/guardrails" />
      {one(query.saved) && (
        <p className="notice" role="status" data-testid="saved-notice">
          Saved version v{one(query.saved)}. Requests run under it once a label they select points at it (or when they name it).
        </p>
      )}

      <section className="guard-section" aria-labelledby="labels-title">
        <h2 id="labels-title" className="section-title">Labels</h2>
        <p className="muted">
          A request runs under the version its label points at when it is admitted. Rolling back is moving a label back; protected labels
          ({guarded.join(", ") || "none"}) need their name typed to move.
        </p>
        <LabelMover labels={labelRows} versions={versions.map((v) => v.version)} protectedLabels={guarded} />
      </section>

      <section className="guard-section" aria-labelledby="versions-title">
        <h2 id="versions-title" className="section-title">Versions</h2>
        <div className="table-wrap">
          <table className="data-table" data-testid="versions-table">
            <thead>
              <tr>
                <th>Version</th><th>Labels</th><th>Message</th><th>Base</th>
                <th className="num">Requests</th><th className="num">Accept&shy;ance</th><th className="num">Mean acc. len</th>
                <th className="num">Tok/s</th><th className="num">Rule actions</th><th></th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => {
                const f = figures.get(v.version);
                return (
                  <tr key={v.version} data-version={v.version}>
                    <td className="mono">v{v.version}</td>
                    <td>{v.labels.map((l) => <span key={l} className={`label-chip${guarded.includes(l) ? " label-protected" : ""}`}>{l}</span>)}</td>
                    <td className="wrap">
                      {v.message}
                      <div className="muted small">{v.author} · {when(v.createdAtMs)}</div>
                    </td>
                    <td className="mono">{v.baseVersion === null ? "–" : `v${v.baseVersion}`}</td>
                    <td className="num">{f?.requests ?? 0}</td>
                    <td className="num">{pct(f?.acceptanceRate ?? null)}</td>
                    <td className="num">{fixed(f?.meanAcceptanceLength ?? null)}</td>
                    <td className="num">{fixed(f?.tokensPerSecond ?? null, 1)}</td>
                    <td className="num">{f?.ruleActions ?? 0}</td>
                    <td>
                      <Link href={`/guardrails?edit=${v.version}#editor`}>edit</Link> ·{" "}
                      <Link href={`/guardrails?from=${v.baseVersion ?? Math.max(1, v.version - 1)}&to=${v.version}#diff`}>diff</Link>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        {figures.size === 0 && (
          <EmptyState title="No requests have run under any version yet">
            Once requests run, each version shows its figures here from the requests table: how many ran under it, their acceptance rate,
            mean acceptance length, tokens per second and how often a guardrail rule acted, so a new version can be judged beside the old one.
            Run one from the Playground (it selects the production label by default).
          </EmptyState>
        )}
      </section>

      <section className="guard-section" id="editor" aria-labelledby="editor-title">
        <h2 id="editor-title" className="section-title">
          Edit {editLabel && editVersion === null ? <>label <span className="mono">{editLabel.label}</span> (</> : null}version v{base.version}
          {editLabel && editVersion === null ? ")" : null}
        </h2>
        <GuardrailEditor key={`${base.version}-${editLabel?.label ?? ""}`} baseVersion={base.version} baseLabel={editVersion === null ? editLabel?.label ?? null : null} initial={JSON.parse(JSON.stringify(base.config))} />
      </section>

      <section className="guard-section" aria-labelledby="vllm-title">
        <h2 id="vllm-title" className="section-title">vLLM equivalent of v{base.version}</h2>
        <p className="muted">The fields that map onto vLLM&apos;s <span className="mono">--speculative-config</span>, so a policy tested here carries over.</p>
        <pre className="json-block" data-testid="vllm-config">{selectedVllm.json ? `--speculative-config '${JSON.stringify(selectedVllm.json)}'` : "(no --speculative-config)"}</pre>
        {selectedVllm.unmapped.length > 0 && <p className="muted">Not expressible in vLLM: {selectedVllm.unmapped.join("; ")}.</p>}
      </section>

      <section className="guard-section" id="diff" aria-labelledby="diff-title">
        <h2 id="diff-title" className="section-title">Diff</h2>
        <form className="form inline-form" method="get" action="/guardrails#diff">
          <label>From <select name="from" defaultValue={diffFrom}>{versions.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}</select></label>
          <label>To <select name="to" defaultValue={diffTo}>{versions.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}</select></label>
          <button className="button" type="submit">Compare</button>
        </form>
        {"missing" in diff ? (
          <p className="error-text">There is no version {diff.missing}.</p>
        ) : diff.changes.length === 0 ? (
          <p className="muted">v{diff.from} and v{diff.to} are identical.</p>
        ) : (
          <div className="table-wrap">
            <table className="data-table" data-testid="diff-table">
              <thead><tr><th>Field</th><th>v{diff.from}</th><th>v{diff.to}</th></tr></thead>
              <tbody>
                {diff.changes.map((c) => (
                  <tr key={c.path}><td className="mono">{c.path}</td><td className="mono diff-from">{show(c.from)}</td><td className="mono diff-to">{show(c.to)}</td></tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="guard-section" aria-labelledby="audit-title">
        <h2 id="audit-title" className="section-title">Audit log</h2>
        <div className="table-wrap">
          <table className="data-table" data-testid="audit-table">
            <thead><tr><th>When</th><th>Who</th><th>Action</th><th>Subject</th><th>Before</th><th>After</th><th>Message</th></tr></thead>
            <tbody>
              {audit.entries.map((e) => (
                <tr key={e.id}>
                  <td className="muted">{when(e.atMs)}</td>
                  <td>{e.actor}</td>
                  <td className="mono">{e.action}</td>
                  <td className="mono">{e.subject}</td>
                  <td className="mono">{summarize(e.before)}</td>
                  <td className="mono">{summarize(e.after)}</td>
                  <td className="wrap">{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {audit.nextBefore !== null && <p><Link href={`/guardrails?before=${audit.nextBefore}#audit-title`}>Older entries</Link></p>}
      </section>
    </>
  );
}

/** A label move shows its versions; a version creation its number (its body is in the versions table). */
function summarize(value: unknown): string {
  if (value === null || value === undefined) return "–";
  const v = value as { version?: number; config?: unknown };
  return typeof v.version === "number" ? `v${v.version}${v.config ? " (config)" : ""}` : JSON.stringify(value);
}
