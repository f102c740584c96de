"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";

/** Acknowledge an alert with a note (POST /api/alerts/{id}/ack); the page refreshes to show it in the history. */
export function AckForm({ alertId }: { alertId: number }) {
  const router = useRouter();
  const [note, setNote] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const response = await fetch(`/api/alerts/${alertId}/ack`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ note }) });
    setBusy(false);
    if (!response.ok) {
      const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
      setError(body?.error?.message ?? `HTTP ${response.status}`);
      return;
    }
    setNote("");
    router.refresh();
  }
  return (
    <form className="ack-form" onSubmit={submit}>
      <label>
        Acknowledge with a note
        <input value={note} onChange={(e) => setNote(e.target.value)} placeholder="what you checked or did" maxLength={2000} aria-label={`note for alert ${alertId}`} />
      </label>
      <button type="submit" disabled={busy || note.trim() === ""}>Acknowledge</button>
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}
