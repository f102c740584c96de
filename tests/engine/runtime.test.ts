import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CausalLM } from "@/engine/runtime/causal-lm";
import { combinedModelHash } from "@/engine/runtime/model-folder";
import { argmax, logSoftmaxAt } from "@/engine/sampling";
import { TextTokenizer } from "@/engine/tokenizer";
import { DRAFT_DIR, TARGET_DIR, heldoutDocs } from "../support/models";

let target: CausalLM;
let draft: CausalLM;
let tokenizer: TextTokenizer;

beforeAll(async () => {
  [target, draft] = await Promise.all([CausalLM.load(TARGET_DIR, { threads: 1 }), CausalLM.load(DRAFT_DIR, { threads: 1 })]);
  tokenizer = new TextTokenizer(target.folder.tokenizerPath);
});
afterAll(async () => {
  await Promise.all([target.release(), draft.release()]);
});

function maxAbsDiff(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, n: number): number {
  let d = 0;
  for (let i = 0; i < n; i++) d = Math.max(d, Math.abs(a[aOffset + i] - b[bOffset + i]));
  return d;
}

/** Mean next-token cross-entropy (nats) over `ids` in one full-sequence pass, and the model's greedy choice at every position. */
async function score(model: CausalLM, ids: number[]): Promise<{ crossEntropy: number; choices: number[] }> {
  const { out, cache } = await model.forward([ids], model.emptyCache(), 0);
  cache.dispose();
  const V = model.vocabSize;
  let total = 0;
  const choices: number[] = [];
  for (let pos = 0; pos < ids.length - 1; pos++) {
    const o = pos * V;
    total -= logSoftmaxAt(out.logits, o, V, ids[pos + 1]);
    choices.push(argmax(out.logits.subarray(o, o + V)));
  }
  return { crossEntropy: total / (ids.length - 1), choices };
}

describe("the shipped model pair", () => {
  it("loads both models, reads their KV shape from the graph and identifies them by the sha256 of model.onnx, tokenizer.json and config.json", () => {
    const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
    for (const model of [target, draft]) {
      expect(model.kvShape.numLayers).toBe(model.folder.config.num_hidden_layers);
      const files = { "model.onnx": sha(model.folder.onnxPath), "tokenizer.json": sha(model.folder.tokenizerPath), "config.json": sha(`${model.folder.dir}/config.json`) };
      expect(model.id.files).toEqual(files);
      expect(model.id.sha256).toBe(combinedModelHash(files));
      expect(model.id.sha256).not.toBe(files["model.onnx"]);
      expect(model.vocabSize).toBe(tokenizer.eosId >= 0 ? target.vocabSize : -1);
    }
  });

  // fp32 graphs agree to 1e-3. An int8-compute graph (MatMulNBits, accuracy level 4) quantises its activations
  // on every call: a float difference of an ulp upstream (attention over a cache vs within one pass, one row
  // vs many) can move one activation across a rounding step, which moves logits of magnitude ~10-17 by up to
  // ~0.05 (8.3e-3 on the first int8 draft, 0.052 on held-out document 0 with the fifth-phase one, 0 on most
  // prompts). A cache bug shows as differences of order 1. The greedy choice must not move at all.
  const tolerance = (model: CausalLM) => ((model.folder.config as { speclens_graph?: { quantization?: unknown } }).speclens_graph?.quantization ? 1e-1 : 1e-3);

  it("incremental decoding with the KV cache matches one full-sequence pass (max abs diff < 1e-3 fp32, 1e-1 int8; same argmax everywhere)", async () => {
    const ids = tokenizer.encode(heldoutDocs()[0].text).slice(0, 48);
    for (const model of [target, draft]) {
      const V = model.vocabSize;
      const full = await model.forward([ids], model.emptyCache(), 0);
      full.cache.dispose();
      let step = await model.forward([ids.slice(0, 40)], model.emptyCache(), 0);
      let worst = 0;
      const flips: number[] = [];
      const compare = (logits: Float32Array, offset: number, pos: number) => {
        worst = Math.max(worst, maxAbsDiff(logits, offset, full.out.logits, pos * V, V));
        if (argmax(logits, offset, V) !== argmax(full.out.logits, pos * V, V)) flips.push(pos);
      };
      compare(step.out.logits, 39 * V, 39);
      for (let pos = 40; pos < ids.length; pos++) {
        step = await model.forward([[ids[pos]]], step.cache, pos);
        compare(step.out.logits, 0, pos);
      }
      step.cache.dispose();
      expect(worst).toBeLessThan(tolerance(model));
      expect(flips).toEqual([]);
    }
  });

  it("rollback leaves the cache such that the next logits equal a fresh run on the same prefix", async () => {
    const ids = tokenizer.encode(heldoutDocs()[1].text).slice(0, 30);
    const V = target.vocabSize;
    // Feed 20 tokens, then 6 speculative ones, roll back 4 of them, and feed the next real token.
    let run = await target.forward([ids.slice(0, 20)], target.emptyCache(), 0);
    run = await target.forward([[ids[20], ids[21], 7, 8, 9, 10]], run.cache, 20);
    const rolledBack = run.cache.truncate(22);
    expect(rolledBack.length).toBe(22);
    const next = await target.forward([[ids[22]]], rolledBack, 22);
    const fresh = await target.forward([ids.slice(0, 23)], target.emptyCache(), 0);
    expect(maxAbsDiff(next.out.logits, 0, fresh.out.logits, 22 * V, V)).toBeLessThan(1e-3);
    next.cache.dispose();
    fresh.cache.dispose();
  });

  // The distilled draft's perplexity on human text is no longer above the target's (67.9 against 71.2 on the
  // whole held-out split since its GPU phase), so what this checks is that both are trained language models
  // (a uniform guess scores 4,096, a unigram model of this corpus several hundred) and that the draft predicts
  // the target's greedy choice on most positions, which is what speculation pays for.
  it("both models are trained on the corpus, and the draft predicts the target's greedy choice on most held-out positions", async () => {
    const docs = heldoutDocs().slice(0, 4);
    let targetCe = 0;
    let draftCe = 0;
    let agree = 0;
    let positions = 0;
    for (const doc of docs) {
      const ids = tokenizer.encode(doc.text).slice(0, 256);
      const [t, d] = [await score(target, ids), await score(draft, ids)];
      targetCe += t.crossEntropy;
      draftCe += d.crossEntropy;
      agree += t.choices.filter((c, i) => c === d.choices[i]).length;
      positions += t.choices.length;
    }
    expect(Math.exp(targetCe / docs.length)).toBeLessThan(150);
    expect(Math.exp(draftCe / docs.length)).toBeLessThan(150);
    expect(agree / positions).toBeGreaterThan(0.6);
  });

  it("the tokenizer round-trips held-out text", () => {
    for (const doc of heldoutDocs()) expect(tokenizer.decode(tokenizer.encode(doc.text))).toBe(doc.text);
  });
});
