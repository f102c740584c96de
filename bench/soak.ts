/**
 * npm run bench:soak [-- --requests 2000 --clients 4 --cancel 0.1 --rounds 4 --probe 6 --max-tokens 48 --segment 0.2 --sample 50 --cpu-prof]
 *
 * Does a server slow down after serving many requests? Starts the production build on a fresh database,
 * measures it (probe), soaks it with --requests mixed requests (every proposer, greedy and sampling,
 * streamed and not, both OpenAI endpoints and /api/generate, a --cancel share aborted by the client
 * mid-generation), then starts a fresh server on a copy of the soaked database and alternates probe rounds
 * between the soaked and the fresh server, so both see the same host conditions.
 *
 * A probe: --probe greedy draft-model generations of exactly --max-tokens tokens (ignore_eos), two at a time.
 * Reported per probe: tokens per wall second, and tokens per CPU second of the server process (from
 * process_cpu_seconds_total: wall time on a shared host swings with other load, CPU time per token much
 * less). Memory (RSS, V8 heap used) of the soaked server is sampled from its /metrics every --sample
 * requests (heap used swings with the collector's cycle). After the speed rounds the soaked server
 * serves --segment x --requests (at least 100) more mixed requests between two heap snapshots (each
 * after a full collection, see liveHeap): the live heap, RSS and the kinds of object that grew over
 * them say whether memory still grows once the soak has sized every cache, arena and heap space.
 * --cpu-prof writes V8 CPU profiles of both servers (bench/results/soak-prof/) and prints the
 * functions with the most self time in each.
 * Writes bench/results/soak.json and soak.md; exits 1 when the soaked server's median tokens per CPU
 * second is more than 5% below the fresh server's, or RSS or the live heap grew more than 5% over
 * those last requests. Needs `npm run build` first.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { heldoutPrompts } from "../tests/support/models";
import { startApp, type RunningApp } from "../tools/app-process";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    clients: { type: "string", default: "4" },
    cancel: { type: "string", default: "0.1" },
    rounds: { type: "string", default: "4" },
    probe: { type: "string", default: "6" },
    "max-tokens": { type: "string", default: "48" },
    "cpu-prof": { type: "boolean", default: false },
    sample: { type: "string", default: "50" },
    segment: { type: "string", default: "0.2" },
  },
});
const REQUESTS = Number(values.requests);
const CLIENTS = Number(values.clients);
const CANCEL = Number(values.cancel);
const ROUNDS = Number(values.rounds);
const PROBE = Number(values.probe);
const MAX_TOKENS = Number(values["max-tokens"]);
const SAMPLE_EVERY = Number(values.sample);
const SEGMENT = Number(values.segment);
const RESULTS = join(__dirname, "results");
const PROF_DIR = join(RESULTS, "soak-prof");

interface Memory {
  rssMb: number;
  heapUsedMb: number;
  cpuSeconds: number;
}

async function memory(baseUrl: string): Promise<Memory> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, "m").exec(text)?.[1] ?? NaN);
  return { rssMb: read("process_resident_memory_bytes") / 2 ** 20, heapUsedMb: read("nodejs_heap_size_used_bytes") / 2 ** 20, cpuSeconds: read("process_cpu_seconds_total") };
}

const PROPOSERS = ["draft-model", "ngram", "tree", "off"] as const;

/** One mixed request, numbered n; resolves with the output tokens it got (0 when cancelled or refused). */
async function mixedRequest(baseUrl: string, model: string, prompts: string[], n: number): Promise<{ tokens: number; status: number; cancelled: boolean }> {
  const proposer = PROPOSERS[n % PROPOSERS.length];
  const sampling = n % 3 === 0;
  const stream = n % 2 === 0;
  const prompt = prompts[n % prompts.length];
  const maxTokens = 16 + (n % 5) * 8;
  const abort = new AbortController();
  const cancelled = (n * 7919) % 1000 < CANCEL * 1000;
  if (cancelled) setTimeout(() => abort.abort(), 40 + (n % 7) * 30);
  const common = { max_tokens: maxTokens, temperature: sampling ? 0.8 : 0, seed: n };
  let url: string;
  let body: Record<string, unknown>;
  switch (n % 3) {
    case 0:
      url = "/api/generate";
      body = { prompt, ...common, proposer };
      break;
    case 1:
      url = "/v1/completions";
      body = { model, prompt, ...common, stream, speclens: { overrides: { proposer } } };
      break;
    default:
      url = "/v1/chat/completions";
      body = { model, messages: [{ role: "user", content: prompt }], ...common, stream, speclens: { overrides: { proposer } } };
  }
  try {
    const response = await fetch(`${baseUrl}${url}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: abort.signal });
    const text = await response.text();
    if (response.status !== 200) return { tokens: 0, status: response.status, cancelled: false };
    const usage = /"completion_tokens":(\d+)/.exec(text) ?? /"output_tokens":(\d+)/.exec(text);
    return { tokens: usage ? Number(usage[1]) : 0, status: 200, cancelled: false };
  } catch {
    return { tokens: 0, status: 0, cancelled: true };
  }
}

interface MemorySample extends Memory {
  /** Requests finished when the sample was taken. */
  done: number;
}

type SoakRun = { statuses: Record<string, number>; cancelled: number; tokens: number; seconds: number; samples: MemorySample[] };

/** Requests number `from` to `to` - 1, CLIENTS at a time. */
async function soak(app: RunningApp, model: string, prompts: string[], from = 0, to = REQUESTS): Promise<SoakRun> {
  const statuses: Record<string, number> = {};
  const samples: MemorySample[] = [];
  let cancelled = 0;
  let tokens = 0;
  let next = from;
  let done = from;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < to) {
        const outcome = await mixedRequest(app.baseUrl, model, prompts, next++);
        if (outcome.cancelled) cancelled += 1;
        else statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
        tokens += outcome.tokens;
        done += 1;
        if (done % SAMPLE_EVERY === 0) {
          samples.push({ done, ...(await memory(app.baseUrl)) });
          process.stdout.write(`\r  soak ${done}/${REQUESTS}`);
        }
      }
    }),
  );
  process.stdout.write("\n");
  return { statuses, cancelled, tokens, seconds: (performance.now() - started) / 1000, samples };
}

interface Probe {
  tokensPerSecond: number;
  tokensPerCpuSecond: number;
  /** Kernel share of the server's CPU time, and minor page faults per token (Linux /proc; NaN elsewhere). */
  systemShare: number;
  minorFaultsPerToken: number;
}

/** minflt, utime, stime (clock ticks) of a process, from /proc/<pid>/stat. */
function procStat(pid: number): { minflt: number; utime: number; stime: number } {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
    // After "pid (comm) ": state is field 0, so minflt (10th of the full line) is index 7, utime 11, stime 12.
    return { minflt: Number(fields[7]), utime: Number(fields[11]), stime: Number(fields[12]) };
  } catch {
    return { minflt: NaN, utime: NaN, stime: NaN };
  }
}

/** PROBE identical greedy generations, two at a time. */
async function probe(app: RunningApp, prompts: string[]): Promise<Probe> {
  const before = await memory(app.baseUrl);
  const statBefore = procStat(app.pid);
  const started = performance.now();
  let tokens = 0;
  for (let i = 0; i < PROBE; i += 2) {
    const batch = [i, i + 1].filter((j) => j < PROBE).map(async (j) => {
      const response = await fetch(`${app.baseUrl}/api/generate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt: prompts[j % prompts.length], max_tokens: MAX_TOKENS, ignore_eos: true, temperature: 0, proposer: "draft-model" }),
      });
      const body = (await response.json()) as { tokens?: unknown[] };
      tokens += body.tokens?.length ?? 0;
    });
    await Promise.all(batch);
  }
  const seconds = (performance.now() - started) / 1000;
  const after = await memory(app.baseUrl);
  const statAfter = procStat(app.pid);
  const user = statAfter.utime - statBefore.utime;
  const system = statAfter.stime - statBefore.stime;
  return {
    tokensPerSecond: tokens / seconds,
    tokensPerCpuSecond: tokens / Math.max(1e-6, after.cpuSeconds - before.cpuSeconds),
    systemShare: system / Math.max(1, user + system),
    minorFaultsPerToken: (statAfter.minflt - statBefore.minflt) / Math.max(1, tokens),
  };
}

