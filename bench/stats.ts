/** The few statistics the benches share. */

/** The sum of xs. */
export function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** The arithmetic mean (0 for an empty list). */
export function mean(xs: number[]): number {
  return xs.length ? sum(xs) / xs.length : 0;
}

/** The middle value of xs (the mean of the two middle ones for an even count). */
export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
}

/** The p-th percentile of an ascending list (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
