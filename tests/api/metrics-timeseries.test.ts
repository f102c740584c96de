import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GET } from "@/app/api/metrics/timeseries/route";
import { closeDatabase, getDatabase } from "@/db/client";
import { writeSpans } from "@/db/tracing/store";
import { request } from "../support/request-spans";
import { makeTempDir } from "../support/temp";

let temp: ReturnType<typeof makeTempDir>;
const saved = { db: process.env.SPECLENS_DB, keys: process.env.SPECLENS_API_KEYS };
const NOW_NS = BigInt(Date.now()) * 1_000_000n;

beforeEach(() => {
  temp = makeTempDir();
  process.env.SPECLENS_DB = `${temp.dir}/api.db`;
  delete process.env.SPECLENS_API_KEYS;
  writeSpans(getDatabase().sqlite, [
    request(1, { startNs: NOW_NS - 3_600_000_000_000n, version: "1" }),
    request(2, { startNs: NOW_NS - 1_800_000_000_000n, version: "2", accepted: 8 }),
  ]);
});
afterEach(() => {
  closeDatabase();
  for (const [k, v] of [["SPECLENS_DB", saved.db], ["SPECLENS_API_KEYS", saved.keys]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  temp.cleanup();
});

async function get(query: string) {
  const response = GET(new Request(`http://localhost/api/metrics/timeseries${query}`));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & { series: { group: string; points: { value: number }[] }[]; error?: { message: string; param: string } } };
}

describe("GET /api/metrics/timeseries", () => {
  it("answers series over the last 24 h by default, grouped as asked", async () => {
    const { status, body } = await get("?metric=acceptance_rate&groupBy=config_version&bucket=1h");
    expect(status).toBe(200);
    expect(body).toMatchObject({ metric: "acceptance_rate", groupBy: "config_version", bucketMs: 3_600_000, unit: "ratio" });
    expect(body.series.map((s) => [s.group, s.points.map((p) => p.value)])).toEqual([["1", [0.5]], ["2", [1]]]);
  });

  it("gives per-position acceptance over the range", async () => {
    const { body } = await get("?metric=per_position&from=now-2h");
    expect(body.series).toEqual([{ group: "all", rates: [0.75, 0.25], requests: 2 }]);
  });

  it("refuses bad parameters with a 400 naming the field", async () => {
    for (const [query, param] of [["?metric=nope", "metric"], ["?metric=ttft&bucket=0", "bucket"], ["?metric=ttft&from=yesterday", "from"], ["?metric=ttft&from=now-1h&to=now-2h", "from"], ["?metric=ttft&extra=1", ""]] as const) {
      const { status, body } = await get(query);
      expect(status, query).toBe(400);
      if (param) expect(body.error?.message.startsWith(param), body.error?.message).toBe(true);
    }
  });
});
