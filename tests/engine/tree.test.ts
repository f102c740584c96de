import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { DraftModelProposer } from "@/engine/proposers/draft-model";
import { DraftState } from "@/engine/proposers/draft-state";
import { TreeProposer } from "@/engine/proposers/tree";
import { createRng } from "@/engine/rng";
import type { CausalLM } from "@/engine/runtime/causal-lm";
import { KvCache, type KvShape } from "@/engine/runtime/kv-cache";
import { GREEDY } from "@/engine/sampling";

/*
 * The tree proposer's shape, on a scripted draft model: a test double whose "KV cache" holds the token
 * ids themselves (one layer, one head, head dim 1), so the real KvCache and DraftState bookkeeping run
 * unchanged while the next-token distribution is a function of the context we choose.
 */

const V = 8;
const SHAPE: KvShape = { numLayers: 1, kvHeads: 1, headDim: 1 };

/** Next-token probabilities as a function of the whole context (read back from the cache). */
type Script = (context: number[]) => Record<number, number>;

function scriptedDraft(script: Script): CausalLM {
  const logitsFor = (context: number[]) => {
    const probs = new Array(V).fill(1e-4);
    for (const [token, p] of Object.entries(script(context))) probs[Number(token)] = p;
    return probs.map(Math.log);
  };
  const fake = {
    vocabSize: V,
    maxPositions: 64,
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

const input = (tokens: number[], k: number) => ({ tokens, k, sampling: GREEDY, sampled: false, position: 0, bannedAt: () => [], rng: createRng(0) });

describe("tree proposer", () => {
  // After the prompt [0, 1, 1] the draft is sure of 2 then 3, hesitates between 4 and 5, then is sure
  // of 6; after 5 followed by 7 it expects 3; anything else is followed by 1.
  const script: Script = (context) => {
    const last = context.slice(3).join(",");
    const table: Record<string, Record<number, number>> = { "": { 2: 0.95 }, "2": { 3: 0.9 }, "2,3": { 4: 0.55, 5: 0.4 }, "2,3,4": { 6: 0.9 }, "2,3,5": { 6: 0.9 }, "2,3,5,7": { 3: 0.9 } };
    return table[last] ?? { 1: 0.99 };
  };

  it("forks where the draft first hesitates; the sibling shares the prefix and continues greedily", async () => {
    const tree = new TreeProposer(new DraftState(scriptedDraft(script), null), 2, 4, 0.2, 0);
    const { paths } = await tree.propose(input([0, 1, 1], 4));
    expect(paths.map((p) => p.tokens)).toEqual([
      [2, 3, 4, 6],
      [2, 3, 5, 6],
    ]);
    // 0.4 renormalised over the scripted mass (0.55 + 0.4 + six tokens at 1e-4).
    expect(paths[1].draftProbs[2]).toBeCloseTo(0.4 / (0.95 + 6e-4), 4);
  });

  it("is the chain proposal when no alternative reaches branchMinProb", async () => {
    const tree = new TreeProposer(new DraftState(scriptedDraft(script), null), 2, 4, 0.45, 0);
    const chain = new DraftModelProposer(new DraftState(scriptedDraft(script), null), 0);
    const fromTree = await tree.propose(input([0, 1, 1], 4));
    const fromChain = await chain.propose(input([0, 1, 1], 4));
    expect(fromTree.paths.map((p) => p.tokens)).toEqual(fromChain.paths.map((p) => p.tokens));
  });

  it("after a step, keeps the draft row that agrees with what was committed", async () => {
    const tree = new TreeProposer(new DraftState(scriptedDraft(script), null), 2, 4, 0.2, 0);
    await tree.propose(input([0, 1, 1], 4));
    // The target took the sibling's 5 at the fork and recovered 7 instead of its 6: the sibling's row,
    // not the main path's, must carry on, so the draft sees ...5, 7 and proposes 3.
    const change = tree.rollback([0, 1, 1, 2, 3, 5, 7]);
    const next = await tree.propose(input([0, 1, 1, 2, 3, 5, 7], 1));
    expect(change).toMatchObject({ dropped: 0, evicted: 0, lengthBefore: 6, lengthAfter: 6 });
    expect(next.paths.map((p) => p.tokens)).toEqual([[3]]);
  });
});
