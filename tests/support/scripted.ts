import * as ort from "onnxruntime-node";
import type { EngineModels } from "@/engine/generate";
import type { CausalLM } from "@/engine/runtime/causal-lm";
import { KvCache, type KvShape } from "@/engine/runtime/kv-cache";
import type { TextTokenizer } from "@/engine/tokenizer";

/*
 * Scripted models: test doubles for CausalLM whose "KV cache" holds the token ids themselves (one
 * layer, one head, head dim 1), so the real KvCache, rollback and proposer bookkeeping run unchanged
 * while the next-token distribution is whatever function of the context a test chooses.
 */

export const SCRIPTED_VOCAB = 16;
export const SCRIPTED_EOS = 15;
const SHAPE: KvShape = { numLayers: 1, kvHeads: 1, headDim: 1 };

/** Next-token probabilities as a function of the whole context so far (prompt included). */
export type Script = (context: number[]) => Record<number, number>;

export function scriptedModel(script: Script, name = "scripted"): CausalLM {
  const V = SCRIPTED_VOCAB;
  const logitsFor = (context: number[]) => {
    const probs = new Array(V).fill(1e-6);
    for (const [token, p] of Object.entries(script(context))) probs[Number(token)] = p;
    return probs.map(Math.log);
  };
  const fake = {
    id: { name, sha256: "0".repeat(64) },
    vocabSize: V,
    maxPositions: 256,
    emptyCache: (batch = 1) => KvCache.empty(SHAPE, batch),
    async forward(rows: number[][], cache: KvCache) {
      const past = cache.feeds()["past_key_values.0.key"].data as Float32Array;
      const batch = rows.length;
      const seq = rows[0].length;
      const total = cache.length + seq;
      const ids = new Float32Array(batch * total);
      const logits = new Float32Array(batch * seq * V);
      rows.forEach((row, b) => {
        ids.set(past.subarray(b * cache.length, (b + 1) * cache.length), b * total);
        ids.set(row, b * total + cache.length);
        const context = Array.from(ids.subarray(b * total, (b + 1) * total));
        for (let s = 0; s < seq; s++) logits.set(logitsFor(context.slice(0, cache.length + s + 1)), (b * seq + s) * V);
      });
      cache.dispose();
      const tensor = () => new ort.Tensor("float32", Float32Array.from(ids), [batch, 1, total, 1]);
      return { out: { logits, batch, seq }, cache: KvCache.fromPresents(SHAPE, [tensor(), tensor()]) };
    },
  };
  return fake as unknown as CausalLM;
}

export function scriptedTokenizer(): TextTokenizer {
  const text = (id: number) => `t${id} `;
  return {
    eosId: SCRIPTED_EOS,
    tokenText: text,
    decode: (ids: readonly number[]) => ids.map(text).join(""),
    encode: (s: string) => s.split(/\s+/).filter(Boolean).map((w) => Number(w.replace(/^t/, ""))),
  } as unknown as TextTokenizer;
}

export function scriptedPair(target: Script, draft: Script): EngineModels {
  return { target: scriptedModel(target, "scripted-target"), draft: scriptedModel(draft, "scripted-draft"), tokenizer: scriptedTokenizer() };
}
