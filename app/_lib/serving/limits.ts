import "server-only";
import { AdmissionQueue } from "./queue";

/*
 * Serving limits from the environment, read once per process:
 *   SPECLENS_MAX_RUNNING        generations that run at once (default 2: one per core on the reference machine)
 *   SPECLENS_MAX_QUEUE          generations that may wait for a slot before new ones get 429 (default 64)
 *   SPECLENS_REQUEST_TIMEOUT_MS per-request time limit on generation (default 120000; 0 = none); a
 *                               request's own time_budget_ms can only shorten it
 */

export interface ServingLimits {
  maxRunning: number;
  maxWaiting: number;
  requestTimeoutMs: number;
}

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

const holder = globalThis as typeof globalThis & { __speclensLimits?: ServingLimits; __speclensQueue?: AdmissionQueue };

export function servingLimits(): ServingLimits {
  holder.__speclensLimits ??= {
    maxRunning: intFromEnv("SPECLENS_MAX_RUNNING", 2, 1),
    maxWaiting: intFromEnv("SPECLENS_MAX_QUEUE", 64, 0),
    requestTimeoutMs: intFromEnv("SPECLENS_REQUEST_TIMEOUT_MS", 120_000, 0),
  };
  return holder.__speclensLimits;
}

/** The process-wide admission queue (on globalThis: Next bundles each route separately). */
export function admissionQueue(): AdmissionQueue {
  const { maxRunning, maxWaiting } = servingLimits();
  holder.__speclensQueue ??= new AdmissionQueue(maxRunning, maxWaiting);
  return holder.__speclensQueue;
}

/** The effective time budget: the server's limit, shortened by the request's own budget if it has one. */
export function effectiveTimeBudget(requestedMs: number): number {
  const limit = servingLimits().requestTimeoutMs;
  if (limit === 0) return requestedMs;
  return requestedMs > 0 ? Math.min(requestedMs, limit) : limit;
}

/** Tests only: forget the limits and the queue so the next call reads the environment again. */
export function resetServingState(): void {
  holder.__speclensLimits = undefined;
  holder.__speclensQueue = undefined;
}
