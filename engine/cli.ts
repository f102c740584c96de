/**
 * Quick use from a terminal:
 *   npm run generate -- --proposer draft-model "The jury said"
 *   npm run generate -- --proposer ngram --max-tokens 64 --temperature 0.8 --seed 7 "Once upon"
 * Streams accepted tokens as they come (accepted draft tokens, then the target's own token, are
 * coloured differently with --color), then prints the speculation summary.
 */
import { parseArgs } from "node:util";
import { SpecEngine, DEFAULT_DRAFT_DIR, DEFAULT_TARGET_DIR } from "./engine";
import { formatModelId } from "./runtime/model-folder";
import { DEFAULT_SPEC_CONFIG, PROPOSERS, SpecConfigError, VERIFY_MODES, mergeSpecConfig, type SpecConfig, type SpecConfigInput } from "./config";

const USAGE = `usage: npm run generate -- [options] "prompt"
  --proposer ${PROPOSERS.join("|")}   (default draft-model)
  --verify ${VERIFY_MODES.join("|")}      (greedy/sampling follow --temperature; lossy opts in)
  --k N  --adaptive  --draft-confidence P  --draft-accept-floor P  --draft-window SINK,RECENT
  --max-tokens N  --min-tokens N  --ignore-eos  --temperature T  --top-p P  --top-k K  --seed S
  --stop STR (repeatable)  --tree-width W  --tree-depth D  --tree-branch-min-prob P  --lossy-threshold P
  --target DIR  --draft DIR  --threads N  --color  --json`;

function num(value: string | undefined, flag: string, fallback: number): number;
function num(value: string | undefined, flag: string): number | undefined;
function num(value: string | undefined, flag: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${flag} must be a number, got ${value}`);
  return n;
}

/** "4,64" -> keep the first 4 and the last 64 draft KV positions. */
function draftWindow(value: string | undefined): { sink: number; recent: number } | undefined {
  if (value === undefined) return undefined;
  const [sink, recent] = value.split(",").map(Number);
  if (!Number.isInteger(sink) || !Number.isInteger(recent)) throw new Error(`--draft-window must be SINK,RECENT, got ${value}`);
  return { sink, recent };
}

/** The flags given, on top of the defaults, through the engine's one schema (its defaults and ranges). */
function cliConfig(values: Record<string, string | boolean | string[] | undefined>): SpecConfig {
  const str = (flag: string) => values[flag] as string | undefined;
  const input: SpecConfigInput = {
    proposer: str("proposer") as SpecConfig["proposer"] | undefined,
    verify: str("verify") as SpecConfig["verify"] | undefined,
    kMax: num(str("k"), "k"),
    adaptiveK: values.adaptive ? true : undefined,
    draftConfidence: num(str("draft-confidence"), "draft-confidence"),
    draftAcceptFloor: num(str("draft-accept-floor"), "draft-accept-floor"),
    lossyThreshold: num(str("lossy-threshold"), "lossy-threshold"),
    draftWindow: draftWindow(str("draft-window")),
    tree: {
      width: num(str("tree-width"), "tree-width"),
      depth: num(str("tree-depth"), "tree-depth"),
      branchMinProb: num(str("tree-branch-min-prob"), "tree-branch-min-prob"),
    },
  };
  const flags: Record<string, string> = {
    proposer: "--proposer", verify: "--verify", kMax: "--k", draftConfidence: "--draft-confidence", draftAcceptFloor: "--draft-accept-floor", lossyThreshold: "--lossy-threshold",
    draftWindow: "--draft-window", "tree.width": "--tree-width", "tree.depth": "--tree-depth", "tree.branchMinProb": "--tree-branch-min-prob",
  };
  try {
    return mergeSpecConfig(DEFAULT_SPEC_CONFIG, stripUndefined(input));
  } catch (error) {
    if (!(error instanceof SpecConfigError)) throw error;
    throw new Error(error.issues.map((i) => `${flags[i.path] ?? flags[i.path.split(".")[0]] ?? i.path}: ${i.message}`).join("\n"));
  }
}

function stripUndefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      proposer: { type: "string" },
      verify: { type: "string" },
      k: { type: "string" },
      adaptive: { type: "boolean", default: false },
      "draft-confidence": { type: "string" },
      "draft-accept-floor": { type: "string" },
      "draft-window": { type: "string" },
      "min-tokens": { type: "string" },
      "ignore-eos": { type: "boolean", default: false },
      "max-tokens": { type: "string" },
      temperature: { type: "string" },
      "top-p": { type: "string" },
      "top-k": { type: "string" },
      seed: { type: "string" },
      stop: { type: "string", multiple: true, default: [] },
      "tree-width": { type: "string" },
      "tree-depth": { type: "string" },
      "tree-branch-min-prob": { type: "string" },
      "lossy-threshold": { type: "string" },
      target: { type: "string", default: DEFAULT_TARGET_DIR },
      draft: { type: "string", default: DEFAULT_DRAFT_DIR },
      threads: { type: "string" },
      color: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const config = cliConfig(values);
  const engine = await SpecEngine.load({ targetDir: values.target, draftDir: values.draft, threads: num(values.threads, "threads", 0) });
  const stream = engine.stream(positionals[0], {
    maxTokens: num(values["max-tokens"], "max-tokens", 64),
    minTokens: num(values["min-tokens"], "min-tokens", 0),
    ignoreEos: values["ignore-eos"],
    temperature: num(values.temperature, "temperature", 0),
    topP: num(values["top-p"], "top-p", 1),
    topK: num(values["top-k"], "top-k", 0),
    seed: num(values.seed, "seed", 0),
    stop: values.stop,
  }, config);

  const paint = (text: string, origin: string) => {
    if (!values.color) return text;
    const code = origin === "accepted" ? 32 : origin === "lossy-accepted" ? 33 : 0;
    return code ? `\x1b[${code}m${text}\x1b[0m` : text;
  };
  if (!values.json) process.stdout.write(positionals[0]);
  for (;;) {
    const next = await stream.next();
    if (next.done) {
      const r = next.value;
      const s = r.summary;
      if (values.json) {
        console.log(JSON.stringify(r, null, 2));
      } else {
        console.log(`\n\n[${s.proposer}/${s.verify}] ${r.tokens.length} tokens in ${r.timings.totalMs.toFixed(0)} ms` +
          ` (${((r.tokens.length * 1000) / r.timings.totalMs).toFixed(1)} tok/s), finish ${r.finishReason}`);
        console.log(`steps ${s.steps}, drafted ${s.drafted}, accepted ${s.accepted}, acceptance rate ${s.acceptanceRate.toFixed(3)},` +
          ` mean acceptance length ${s.meanAcceptanceLength.toFixed(2)}`);
        console.log(`target ${formatModelId(r.models.target)}${r.models.draft ? `, draft ${formatModelId(r.models.draft)}` : ""}`);
      }
      break;
    }
    // The step's text delta (engine/detokenizer.ts): stop strings cut, split characters joined. Coloured
    // token by token when it is exactly the tokens' texts, else by the step's last token.
    const { textDelta, emitted } = next.value;
    if (values.json || !textDelta) continue;
    if (emitted.map((t) => t.text).join("") === textDelta) for (const t of emitted) process.stdout.write(paint(t.text, t.origin));
    else process.stdout.write(paint(textDelta, emitted.at(-1)?.origin ?? "target"));
  }
  await engine.dispose();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
