import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpecEngine, type GenerateParams, type SpecConfigInput } from "@/engine";
import { DraftState } from "@/engine/proposers/draft-state";
import { DRAFT_DIR, TARGET_DIR, heldoutPrompts } from "../support/models";

/*
 * The issue-9 fixes on the shipped model pair: min_tokens and lossy compared with target-only
 * decoding, the seeded coupling with `off`, the draft's rollback and window evictions in the step
 * that caused them, discarded tokens at a stop, row selection/repetition and the draft window
 * compared with fresh forward passes, and the runtime identity.
 */

let engine: SpecEngine;
beforeAll(async () => {
  engine = await SpecEngine.load({ targetDir: TARGET_DIR, draftDir: DRAFT_DIR, threads: 1 });
});
afterAll(async () => {
  await engine.dispose();
});

const ids = (r: { tokens: { id: number }[] }) => r.tokens.map((t) => t.id);
const PROPOSERS: SpecConfigInput[] = [
  { proposer: "draft-model", kMax: 4 },
  { proposer: "tree", kMax: 4, tree: { width: 2, depth: 4, branchMinProb: 0.1 } },
  { proposer: "ngram", kMax: 4, ngram: { minN: 1, maxN: 3 } },
];

function maxAbsDiff(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, n: number): number {
  let d = 0;
  for (let i = 0; i < n; i++) d = Math.max(d, Math.abs(a[aOffset + i] - b[bOffset + i]));
  return d;
}

describe("min_tokens bans EOS per output position", () => {
  // Sampling is checked statistically (tests/engine/sampling-e2e.test.ts, min_tokens case): a seeded
  // speculative run is the target's distribution, not token for token the seeded off run.
  it("with min_tokens, every proposer equals off (greedy)", async () => {
    // The shipped target never ends greedily within a few dozen tokens (probed on short sentences and
    // held-out document endings), so this checks that the per-position ban keeps greedy speculation
    // lossless; the case where EOS is likely right after min_tokens is the scripted end-to-end test.
    const eos = engine.tokenizer.eosId;
    const prompts = ["The end.", "He said yes.", "It was over."];
    for (const prompt of prompts) {
      for (const minTokens of [3]) {
        const params: Partial<GenerateParams> = { maxTokens: 24, minTokens, temperature: 0 };
        const off = await engine.generate(prompt, params, { proposer: "off" });
        expect(off.tokens.slice(0, minTokens).map((t) => t.id)).not.toContain(eos);
        for (const config of PROPOSERS) {
          const spec = await engine.generate(prompt, params, config);
          expect(ids(spec), `${prompt} min_tokens ${minTokens} ${config.proposer}`).toEqual(ids(off));
          expect(spec.finishReason).toBe(off.finishReason);
        }
      }
    }
  });
});

describe("seeded coupling with off", () => {
  it("a seeded speculative run records, at every position, the token a seeded off run emits there", async () => {
    const prompt = heldoutPrompts(1)[0];
    for (let seed = 0; seed < 10; seed++) {
      const params: Partial<GenerateParams> = { maxTokens: 16, temperature: 1, seed, ignoreEos: true };
      const off = await engine.generate(prompt, params, { proposer: "off" });
      const spec = await engine.generate(prompt, params, { proposer: "draft-model", kMax: 4 });
      // Up to the first position where they differ, they share the prefix: targetChoice there is off's token.
      const differ = ids(spec).findIndex((id, i) => id !== off.tokens[i].id);
      const upTo = differ < 0 ? spec.tokens.length : differ + 1;
      for (let i = 0; i < upTo; i++) expect(spec.tokens[i].targetChoice.token).toBe(off.tokens[i].id);
      // The target's own tokens (bonus) are its draw there: equal to their targetChoice, always.
      for (const t of spec.tokens) if (t.origin === "bonus" || t.origin === "target") expect(t.id).toBe(t.targetChoice.token);
    }
  });
});

