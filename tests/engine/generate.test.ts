import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpecEngine } from "@/engine/engine";
import { processedProbs } from "@/engine/sampling";
import type { GenerateParams, SpecConfigInput } from "@/engine/types";
import { DRAFT_DIR, TARGET_DIR, heldoutPrompts } from "../support/models";

let engine: SpecEngine;
beforeAll(async () => {
  engine = await SpecEngine.load({ targetDir: TARGET_DIR, draftDir: DRAFT_DIR, threads: 1 });
});
afterAll(async () => {
  await engine.dispose();
});

const greedy: Partial<GenerateParams> = { maxTokens: 40, temperature: 0, ignoreEos: true };
const ids = (r: { tokens: { id: number }[] }) => r.tokens.map((t) => t.id);

describe("greedy speculation is lossless", () => {
  const prompts = heldoutPrompts(3);
  const configs: SpecConfigInput[] = [
    { proposer: "draft-model", kMax: 4 },
    { proposer: "draft-model", kMax: 3, adaptiveK: true, draftConfidence: 0.3 },
    { proposer: "tree", tree: { width: 2, depth: 4, branchMinProb: 0 } },
    { proposer: "ngram", ngram: { minN: 1, maxN: 3 } },
    { proposer: "draft-model", draftWindow: { sink: 4, recent: 16 } },
    { proposer: "draft-model", kMax: 10, draftAcceptFloor: 0.5 },
    // a draft window drafts one token a call: the floor's per-token path
    { proposer: "draft-model", kMax: 10, draftAcceptFloor: 0.5, draftWindow: { sink: 4, recent: 16 } },
  ];
  it.each(configs.map((c) => [JSON.stringify(c), c] as const))("%s gives the same tokens as off", async (_, config) => {
    for (const prompt of prompts) {
      const off = await engine.generate(prompt, greedy, { proposer: "off" });
      const spec = await engine.generate(prompt, greedy, config);
      expect(ids(spec)).toEqual(ids(off));
      expect(spec.summary.steps).toBeLessThanOrEqual(off.summary.steps);
    }
  });

  it.each([
    ["in the drafting loop", {}],
    ["one token a call (a draft window)", { draftWindow: { sink: 4, recent: 16 } }],
  ] as const)("with an acceptance floor, drafts up to k_max on sure steps and stops early on unsure ones, %s", async (_, extra) => {
    let short = 0;
    let long = 0;
    for (const prompt of prompts) {
      const r = await engine.generate(prompt, greedy, { proposer: "draft-model", kMax: 10, draftAcceptFloor: 0.5, ...extra });
      for (const s of r.steps.slice(0, -1)) {
        const drafted = s.paths[0]?.tokens.length ?? 0;
        if (drafted < s.k) short++;
        if (drafted > 4) long++;
      }
    }
    // Without the floor every step but the last drafts k_max = 10; with a floor of 1 none drafts more than one.
    expect(short).toBeGreaterThan(0);
    expect(long).toBeGreaterThan(0);
  });

  it("records every step: proposals, per-position outcomes, rollback and cache lengths", async () => {
    const r = await engine.generate(prompts[0], greedy, { proposer: "draft-model", kMax: 4 });
    expect(r.steps.length).toBe(r.summary.steps);
    let emitted = 0;
    for (const s of r.steps) {
      // The last step drafts nothing when a single token remains to max_tokens.
      const drafted = s.paths[0]?.tokens.length ?? 0;
      expect(s.verify.accepted).toBeLessThanOrEqual(drafted);
      expect(s.verify.examined.filter((e) => e.outcome === "accepted")).toHaveLength(s.verify.accepted);
      expect(s.rollback.target.lengthBefore - s.rollback.target.lengthAfter).toBe(s.rollback.target.dropped);
      expect(s.rollback.target.dropped).toBe(drafted - s.verify.accepted);
      expect(s.kvBytes.target).toBeGreaterThan(0);
      expect(s.kvBytes.draft).toBeGreaterThan(0);
      emitted += s.emitted.length;
    }
    expect(emitted).toBe(r.tokens.length);
    expect(r.summary.meanAcceptanceLength).toBeCloseTo(1 + r.summary.accepted / r.summary.steps, 10);
    expect(r.models.draft?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("lossy verification", () => {
  it("marks tokens the target alone would not have chosen, and only those, as lossy-accepted", async () => {
    let lossy = 0;
    for (const prompt of heldoutPrompts(4)) {
      const r = await engine.generate(prompt, greedy, { proposer: "draft-model", verify: "lossy", lossyThreshold: 0.05 });
      expect(r.summary.verify).toBe("lossy");
      for (const step of r.steps) {
        for (const e of step.verify.examined) {
          if (e.outcome === "lossy-accepted") {
            expect(e.targetArgmax).toBe(false);
            expect(e.targetProb).toBeGreaterThanOrEqual(0.05);
            lossy++;
          }
          if (e.outcome === "accepted") expect(e.targetArgmax).toBe(true);
        }
      }
      const lossyTokens = r.tokens.filter((t) => t.origin === "lossy-accepted").length;
      const lossyExamined = r.steps.flatMap((s) => s.verify.examined.filter((e) => e.outcome === "lossy-accepted")).length;
      expect(lossyTokens).toBeLessThanOrEqual(lossyExamined);
    }
    expect(lossy).toBeGreaterThan(0);
  });
});

describe("sampling", () => {
  const sampled: Partial<GenerateParams> = { maxTokens: 12, temperature: 0.9, topP: 0.95, seed: 11, ignoreEos: true };

  it("is deterministic for a seed and differs across seeds", async () => {
    const prompt = heldoutPrompts(1)[0];
    const a = await engine.generate(prompt, sampled, { proposer: "draft-model" });
    const b = await engine.generate(prompt, sampled, { proposer: "draft-model" });
    const c = await engine.generate(prompt, { ...sampled, seed: 12 }, { proposer: "draft-model" });
    expect(ids(a)).toEqual(ids(b));
    expect(ids(a)).not.toEqual(ids(c));
  });

  it.each([
    { proposer: "draft-model", kMax: 4 },
    // Forks at the first position every time: the main draw is tested against p, the sibling against the residual.
    { proposer: "tree", kMax: 4, tree: { width: 2, depth: 4, branchMinProb: 0 } },
  ] as const)("lossless speculative sampling with %j reproduces the target's first-token distribution", async (config) => {
    // The first token of a 5-token request is verified against k=4 drafts; over many seeds its
    // frequencies must match the target's exact processed distribution at that position.
    const prompt = "The jury said that the";
    const params = { temperature: 1, topK: 4, topP: 1, maxTokens: 5, ignoreEos: true };
    const promptIds = engine.tokenizer.encode(prompt);
    const target = engine.models.target;
    const pass = await target.forward([promptIds], target.emptyCache(), 0);
    pass.cache.dispose();
    const V = target.vocabSize;
    const exact = processedProbs(pass.out.logits, (promptIds.length - 1) * V, V, params);
    const trials = 400;
    const counts = new Map<number, number>();
    for (let seed = 0; seed < trials; seed++) {
      const stream = engine.stream(promptIds, { ...params, seed }, config);
      const first = await stream.next();
      await stream.return(undefined as never);
      if (first.done) throw new Error("no step");
      const token = first.value.emitted[0].id;
      counts.set(token, (counts.get(token) ?? 0) + 1);
    }
    // Binomial standard error is at most 0.025 at 400 trials; allow four of them per token.
    for (const [token, p] of exact.entries()) {
      if (p === 0) expect(counts.get(token) ?? 0).toBe(0);
      else expect(Math.abs((counts.get(token) ?? 0) / trials - p)).toBeLessThan(0.1);
    }
  }, 120_000);
});

describe("stops", () => {
  it("stops at a stop string and leaves it out of the text", async () => {
    const prompt = heldoutPrompts(1)[0];
    const full = await engine.generate(prompt, greedy, { proposer: "off" });
    const stop = full.text.slice(10, 14);
    const r = await engine.generate(prompt, { ...greedy, stop: [stop] }, { proposer: "draft-model" });
    expect(r.finishReason).toBe("stop");
    expect(r.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
  });

  it("stops at max tokens exactly, even when a step accepts more", async () => {
    const r = await engine.generate(heldoutPrompts(1)[0], { ...greedy, maxTokens: 7 }, { proposer: "draft-model" });
    expect(r.tokens).toHaveLength(7);
    expect(r.finishReason).toBe("length");
  });

  it("stops when aborted", async () => {
    const controller = new AbortController();
    const stream = engine.stream(heldoutPrompts(1)[0], greedy, { proposer: "draft-model" }, controller.signal);
    await stream.next();
    controller.abort();
    let result;
    for (;;) {
      const n = await stream.next();
      if (n.done) { result = n.value; break; }
    }
    expect(result.finishReason).toBe("abort");
    expect(result.tokens.length).toBeLessThan(40);
  });

  it("stops when the time budget is spent", async () => {
    const r = await engine.generate(heldoutPrompts(1)[0], { ...greedy, maxTokens: 100, timeBudgetMs: 1 }, { proposer: "off" });
    expect(r.finishReason).toBe("time_budget");
    expect(r.tokens.length).toBeLessThan(100);
  });

  it("rejects a prompt that does not fit the context", async () => {
    await expect(engine.generate("word ".repeat(600), greedy)).rejects.toThrow(/exceeds the model context/);
  });
});
