"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

/*
 * The config editor: a form generated from the config itself (every leaf becomes an input, so fields
 * the engine adds later appear without touching this file) and a JSON view of the same object. Every
 * change is checked by the server's schema (POST /api/guardrails/validate, debounced), whose field
 * paths put the messages next to their inputs; the change list is the diff against the base version.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
interface Issue { path: string; message: string }
interface Change { path: string; from?: Json; to?: Json }
interface Vllm { json: JsonObject | null; unmapped: string[] }

const ENUMS: Record<string, readonly string[]> = {
  proposer: ["draft-model", "ngram", "tree", "off"],
  verify: ["greedy", "sampling", "lossy"],
};
/** What a rule or group holds once switched on (it is null while off). */
const WHEN_ENABLED: Record<string, JsonObject> = {
  draftWindow: { sink: 4, recent: 64 },
  fallback: { window: 8, minAcceptance: 0.3, cooldownSeconds: 0 },
  load: { maxRunning: 4 },
};
const OVERRIDABLE = ["proposer", "verify", "k_max", "adaptive_k", "draft_confidence", "draft_accept_floor", "lossy_threshold", "ngram", "tree", "draft_window"];
const RULE_GROUPS: Record<string, string> = {
  fallback: "Fallback rule: speculation off when acceptance over the last N drafting steps falls below X",
  load: "Load rule: speculation off for requests admitted while more than N are in flight",
  limits: "Limits and allowed per-request overrides",
  alerts: "Alert rules",
};

const stripPrefix = (p: string) => (p === "config" ? "" : p.replace(/^config\./, ""));

function setAt(obj: JsonObject, path: string[], value: Json): JsonObject {
  const [head, ...rest] = path;
  if (rest.length === 0) return { ...obj, [head]: value };
  return { ...obj, [head]: setAt((obj[head] ?? {}) as JsonObject, rest, value) };
}

