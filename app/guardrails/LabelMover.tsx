"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";

/*
 * Labels and their moves. Every move is two steps (choose, then confirm); a protected label also needs
 * its name typed. Rolling back is the same move, to the version the label held before its last move.
 * Moves send expectedVersion, so a label someone else moved meanwhile is refused, not overwritten.
 */

export interface LabelRow {
  label: string;
  version: number;
  updatedBy: string;
  updatedAt: string;
  isProtected: boolean;
  previousVersion: number | null;
}

interface Pending { label: string; from: number | null; to: number; isProtected: boolean; rollback: boolean }

export function LabelMover({ labels, versions, protectedLabels }: { labels: LabelRow[]; versions: number[]; protectedLabels: string[] }) {
  const router = useRouter();
  const [targets, setTargets] = useState<Record<string, number>>(() => Object.fromEntries(labels.map((l) => [l.label, l.version])));
  const [newLabel, setNewLabel] = useState("");
  const [newVersion, setNewVersion] = useState(versions[0]);
  const [pending, setPending] = useState<Pending | null>(null);
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function ask(p: Pending) {
    setPending(p);
    setTyped("");
    setError(null);
  }

  async function confirm() {
    if (!pending) return;
    setBusy(true);
    try {
      const res = await fetch(`/api/guardrails/labels/${encodeURIComponent(pending.label)}`, {
        method: "PUT", headers: { "content-type": "application/json" },
        body: JSON.stringify({
          version: pending.to, expectedVersion: pending.from, confirm: pending.isProtected ? typed : undefined,
          message: pending.rollback ? `roll back to v${pending.to}` : undefined,
        }),
      });
      const body = await res.json();
      if (!res.ok) {
        setError(body.error?.message ?? `HTTP ${res.status}`);
        return;
      }
      setPending(null);
      router.refresh();
    } finally {
      setBusy(false);
    }
  }

  return (
    <div data-testid="label-mover">
      <div className="table-wrap">
        <table className="data-table">
          <thead><tr><th>Label</th><th>Version</th><th>Moved by</th><th>When</th><th>Move to</th><th>Roll back</th></tr></thead>
          <tbody>
            {labels.map((l) => (
              <tr key={l.label} data-label={l.label}>
                <td><span className={`label-chip${l.isProtected ? " label-protected" : ""}`}>{l.label}</span>{l.isProtected && <span className="muted"> protected</span>}</td>
                <td className="mono">v{l.version}</td>
                <td>{l.updatedBy}</td>
                <td className="muted">{l.updatedAt}</td>
                <td className="confirm-row">
                  <select aria-label={`move ${l.label} to`} value={targets[l.label]} onChange={(e) => setTargets({ ...targets, [l.label]: Number(e.target.value) })}>
                    {versions.map((v) => <option key={v} value={v}>v{v}</option>)}
                  </select>
                  <button type="button" className="button" disabled={targets[l.label] === l.version}
                    onClick={() => ask({ label: l.label, from: l.version, to: targets[l.label], isProtected: l.isProtected, rollback: false })}>
                    Move
                  </button>
                </td>
                <td>
                  {l.previousVersion !== null && l.previousVersion !== l.version ? (
                    <button type="button" className="button" onClick={() => ask({ label: l.label, from: l.version, to: l.previousVersion!, isProtected: l.isProtected, rollback: true })}>
                      Roll back to v{l.previousVersion}
                    </button>
                  ) : <span className="muted">–</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="form inline-form" style={{ marginTop: 10 }}>
        <label>New label <input type="text" name="new-label" value={newLabel} onChange={(e) => setNewLabel(e.target.value)} placeholder="staging" /></label>
        <label>on <select aria-label="new label version" value={newVersion} onChange={(e) => setNewVersion(Number(e.target.value))}>{versions.map((v) => <option key={v} value={v}>v{v}</option>)}</select></label>
        <button type="button" className="button" disabled={newLabel.trim() === ""}
          onClick={() => ask({ label: newLabel.trim(), from: null, to: newVersion, isProtected: protectedLabels.includes(newLabel.trim()), rollback: false })}>
          Add label
        </button>
      </div>
      {pending && (
        <div className="error-box confirm-box" role="dialog" aria-label="confirm label move" data-testid="confirm-move">
          <p>
            {pending.rollback ? "Roll back" : "Move"} <strong>{pending.label}</strong> {pending.from !== null ? `from v${pending.from} ` : ""}to v{pending.to}? New requests
            selecting {pending.label} run under v{pending.to} from the moment it moves; running requests keep their version.
          </p>
          {pending.isProtected && (
            <label>Type <span className="mono">{pending.label}</span> to confirm <input type="text" name="confirm-label" value={typed} onChange={(e) => setTyped(e.target.value)} /></label>
          )}
          <div className="confirm-row">
            <button type="button" className="button" disabled={busy || (pending.isProtected && typed !== pending.label)} onClick={confirm}>Confirm</button>
            <button type="button" className="button" onClick={() => setPending(null)}>Cancel</button>
          </div>
          {error && <p className="error-text" role="alert">{error}</p>}
        </div>
      )}
    </div>
  );
}
