import { beforeEach, describe, expect, it } from "vitest";
import type { OpenDatabase } from "@/db/client";
import { autoBucketMs, metricSeries, overview, percentile, perPositionAcceptance } from "@/db/queries/metrics";
import { writeSpans } from "@/db/tracing/store";
import { freshDatabasePerTest } from "../support/database";
import { request, SECOND, T0 } from "../support/request-spans";

const freshDatabase = freshDatabasePerTest();
let database: OpenDatabase;
beforeEach(() => {
  database = freshDatabase();
});

const MINUTE = 60n * SECOND;
const range = { fromNs: T0, toNs: T0 + 3n * MINUTE, bucketMs: 60_000 };

describe("metric time series", () => {
  beforeEach(() => {
    writeSpans(database.sqlite, [
      // Minute 0: two version-1 requests and one version-2 request.
      request(1, { startNs: T0 + 1n * SECOND, version: "1", steps: 4, drafted: 16, accepted: 8, totalMs: 200, outputTokens: 20, ttftMs: 10 }),
      request(2, { startNs: T0 + 2n * SECOND, version: "1", steps: 2, drafted: 8, accepted: 8, totalMs: 100, outputTokens: 10, ttftMs: 30, status: 2 }),
      request(3, { startNs: T0 + 3n * SECOND, version: "2", steps: 5, drafted: 20, accepted: 5, totalMs: 500, outputTokens: 11, ttftMs: 50 }),
      // Minute 2 (minute 1 is empty).
      request(4, { startNs: T0 + 2n * MINUTE + SECOND, version: "2", steps: 1, drafted: 4, accepted: 0, totalMs: 50, outputTokens: 1, ttftMs: 40 }),
    ]);
  });

  it("aggregates ratios of sums per bucket, not means of per-request ratios", () => {
    const [all] = metricSeries(database.db, { ...range, metric: "acceptance_rate" });
    expect(all.points.map((p) => [p.t - Number(T0 / 1_000_000n), p.value, p.n])).toEqual([[0, 21 / 44, 3], [120_000, 0, 1]]);
    const [len] = metricSeries(database.db, { ...range, metric: "mean_acceptance_length" });
    expect(len.points[0].value).toBeCloseTo(1 + 21 / 11);
    const [tps] = metricSeries(database.db, { ...range, metric: "tokens_per_s" });
    expect(tps.points[0].value).toBeCloseTo((41 * 1000) / 800);
    const [rpm] = metricSeries(database.db, { ...range, metric: "requests_per_minute" });
    expect(rpm.points.map((p) => p.value)).toEqual([3, 1]);
    const [errors] = metricSeries(database.db, { ...range, metric: "error_rate" });
    expect(errors.points[0].value).toBeCloseTo(1 / 3);
  });

  it("groups by config version and filters to chosen versions", () => {
    const byVersion = metricSeries(database.db, { ...range, metric: "acceptance_rate", groupBy: "config_version" });
    expect(byVersion.map((s) => [s.group, s.points.map((p) => p.value)])).toEqual([["1", [16 / 24]], ["2", [5 / 20, 0]]]);
    const only2 = metricSeries(database.db, { ...range, metric: "acceptance_rate", groupBy: "config_version", configVersions: ["2"] });
    expect(only2.map((s) => s.group)).toEqual(["2"]);
  });

  it("computes nearest-rank percentiles in SQL, matching the definition", () => {
    const [ttft] = metricSeries(database.db, { ...range, metric: "ttft" });
    expect(ttft.points[0]).toMatchObject({ p50: percentile([10, 30, 50], 50), p95: 50, p99: 50, n: 3 });
    const [tpot] = metricSeries(database.db, { ...range, metric: "tpot" });
    // (total - ttft) / (output - 1); the 1-token request has none.
    expect(tpot.points[0].p50).toBeCloseTo(percentile([190 / 19, 70 / 9, 450 / 10].sort((a, b) => a - b), 50)!);
    expect(tpot.points.find((p) => p.t > Number(T0 / 1_000_000n))).toBeUndefined();
  });

  it("weights per-position acceptance by steps, per group", () => {
    writeSpans(database.sqlite, [request(9, { startNs: T0 + 5n * SECOND, proposer: "ngram", steps: 3, perPosition: [1, 0.5, 0] })]);
    const groups = perPositionAcceptance(database.db, { ...range, groupBy: "proposer" });
    expect(groups.map((g) => g.group)).toEqual(["draft-model", "ngram"]);
    expect(groups[1].rates).toEqual([1, 0.5, 0]);
    expect(groups[0].rates[0]).toBeCloseTo(0.75);
  });

  it("summarises a range for the home page", () => {
    expect(overview(database.db, range.fromNs, range.toNs)).toMatchObject({ requests: 4, errors: 1, acceptanceRate: 21 / 48, outputTokens: 42, p95LatencyMs: 500 });
  });

  it("picks readable bucket widths", () => {
    expect(autoBucketMs(0n, 86_400_000n * 1_000_000n)).toBe(30 * 60_000);
    expect(autoBucketMs(0n, 3_600_000n * 1_000_000n)).toBe(60_000);
  });
});