export function GuardrailEditor({ baseVersion, baseLabel, initial }: { baseVersion: number; baseLabel: string | null; initial: JsonObject }) {
  const router = useRouter();
  const [config, setConfig] = useState<JsonObject>(initial);
  const [view, setView] = useState<"form" | "json">("form");
  const [jsonText, setJsonText] = useState(() => JSON.stringify(initial, null, 2));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [issues, setIssues] = useState<Issue[]>([]);
  const [changes, setChanges] = useState<Change[]>([]);
  const [vllm, setVllm] = useState<Vllm | null>(null);
  const [message, setMessage] = useState("");
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<{ message: string; changes?: Change[]; current?: number } | null>(null);

  // Validate with the server's schema as the user types (debounced; the last answer wins).
  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(async () => {
      try {
        const res = await fetch("/api/guardrails/validate", {
          method: "POST", headers: { "content-type": "application/json" }, signal: controller.signal,
          body: JSON.stringify({ baseVersion, config }),
        });
        const body = await res.json();
        if (res.ok) {
          setIssues([]);
          setChanges(body.changes);
          setVllm(body.vllm ?? null);
        } else {
          setIssues((body.issues ?? [{ path: body.error?.param ?? "config", message: body.error?.message ?? `HTTP ${res.status}` }]).map((i: Issue) => ({ ...i, path: stripPrefix(i.path) })));
        }
      } catch (e) {
        if (!controller.signal.aborted) setIssues([{ path: "", message: e instanceof Error ? e.message : String(e) }]);
      }
    }, 250);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [config, baseVersion]);

  function update(path: string[], value: Json) {
    const next = setAt(config, path, value);
    setConfig(next);
    setJsonText(JSON.stringify(next, null, 2));
  }

  function editJson(text: string) {
    setJsonText(text);
    try {
      const parsed = JSON.parse(text) as Json;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("the config must be a JSON object");
      setJsonError(null);
      setConfig(parsed);
    } catch (e) {
      setJsonError(e instanceof Error ? e.message : String(e));
    }
  }

  async function save() {
    setSaving(true);
    setSaveError(null);
    try {
      const res = await fetch("/api/guardrails", {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ config, message, baseVersion, baseLabel }),
      });
      const body = await res.json();
      if (res.status === 201) {
        router.push(`/guardrails?edit=${body.version}&saved=${body.version}#editor`);
        router.refresh();
        return;
      }
      if (res.status === 400 && body.issues) setIssues(body.issues.map((i: Issue) => ({ ...i, path: stripPrefix(i.path) })));
      setSaveError({ message: body.error?.message ?? `HTTP ${res.status}`, changes: body.stale?.changes, current: body.stale?.currentVersion });
    } finally {
      setSaving(false);
    }
  }

  const initialWasNull = (key: string) => key.split(".").reduce<Json | undefined>((v, k) => (v && typeof v === "object" && !Array.isArray(v) ? v[k] : undefined), initial) === null;
  const errorFor = (path: string) => issues.filter((i) => i.path === path);
  const shownPaths = new Set<string>();
  const renderField = (path: string[], value: Json): React.ReactNode => {
    const key = path.join(".");
    const name = path[path.length - 1];
    shownPaths.add(key);
    const errors = errorFor(key);
    const errorNote = errors.map((e) => <span key={e.message} className="field-error" role="alert">{e.message}</span>);

    if (key === "limits.overrides.allowed") {
      const mode = Array.isArray(value) ? "list" : String(value);
      const list = Array.isArray(value) ? (value as string[]) : [];
      return (
        <div key={key} className={errors.length ? "field-invalid" : undefined}>
          <label>
            allowed overrides
            <select name={key} value={mode} onChange={(e) => update(path, e.target.value === "list" ? [] : e.target.value)}>
              <option value="all">all</option><option value="none">none</option><option value="list">only these…</option>
            </select>
          </label>
          {mode === "list" && OVERRIDABLE.map((f) => (
            <label key={f} className="checkbox">
              <input type="checkbox" checked={list.includes(f)} onChange={(e) => update(path, e.target.checked ? [...list, f] : list.filter((x) => x !== f))} /> {f}
            </label>
          ))}
          {errorNote}
        </div>
      );
    }
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return (
        <fieldset key={key} className="editor-group">
          <legend>{RULE_GROUPS[key] ?? name}</legend>
          {name in WHEN_ENABLED && (
            <label className="checkbox"><input type="checkbox" name={`${key}.enabled`} checked onChange={() => update(path, null)} /> enabled</label>
          )}
          <div className="editor-grid">{Object.entries(value).map(([k, v]) => renderField([...path, k], v))}</div>
          {errorNote}
        </fieldset>
      );
    }
    if (value === null && name in WHEN_ENABLED) {
      return (
        <fieldset key={key} className="editor-group">
          <legend>{RULE_GROUPS[key] ?? name}</legend>
          <label className="checkbox"><input type="checkbox" name={`${key}.enabled`} checked={false} onChange={() => update(path, WHEN_ENABLED[name])} /> enabled</label>
          {errorNote}
        </fieldset>
      );
    }
    let input: React.ReactNode;
    if (value === null) {
      // A field that is off (e.g. a webhook): empty means null; an object-valued one is set in the JSON view.
      input = <input type="text" name={key} value="" placeholder="none" onChange={(e) => update(path, e.target.value === "" ? null : e.target.value)} />;
    } else if (typeof value === "boolean") {
      input = <input type="checkbox" name={key} checked={value} onChange={(e) => update(path, e.target.checked)} />;
    } else if (typeof value === "string" && ENUMS[name]) {
      input = <select name={key} value={value} onChange={(e) => update(path, e.target.value)}>{ENUMS[name].map((o) => <option key={o}>{o}</option>)}</select>;
    } else if (typeof value === "number" || (typeof value === "string" && !ENUMS[name] && value === "")) {
      input = <input type="number" step="any" name={key} value={value} onChange={(e) => update(path, e.target.value === "" ? "" : Number(e.target.value))} />;
    } else {
      input = <input type="text" name={key} value={typeof value === "string" ? value : JSON.stringify(value)} onChange={(e) => {
        if (typeof value === "string") return update(path, e.target.value === "" && initialWasNull(key) ? null : e.target.value);
        try { update(path, JSON.parse(e.target.value) as Json); } catch { update(path, e.target.value); }
      }} />;
    }
    return (
      <label key={key} className={errors.length ? "field-invalid" : undefined}>
        {name}
        {input}
        {errorNote}
      </label>
    );
  };

  const policy = Object.entries(config).filter(([k]) => !(k in RULE_GROUPS));
  const rules = Object.entries(config).filter(([k]) => k in RULE_GROUPS);
  const form = view === "form" ? (
    <>
      <fieldset className="editor-group">
        <legend>Policy: proposer, draft length, verification</legend>
        <div className="editor-grid">{policy.map(([k, v]) => renderField([k], v))}</div>
      </fieldset>
      {rules.map(([k, v]) => renderField([k], v))}
    </>
  ) : null;
  const unplaced = view === "json" ? issues : issues.filter((i) => !shownPaths.has(i.path));

  return (
    <div className="form guard-editor" data-testid="guardrail-editor">
      <div className="tabs" role="tablist">
        <button type="button" role="tab" className="tab" aria-selected={view === "form"} onClick={() => setView("form")}>Form</button>
        <button type="button" role="tab" className="tab" aria-selected={view === "json"} onClick={() => setView("json")}>JSON</button>
      </div>
      {form}
      {view === "json" && (
        <label className={jsonError ? "field-invalid" : undefined}>
          Config JSON
          <textarea name="config-json" rows={24} className="mono" value={jsonText} onChange={(e) => editJson(e.target.value)} spellCheck={false} />
          {jsonError && <span className="field-error" role="alert">JSON: {jsonError}</span>}
        </label>
      )}
      {unplaced.length > 0 && (
        <ul className="error-box" role="alert" data-testid="config-issues">
          {unplaced.map((i) => <li key={i.path + i.message}><span className="mono">{i.path || "config"}</span>: {i.message}</li>)}
        </ul>
      )}
      <h3 className="section-title">Changes from v{baseVersion}</h3>
      {changes.length === 0 ? <p className="muted">No changes yet.</p> : (
        <ul className="change-list" data-testid="change-list">
          {changes.map((c) => <li key={c.path}>{c.path}: {JSON.stringify(c.from)} → {JSON.stringify(c.to)}</li>)}
        </ul>
      )}
      {vllm && (
        <p className="muted">vLLM: <span className="mono" data-testid="editor-vllm">{vllm.json ? `--speculative-config '${JSON.stringify(vllm.json)}'` : "no --speculative-config"}</span></p>
      )}
      <div className="confirm-row">
        <label>
          Message (required: why this change)
          <input type="text" name="message" value={message} onChange={(e) => setMessage(e.target.value)} size={60} />
        </label>
        <button type="button" className="button" onClick={save} disabled={saving || issues.length > 0 || jsonError !== null || changes.length === 0 || message.trim() === ""}>
          {saving ? "Saving…" : "Save as a new version"}
        </button>
      </div>
      {saveError && (
        <div className="error-box" role="alert" data-testid="save-error">
          <p>{saveError.message}</p>
          {saveError.changes && saveError.changes.length > 0 && (
            <ul className="change-list">{saveError.changes.map((c) => <li key={c.path}>{c.path}: {JSON.stringify(c.from)} → {JSON.stringify(c.to)}</li>)}</ul>
          )}
          {saveError.current !== undefined && <Link href={`/guardrails?edit=${saveError.current}#editor`}>Open v{saveError.current} and re-apply</Link>}
        </div>
      )}
    </div>
  );
}
