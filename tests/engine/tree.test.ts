import { describe, expect, it } from "vitest";
import { DraftModelProposer } from "@/engine/proposers/draft-model";
import { DraftState } from "@/engine/proposers/draft-state";
import { TreeProposer } from "@/engine/proposers/tree";
import { createRng } from "@/engine/rng";
import { GREEDY } from "@/engine/sampling";
import { probabilityScript, scriptedModel } from "../support/scripted";

/*
 * The tree proposer's shape, on a scripted draft model: a test double whose "KV cache" holds the token
 * ids themselves (one layer, one head, head dim 1), so the real KvCache and DraftState bookkeeping run
 * unchanged while the next-token distribution is a function of the context we choose.
 */

const V = 8;

/** Next-token probabilities as a function of the whole context (read back from the cache). */
type Script = (context: number[]) => Record<number, number>;

const scriptedDraft = (script: Script) => scriptedModel(V, probabilityScript(V, (c) => script([...c])));

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
