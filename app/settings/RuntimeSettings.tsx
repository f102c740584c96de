"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import type { SettingName, SettingsView, SettingView } from "@/app/_lib/security/settings";

/*
 * Retention & notifications: the effective value of each runtime setting and where it comes from, a
 * form that saves only the fields the admin changed (a field left alone keeps following its environment
 * default), a reset per saved field, and a test notification to the global webhook. Every check is the
 * server's (PATCH /api/settings); its messages are shown next to the field they name.
 */

const FIELDS: { name: SettingName; label: string; unit: string; type: "number" | "url"; off: string; help: string }[] = [
  { name: "retentionDays", label: "Retention", unit: "days", type: "number", off: "keep forever", help: "Traces older than this are deleted (0: keep forever). Applies at the next retention pass (within a minute)." },
  { name: "maxDbMb", label: "Database size cap", unit: "MB", type: "number", off: "no cap", help: "The oldest traces are deleted while the database uses more (0: no cap). Applies at the next retention pass." },
  { name: "alertWebhook", label: "Global alert webhook", unit: "", type: "url", off: "none", help: "Every alert notification is also posted here as Slack-compatible JSON (empty: none). Applies to the next notification." },
];

const when = (iso: string) => iso.replace("T", " ").slice(0, 16) + " UTC";

function show(field: (typeof FIELDS)[number], value: number | string): string {
  if (value === 0 || value === "") return field.off;
  return field.unit ? `${value} ${field.unit}` : String(value);
}

function source(s: SettingView<number | string>): string {
  if (s.source === "saved") return `saved by ${s.savedBy}, ${when(s.savedAt!)}`;
  if (s.source === "environment") return `environment (${s.default.variable})`;
  return "default (off)";
}

/** What applies once the saved value is reset: the environment variable's value, or off. */
function fallback(field: (typeof FIELDS)[number], s: SettingView<number | string>): string {
  return `${show(field, s.default.value)} (${s.default.variable}${s.default.source === "environment" ? "" : " unset"})`;
}

const drafts = (settings: SettingsView) => Object.fromEntries(FIELDS.map((f) => [f.name, String(settings[f.name].value)])) as Record<SettingName, string>;

/** What the form sends for a field: a number when it reads as one, else the text, for the server to judge. */
function wire(field: (typeof FIELDS)[number], text: string): number | string {
  if (field.type === "url") return text.trim();
  return /^\s*-?\d+(\.\d+)?\s*$/.test(text) ? Number(text) : text;
}

