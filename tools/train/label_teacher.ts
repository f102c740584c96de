/**
 * Teacher labels for the draft's distillation (dev-time only): the target's top-K next-token
 * probabilities at every position of a token stream, cut into fixed blocks of 512 inputs + 1.
 *
 * train.py runs the target in torch inside every draft step, and that forward pass is three quarters of
 * the step on this CPU (2.7 of 3.8 s for 4 x 512 tokens). The target's fused ONNX graph in onnxruntime
 * labels ~3,000 tokens a second, so labelling once and training from the labels
 * (distill_labelled.py) gives the draft about four times as many steps in the same time.
 *
 * Output, for tools/train/distill_labelled.py:
 *   <out>.tokens  uint16 [blocks, 513]      the block's token ids
 *   <out>.idx     uint16 [blocks, 512, 64]  the teacher's top-64 token ids per input position, best first
 *   <out>.prob    float32 [blocks, 512, 64] their probabilities (the rest of the mass is implied)
 *
 *   npx tsx tools/train/label_teacher.ts tools/.cache/generated-3.bin tools/.cache/lab-generated-3 [--max-tokens N]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_TARGET_DIR, loadCausalLM, topLogSoftmax } from "../../engine";

export const LABEL_TOP_K = 64;
export const LABEL_SEQ = 512;
const ROWS_PER_PASS = 4;

/**
 * The top-k entries of logits[offset .. offset + vocab) as ids and probabilities (softmax over the whole
 * row), best first, written into ids/probs at `at`. Returns the probability mass the k entries hold.
 */
export function topKProbabilities(
  logits: Float32Array, offset: number, vocab: number, k: number, ids: Uint16Array, probs: Float32Array, at: number,
): number {
  let mass = 0;
  topLogSoftmax(logits, offset, vocab, k).forEach(({ id, logprob }, i) => {
    ids[at + i] = id;
    probs[at + i] = Math.exp(logprob);
    mass += probs[at + i];
  });
  return mass;
}

async function main(): Promise<void> {
  const usage = "usage: label_teacher.ts <stream.bin> <out-prefix> [--max-tokens N]";
  const { values, positionals } = parseArgs({ options: { "max-tokens": { type: "string" } }, allowPositionals: true });
  const [src, out] = positionals;
  if (!src || !out || positionals.length > 2) throw new Error(usage);
  const given = values["max-tokens"];
  const maxTokens = given === undefined ? Infinity : Number(given);
  if (given !== undefined && !(Number.isInteger(maxTokens) && maxTokens > 0)) throw new Error(`--max-tokens must be a positive integer (${usage})`);
  const raw = readFileSync(src);
  const all = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
  const stream = all.subarray(0, Math.min(all.length, maxTokens));
  const blocks = Math.floor((stream.length - 1) / (LABEL_SEQ + 1));
  const lm = await loadCausalLM(resolve(DEFAULT_TARGET_DIR), { threads: 2, spinning: true });
  const k = LABEL_TOP_K;
  const tokens = new Uint16Array(blocks * (LABEL_SEQ + 1));
  const ids = new Uint16Array(blocks * LABEL_SEQ * k);
  const probs = new Float32Array(blocks * LABEL_SEQ * k);
  const started = performance.now();
  let mass = 0;
  for (let b0 = 0; b0 < blocks; b0 += ROWS_PER_PASS) {
    const rows: number[][] = [];
    for (let b = b0; b < Math.min(blocks, b0 + ROWS_PER_PASS); b++) {
      const block = stream.subarray(b * (LABEL_SEQ + 1), (b + 1) * (LABEL_SEQ + 1));
      tokens.set(block, b * (LABEL_SEQ + 1));
      rows.push(Array.from(block.subarray(0, LABEL_SEQ)));
    }
    const { out: result, cache } = await lm.forward(rows, lm.emptyCache(rows.length), 0);
    cache.dispose();
    for (let r = 0; r < rows.length; r++) {
      for (let s = 0; s < LABEL_SEQ; s++) {
        mass += topKProbabilities(result.logits, (r * LABEL_SEQ + s) * lm.vocabSize, lm.vocabSize, k, ids, probs, ((b0 + r) * LABEL_SEQ + s) * k);
      }
    }
    if ((b0 / ROWS_PER_PASS) % 100 === 0) console.log(`${b0}/${blocks} blocks, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  writeFileSync(`${out}.tokens`, tokens);
  writeFileSync(`${out}.idx`, ids);
  writeFileSync(`${out}.prob`, probs);
  console.log(`${blocks} blocks (${(blocks * LABEL_SEQ).toLocaleString("en-US")} positions) in ${((performance.now() - started) / 1000).toFixed(0)} s; ` +
    `mean top-${k} mass ${(mass / (blocks * LABEL_SEQ)).toFixed(3)}`);
  await lm.release();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
