"use client";

import { useEffect, useState } from "react";

const POLL_MS = 15_000;

/** The number of firing alerts next to "Alerts" in the navigation (polls GET /api/alerts?state=firing). */
export function AlertsBadge() {
  const [count, setCount] = useState(0);
  useEffect(() => {
    let cancelled = false;
    async function poll() {
      try {
        const response = await fetch("/api/alerts?state=firing", { cache: "no-store" });
        if (!response.ok) return;
        const body = (await response.json()) as { alerts: unknown[] };
        if (!cancelled) setCount(body.alerts.length);
      } catch {
        // The next poll tries again; the badge keeps its last count.
      }
    }
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, []);
  if (count === 0) return null;
  return <span className="nav-badge" data-testid="alerts-badge" aria-label={`${count} firing`}>{count}</span>;
}
