/*
 * Requests per minute per caller (SPECLENS_RATE_LIMIT_RPM): a sliding window of the last minute's
 * request times per identity. In-process: several server processes each count their own share.
 */

const WINDOW_MS = 60_000;

export class RateLimiter {
  private readonly hits = new Map<string, number[]>();
  private sweptAt = 0;

  constructor(private readonly perMinute: number) {}

  /** Counts one request; returns 0 when allowed, else the seconds until one more would be. */
  take(identity: string, now = Date.now()): number {
    if (this.perMinute <= 0) return 0;
    this.sweep(now);
    const recent = (this.hits.get(identity) ?? []).filter((t) => t > now - WINDOW_MS);
    if (recent.length >= this.perMinute) {
      this.hits.set(identity, recent);
      return Math.max(1, Math.ceil((recent[0] + WINDOW_MS - now) / 1000));
    }
    recent.push(now);
    this.hits.set(identity, recent);
    return 0;
  }

  /** Forgets idle identities now and then, so the map does not grow with every key ever seen. */
  private sweep(now: number): void {
    if (now - this.sweptAt < WINDOW_MS) return;
    this.sweptAt = now;
    for (const [identity, times] of this.hits) if (times[times.length - 1] <= now - WINDOW_MS) this.hits.delete(identity);
  }
}
