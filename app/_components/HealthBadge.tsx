"use client";

import { useEffect, useState } from "react";

type BadgeState =
  | { kind: "checking" }
  | { kind: "ok"; schemaVersion: number; models: number }
  | { kind: "error"; message: string };

const POLL_MS = 15_000;

/** Polls /api/health so the shell shows a live database status, like a Grafana datasource dot. */
export function HealthBadge() {
  const [state, setState] = useState<BadgeState>({ kind: "checking" });

  useEffect(() => {
    let cancelled = false;
    async function poll() {
      const next = await fetchHealth();
      if (!cancelled) setState(next);
    }
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, []);

  const label =
    state.kind === "checking"
      ? "Checking…"
      : state.kind === "ok"
        ? `Database ok · schema v${state.schemaVersion}`
        : "Database error";
  const detail =
    state.kind === "ok"
      ? `${state.models} model${state.models === 1 ? "" : "s"} loaded`
      : state.kind === "error"
        ? state.message
        : "";

  return (
    <div className={`health health-${state.kind}`} role="status" data-testid="health-badge" title={detail}>
      <span className="health-dot" aria-hidden="true" />
      <span>
        <span className="health-label">{label}</span>
        {detail && <span className="health-detail">{detail}</span>}
      </span>
    </div>
  );
}

async function fetchHealth(): Promise<BadgeState> {
  try {
    const response = await fetch("/api/health", { cache: "no-store" });
    const body = (await response.json()) as {
      status: string;
      database: { schemaVersion?: number; message?: string };
      models: unknown[];
    };
    if (response.ok && body.status === "ok") {
      return { kind: "ok", schemaVersion: body.database.schemaVersion ?? 0, models: body.models.length };
    }
    return { kind: "error", message: body.database.message ?? `HTTP ${response.status}` };
  } catch (error) {
    return { kind: "error", message: error instanceof Error ? error.message : "health check failed" };
  }
}