interface LiveHeap {
  /** Self size of every object alive after the full collection a heap snapshot makes. */
  liveMb: number;
  /** RSS right after it. */
  rssMb: number;
  /** Self size (bytes) and count per kind ("object Foo", "closure bar", "string", ...). */
  byKind: Map<string, { bytes: number; count: number }>;
}

/**
 * The server's live heap: SIGUSR2 makes it write a heap snapshot (--heapsnapshot-signal), which V8
 * takes after a full garbage collection, so what it holds is what survives; heap used read from
 * /metrics at an arbitrary moment swings with the collector's cycle (a 60-200 MB sawtooth here).
 */
async function liveHeap(app: RunningApp, dir: string): Promise<LiveHeap> {
  const before = new Set(readdirSync(dir));
  process.kill(app.pid, "SIGUSR2");
  let file = "";
  let size = -1;
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const fresh = readdirSync(dir).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
    if (!fresh) continue;
    const now = statSync(join(dir, fresh)).size;
    // Written once complete: the file stops growing and the server answers again.
    if (now > 0 && now === size) {
      file = join(dir, fresh);
      break;
    }
    size = now;
  }
  if (!file) throw new Error("no heap snapshot written within 150 s");
  const rssMb = (await memory(app.baseUrl)).rssMb;
  const snap = JSON.parse(readFileSync(file, "utf8")) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  rmSync(file);
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
  const byKind = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + typeAt]];
    const bytes = snap.nodes[i + sizeAt];
    const kind = type === "object" || type === "closure" ? `${type} ${snap.strings[snap.nodes[i + nameAt]]}` : type;
    const entry = byKind.get(kind) ?? { bytes: 0, count: 0 };
    entry.bytes += bytes;
    entry.count += 1;
    byKind.set(kind, entry);
    total += bytes;
  }
  return { liveMb: total / 2 ** 20, rssMb, byKind };
}

