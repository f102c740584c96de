/*
 * npm run bench:dashboard -- --db PATH [--runs 20] [--no-retention]
 *
 * Server time of the dashboard's queries on a database filled by `npm run seed:scale`: the trace list
 * (no filter, each filter, text search, sorts, deep pages), one trace in full (the API's read plus the
 * trace page's view model), and the metrics series over the last 24 h. Each case runs `runs` times after
 * one warm-up; p50 and p95 of the wall time in this process, JSON serialisation included (what the
 * route handlers do after authorize). Then retention at that size: an age pass and a size pass, each
 * transaction timed, the full-text index checked afterwards. Writes bench/results/dashboard.{json,md}.
 * Retention deletes traces: run it on a copy if the seeded database must stay whole.
 */
import { statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { openDatabase } from "../db/client";
import { autoBucketMs, GROUP_BYS, metricSeries, METRICS, perPositionAcceptance, type GroupBy, type MetricName } from "../db/queries/metrics";
import { encodeCursor, getTrace, listTraces, traceFacets, type TraceFilters } from "../db/queries/traces";
import { deleteTraces, usedBytes } from "../db/tracing/retention";
import { buildTraceView, tokenTextFor } from "../app/traces/_lib/trace-view";

const { values } = parseArgs({
  options: {
    db: { type: "string" },
    runs: { type: "string", default: "20" },
    "no-retention": { type: "boolean", default: false },
  },
});
if (!values.db) throw new Error("--db PATH is required (a database filled by npm run seed:scale)");
const RUNS = Number(values.runs);
const database = openDatabase(resolve(values.db));
const { db, sqlite } = database;

const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

interface Row { area: string; name: string; p50: number; p95: number; rows: number }
const results: Row[] = [];

function measure(area: string, name: string, run: () => number): void {
  run(); // warm-up: first touch of the pages
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    rows = run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const row = { area, name, p50: round(pct(times, 50)), p95: round(pct(times, 95)), rows };
  results.push(row);
  console.log(`${area.padEnd(8)} ${name.padEnd(44)} p50 ${String(row.p50).padStart(7)} ms  p95 ${String(row.p95).padStart(7)} ms  (${rows} rows)`);
}
const round = (x: number) => Math.round(x * 10) / 10;

const count = (table: string) => Number((sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: bigint }).n);
const size = { requests: count("requests"), steps: count("steps"), tokens: count("tokens"), bytes: statSync(resolve(values.db)).size };
console.log(`database: ${size.requests} requests, ${size.steps} steps, ${size.tokens} tokens, ${(size.bytes / 2 ** 30).toFixed(2)} GiB`);

// The list: the API's call, then serialised as the route does.
const list = (f: TraceFilters) => () => {
  const page = listTraces(db, { limit: 50, ...f });
  json(page);
  return page.items.length;
};
const latest = sqlite.prepare("SELECT max(start_ns) AS t FROM requests").get() as { t: bigint };
const dayAgo = latest.t - 86_400_000_000_000n;
const hourAgo = latest.t - 3_600_000_000_000n;
const rowAt = (offset: number) => sqlite.prepare("SELECT start_ns AS s, trace_id AS id FROM requests ORDER BY start_ns DESC, trace_id DESC LIMIT 1 OFFSET ?").get(offset) as { s: bigint; id: string } | undefined;
sqlite.exec("CREATE VIRTUAL TABLE IF NOT EXISTS temp.requests_fts_vocab USING fts5vocab(main, requests_fts, row)");
const rareWord = (sqlite.prepare("SELECT term FROM (SELECT term, doc FROM requests_fts_vocab WHERE length(term) > 5 ORDER BY doc LIMIT 1)").get() as { term: string } | undefined)?.term;

