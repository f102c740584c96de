/**
 * npm run bench:peer [-- --prompts 12 --max-tokens 64 --rounds 5 --http http://127.0.0.1:3000 --api-key KEY]
 * SpecLens beside the tool a user would pick instead: transformers.js (@huggingface/transformers,
 * AutoModelForCausalLM.generate, greedy) on the very same target folder, once with its own session
 * defaults and once with SpecLens's target session settings; SpecLens off and every proposer in process;
 * with --http, the same requests through a running server's /v1/completions. Same held-out prompts and
 * token budget (EOS ignored, so every run emits exactly max-tokens tokens), interleaved per prompt with
 * the order rotated. Prints tokens/s, the ratios to transformers.js and to off, and whether every greedy
 * output equals off's (and transformers.js's). With --rounds N the whole interleaved pass runs N times;
 * the main table pools every round, and a second table gives each round's ratios and their median.
 * Where the next run is on another onnxruntime session or in another process than the last (transformers.js,
 * SpecLens, the server), it waits --settle-ms (100) untimed first: a session's idle worker spins for ~37 ms
 * after its run, and transformers.js leaves ~1.5 cores busy for up to ~80 ms after generate, which on 2
 * cores slowed whichever runner came next (87 ms of the bench process's CPU inside each HTTP off request).
 * It then collects the bench process's garbage, still untimed: otherwise the garbage one runner left (the
 * output arrays of in-process runs) was collected inside the next one, and an HTTP request that followed
 * in-process runs measured 44-46 ms outside the generation against 28 ms with the collection first (the
 * bench process spent 16-18 ms of CPU inside the request instead of 3-5; docs/engine-performance.md).
 * Writes bench/results/peer.md (and .json).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { basename, dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { AutoModelForCausalLM, AutoTokenizer, env, type PreTrainedModel, type PreTrainedTokenizer } from "@huggingface/transformers";
import { DEFAULT_TARGET_DIR, SpecEngine, type SpecConfigInput } from "../engine";
import { heldoutPrompts } from "../tests/support/models";
import { parseServerTiming } from "../tests/support/server-timing";
import { median, sum } from "./stats";

interface Runner {
  label: string;
  /** The onnxruntime session (or server process) it runs on: --settle-ms pauses where this changes. */
  session: string;
  /** Token ids generated (exactly maxTokens); HTTP runners add the generation time the server reports. */
  run: (prompt: string, maxTokens: number) => Promise<{ ids: number[]; serverMs?: number; handlerMs?: number }>;
}

const SPEC_CONFIGS: { label: string; config: SpecConfigInput; wire: Record<string, unknown> }[] = [
  { label: "off", config: { proposer: "off" }, wire: { proposer: "off" } },
  { label: "draft-model k=4", config: { proposer: "draft-model", kMax: 4 }, wire: { proposer: "draft-model", k_max: 4 } },
  { label: "draft-model k=6", config: { proposer: "draft-model", kMax: 6 }, wire: { proposer: "draft-model", k_max: 6 } },
  {
    label: "draft-model k<=12 floor 0.5",
    config: { proposer: "draft-model", kMax: 12, draftAcceptFloor: 0.5 },
    wire: { proposer: "draft-model", k_max: 12, draft_accept_floor: 0.5 },
  },
  { label: "tree 2x4", config: { proposer: "tree", kMax: 4, tree: { width: 2, depth: 4, branchMinProb: 0.3 } }, wire: { proposer: "tree", k_max: 4, tree: { width: 2, depth: 4, branch_min_prob: 0.3 } } },
  { label: "ngram", config: { proposer: "ngram", kMax: 6 }, wire: { proposer: "ngram", k_max: 6 } },
];

