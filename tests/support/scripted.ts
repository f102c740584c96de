/**
 * Test doubles (tests only): scripted causal LMs whose "KV cache" holds the token ids themselves (one
 * layer, one head, head dim 1), so the real KvCache, DraftState and loop bookkeeping run unchanged
 * while the next-token logits are a function of the context we choose. A cache bug (a wrong row
 * kept, a rollback one step late, a bad window) shows up as a wrong context, hence wrong logits.
 */
import * as ort from "onnxruntime-node";
import type { CausalLM } from "@/engine/runtime/causal-lm";
import { KvCache, type KvShape } from "@/engine/runtime/kv-cache";
import type { EngineModels } from "@/engine/generate";
import type { TextTokenizer } from "@/engine/tokenizer";

const SHAPE: KvShape = { numLayers: 1, kvHeads: 1, headDim: 1 };

/** Next-token logits ([vocab]) as a function of the whole context. */
export type LogitsScript = (context: readonly number[]) => ArrayLike<number>;

export function scriptedModel(vocab: number, script: LogitsScript, name = "scripted"): CausalLM {
  const fake = {
    vocabSize: vocab,
    maxPositions: 4096,
    id: { name, sha256: "0".repeat(64) },
    runtime: { onnxruntimeVersion: "scripted", executionProvider: "none", threads: 0, interOpThreads: 0, graphOptimizationLevel: "none", allowSpinning: false },
    emptyCache: (batch = 1) => KvCache.empty(SHAPE, batch),
    async forward(rows: number[][], cache: KvCache) {
      const past = cache.feeds()["past_key_values.0.key"].data as Float32Array;
      const batch = rows.length;
      const seq = rows[0].length;
      const total = cache.length + seq;
      const ids = new Float32Array(batch * total);
      const logits = new Float32Array(batch * seq * vocab);
      rows.forEach((row, b) => {
        ids.set(past.subarray(b * cache.length, (b + 1) * cache.length), b * total);
        ids.set(row, b * total + cache.length);
        const context = Array.from(ids.subarray(b * total, (b + 1) * total));
        for (let s = 0; s < seq; s++) logits.set(script(context.slice(0, cache.length + s + 1)), (b * seq + s) * vocab);
      });
      cache.dispose();
      const tensor = () => new ort.Tensor("float32", Float32Array.from(ids), [batch, 1, total, 1]);
      return { out: { logits, batch, seq }, cache: KvCache.fromPresents(SHAPE, [tensor(), tensor()]) };
    },
  };
  return fake as unknown as CausalLM;
}

/** Logits from a table of probabilities per context (the rest get 1e-4). */
export function probabilityScript(vocab: number, table: (context: readonly number[]) => Record<number, number>): LogitsScript {
  return (context) => {
    const probs = new Array(vocab).fill(1e-4);
    for (const [token, p] of Object.entries(table(context))) probs[Number(token)] = p;
    return probs.map(Math.log);
  };
}

/** A tokenizer whose token i reads "<i>" and whose EOS (0 unless told) decodes to nothing. */
export function scriptedTokenizer(eosId = 0): TextTokenizer {
  const text = (id: number) => (id === eosId ? "" : `<${id}>`);
  const fake = {
    eosId,
    encode: () => { throw new Error("scripted tokenizer: pass token ids"); },
    decode: (ids: readonly number[]) => ids.map(text).join(""),
    tokenText: text,
  };
  return fake as unknown as TextTokenizer;
}

export function scriptedModels(target: CausalLM, draft: CausalLM | null, eosId = 0): EngineModels {
  return { target, draft, tokenizer: scriptedTokenizer(eosId) };
}
