import Link from "next/link";
import { shortId } from "@/app/_lib/format";
import { getDb } from "@/db/client";
import { listReplays, loadGeneration } from "@/db/queries/replays";
import { ReplayControls } from "./ReplayControls";
import "./replay.css";

/**
 * The trace page's Replay panel (one include line): what this trace replays, its replays, and the
 * controls to run one (exact, target-only, draft-only, another config) with the verdict.
 */
export function ReplayPanel({ traceId }: { traceId: string }) {
  const db = getDb();
  const stored = loadGeneration(db, traceId);
  if (!stored) return null;
  const replays = listReplays(db, traceId);
  const r = stored.request;
  return (
    <section className="card" data-testid="replay-panel" style={{ marginTop: "1.5rem" }}>
      <h2>Replay</h2>
      {r.replayOf && (
        <p data-testid="replay-of">
          This trace is a <strong>{r.replayMode}</strong> replay of{" "}
          <Link href={`/traces/${r.replayOf}`} className="mono">{shortId(r.replayOf)}</Link>.
        </p>
      )}
      <ReplayControls traceId={traceId} configVersion={r.configVersion} />
      <h3 className="section-title">Replays of this trace ({replays.length})</h3>
      {replays.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <ul data-testid="replay-list">
          {replays.map((x) => (
            <li key={x.traceId}>
              <Link href={`/traces/${x.traceId}`} className="mono">{shortId(x.traceId)}</Link> {x.replayMode} · {x.outputTokens ?? 0} tokens ·{" "}
              {x.finishReason ?? "unfinished"} · config v{x.configVersion ?? "?"}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
