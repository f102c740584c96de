import "server-only";
import { z } from "zod";
import { autoBucketMs, GROUP_BYS, METRICS } from "@/db/queries/metrics";

/** An instant: ns since the epoch, an ISO-8601 date, or relative to now ("now", "now-24h", "now-7d"). */
function instantNs(value: string, ctx: z.RefinementCtx, now: number): bigint {
  if (/^\d{1,20}$/.test(value)) return BigInt(value);
  const relative = /^now(?:-(\d+)(m|h|d))?$/.exec(value);
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[(relative[2] ?? "m") as "m" | "h" | "d"];
    return BigInt(now - Number(relative[1] ?? 0) * unit) * 1_000_000n;
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: "expected ns since the Unix epoch, an ISO-8601 date or now-<n>m|h|d" });
    return z.NEVER;
  }
  return BigInt(ms) * 1_000_000n;
}

/** A bucket width: seconds ("300") or a duration ("1m", "5m", "1h", "1d"). */
const bucket = z.string().transform((value, ctx): number => {
  const m = /^(\d+)(s|m|h|d)?$/.exec(value);
  const ms = m ? Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "s") as "s" | "m" | "h" | "d"] : NaN;
  if (!(ms >= 1000 && ms <= 30 * 86_400_000)) {
    ctx.addIssue({ code: "custom", message: "expected seconds or a duration such as 1m, 5m, 1h (1 s to 30 d)" });
    return z.NEVER;
  }
  return ms;
});

/** GET /api/metrics/timeseries parameters; `from` defaults to 24 h before `to`, `to` to now. */
export function metricsQuerySchema(now = Date.now()) {
  return z
    .strictObject({
      metric: z.enum([...METRICS, "per_position"]),
      groupBy: z.enum(GROUP_BYS).default("none"),
      from: z.string().transform((v, ctx) => instantNs(v, ctx, now)).optional(),
      to: z.string().transform((v, ctx) => instantNs(v, ctx, now)).optional(),
      bucket: bucket.optional(),
      config_version: z.string().min(1).optional(),
      proposer: z.string().min(1).optional(),
      node: z.string().min(1).optional(),
    })
    .transform((q, ctx) => {
      const toNs = q.to ?? BigInt(now) * 1_000_000n;
      const fromNs = q.from ?? toNs - 86_400_000n * 1_000_000n;
      if (fromNs >= toNs) ctx.addIssue({ code: "custom", path: ["from"], message: "must be before to" });
      const bucketMs = q.bucket ?? autoBucketMs(fromNs, toNs);
      if (Number((toNs - fromNs) / 1_000_000n) / bucketMs > 2000) ctx.addIssue({ code: "custom", path: ["bucket"], message: "too small for the range (at most 2000 buckets)" });
      const configVersions = q.config_version?.split(",").map((v) => v.trim()).filter(Boolean);
      return { metric: q.metric, groupBy: q.groupBy, fromNs, toNs, bucketMs, configVersions, proposer: q.proposer, node: q.node };
    });
}