measure("list", "no filter", list({}));
measure("list", "last 24 h", list({ sinceNs: dayAgo }));
measure("list", "last hour", list({ sinceNs: hourAgo }));
measure("list", "proposer=ngram", list({ proposer: "ngram" }));
measure("list", "verify_mode=lossy", list({ verifyMode: "lossy" }));
measure("list", "config_version=2", list({ configVersion: "2" }));
measure("list", "node=node-b", list({ node: "node-b" }));
// The draft most traces ran with (by name), whichever draft the seeded database was filled with.
const draftName = ((sqlite.prepare("SELECT draft_model_id AS id FROM requests WHERE draft_model_id IS NOT NULL GROUP BY draft_model_id ORDER BY count(*) DESC LIMIT 1").get() as { id: string } | undefined)?.id ?? "none").split("@")[0];
measure("list", `model=${draftName}`, list({ model: draftName }));
measure("list", "finish_reason=eos", list({ finishReason: "eos" }));
measure("list", "status=error", list({ status: "error" }));
measure("list", "status=cancelled (none stored)", list({ status: "cancelled" }));
measure("list", "status=ok", list({ status: "ok" }));
measure("list", "min_acceptance=0.8", list({ minAcceptance: 0.8 }));
measure("list", "max_acceptance=0.2", list({ maxAcceptance: 0.2 }));
measure("list", "max_latency_ms=150", list({ maxLatencyMs: 150 }));
measure("list", "min_latency_ms=1000", list({ minLatencyMs: 1000 }));
measure("list", "q=the (a word in most requests)", list({ q: "the" }));
measure("list", "q=jury said", list({ q: "jury said" }));
if (rareWord) measure("list", `q=${rareWord} (rarest long word)`, list({ q: rareWord }));
measure("list", "q=the + proposer=tree", list({ q: "the", proposer: "tree" }));
measure("list", "sort=latency", list({ sort: "latency" }));
measure("list", "sort=acceptance asc", list({ sort: "acceptance", order: "asc" }));
measure("list", "sort=tokens_per_s", list({ sort: "tokens_per_s" }));
for (const offset of [1000, Math.floor(size.requests / 2), size.requests - 60]) {
  const at = rowAt(offset);
  if (at) measure("list", `page at row ${offset}`, list({ cursor: encodeCursor(at.s, at.id) }));
}
const deep = rowAt(Math.floor(size.requests / 2));
if (deep) measure("list", "page at the middle, proposer=ngram", list({ proposer: "ngram", cursor: encodeCursor(deep.s, deep.id) }));

// The filter bar's choices (distinct values), read uncached (the page keeps them 15 s).
let facetClock = Date.now();
measure("list", "filter choices (uncached)", () => Object.values(traceFacets(db, (facetClock += 60_000))).flat().length);

// The detail: the API's read (GET /api/traces/{id}) and the trace page's view model.
const sample = sqlite.prepare("SELECT trace_id AS id FROM requests ORDER BY random() LIMIT 50").all() as { id: string }[];
let i = 0;
measure("detail", "GET /api/traces/{id} (getTrace + JSON)", () => {
  const t = getTrace(db, sample[i++ % sample.length].id)!;
  json(t);
  return t.steps.length;
});
measure("detail", "trace page data (getTrace + view model)", () => {
  const t = getTrace(db, sample[i++ % sample.length].id)!;
  const view = buildTraceView(t, tokenTextFor(t, null));
  json(view);
  return view.steps.length;
});