export function RuntimeSettings({ initial }: { initial: SettingsView }) {
  const router = useRouter();
  const [settings, setSettings] = useState(initial);
  const [draft, setDraft] = useState(() => drafts(initial));
  const [errors, setErrors] = useState<Partial<Record<SettingName | "body", string>>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [testResult, setTestResult] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function patch(body: Partial<Record<SettingName, number | string | null>>) {
    setBusy(true);
    try {
      const response = await fetch("/api/settings", { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const data = (await response.json().catch(() => ({}))) as {
        settings?: SettingsView; changed?: SettingName[]; error?: { message?: string }; issues?: { path: string; message: string }[];
      };
      if (!response.ok) {
        const byField: Partial<Record<SettingName | "body", string>> = {};
        for (const issue of data.issues ?? [{ path: "body", message: data.error?.message ?? `HTTP ${response.status}` }]) {
          const key = (FIELDS.some((f) => f.name === issue.path) ? issue.path : "body") as SettingName | "body";
          byField[key] = byField[key] ? `${byField[key]}; ${issue.message}` : issue.message;
        }
        setErrors(byField);
        setMessage(null);
        return;
      }
      setErrors({});
      setSettings(data.settings!);
      setDraft(drafts(data.settings!));
      const names = (data.changed ?? []).map((n) => FIELDS.find((f) => f.name === n)!.label.toLowerCase());
      setMessage(names.length > 0 ? `Saved: ${names.join(", ")}.` : "Nothing changed.");
      router.refresh(); // the recent-changes list below is rendered on the server
    } finally {
      setBusy(false);
    }
  }

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const body: Partial<Record<SettingName, number | string>> = {};
    for (const field of FIELDS) {
      // Only what the admin changed: a field left alone keeps following its environment default.
      if (draft[field.name] !== String(settings[field.name].value)) body[field.name] = wire(field, draft[field.name]);
    }
    if (Object.keys(body).length === 0) {
      setErrors({});
      setMessage("Nothing changed.");
      return;
    }
    await patch(body);
  }

  async function sendTest() {
    setTestResult("Sending…");
    const response = await fetch("/api/settings/webhook-test", { method: "POST" });
    const data = (await response.json().catch(() => ({}))) as { ok?: boolean; status?: number | null; error?: string | { message?: string } | null; durationMs?: number; url?: string };
    if (!response.ok) {
      setTestResult(typeof data.error === "object" && data.error?.message ? data.error.message : `HTTP ${response.status}`);
      return;
    }
    const answer = data.status === null ? String(data.error) : `HTTP ${data.status}`;
    setTestResult(`${data.ok ? "Delivered" : "Not delivered"}: ${answer} from ${data.url} in ${data.durationMs} ms`);
  }

  return (
    <>
      <table className="settings-table" data-testid="runtime-settings">
        <thead><tr><th>Setting</th><th>In force</th><th>Source</th><th>Without a saved value</th></tr></thead>
        <tbody>
          {FIELDS.map((field) => {
            const s = settings[field.name] as SettingView<number | string>;
            return (
              <tr key={field.name} data-setting={field.name}>
                <td>{field.label}</td>
                <td className={field.type === "url" ? "mono" : undefined}>{show(field, s.value)}</td>
                <td data-testid={`source-${field.name}`}>{source(s)}</td>
                <td className="muted">{fallback(field, s)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>

      <form onSubmit={(e) => void save(e)} aria-label="Retention and notifications" className="runtime-settings-form" noValidate>
        {FIELDS.map((field) => (
          <div key={field.name} className={errors[field.name] ? "runtime-field field-invalid" : "runtime-field"}>
            <label htmlFor={`setting-${field.name}`}>{field.label}{field.unit ? ` (${field.unit})` : ""}</label>
            <div className="runtime-field-row">
              <input
                id={`setting-${field.name}`} name={field.name} type={field.type === "url" ? "url" : "number"}
                inputMode={field.type === "url" ? "url" : "numeric"} placeholder={field.type === "url" ? "https://hooks.slack.com/services/…" : "0"}
                value={draft[field.name]} onChange={(e) => setDraft({ ...draft, [field.name]: e.target.value })}
                aria-invalid={errors[field.name] ? true : undefined} aria-describedby={`help-${field.name}`}
              />
              {settings[field.name].source === "saved" && (
                <button type="button" className="link-button" disabled={busy} onClick={() => void patch({ [field.name]: null })}>
                  Reset to default
                </button>
              )}
            </div>
            {errors[field.name] && <span className="field-error" role="alert" data-testid={`error-${field.name}`}>{errors[field.name]}</span>}
            <span id={`help-${field.name}`} className="muted runtime-help">{field.help}</span>
          </div>
        ))}
        {errors.body && <p className="field-error" role="alert">{errors.body}</p>}
        <div className="runtime-actions">
          <button type="submit" className="button" disabled={busy}>Save</button>
          {settings.alertWebhook.value !== "" && (
            <button type="button" onClick={() => void sendTest()} disabled={busy}>Send test notification</button>
          )}
          {message && <span role="status" data-testid="settings-message">{message}</span>}
        </div>
        {testResult && <p role="status" data-testid="webhook-test-result">{testResult}</p>}
      </form>
    </>
  );
}