describe("lossy verification", () => {
  it("greedy lossy equals target-only up to the first lossy-accepted token, whose targetChoice is target-only's token", async () => {
    let lossy = 0;
    for (const prompt of heldoutPrompts(4)) {
      const params: Partial<GenerateParams> = { maxTokens: 32, temperature: 0, ignoreEos: true };
      const off = await engine.generate(prompt, params, { proposer: "off" });
      const spec = await engine.generate(prompt, params, { proposer: "draft-model", verify: "lossy", lossyThreshold: 0.05 });
      const first = spec.tokens.findIndex((t) => t.origin === "lossy-accepted");
      const agree = first < 0 ? spec.tokens.length : first;
      expect(ids(spec).slice(0, agree)).toEqual(ids(off).slice(0, agree));
      if (first >= 0) {
        lossy++;
        expect(spec.tokens[first].targetChoice.token).toBe(off.tokens[first].id);
        expect(spec.tokens[first].id).not.toBe(off.tokens[first].id);
      }
    }
    expect(lossy).toBeGreaterThan(0);
  });

  it("sampled lossy: every lossy-accepted token failed the lossless test and cleared the threshold", async () => {
    const prompt = heldoutPrompts(2)[1];
    let marked = 0;
    for (let seed = 0; seed < 6; seed++) {
      const r = await engine.generate(prompt, { maxTokens: 16, temperature: 1, seed, ignoreEos: true }, { proposer: "draft-model", verify: "lossy", lossyThreshold: 0.05 });
      for (const e of r.steps.flatMap((s) => s.verify.examined)) {
        if (e.outcome === "accepted") expect(e.uniform).toBeLessThan(e.acceptProb);
        if (e.outcome === "lossy-accepted") {
          marked++;
          expect(e.uniform).toBeGreaterThanOrEqual(e.acceptProb);
          expect(e.targetProb).toBeGreaterThanOrEqual(0.05);
        }
      }
    }
    expect(marked).toBeGreaterThan(0);
  });
});

