"use client";

import { useState, type FormEvent } from "react";

interface UserView { id: number; name: string; role: string; disabled: number; createdAtMs: number; createdBy: string }
interface KeyView { id: number; name: string; role: string; prefix: string; createdAtMs: number; createdBy: string; lastUsedAtMs: number | null; revokedAtMs: number | null }

const when = (ms: number | null) => (ms === null ? "never" : new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC");

async function send(method: string, url: string, body?: unknown): Promise<{ ok: boolean; data: Record<string, unknown> }> {
  const response = await fetch(url, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { ok: response.ok, data: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}

const errorText = (data: Record<string, unknown>) => ((data.error as { message?: string } | undefined)?.message ?? "request failed");

export function SettingsPanel({ initialUsers, initialKeys }: { initialUsers: UserView[]; initialKeys: KeyView[] }) {
  const [users, setUsers] = useState(initialUsers);
  const [keys, setKeys] = useState(initialKeys);
  const [newKey, setNewKey] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  async function refresh() {
    const [u, k] = await Promise.all([send("GET", "/api/settings/users"), send("GET", "/api/settings/keys")]);
    if (u.ok) setUsers(u.data.users as UserView[]);
    if (k.ok) setKeys(k.data.keys as KeyView[]);
  }

  async function createKey(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const result = await send("POST", "/api/settings/keys", { name: form.get("name"), role: form.get("role") });
    if (!result.ok) return setMessage(errorText(result.data));
    setNewKey(result.data.key as string);
    setMessage(null);
    await refresh();
  }

  async function createUser(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const target = event.currentTarget;
    const form = new FormData(target);
    const result = await send("POST", "/api/settings/users", { name: form.get("name"), role: form.get("role"), password: form.get("password") });
    setMessage(result.ok ? `User ${form.get("name")} created.` : errorText(result.data));
    if (result.ok) target.reset();
    await refresh();
  }

  async function act(method: string, url: string, body?: unknown) {
    const result = await send(method, url, body);
    setMessage(result.ok ? null : errorText(result.data));
    await refresh();
  }

  return (
    <>
      {message && <p role="alert">{message}</p>}
      <h2>API keys</h2>
      {newKey && (
        <div>
          <p>Copy this key now: it is stored hashed and will not be shown again.</p>
          <p className="new-key" data-testid="new-key">{newKey}</p>
        </div>
      )}
      <table className="settings-table">
        <thead><tr><th>Name</th><th>Role</th><th>Key</th><th>Created</th><th>Last used</th><th>Status</th><th /></tr></thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td><td>{k.role}</td><td><code>{k.prefix}…</code></td><td>{when(k.createdAtMs)} by {k.createdBy}</td>
              <td>{when(k.lastUsedAtMs)}</td><td>{k.revokedAtMs === null ? "active" : `revoked ${when(k.revokedAtMs)}`}</td>
              <td>{k.revokedAtMs === null && <button onClick={() => void act("DELETE", `/api/settings/keys/${k.id}`)}>Revoke</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form onSubmit={(e) => void createKey(e)} aria-label="New API key" className="settings-form">
        <input name="name" placeholder="key name (e.g. ci)" required maxLength={64} />
        <select name="role" defaultValue="viewer">
          <option value="viewer">viewer</option><option value="editor">editor</option><option value="admin">admin</option><option value="ingest">ingest</option>
        </select>
        <button type="submit">Create key</button>
      </form>

      <h2>Users</h2>
      <table className="settings-table">
        <thead><tr><th>Name</th><th>Role</th><th>Created</th><th>Status</th><th /></tr></thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id}>
              <td>{u.name}</td>
              <td>
                <select value={u.role} aria-label={`role of ${u.name}`} onChange={(e) => void act("PATCH", `/api/settings/users/${u.id}`, { role: e.target.value })}>
                  <option value="viewer">viewer</option><option value="editor">editor</option><option value="admin">admin</option>
                </select>
              </td>
              <td>{when(u.createdAtMs)} by {u.createdBy}</td>
              <td>{u.disabled ? "disabled" : "active"}</td>
              <td><button onClick={() => void act("PATCH", `/api/settings/users/${u.id}`, { disabled: !u.disabled })}>{u.disabled ? "Enable" : "Disable"}</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <form onSubmit={(e) => void createUser(e)} aria-label="New user" className="settings-form">
        <input name="name" placeholder="name" required maxLength={64} />
        <select name="role" defaultValue="viewer"><option value="viewer">viewer</option><option value="editor">editor</option><option value="admin">admin</option></select>
        <input name="password" type="password" placeholder="password (12+ characters)" required minLength={12} autoComplete="new-password" />
        <button type="submit">Create user</button>
      </form>
    </>
  );
}
