import { sql, type SQL } from "drizzle-orm";
import type { SpecLensDb } from "../client";

/*
 * Time series over the derived `requests` table: SQL aggregates per time bucket (and per group), read
 * from the covering index requests_metrics_idx only, so a 24 h window never touches the wide rows.
 * Definitions (DESIGN.md vocabulary), all per bucket:
 *   acceptance_rate        = sum(accepted) / sum(drafted)
 *   mean_acceptance_length = 1 + sum(accepted) / sum(steps)
 *   tokens_per_s           = sum(output tokens) / sum(request seconds)   (throughput of a request while it runs)
 *   requests_per_minute    = requests started / bucket minutes
 *   error_rate             = requests with error status / requests
 *   ttft, tpot, latency, queue_wait: p50 / p95 / p99 over the bucket's requests, in ms, where
 *   tpot = (total - time to first token) / (output tokens - 1), the gap between output tokens.
 */

export const METRICS = ["acceptance_rate", "mean_acceptance_length", "tokens_per_s", "requests_per_minute", "error_rate", "ttft", "tpot", "latency", "queue_wait"] as const;
export type MetricName = (typeof METRICS)[number];
export const GROUP_BYS = ["none", "config_version", "model_pair", "proposer", "verify_mode", "node"] as const;
export type GroupBy = (typeof GROUP_BYS)[number];

export const PERCENTILE_METRICS = ["ttft", "tpot", "latency", "queue_wait"] as const satisfies readonly MetricName[];
type PercentileMetric = (typeof PERCENTILE_METRICS)[number];
export const METRIC_UNITS: Record<MetricName, string> = {
  acceptance_rate: "ratio", mean_acceptance_length: "tokens per step", tokens_per_s: "tokens/s", requests_per_minute: "requests/min",
  error_rate: "ratio", ttft: "ms", tpot: "ms", latency: "ms", queue_wait: "ms",
};

export interface MetricQuery {
  metric: MetricName;
  groupBy?: GroupBy;
  fromNs: bigint;
  toNs: bigint;
  bucketMs: number;
  /** Only these config versions (e.g. two versions side by side). */
  configVersions?: string[];
  proposer?: string;
  node?: string;
}

export interface MetricPoint {
  /** Bucket start, ms since the Unix epoch. */
  t: number;
  /** The metric; for percentile metrics its p50. null when the bucket has no data for it. */
  value: number | null;
  p50?: number | null;
  p95?: number | null;
  p99?: number | null;
  /** Requests in the bucket (for percentile metrics: those with a value). */
  n: number;
}

export interface MetricSeries {
  group: string;
  points: MetricPoint[];
}

const GROUP_SQL: Record<GroupBy, SQL> = {
  none: sql`'all'`,
  config_version: sql`coalesce(config_version, 'none')`,
  model_pair: sql`coalesce(target_model_id, '?') || ' + ' || coalesce(draft_model_id, 'no draft')`,
  proposer: sql`coalesce(proposer, '?')`,
  verify_mode: sql`coalesce(verify_mode, '?')`,
  node: sql`node`,
};

const VALUE_SQL: Record<PercentileMetric, SQL> = {
  ttft: sql`ttft_ms`,
  tpot: sql`CASE WHEN output_tokens > 1 AND ttft_ms IS NOT NULL THEN (total_ms - ttft_ms) / (output_tokens - 1) END`,
  latency: sql`total_ms`,
  queue_wait: sql`queue_ms`,
};

function where(q: MetricQuery): SQL {
  const parts: SQL[] = [sql`start_ns >= ${q.fromNs}`, sql`start_ns < ${q.toNs}`];
  if (q.configVersions && q.configVersions.length > 0) parts.push(sql`config_version IN (${sql.join(q.configVersions.map((v) => sql`${v}`), sql`, `)})`);
  if (q.proposer) parts.push(sql`proposer = ${q.proposer}`);
  if (q.node) parts.push(sql`node = ${q.node}`);
  return sql.join(parts, sql` AND `);
}