describe("step records", () => {
  it("reports the draft rollback in the step that caused it (the last one too) and counts window evictions", async () => {
    const prompt = heldoutPrompts(1)[0];
    const r = await engine.generate(prompt, { maxTokens: 40, temperature: 0, ignoreEos: true }, { proposer: "draft-model", kMax: 4, draftWindow: { sink: 4, recent: 16 } });
    let evicted = 0;
    for (const s of r.steps) {
      const drafted = s.paths[0]?.tokens.length ?? 0;
      // The draft fed drafted - 1 of its own tokens; those past the accepted ones roll back now.
      expect(s.rollback.draft?.dropped, `step ${s.index}`).toBe(Math.max(0, drafted - 1 - s.verify.accepted));
      evicted += s.rollback.draft?.evicted ?? 0;
    }
    expect(r.steps.at(-1)?.rollback.draft).not.toBeNull();
    // Prompt + output far exceed sink + recent: the window evicted the rest.
    expect(evicted).toBeGreaterThan(0);
  });

  it("a stop string: deltas are the text, and accepted tokens cut by the end are discarded, neither drafted nor accepted", async () => {
    const prompt = "The jury said that the city";
    const free = await engine.generate(prompt, { maxTokens: 40, temperature: 0, ignoreEos: true }, { proposer: "draft-model", kMax: 6 });
    // Stop on a word from the middle of a step that accepted several tokens.
    // A step that accepted 3+ tokens whose second token's text first occurs there: stopping on it cuts
    // the step's later accepted tokens.
    let before = "";
    let stopText = "";
    for (const s of free.steps) {
      const candidate = s.emitted[1]?.text ?? "";
      if (s.verify.accepted >= 3 && candidate.trim() && !(before + s.emitted[0].text).includes(candidate)) { stopText = candidate; break; }
      before += s.textDelta;
    }
    expect(stopText).not.toBe("");
    const r = await engine.generate(prompt, { maxTokens: 40, temperature: 0, ignoreEos: true, stop: [stopText] }, { proposer: "draft-model", kMax: 6 });
    expect(r.finishReason).toBe("stop");
    expect(r.steps.map((s) => s.textDelta).join("")).toBe(r.text);
    expect(r.text).not.toContain(stopText);
    const last = r.steps.at(-1)!;
    expect(last.counts.discarded).toBeGreaterThan(0);
    expect(last.counts.accepted + last.counts.discarded).toBe(last.verify.accepted);
    expect(r.summary.discarded).toBe(last.counts.discarded);
    expect(r.summary.accepted).toBe(r.steps.reduce((n, s) => n + s.counts.accepted, 0));
  });

  it("records the runtime identity and per-file model hashes", () => {
    const runtime = engine.runtime();
    expect(runtime.onnxruntimeVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(runtime).toMatchObject({ executionProvider: "cpu", threads: 1, graphOptimizationLevel: "all" });
    expect(runtime.draft).not.toBeNull();
    expect(Object.keys(engine.modelIds.target.files ?? {})).toEqual(["model.onnx", "tokenizer.json", "config.json"]);
  });
});

describe("cache operations against fresh forward passes on the real models", () => {
  it("repeated rows and row selection give the logits of a fresh pass (< 1e-3)", async () => {
    const { target } = engine.models;
    const V = target.vocabSize;
    const ids = engine.tokenizer.encode(heldoutPrompts(1)[0]).slice(0, 20);
    const prefix = await target.forward([ids.slice(0, 16)], target.emptyCache(), 0);
    // Three rows continue the same prefix with different tokens (as a plain export's tree verification
    // does). GroupQueryAttention (fused exports) takes one position per row when rows share a past.
    const rows = target.features.format === "fused"
      ? [[ids[16]], [11], [42]]
      : [[ids[16], ids[17]], [ids[16], 11], [42, ids[17]]];
    const S = rows[0].length;
    const batched = await target.forward(rows, prefix.cache.repeatRow0(3), 16);
    for (const [r, row] of rows.entries()) {
      const fresh = await target.forward([[...ids.slice(0, 16), ...row]], target.emptyCache(), 0);
      for (let s = 0; s < S; s++) expect(maxAbsDiff(batched.out.logits, (r * S + s) * V, fresh.out.logits, (16 + s) * V, V)).toBeLessThan(1e-3);
      fresh.cache.dispose();
    }
    // Keep row 1 up to its first token, then continue: equals a fresh pass on that prefix.
    const kept = batched.cache.selectRow(1, 17);
    const next = await target.forward([[ids[18]]], kept, 17);
    const fresh = await target.forward([[...ids.slice(0, 16), rows[1][0], ids[18]]], target.emptyCache(), 0);
    expect(maxAbsDiff(next.out.logits, 0, fresh.out.logits, 17 * V, V)).toBeLessThan(1e-3);
    next.cache.dispose();
    fresh.cache.dispose();
  });

  it("the draft window keeps exactly the sink and recent slices of the full cache", async () => {
    const { draft } = engine.models;
    const ids = engine.tokenizer.encode(heldoutPrompts(1)[0]).slice(0, 30);
    const windowed = new DraftState(draft!, { sink: 4, recent: 8 });
    const full = await draft!.forward([ids], draft!.emptyCache(), 0);
    await windowed.sync(ids);
    const change = windowed.rollback([...ids, 1]);
    expect(change.evicted).toBe(30 - 12);
    // The windowed cache equals the full cache's first 4 and last 8 positions.
    const w = (windowed as unknown as { cache: { feeds(): Record<string, { data: Float32Array; dims: readonly number[] }> } }).cache.feeds();
    const f = full.cache.feeds();
    for (const name of Object.keys(f)) {
      const [, heads, len, dim] = f[name].dims as number[];
      expect(w[name].dims[2]).toBe(12);
      for (let h = 0; h < heads; h++) {
        const fullRow = (p: number) => (f[name].data as Float32Array).subarray((h * len + p) * dim, (h * len + p + 1) * dim);
        const winRow = (p: number) => w[name].data.subarray((h * 12 + p) * dim, (h * 12 + p + 1) * dim);
        for (let p = 0; p < 4; p++) expect(Array.from(winRow(p))).toEqual(Array.from(fullRow(p)));
        for (let p = 0; p < 8; p++) expect(Array.from(winRow(4 + p))).toEqual(Array.from(fullRow(len - 8 + p)));
      }
    }
    full.cache.dispose();
    windowed.dispose();
  });
});