// Metrics over the last 24 h of the data, as the API computes them.
const to = latest.t + 1n;
const bucketMs = autoBucketMs(dayAgo, to);
for (const metric of METRICS as readonly MetricName[]) {
  measure("metrics", `${metric} 24 h`, () => metricSeries(db, { metric, fromNs: dayAgo, toNs: to, bucketMs }).length);
}
for (const groupBy of GROUP_BYS.filter((g) => g !== "none") as GroupBy[]) {
  measure("metrics", `acceptance_rate 24 h by ${groupBy}`, () => metricSeries(db, { metric: "acceptance_rate", groupBy, fromNs: dayAgo, toNs: to, bucketMs }).length);
}
measure("metrics", "tpot p50/p95/p99 24 h by config_version", () => metricSeries(db, { metric: "tpot", groupBy: "config_version", fromNs: dayAgo, toNs: to, bucketMs }).length);
measure("metrics", "versions 1 vs 2 side by side, 24 h", () => metricSeries(db, { metric: "acceptance_rate", groupBy: "config_version", configVersions: ["1", "2"], fromNs: dayAgo, toNs: to, bucketMs }).length);
measure("metrics", "per-position acceptance 24 h by proposer", () => perPositionAcceptance(db, { groupBy: "proposer", fromNs: dayAgo, toNs: to }).length);

// Retention at this size: the oldest 2% by age, then by size (target computed after the age pass).
let retention: Record<string, unknown> | null = null;
if (!values["no-retention"]) {
  const oldest = sqlite.prepare("SELECT start_ns AS s FROM requests ORDER BY start_ns LIMIT 1 OFFSET ?").get(Math.floor(size.requests * 0.02)) as { s: bigint };
  const pass = (ids: () => string[]) => {
    const times: number[] = [];
    let deleted = 0;
    for (;;) {
      const batch = ids();
      if (batch.length === 0) break;
      const t = performance.now();
      deleteTraces(sqlite, batch);
      times.push(performance.now() - t);
      deleted += batch.length;
    }
    times.sort((a, b) => a - b);
    return { deleted, transactions: times.length, p50Ms: round(pct(times, 50) ?? 0), maxMs: round(times.at(-1) ?? 0) };
  };
  const byAge = sqlite.prepare("SELECT trace_id AS id FROM requests WHERE start_ns < ? ORDER BY start_ns LIMIT 25");
  const age = pass(() => (byAge.all(oldest.s) as { id: string }[]).map((r) => r.id));
  const target = usedBytes(sqlite) - 64 * 2 ** 20;
  const bySize = sqlite.prepare("SELECT trace_id AS id FROM requests ORDER BY start_ns LIMIT 25");
  const sized = pass(() => (usedBytes(sqlite) > target ? (bySize.all() as { id: string }[]).map((r) => r.id) : []));
  sqlite.prepare("INSERT INTO requests_fts(requests_fts, rank) VALUES ('integrity-check', 1)").run();
  retention = { age, size: { ...sized, freedMiB: 64 }, ftsIntegrity: "ok", requestsLeft: count("requests") };
  console.log("retention", JSON.stringify(retention));
}

const perHundredK = (size.bytes / size.requests) * 100_000;
const out = { measuredAt: new Date().toISOString(), runs: RUNS, size: { ...size, gibPer100k: round((perHundredK / 2 ** 30) * 10) / 10 }, results, retention };
writeFileSync("bench/results/dashboard.json", JSON.stringify(out, null, 2) + "\n");
const md = [
  "# Dashboard benchmark (generated by `npm run bench:dashboard`)",
  "",
  `Measured ${out.measuredAt} on ${size.requests.toLocaleString("en-US")} requests, ${size.steps.toLocaleString("en-US")} steps, ${size.tokens.toLocaleString("en-US")} tokens: ${(size.bytes / 2 ** 30).toFixed(2)} GiB (${out.size.gibPer100k} GiB per 100k requests). ${RUNS} runs per case after a warm-up; server time in-process, JSON serialisation included.`,
  "",
  "| area | case | p50 ms | p95 ms | rows |",
  "| --- | --- | ---: | ---: | ---: |",
  ...results.map((r) => `| ${r.area} | ${r.name} | ${r.p50} | ${r.p95} | ${r.rows} |`),
  "",
  retention ? `Retention: ${JSON.stringify(retention)}` : "Retention not run (--no-retention).",
  "",
].join("\n");
writeFileSync("bench/results/dashboard.md", md);
database.sqlite.close();