/** The kinds whose live size grew most from `a` to `b`. */
function heapGrowth(a: LiveHeap, b: LiveHeap, count = 10): { kind: string; kb: number; count: number }[] {
  return [...b.byKind.entries()]
    .map(([kind, v]) => ({ kind, kb: (v.bytes - (a.byKind.get(kind)?.bytes ?? 0)) / 1024, count: v.count - (a.byKind.get(kind)?.count ?? 0) }))
    .sort((x, y) => y.kb - x.kb)
    .slice(0, count);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number, d = 1) => x.toFixed(d);

/** The functions with the most self time in a V8 .cpuprofile. */
function topSelfTime(file: string, count = 12): { fn: string; ms: number; share: number }[] {
  const profile = JSON.parse(readFileSync(file, "utf8")) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const key = `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*\/(node_modules|\.next)\//, "$1/")}:${frame.lineNumber}`;
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, count).map(([fn, us]) => ({ fn, ms: us / 1000, share: us / total }));
}

async function main(): Promise<void> {
  const temp = mkdtempSync(join(tmpdir(), "speclens-soak-"));
  const soakedDb = join(temp, "soaked.db");
  const freshDb = join(temp, "fresh.db");
  // Node refuses --cpu-prof in NODE_OPTIONS: it goes on the server's command line.
  const prof = (name: string) => ({ nodeArgs: values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${join(PROF_DIR, name)}`] : [] });
  if (values["cpu-prof"]) rmSync(PROF_DIR, { recursive: true, force: true });
  const env: Record<string, string> = { SPECLENS_MAX_QUEUE: "256" };
  const apps: RunningApp[] = [];
  try {
    const snapshots = join(temp, "snapshots");
    mkdirSync(snapshots);
    const soakedArgs = prof("soaked").nodeArgs;
    const soaked = await startApp(soakedDb, env, { nodeArgs: [...soakedArgs, "--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${snapshots}`] });
    apps.push(soaked);
    const model = ((await (await fetch(`${soaked.baseUrl}/v1/models`)).json()) as { data: { id: string }[] }).data[0].id;
    const prompts = heldoutPrompts(24);
    await probe(soaked, prompts); // warm-up: first-use costs are not the soak's doing
    const start = await memory(soaked.baseUrl);
    const startProbe = await probe(soaked, prompts);
    console.log(`start: ${fmt(startProbe.tokensPerSecond)} tok/s, ${fmt(startProbe.tokensPerCpuSecond)} tok/CPU-s, RSS ${fmt(start.rssMb)} MB, heap ${fmt(start.heapUsedMb)} MB`);

    const run = await soak(soaked, model, prompts);
    const end = await memory(soaked.baseUrl);
    // Work still going on in the soaked server with no request open (a generation that outlived its
    // cancelled client would show here).
    await new Promise((r) => setTimeout(r, 2000));
    const idleFrom = await memory(soaked.baseUrl);
    await new Promise((r) => setTimeout(r, 5000));
    const idleCpuShare = ((await memory(soaked.baseUrl)).cpuSeconds - idleFrom.cpuSeconds) / 5;
    const gauges = await (await fetch(`${soaked.baseUrl}/metrics`)).text();
    const running = /^speclens_num_requests_running (\S+)/m.exec(gauges)?.[1];
    console.log(`idle after the soak: ${fmt(idleCpuShare * 100)}% of a core, ${running} generations running`);
    console.log(`soak: ${REQUESTS} requests in ${fmt(run.seconds)} s (${fmt(run.tokens / run.seconds)} tok/s), statuses ${JSON.stringify(run.statuses)}, cancelled ${run.cancelled}; RSS ${fmt(end.rssMb)} MB, heap ${fmt(end.heapUsedMb)} MB`);

    // A fresh server on a consistent copy of the soaked database (online backup, the server keeps running).
    const source = new Database(soakedDb, { readonly: true });
    await source.backup(freshDb);
    source.close();
    const fresh = await startApp(freshDb, env, prof("fresh"));
    apps.push(fresh);
    await probe(fresh, prompts); // the same warm-up

    const rounds: { soaked: Probe; fresh: Probe }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate who goes first, so a trend in host load does not favour one side.
      const first = r % 2 === 0 ? soaked : fresh;
      const a = await probe(first, prompts);
      const b = await probe(first === soaked ? fresh : soaked, prompts);
      const round = first === soaked ? { soaked: a, fresh: b } : { soaked: b, fresh: a };
      rounds.push(round);
      console.log(
        `round ${r + 1}: soaked ${fmt(round.soaked.tokensPerCpuSecond)} vs fresh ${fmt(round.fresh.tokensPerCpuSecond)} tok/CPU-s (${fmt(round.soaked.tokensPerSecond)} vs ${fmt(round.fresh.tokensPerSecond)} tok/s); ` +
          `kernel share ${fmt(round.soaked.systemShare * 100)}% vs ${fmt(round.fresh.systemShare * 100)}%, minor faults/token ${fmt(round.soaked.minorFaultsPerToken, 0)} vs ${fmt(round.fresh.minorFaultsPerToken, 0)}`,
      );
    }
    const endSoaked = await memory(soaked.baseUrl);
    await fresh.stop();

    // Memory, after the speed rounds: a heap snapshot leaves V8 tracking object ids, which costs the
    // collector from then on (measured: the soaked server 13-18% slower per CPU second after two
    // snapshots, at par without), so none is taken before them. Live heap and RSS after a full
    // collection, then --segment x --requests more mixed requests, then again: does memory still grow after the soak?
    const segment = Math.max(100, Math.round(SEGMENT * REQUESTS));
    const heapBefore = await liveHeap(soaked, snapshots);
    const extra = await soak(soaked, model, prompts, REQUESTS, REQUESTS + segment);
    const heapAfter = await liveHeap(soaked, snapshots);
    run.samples.push(...extra.samples);
    // RSS from the samples taken during the segment (median of the first and of the last three): the
    // snapshots themselves leave RSS higher by their own working memory, each by a different amount.
    const rssSamples = extra.samples.map((m) => m.rssMb);
    const rssEnds: [number, number] = rssSamples.length >= 6
      ? [median(rssSamples.slice(0, 3)), median(rssSamples.slice(-3))]
      : [heapBefore.rssMb, heapAfter.rssMb];
    const growth = {
      from: REQUESTS, to: REQUESTS + segment,
      liveMb: [heapBefore.liveMb, heapAfter.liveMb], rssMb: rssEnds, rssAtSnapshotsMb: [heapBefore.rssMb, heapAfter.rssMb],
      liveRatio: heapAfter.liveMb / heapBefore.liveMb, rssRatio: rssEnds[1] / rssEnds[0],
      grew: heapGrowth(heapBefore, heapAfter),
    };
    console.log(`memory over ${segment} more requests (${growth.from} -> ${growth.to}), live heap after a full collection ${fmt(growth.liveMb[0])} -> ${fmt(growth.liveMb[1])} MB (x${fmt(growth.liveRatio, 3)}), RSS (sampled) ${fmt(growth.rssMb[0])} -> ${fmt(growth.rssMb[1])} MB (x${fmt(growth.rssRatio, 3)})`);
    console.log(`grew most: ${growth.grew.slice(0, 5).map((g) => `${g.kind} ${fmt(g.kb, 0)} KB (${g.count >= 0 ? "+" : ""}${g.count})`).join(", ")}`);
    const soakedCpu = median(rounds.map((r) => r.soaked.tokensPerCpuSecond));
    const freshCpu = median(rounds.map((r) => r.fresh.tokensPerCpuSecond));
    const ratio = soakedCpu / freshCpu;
    const summary = {
      requests: REQUESTS, clients: CLIENTS, cancelShare: CANCEL, probeRequests: PROBE, maxTokens: MAX_TOKENS, rounds,
      soak: run, idleCpuShareAfterSoak: idleCpuShare, memory: { start, end, afterProbes: endSoaked, afterSoak: growth }, startProbe,
      median: { soakedTokensPerCpuSecond: soakedCpu, freshTokensPerCpuSecond: freshCpu, ratio,
        soakedTokensPerSecond: median(rounds.map((r) => r.soaked.tokensPerSecond)), freshTokensPerSecond: median(rounds.map((r) => r.fresh.tokensPerSecond)) },
    };
    console.log(`median: soaked/fresh = ${fmt(ratio, 3)} (tokens per CPU second); RSS ${fmt(start.rssMb)} -> ${fmt(end.rssMb)} MB, heap ${fmt(start.heapUsedMb)} -> ${fmt(end.heapUsedMb)} MB`);

    for (const app of apps) await app.stop();
    apps.length = 0;
    const profiles: Record<string, { fn: string; ms: number; share: number }[]> = {};
    if (values["cpu-prof"]) {
      for (const name of ["soaked", "fresh"]) {
        const dir = join(PROF_DIR, name);
        const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).map((f) => join(dir, f));
        // next start runs the server in one process; take the largest profile if there are several.
        const file = files.sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
        if (!file) continue;
        profiles[name] = topSelfTime(file);
        console.log(`\n${name} server, top self time:`);
        for (const p of profiles[name]) console.log(`  ${fmt(p.share * 100)}%  ${fmt(p.ms, 0)} ms  ${p.fn}`);
      }
    }

    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, "soak.json"), JSON.stringify({ ...summary, profiles }, null, 2));
    const lines = [
      `# Soak: ${REQUESTS} mixed requests (${CLIENTS} clients, ${fmt(CANCEL * 100, 0)}% cancelled)`,
      "",
      `| | soaked | fresh (copy of its database) |`,
      `|---|---|---|`,
      ...rounds.map((r, i) => `| round ${i + 1} tok/CPU-s (tok/s) | ${fmt(r.soaked.tokensPerCpuSecond)} (${fmt(r.soaked.tokensPerSecond)}) | ${fmt(r.fresh.tokensPerCpuSecond)} (${fmt(r.fresh.tokensPerSecond)}) |`),
      `| median tok/CPU-s | ${fmt(soakedCpu)} | ${fmt(freshCpu)} |`,
      "",
      `Soaked/fresh: ${fmt(ratio, 3)}. Soaked server at the start: ${fmt(startProbe.tokensPerSecond)} tok/s, RSS ${fmt(start.rssMb)} MB, heap ${fmt(start.heapUsedMb)} MB; after the soak: RSS ${fmt(end.rssMb)} MB, heap ${fmt(end.heapUsedMb)} MB.`,
      `Soak: ${fmt(run.seconds)} s, ${fmt(run.tokens / run.seconds)} tok/s, statuses ${JSON.stringify(run.statuses)}, cancelled ${run.cancelled}.`,
      `Memory over ${growth.to - growth.from} more requests after the soak and the speed rounds (${growth.from} -> ${growth.to}): live heap after a full collection (heap snapshot) ${fmt(growth.liveMb[0])} -> ${fmt(growth.liveMb[1])} MB (x${fmt(growth.liveRatio, 3)}); RSS, median of the segment's first and last three samples, ${fmt(growth.rssMb[0])} -> ${fmt(growth.rssMb[1])} MB (x${fmt(growth.rssRatio, 3)}).`,
      "",
      "Live heap that grew most over those requests:",
      "",
      "| kind | KB | count |",
      "|---|---:|---:|",
      ...growth.grew.map((g) => `| ${g.kind.replace(/\|/g, "\\|")} | ${fmt(g.kb, 0)} | ${g.count} |`),
      "",
      "Sampled during the soak (heap used at an arbitrary moment of the collector's cycle):",
      "",
      "| requests done | RSS MB | heap used MB |",
      "|---:|---:|---:|",
      ...run.samples.map((m) => `| ${m.done} | ${fmt(m.rssMb)} | ${fmt(m.heapUsedMb)} |`),
    ];
    writeFileSync(join(RESULTS, "soak.md"), lines.join("\n") + "\n");
    if (ratio < 0.95) {
      console.error(`soaked server more than 5% slower per CPU second (${fmt(ratio, 3)})`);
      process.exitCode = 1;
    }
    if (growth.rssRatio > 1.05 || growth.liveRatio > 1.05) {
      console.error(`memory grew more than 5% over ${growth.to - growth.from} more requests after the soak (live heap x${fmt(growth.liveRatio, 3)}, RSS x${fmt(growth.rssRatio, 3)})`);
      process.exitCode = 1;
    }
  } finally {
    for (const app of apps) await app.stop();
    rmSync(temp, { recursive: true, force: true });
  }
}

void main();
