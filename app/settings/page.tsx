import type { Metadata } from "next";
import { callerHas } from "@/app/_lib/page-auth";
import { settingsJson } from "@/app/_lib/security/settings";
import { getDb } from "@/db/client";
import { listApiKeys, listUsers } from "@/db/queries/auth";
import { listAudit } from "@/db/queries/configs";
import { effectiveSettings } from "@/db/queries/settings";
import { RuntimeSettings } from "./RuntimeSettings";
import { SettingsPanel } from "./SettingsPanel";

export const metadata: Metadata = { title: "Settings" };
export const dynamic = "force-dynamic";

const when = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
const changes = (value: unknown) => (value === null ? "–" : Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}: ${v === null ? "default" : JSON.stringify(v)}`).join(", "));

/**
 * Users and API keys, retention and notifications (admin). Changes go through /api/settings*, which
 * check the role again.
 */
export default async function SettingsPage() {
  const { caller, allowed } = await callerHas("admin");
  if (!allowed) {
    return (
      <section>
        <h1>Settings</h1>
        <p role="alert">Settings need the admin role; you are signed in as a {caller.role}.</p>
      </section>
    );
  }
  const db = getDb();
  const history = listAudit(db, { action: "settings.update", limit: 5 }).entries;
  return (
    <section>
      <header className="page-header">
        <div>
          <h1>Settings</h1>
          <p className="purpose">Who may use this dashboard and its API (users with roles, API keys), how long traces are kept, and where alerts go.</p>
        </div>
      </header>
      <SettingsPanel initialUsers={listUsers(db)} initialKeys={listApiKeys(db)} />

      <section aria-labelledby="retention" data-testid="retention-section">
        <h2 id="retention">Retention &amp; notifications</h2>
        <p className="muted">
          A value saved here wins over its environment variable, which stays the default: reset a field to follow the environment again.
        </p>
        <RuntimeSettings initial={settingsJson(effectiveSettings(db))} />
        {history.length > 0 && (
          <>
            <h3>Recent changes</h3>
            <table className="settings-table" data-testid="settings-history">
              <thead><tr><th>When</th><th>Who</th><th>Before</th><th>After</th></tr></thead>
              <tbody>
                {history.map((e) => (
                  <tr key={e.id}><td>{when(e.atMs)}</td><td>{e.actor}</td><td className="mono">{changes(e.before)}</td><td className="mono">{changes(e.after)}</td></tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </section>
    </section>
  );
}