async function loadTransformersJs(dir: string, sessionOptions: Record<string, unknown> | undefined): Promise<{ model: PreTrainedModel; tokenizer: PreTrainedTokenizer }> {
  env.allowRemoteModels = false;
  env.localModelPath = dirname(dir) + "/";
  const id = basename(dir);
  const tokenizer = await AutoTokenizer.from_pretrained(id, { local_files_only: true });
  const model = await AutoModelForCausalLM.from_pretrained(id, {
    local_files_only: true, subfolder: "", dtype: "fp32", device: "cpu", ...(sessionOptions ? { session_options: sessionOptions } : {}),
  });
  return { model, tokenizer };
}

function transformersRunner(label: string, model: PreTrainedModel, tokenizer: PreTrainedTokenizer): Runner {
  return {
    label,
    session: label,
    run: async (prompt, maxTokens) => {
      const inputs = tokenizer(prompt);
      const out = (await model.generate({ ...inputs, max_new_tokens: maxTokens, min_new_tokens: maxTokens, do_sample: false })) as { data: BigInt64Array };
      return { ids: Array.from(out.data).slice(inputs.input_ids.dims[1]).map(Number) };
    },
  };
}

function httpRunner(label: string, baseUrl: string, apiKey: string | undefined, overrides: Record<string, unknown>, model: string): Runner {
  return {
    label,
    session: baseUrl,
    run: async (prompt, maxTokens) => {
      const res = await fetch(`${baseUrl}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
        body: JSON.stringify({ model, prompt, max_tokens: maxTokens, temperature: 0, ignore_eos: true, speclens: { overrides } }),
      });
      if (!res.ok) throw new Error(`${label}: HTTP ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { choices: { text: string }[]; speclens: { timings: { total_ms: number } } };
      // Compared by text: the API returns text; token ids are compared in process.
      // Server-Timing: the handler's total; what it spent outside the generation is total - generate.
      const header = res.headers.get("server-timing");
      const { total, generate } = header ? parseServerTiming(header) : {};
      const handlerMs = total !== undefined && generate !== undefined ? total - generate : undefined;
      return { ids: [...Buffer.from(body.choices[0].text)], serverMs: body.speclens.timings.total_ms, handlerMs };
    },
  };
}

// A full collection on demand without a command-line flag (the npm script runs plain tsx).
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/** An untimed pause, then a full garbage collection: see --settle-ms in the header. */
async function settle(ms: number): Promise<void> {
  await new Promise<void>((done) => setTimeout(done, ms));
  collectGarbage();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      prompts: { type: "string", default: "12" },
      "max-tokens": { type: "string", default: "64" },
      http: { type: "string" },
      "api-key": { type: "string" },
      target: { type: "string" },
      rounds: { type: "string", default: "1" },
      "settle-ms": { type: "string", default: "100" },
    },
  });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected a whole number >= 1, got ${values.rounds}`);
  const settleMs = Number(values["settle-ms"]);
  if (!Number.isFinite(settleMs) || settleMs < 0) throw new Error(`--settle-ms: expected a number >= 0, got ${values["settle-ms"]}`);
  const maxTokens = Number(values["max-tokens"]);
  const prompts = heldoutPrompts(Number(values.prompts));
  const targetDir = resolve(values.target ?? process.env.SPECLENS_TARGET_DIR ?? DEFAULT_TARGET_DIR);
  const loadBefore = loadavg();

  const engine = await SpecEngine.load({ targetDir });
  const sessions = engine.sessionInfo();
  const tjsDefault = await loadTransformersJs(targetDir, undefined);
  const tjsEqual = await loadTransformersJs(targetDir, {
    intraOpNumThreads: sessions.target.threads, interOpNumThreads: 1, graphOptimizationLevel: "all", enableMemPattern: sessions.target.memoryPattern,
    extra: { session: { intra_op: { allow_spinning: sessions.target.spinning ? "1" : "0" } } },
  });
  const runners: Runner[] = [
    transformersRunner("transformers.js (its defaults)", tjsDefault.model, tjsDefault.tokenizer),
    transformersRunner("transformers.js (SpecLens's target session settings)", tjsEqual.model, tjsEqual.tokenizer),
    ...SPEC_CONFIGS.map((c): Runner => ({
      label: `SpecLens ${c.label}`,
      session: "SpecLens",
      run: async (prompt, n) => ({ ids: (await engine.generate(prompt, { temperature: 0, maxTokens: n, ignoreEos: true }, c.config)).tokens.map((t) => t.id) }),
    })),
  ];
  if (values.http) {
    const models = (await (await fetch(`${values.http}/v1/models`, { headers: values["api-key"] ? { authorization: `Bearer ${values["api-key"]}` } : {} })).json()) as { data: { id: string }[] };
    for (const c of SPEC_CONFIGS) runners.push(httpRunner(`HTTP ${c.label}`, values.http, values["api-key"], c.wire, models.data[0].id));
  }

  // Warm-up: every runner once. Then `rounds` passes over the prompts, each interleaved and rotated.
  for (const r of runners) await r.run(prompts[0], 8);
  const wall = new Map(runners.map((r) => [r.label, Array.from({ length: rounds }, () => 0)]));
  // HTTP runners: the server's own generation time, summed over the timed runs.
  const serverMs = new Map<string, number>();
  // HTTP runners: the handler's own time outside the generation (its Server-Timing header), summed.
  const handlerMs = new Map<string, number>();
  const outputs = new Map<string, number[][]>(runners.map((r) => [r.label, []]));
  let lastSession = "";
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < prompts.length; i++) {
      for (let j = 0; j < runners.length; j++) {
        const r = runners[(i + j) % runners.length];
        if (r.session !== lastSession) await settle(settleMs);
        lastSession = r.session;
        const start = performance.now();
        const { ids, serverMs: ms, handlerMs: hms } = await r.run(prompts[i], maxTokens);
        wall.get(r.label)![round] += performance.now() - start;
        if (ms !== undefined) serverMs.set(r.label, (serverMs.get(r.label) ?? 0) + ms);
        if (hms !== undefined) handlerMs.set(r.label, (handlerMs.get(r.label) ?? 0) + hms);
        outputs.get(r.label)![round * prompts.length + i] = ids;
      }
      process.stderr.write(`\rround ${round + 1}/${rounds}, prompt ${i + 1}/${prompts.length}`);
    }
  }
  process.stderr.write("\n");

  const runs = prompts.length * rounds;
  const tps = (label: string) => (runs * maxTokens * 1000) / sum(wall.get(label)!);
  const tpsIn = (label: string, round: number) => (prompts.length * maxTokens * 1000) / wall.get(label)![round];
  const ref = "transformers.js (its defaults)";
  const refEqual = "transformers.js (SpecLens's target session settings)";
  const same = (a: string, b: string) => outputs.get(a)!.filter((ids, i) => ids.join() === outputs.get(b)![i].join()).length;
  const rows = runners.map((r) => {
    const http = r.label.startsWith("HTTP");
    const offLabel = http ? "HTTP off" : "SpecLens off";
    const isPeer = r.label.startsWith("transformers.js");
    const perRoundVsTjs = Array.from({ length: rounds }, (_, k) => tpsIn(r.label, k) / tpsIn(ref, k));
    const perRoundVsOff = isPeer ? null : Array.from({ length: rounds }, (_, k) => tpsIn(r.label, k) / tpsIn(offLabel, k));
    return {
      label: r.label,
      tokensPerSecond: tps(r.label),
      vsTransformersJs: tps(r.label) / tps(ref),
      vsTransformersJsEqualSettings: tps(r.label) / tps(refEqual),
      vsOff: isPeer ? null : tps(r.label) / tps(offLabel),
      sameAsOff: isPeer ? null : same(r.label, offLabel),
      sameAsTransformersJs: http ? null : same(r.label, ref),
      // What a request spent outside the engine's generation: Next.js, the handler, the trace write, the client.
      httpOverheadMsPerRequest: serverMs.has(r.label) ? (sum(wall.get(r.label)!) - serverMs.get(r.label)!) / runs : null,
      // Of it, the handler's own work (auth, validation, admission, the trace write): the rest is Next.js and the connection.
      httpHandlerMsPerRequest: handlerMs.has(r.label) ? handlerMs.get(r.label)! / runs : null,
      perRound: { vsTransformersJs: perRoundVsTjs, vsOff: perRoundVsOff },
      medianOfRounds: { vsTransformersJs: median(perRoundVsTjs), vsOff: perRoundVsOff ? median(perRoundVsOff) : null },
    };
  });
  const out = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadBefore, loadAfter: loadavg() },
    targetDir, sessions, prompts: prompts.length, maxTokens, rounds, settleMs, rows,
  };
  const f = (x: number | null, d = 2) => (x === null ? "-" : x.toFixed(d));
  const md = [
    "# SpecLens vs transformers.js on the same target folder (npm run bench:peer)",
    "",
    `Measured ${out.measuredAt}: ${prompts.length} held-out prompts x ${maxTokens} new tokens${rounds > 1 ? `, ${rounds} rounds` : ""}, greedy, EOS ignored, interleaved (${settleMs} ms untimed pause and a garbage collection where the session changes); ${out.machine.cpus} CPU cores, Node ${out.machine.node}; load average ${loadBefore.map((x) => x.toFixed(2)).join(" ")} before, ${out.machine.loadAfter.map((x) => x.toFixed(2)).join(" ")} after.`,
    `Target folder ${targetDir}; SpecLens sessions \`${JSON.stringify(sessions)}\`.`,
    "",
    "| runner | tok/s | vs transformers.js (defaults) | vs transformers.js (equal settings) | vs off | same tokens as off | same tokens as transformers.js |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.label} | ${f(r.tokensPerSecond, 1)} | ${f(r.vsTransformersJs)}x | ${f(r.vsTransformersJsEqualSettings)}x | ${r.vsOff === null ? "-" : `${f(r.vsOff)}x`} | ${r.sameAsOff === null ? "-" : `${r.sameAsOff}/${runs}`} | ${r.sameAsTransformersJs === null ? "-" : `${r.sameAsTransformersJs}/${runs}`} |`),
    "",
    "HTTP rows compare output text (bytes) with HTTP off; in-process rows compare token ids.",
    ...(values.http ? [
      "",
      `Over HTTP, ms a request outside the generation (the client's time minus the server's \`speclens.timings.total_ms\`), and in parentheses the handler's share of it (its Server-Timing total minus generate; the rest is Next.js, the connection and the client): ${rows.filter((r) => r.httpOverheadMsPerRequest !== null).map((r) => `${r.label.replace(/^HTTP /, "")} ${f(r.httpOverheadMsPerRequest, 1)}${r.httpHandlerMsPerRequest !== null ? ` (${f(r.httpHandlerMsPerRequest, 1)})` : ""}`).join(", ")}.`,
    ] : []),
    "",
    ...(rounds > 1 ? [
      "Each round on its own (ratio to transformers.js with its defaults / to off in the same round): this host's speed drifts, so one round's ratio moves by 10-20%.",
      "",
      `| runner | ${Array.from({ length: rounds }, (_, k) => `round ${k + 1}`).join(" | ")} | median |`,
      `|---|${"---:|".repeat(rounds + 1)}`,
      ...rows.map((r) => `| ${r.label} | ${r.perRound.vsTransformersJs.map((x, k) => `${f(x)}x${r.perRound.vsOff ? ` / ${f(r.perRound.vsOff[k])}x` : ""}`).join(" | ")} | ${f(r.medianOfRounds.vsTransformersJs)}x${r.medianOfRounds.vsOff === null ? "" : ` / ${f(r.medianOfRounds.vsOff)}x`} |`),
      "",
    ] : []),
  ].join("\n");
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/peer.json", JSON.stringify(out, null, 2) + "\n");
  writeFileSync("bench/results/peer.md", md);
  console.log(md);
  await engine.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
