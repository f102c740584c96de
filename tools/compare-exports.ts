/**
 * Compare a fused export with the plain one it was made from, through onnxruntime-node:
 *   npx tsx tools/compare-exports.ts --plain models/NAME --fused /work/artifacts/models/NAME [--prompts 32 --tokens 128]
 * 1. logits of a prefill and of 1- and 5-token steps with past: max |fused - plain|;
 * 2. greedy decoding on held-out prompts through each file alone: outputs identical, and at the first
 *    difference (if any) the plain model's top-2 margin, so a near-tie flip is told from a bug.
 */
import { parseArgs } from "node:util";
import { argmax, loadCausalLM, TextTokenizer, type CausalLM } from "../engine";
import { heldoutPrompts } from "../tests/support/models";

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function greedy(model: CausalLM, prompt: number[], tokens: number): Promise<{ ids: number[]; margins: number[] }> {
  const V = model.vocabSize;
  let { out, cache } = await model.forward([prompt], model.emptyCache(), 0);
  const ids: number[] = [];
  const margins: number[] = [];
  for (let i = 0; i < tokens; i++) {
    const off = out.logits.length - V;
    const row = out.logits.subarray(off, off + V);
    const best = argmax(row);
    let second = -Infinity;
    for (let v = 0; v < V; v++) if (v !== best && row[v] > second) second = row[v];
    ids.push(best);
    margins.push(row[best] - second);
    ({ out, cache } = await model.forward([[best]], cache, prompt.length + i));
  }
  cache.dispose();
  return { ids, margins };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { plain: { type: "string" }, fused: { type: "string" }, prompts: { type: "string", default: "32" }, tokens: { type: "string", default: "128" } } });
  const plain = await loadCausalLM(values.plain!, { threads: 1 });
  const fused = await loadCausalLM(values.fused!, { threads: 1 });
  const tok = new TextTokenizer(plain.folder.tokenizerPath, 0);
  const prompts = heldoutPrompts(Number(values.prompts)).map((p) => tok.encode(p));

  let worst = 0;
  for (const ids of prompts.slice(0, 4)) {
    const a = await plain.forward([ids], plain.emptyCache(), 0);
    const b = await fused.forward([ids], fused.emptyCache(), 0);
    worst = Math.max(worst, maxDiff(a.out.logits, b.out.logits));
    for (const step of [[11], [12, 13, 14, 15, 16]]) {
      const a2 = await plain.forward([step], a.cache, ids.length);
      const b2 = await fused.forward([step], b.cache, ids.length);
      worst = Math.max(worst, maxDiff(a2.out.logits, b2.out.logits));
      a.cache = a2.cache.truncate(ids.length);
      b.cache = b2.cache.truncate(ids.length);
    }
    a.cache.dispose();
    b.cache.dispose();
  }
  console.log(`max |logit difference| (prefill, 1-token and 5-token steps): ${worst.toExponential(2)}`);

  let identical = 0;
  for (const [i, ids] of prompts.entries()) {
    const a = await greedy(plain, ids, Number(values.tokens));
    const b = await greedy(fused, ids, Number(values.tokens));
    const at = a.ids.findIndex((t, j) => t !== b.ids[j]);
    if (at < 0) identical++;
    else console.log(`prompt ${i}: first difference at token ${at}, plain top-2 margin ${a.margins[at].toExponential(2)}`);
  }
  console.log(`greedy outputs identical: ${identical}/${prompts.length}`);
  await plain.release();
  await fused.release();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
