/** A page URL with some query parameters changed; null or "" removes one. Keeps the rest of the view. */
export function hrefWith(path: string, current: Record<string, string | undefined>, changes: Record<string, string | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...current, ...changes })) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

/**
 * Next's searchParams (string | string[]) as one string per key, the first when repeated. Empty values
 * are dropped: a GET form sends every field, and an empty one means "no filter".
 */
export function firstValues(params: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first.trim() !== "") out[key] = first;
  }
  return out;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)} ms`;
}

export function formatPct(x: number | null | undefined): string {
  return x === null || x === undefined ? "–" : `${(x * 100).toFixed(0)}%`;
}

/** "speclens-brown-20m@sha256:4c08…" -> "speclens-brown-20m". */
export function modelName(modelId: string | null | undefined): string {
  return modelId ? modelId.split("@")[0] : "–";
}

/**
 * The request's clock. Pages that show "the last 24 hours" are dynamic server components rendered once
 * per request (never on the client), so reading the time during render is intended there.
 */
export function requestTimeMs(): number {
  return Date.now();
}
