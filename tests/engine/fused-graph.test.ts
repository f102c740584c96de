/**
 * The fused export's engine-only paths (tools/train/export_fused.py): a token tree verified as one
 * sequence must give each node the logits a plain chain pass gives that node's path, and the
 * in-graph drafting loop must draft exactly what feeding the draft one token at a time drafts.
 * Skipped for plain exports, which have neither path.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CausalLM } from "@/engine/runtime/causal-lm";
import { keptAtFloor } from "@/engine/proposers/draft-stop";
import { argmax } from "@/engine/sampling";
import { TextTokenizer } from "@/engine/tokenizer";
import { DRAFT_DIR, TARGET_DIR, heldoutPrompts } from "../support/models";

let target: CausalLM;
let draft: CausalLM;
let prompt: number[];

beforeAll(async () => {
  [target, draft] = await Promise.all([CausalLM.load(TARGET_DIR, { threads: 1 }), CausalLM.load(DRAFT_DIR, { threads: 1 })]);
  prompt = new TextTokenizer(target.folder.tokenizerPath).encode(heldoutPrompts(1)[0]);
});
afterAll(async () => {
  await Promise.all([target.release(), draft.release()]);
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe("tree pass", () => {
  it("gives every node the logits of its own path run as a chain", async (ctx) => {
    if (!target.features.treeMask) ctx.skip();
    const V = target.vocabSize;
    const prefix = prompt.slice(0, -1);
    const last = prompt[prompt.length - 1];
    // root `last`; two children a, b; a has child c; b has child d; c has child e.
    const tokens = [last, 11, 22, 33, 44, 55];
    const parents = [-1, 0, 0, 1, 2, 3];
    const base = await target.forward([prefix], target.emptyCache(), 0);
    const tree = await target.forwardTree(tokens, parents, base.cache, prefix.length);
    const paths = [[0, 1, 3, 5], [0, 2, 4]];
    for (const path of paths) {
      const chainBase = await target.forward([prefix], target.emptyCache(), 0);
      const chain = await target.forward([path.map((n) => tokens[n])], chainBase.cache, prefix.length);
      for (const [depth, node] of path.entries()) {
        const a = tree.out.logits.subarray(node * V, (node + 1) * V);
        const b = chain.out.logits.subarray(depth * V, (depth + 1) * V);
        expect(maxAbsDiff(a, b)).toBeLessThan(1e-3);
      }
      chain.cache.dispose();
    }
    // Keeping path b's nodes leaves the cache a chain pass over that path leaves.
    const kept = tree.cache.keepPositions([...prefix.keys(), prefix.length, prefix.length + 2, prefix.length + 4]);
    const next = await target.forward([[66]], kept, prefix.length + 3);
    const refBase = await target.forward([[...prefix, last, 22, 44]], target.emptyCache(), 0);
    const ref = await target.forward([[66]], refBase.cache, prefix.length + 3);
    expect(maxAbsDiff(next.out.logits, ref.out.logits)).toBeLessThan(1e-3);
    next.cache.dispose();
    ref.cache.dispose();
  });
});

describe("drafting loop", () => {
  it("drafts what one-token feeding drafts, and leaves the same cache", async (ctx) => {
    if (!draft.features.draftLoop) ctx.skip();
    const V = draft.vocabSize;
    const looped = await draft.draftGreedy(prompt, draft.emptyCache(), 0, 4);
    expect(looped.out.tokens).toHaveLength(5);
    expect(looped.cache.length).toBe(prompt.length + 4);

    let step = await draft.forward([prompt], draft.emptyCache(), 0);
    const tokens: number[] = [];
    for (let i = 0; i < 5; i++) {
      const row = step.out.logits.subarray(step.out.logits.length - V);
      tokens.push(argmax(row));
      let max = -Infinity;
      for (const v of row) max = Math.max(max, v);
      let sum = 0;
      let second = -Infinity;
      for (const v of row) {
        sum += Math.exp(v - max);
        if (v < max || (v === max && tokens[i] !== row.indexOf(v))) second = Math.max(second, v);
      }
      expect(looped.out.probs[i]).toBeCloseTo(1 / sum, 4);
      expect(looped.out.altProbs[i]).toBeCloseTo(Math.exp(second - max) / sum, 4);
      if (i < 4) step = await draft.forward([[tokens[i]]], step.cache, prompt.length + i);
    }
    expect(looped.out.tokens).toEqual(tokens);
    // The caches agree: the next token after the fourth drafted one is the same from both.
    const a = await draft.forward([[tokens[4]]], looped.cache, prompt.length + 4);
    const b = await draft.forward([[tokens[4]]], step.cache, prompt.length + 4);
    expect(maxAbsDiff(a.out.logits, b.out.logits)).toBeLessThan(1e-3);
    a.cache.dispose();
    b.cache.dispose();
  });

  it("stops after the token that takes its acceptance estimate below the floor", async (ctx) => {
    if (!draft.features.draftStop) ctx.skip();
    const full = await draft.draftGreedy(prompt, draft.emptyCache(), 0, 9);
    full.cache.dispose();
    expect(full.out.tokens).toHaveLength(10);
    // The running estimate after each drafted token, as the engine computes it.
    const estimates: number[] = [];
    let e = 1;
    for (let i = 0; i < 10; i++) {
      const r = full.out.altProbs[i] / full.out.probs[i];
      e *= 1 - (r * r) / 2;
      estimates.push(e);
    }
    let checked = 0;
    for (let stop = 1; stop < 10; stop++) {
      if (!(estimates[stop] < estimates[stop - 1] - 1e-4)) continue;
      const floor = Math.round(((estimates[stop] + estimates[stop - 1]) / 2) * 1e4) / 1e4;
      const kept = keptAtFloor(full.out.probs, full.out.altProbs, floor);
      expect(kept).toBe(stop + 1);
      const stopped = await draft.draftGreedy(prompt, draft.emptyCache(), 0, 9, floor);
      expect(stopped.out.tokens).toEqual(full.out.tokens.slice(0, kept));
      expect(stopped.out.altProbs).toHaveLength(kept);
      // The cache holds every drafted token but the last, as when all are drafted.
      expect(stopped.cache.length).toBe(prompt.length + kept - 1);
      stopped.cache.dispose();
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
    // A floor above 1 stops after the first token; 0 drafts them all (above).
    const first = await draft.draftGreedy(prompt, draft.emptyCache(), 0, 9, 1);
    expect(first.out.tokens).toEqual(full.out.tokens.slice(0, 1));
    first.cache.dispose();
  });

  it("with no further steps returns the argmax after the fed tokens", async (ctx) => {
    if (!draft.features.draftLoop) ctx.skip();
    const looped = await draft.draftGreedy(prompt, draft.emptyCache(), 0, 0);
    expect(looped.out.tokens).toEqual([argmax(looped.out.logits.subarray(looped.out.logits.length - draft.vocabSize))]);
    expect(looped.cache.length).toBe(prompt.length);
    looped.cache.dispose();
  });
});

describe("tree drafting in the graph", () => {
  it("proposes the paths level-by-level drafting proposes", async (ctx) => {
    if (!draft.features.draftLoop) ctx.skip();
    const { DraftState } = await import("@/engine/proposers/draft-state");
    const { TreeProposer } = await import("@/engine/proposers/tree");
    const { createRng } = await import("@/engine/rng");
    const { GREEDY } = await import("@/engine/sampling");
    let forks = 0;
    for (const branchMinProb of [0, 0.1, 0.3]) {
      const inGraph = new TreeProposer(new DraftState(draft, null), 2, 4, branchMinProb, 0);
      // A window the prompt never fills turns the drafting loop off: the level-by-level reference.
      const perLevel = new TreeProposer(new DraftState(draft, { sink: 4, recent: 400 }), 2, 4, branchMinProb, 0);
      const input = { tokens: prompt, k: 4, sampling: GREEDY, sampled: false, position: 0, bannedAt: () => [], rng: createRng(1) };
      const a = await inGraph.propose(input);
      const b = await perLevel.propose(input);
      expect(a.paths.map((p) => p.tokens)).toEqual(b.paths.map((p) => p.tokens));
      for (const [i, p] of a.paths.entries()) {
        p.draftProbs.forEach((q, j) => expect(q).toBeCloseTo(b.paths[i].draftProbs[j], 4));
      }
      if (a.paths.length > 1) forks++;
      inGraph.dispose();
      perLevel.dispose();
    }
    expect(forks).toBeGreaterThan(0);
  });
});

describe("row statistics", () => {
  // What greedy verification reads of the target without a softmax in JavaScript (engine/sampling.ts targetRow).
  function expectStatsOfLogits(logits: Float32Array, stats: { argmax: BigInt64Array; logSumExp: Float32Array }, V: number): void {
    const rows = logits.length / V;
    expect(stats.argmax.length).toBe(rows);
    expect(stats.logSumExp.length).toBe(rows);
    for (let r = 0; r < rows; r++) {
      expect(Number(stats.argmax[r])).toBe(argmax(logits, r * V, V));
      let max = -Infinity;
      for (let i = 0; i < V; i++) max = Math.max(max, logits[r * V + i]);
      let sum = 0;
      for (let i = 0; i < V; i++) sum += Math.exp(logits[r * V + i] - max);
      expect(Math.abs(stats.logSumExp[r] - (max + Math.log(sum)))).toBeLessThan(1e-4);
    }
  }

  it("give every logits row its argmax and log-sum-exp, for a prefill, a step and a tree", async (ctx) => {
    if (!target.features.rowStats) ctx.skip();
    expect(draft.features.rowStats).toBe(false);
    const V = target.vocabSize;
    const prefill = await target.forward([prompt], target.emptyCache(), 0);
    expectStatsOfLogits(prefill.out.logits, prefill.out.stats!, V);
    const step = await target.forward([[17, 29, 31]], prefill.cache, prompt.length);
    expectStatsOfLogits(step.out.logits, step.out.stats!, V);
    const tree = await target.forwardTree([5, 11, 22, 33], [-1, 0, 0, 1], step.cache, prompt.length + 3);
    expectStatsOfLogits(tree.out.logits, tree.out.stats!, V);
    tree.cache.dispose();
  });
});
