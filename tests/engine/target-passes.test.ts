import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpecEngine, type SpecConfigInput } from "@/engine";
import type { CausalLM } from "@/engine/runtime/causal-lm";
import { DRAFT_DIR, TARGET_DIR, heldoutPrompts } from "../support/models";

/*
 * How many target passes a request costs, on the shipped pair: the prompt's prefill is the first
 * step's verification pass (one pass, not a prefill plus a pass for the last prompt token), so `off`
 * makes exactly one target pass per emitted token, like any plain decoder; every proposer makes one per
 * step, plus a separate prefill only when several paths (a tree) would each carry the prompt.
 */

interface Pass { kind: "forward" | "forwardTree"; rows: number; seq: number; past: number }

let engine: SpecEngine;
let passes: Pass[] = [];
beforeAll(async () => {
  engine = await SpecEngine.load({ targetDir: TARGET_DIR, draftDir: DRAFT_DIR, threads: 1 });
  // A counting wrapper around the real target (the passes still run on onnxruntime).
  const target = engine.models.target as CausalLM;
  const forward = target.forward.bind(target);
  const forwardTree = target.forwardTree.bind(target);
  target.forward = async (rows, cache, positionStart) => {
    passes.push({ kind: "forward", rows: rows.length, seq: rows[0].length, past: cache.length });
    return forward(rows, cache, positionStart);
  };
  target.forwardTree = async (tokens, parents, cache, positionStart) => {
    passes.push({ kind: "forwardTree", rows: 1, seq: tokens.length, past: cache.length });
    return forwardTree(tokens, parents, cache, positionStart);
  };
});
afterAll(async () => {
  await engine.dispose();
});

const prompt = heldoutPrompts(1)[0];

async function run(config: SpecConfigInput, maxTokens = 24) {
  passes = [];
  const result = await engine.generate(prompt, { maxTokens, temperature: 0, ignoreEos: true }, config);
  return { result, passes: [...passes] };
}

describe("target passes per request", () => {
  it("off: one pass per emitted token, the first carrying the whole prompt from an empty cache", async () => {
    const promptTokens = engine.tokenizer.encode(prompt).length;
    const { result, passes: seen } = await run({ proposer: "off" });
    expect(result.tokens).toHaveLength(24);
    expect(seen).toHaveLength(24);
    expect(seen[0]).toEqual({ kind: "forward", rows: 1, seq: promptTokens, past: 0 });
    for (const [i, p] of seen.slice(1).entries()) expect(p).toEqual({ kind: "forward", rows: 1, seq: 1, past: promptTokens + i });
    expect(result.timings.prefillMs).toBeGreaterThan(0);
  });

  it("draft-model: one pass per step, the first carrying the prompt and the step's drafts", async () => {
    const promptTokens = engine.tokenizer.encode(prompt).length;
    const { result, passes: seen } = await run({ proposer: "draft-model", kMax: 4 });
    expect(seen).toHaveLength(result.steps.length);
    expect(seen[0]).toEqual({ kind: "forward", rows: 1, seq: promptTokens + result.steps[0].k, past: 0 });
  });

  it("tree: the prompt is prefilled on its own when a step has several paths, never once per path", async () => {
    const { result, passes: seen } = await run({ proposer: "tree", kMax: 4, tree: { width: 2, depth: 4, branchMinProb: 0 } });
    const forked = result.steps[0].paths.length > 1;
    expect(forked).toBe(true);
    // A prefill pass, then one tree pass per step.
    expect(seen).toHaveLength(result.steps.length + 1);
    expect(seen[0].past).toBe(0);
    expect(seen[1]).toMatchObject({ kind: "forwardTree", rows: 1 });
  });
});
