import { eq, sql } from "drizzle-orm";
import type { SpecLensDb } from "../client";
import { requests } from "../schema";

/*
 * Per-version figures, so a new config version can be judged beside the old one: computed from the
 * requests table (each request records the version it ran under, and how many guardrail rules
 * acted on it).
 */

export interface VersionFigures {
  requests: number;
  /** accepted / drafted over every request of the version. */
  acceptanceRate: number | null;
  /** 1 + accepted / steps (vLLM's convention), over every request. */
  meanAcceptanceLength: number | null;
  /** Output tokens per second of generation time, over every request. */
  tokensPerSecond: number | null;
  /** Guardrail rule actions recorded on the version's request spans. */
  ruleActions: number;
}

/** The figures of a version no request has run under yet. */
export const NO_FIGURES: VersionFigures = { requests: 0, acceptanceRate: null, meanAcceptanceLength: null, tokensPerSecond: null, ruleActions: 0 };

/** Per-version figures from the requests table. */
export function versionFigures(db: SpecLensDb, version?: number): Map<number, VersionFigures> {
  const where = version === undefined ? undefined : eq(requests.configVersion, String(version));
  const rows = db.select({
    version: requests.configVersion,
    requests: sql<bigint>`count(*)`,
    drafted: sql<number | null>`sum(${requests.drafted})`,
    accepted: sql<number | null>`sum(${requests.accepted})`,
    steps: sql<number | null>`sum(${requests.steps})`,
    outputTokens: sql<number | null>`sum(${requests.outputTokens})`,
    totalMs: sql<number | null>`sum(${requests.totalMs})`,
    ruleActions: sql<number | null>`sum(${requests.guardrailActions})`,
  }).from(requests).where(where).groupBy(requests.configVersion).all();
  const out = new Map<number, VersionFigures>();
  for (const r of rows) {
    const v = Number(r.version);
    if (r.version === null || !Number.isInteger(v)) continue;
    const drafted = Number(r.drafted ?? 0);
    const steps = Number(r.steps ?? 0);
    const totalMs = Number(r.totalMs ?? 0);
    out.set(v, {
      requests: Number(r.requests),
      acceptanceRate: drafted > 0 ? Number(r.accepted ?? 0) / drafted : null,
      meanAcceptanceLength: steps > 0 ? 1 + Number(r.accepted ?? 0) / steps : null,
      tokensPerSecond: totalMs > 0 ? Number(r.outputTokens ?? 0) / (totalMs / 1000) : null,
      ruleActions: Number(r.ruleActions ?? 0),
    });
  }
  return out;
}