const bucketSql = (q: MetricQuery) => sql`(start_ns - ${q.fromNs}) / ${BigInt(Math.round(q.bucketMs)) * 1_000_000n}`;

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function metricSeries(db: SpecLensDb, q: MetricQuery): MetricSeries[] {
  const group = GROUP_SQL[q.groupBy ?? "none"];
  const fromMs = Number(q.fromNs / 1_000_000n);
  const buckets = new Map<string, Map<number, MetricPoint>>();
  const point = (g: string, b: number): MetricPoint => {
    let series = buckets.get(g);
    if (!series) buckets.set(g, (series = new Map()));
    let p = series.get(b);
    if (!p) series.set(b, (p = { t: fromMs + b * q.bucketMs, value: null, n: 0 }));
    return p;
  };

  if ((PERCENTILE_METRICS as readonly string[]).includes(q.metric)) {
    // Nearest-rank percentiles computed in SQLite (a window sort per bucket and group), so only one row
    // per bucket and group comes back instead of every request's value.
    const rank = (p: number) => sql.raw(`(${p} * n + 99) / 100`);
    const rows = db.all<{ b: bigint; g: string; n: bigint; p50: number; p95: number; p99: number }>(sql`
      WITH x AS (SELECT ${bucketSql(q)} AS b, ${group} AS g, ${VALUE_SQL[q.metric as PercentileMetric]} AS v FROM requests WHERE ${where(q)}),
           r AS (SELECT b, g, v, row_number() OVER (PARTITION BY b, g ORDER BY v) AS rn, count(*) OVER (PARTITION BY b, g) AS n FROM x WHERE v IS NOT NULL)
      SELECT b, g, n, max(CASE WHEN rn = ${rank(50)} THEN v END) AS p50, max(CASE WHEN rn = ${rank(95)} THEN v END) AS p95,
             max(CASE WHEN rn = ${rank(99)} THEN v END) AS p99
        FROM r GROUP BY b, g`);
    for (const r of rows) {
      const p = point(String(r.g), Number(r.b));
      p.n = Number(r.n);
      p.p50 = r.p50 ?? null;
      p.p95 = r.p95 ?? null;
      p.p99 = r.p99 ?? null;
      p.value = p.p50;
    }
  } else {
    const rows = db.all<{ b: bigint; g: string; n: bigint; accepted: number | null; drafted: number | null; steps: number | null; out: number | null; ms: number | null; errors: bigint }>(sql`
      SELECT ${bucketSql(q)} AS b, ${group} AS g, count(*) AS n, sum(accepted) AS accepted, sum(drafted) AS drafted, sum(steps) AS steps,
             sum(CASE WHEN total_ms > 0 THEN output_tokens END) AS out, sum(CASE WHEN total_ms > 0 AND output_tokens IS NOT NULL THEN total_ms END) AS ms,
             sum(status_code = 2) AS errors
        FROM requests WHERE ${where(q)} GROUP BY 1, 2`);
    for (const r of rows) {
      const p = point(String(r.g), Number(r.b));
      const n = Number(r.n);
      p.n = n;
      const accepted = Number(r.accepted ?? 0);
      const drafted = Number(r.drafted ?? 0);
      const steps = Number(r.steps ?? 0);
      if (q.metric === "acceptance_rate") p.value = drafted > 0 ? accepted / drafted : null;
      if (q.metric === "mean_acceptance_length") p.value = steps > 0 ? 1 + accepted / steps : null;
      if (q.metric === "tokens_per_s") p.value = r.ms ? (Number(r.out ?? 0) * 1000) / Number(r.ms) : null;
      if (q.metric === "requests_per_minute") p.value = n / (q.bucketMs / 60_000);
      if (q.metric === "error_rate") p.value = n > 0 ? Number(r.errors) / n : null;
    }
  }

  return [...buckets.entries()]
    .map(([g, series]) => ({ group: g, points: [...series.values()].sort((a, b) => a.t - b.t) }))
    .sort((a, b) => a.group.localeCompare(b.group));
}

