const NS_PER_MS = 1_000_000n;

/** "2025-11-22 19:22:01.123 UTC" from ns since the Unix epoch; sub-millisecond digits are dropped. */
export function formatTimestampNs(ns: bigint): string {
  const iso = new Date(Number(ns / NS_PER_MS)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)} UTC`;
}

/** A duration in the largest unit that keeps it readable: "850 ns", "12.4 µs", "3.21 ms", "1.5 s". */
export function formatDurationNs(ns: bigint): string {
  const value = Number(ns);
  if (value >= 1e9) return `${threeDigits(value / 1e9)} s`;
  if (value >= 1e6) return `${threeDigits(value / 1e6)} ms`;
  if (value >= 1e3) return `${threeDigits(value / 1e3)} µs`;
  return `${value} ns`;
}

// About three significant digits is what a trace list needs to compare durations at a glance.
function threeDigits(value: number): string {
  const fixed = value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
}

/** First 8 hex chars of a trace or span id, as Jaeger shows them. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}