export interface PerPositionSeries {
  group: string;
  /** [kMax] acceptance per draft position, weighted by each request's steps. */
  rates: number[];
  requests: number;
}

/**
 * Per-position acceptance over a range, per group: each request's per-position rates weighted by its
 * steps (requests store rates, not per-position counts; a step-weighted mean of rates is what the
 * counts would give when k is fixed within a request).
 */
export function perPositionAcceptance(db: SpecLensDb, q: Omit<MetricQuery, "metric" | "bucketMs">): PerPositionSeries[] {
  const rows = db.all<{ g: string; pp: string; steps: number | null }>(
    sql`SELECT ${GROUP_SQL[q.groupBy ?? "none"]} AS g, per_position_json AS pp, steps FROM requests WHERE ${where({ ...q, metric: "acceptance_rate", bucketMs: 1 })} AND drafted > 0`,
  );
  const acc = new Map<string, { sum: number[]; weight: number[]; n: number }>();
  for (const r of rows) {
    const rates = JSON.parse(r.pp) as number[];
    const w = Number(r.steps ?? 1);
    const entry = acc.get(r.g) ?? { sum: [], weight: [], n: 0 };
    entry.n += 1;
    rates.forEach((rate, i) => {
      entry.sum[i] = (entry.sum[i] ?? 0) + rate * w;
      entry.weight[i] = (entry.weight[i] ?? 0) + w;
    });
    acc.set(r.g, entry);
  }
  return [...acc.entries()]
    .map(([group, e]) => ({ group, rates: e.sum.map((s, i) => s / e.weight[i]), requests: e.n }))
    .sort((a, b) => a.group.localeCompare(b.group));
}

/** A bucket width that gives about `target` points over the range, rounded to a readable step. */
export function autoBucketMs(fromNs: bigint, toNs: bigint, target = 60): number {
  const rangeMs = Number((toNs - fromNs) / 1_000_000n);
  const steps = [60_000, 5 * 60_000, 15 * 60_000, 30 * 60_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000, 86_400_000];
  return steps.find((s) => rangeMs / s <= target) ?? 86_400_000;
}

export interface Overview {
  requests: number;
  errors: number;
  acceptanceRate: number | null;
  meanAcceptanceLength: number | null;
  tokensPerS: number | null;
  outputTokens: number;
  p95LatencyMs: number | null;
}

/** The home page's figures over a range, from the same covering index. */
export function overview(db: SpecLensDb, fromNs: bigint, toNs: bigint): Overview {
  const q = { metric: "acceptance_rate" as const, fromNs, toNs, bucketMs: 1 };
  const r = db.get<{ n: bigint; errors: bigint | null; accepted: number | null; drafted: number | null; steps: number | null; out: number | null; ms: number | null }>(sql`
    SELECT count(*) AS n, sum(status_code = 2) AS errors, sum(accepted) AS accepted, sum(drafted) AS drafted, sum(steps) AS steps,
           sum(CASE WHEN total_ms > 0 THEN output_tokens END) AS out, sum(CASE WHEN total_ms > 0 AND output_tokens IS NOT NULL THEN total_ms END) AS ms
      FROM requests WHERE ${where(q)}`);
  const latencies = db.all<{ v: number }>(sql`SELECT total_ms AS v FROM requests WHERE ${where(q)} AND total_ms IS NOT NULL ORDER BY total_ms`).map((x) => Number(x.v));
  const drafted = Number(r.drafted ?? 0);
  const steps = Number(r.steps ?? 0);
  return {
    requests: Number(r.n), errors: Number(r.errors ?? 0),
    acceptanceRate: drafted > 0 ? Number(r.accepted) / drafted : null,
    meanAcceptanceLength: steps > 0 ? 1 + Number(r.accepted) / steps : null,
    tokensPerS: r.ms ? (Number(r.out ?? 0) * 1000) / Number(r.ms) : null,
    outputTokens: Number(r.out ?? 0),
    p95LatencyMs: percentile(latencies, 95),
  };
}
