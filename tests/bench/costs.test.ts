import { describe, expect, it } from "vitest";
import { perTokenAcceptance, speedupBound, tokensNeeded, type CostCurve } from "../../bench/costs";

// A made-up curve: only the arithmetic on it is under test here; `npm run bench` measures the real one.
const curve: CostCurve = {
  past: 64,
  targetMs: [3, 3.5, 3.8, 4, 4.4, 4.6, 5, 5.3, 5.9],
  offTokenMs: 3,
  draftPerTokenPathMs: [0.8, 1.4, 2, 2.6, 3.2, 3.8, 4.4, 5],
  draftLoopMs: [0.6, 0.9, 1.2, 1.5, 1.8, 2.1, 2.4, 2.7],
  draftPassMs: 0.4,
  draftLoopAfterTargetMs: [0.9, 1.3, 1.7, 2.1, 2.5, 2.9, 3.3, 3.7],
};

describe("speedupBound", () => {
  it("charges drafts of varying length (an acceptance floor) each step's own cost", () => {
    const stepLengths = [{ drafted: 2, accepted: 2 }, { drafted: 6, accepted: 3 }];
    const b = speedupBound(curve, { proposer: "draft-model", k: 10, greedyDraft: true, perPosition: [0.9, 0.9], stepLengths })!;
    expect(b.tau).toBeCloseTo(1 + 2.5);
    expect(b.draftMs).toBeCloseTo((1.3 + 2.9) / 2);
    expect(b.verifyMs).toBeCloseTo((3.8 + 5) / 2);
    expect(b.bound).toBeCloseTo((3.5 * 3) / (2.1 + 4.4));
  });

  it("charges a greedy draft the drafting loop's cost right after a target pass, as a step runs it", () => {
    const b = speedupBound(curve, { proposer: "draft-model", k: 4, greedyDraft: true, perPosition: [0.8, 0.6, 0.5, 0.4] })!;
    expect(b.draftMs).toBe(2.1);
    expect(b.verifyMs).toBe(4.4);
    expect(b.tau).toBeCloseTo(3.3);
    expect(b.bound).toBeCloseTo((3.3 * 3) / (2.1 + 4.4));
  });

  it("falls back to the back-to-back loop, then to one call per token", () => {
    const noAfter = { ...curve, draftLoopAfterTargetMs: null };
    expect(speedupBound(noAfter, { proposer: "draft-model", k: 4, greedyDraft: true, perPosition: [] })!.draftMs).toBe(1.5);
    expect(speedupBound(curve, { proposer: "draft-model", k: 4, greedyDraft: false, perPosition: [] })!.draftMs).toBe(2.6);
    expect(speedupBound({ ...curve, draftLoopMs: null, draftLoopAfterTargetMs: null }, { proposer: "draft-model", k: 2, greedyDraft: true, perPosition: [] })!.draftMs).toBe(1.4);
  });
});

describe("tokensNeeded", () => {
  it("inverts the bound: a step emitting the needed tokens bounds at exactly the wanted speedup", () => {
    const b = speedupBound(curve, { proposer: "draft-model", k: 4, greedyDraft: true, perPosition: [0.8, 0.6, 0.5, 0.4] })!;
    const need = tokensNeeded(curve.offTokenMs, b.draftMs + b.verifyMs, 4, 2);
    expect(need.tau).toBeCloseTo((2 * 6.5) / 3);
    expect((need.tau * curve.offTokenMs) / (b.draftMs + b.verifyMs)).toBeCloseTo(2);
    const p = need.perToken!;
    expect(1 + p + p ** 2 + p ** 3 + p ** 4).toBeCloseTo(need.tau, 6);
  });

  it("says when even a draft that is always right cannot reach it at this k", () => {
    expect(tokensNeeded(3, 9, 4, 2)).toEqual({ tau: 6, perToken: null });
  });
});

describe("perTokenAcceptance", () => {
  it("solves 1 + p + ... + p^k = tau", () => {
    expect(perTokenAcceptance(1, 4)).toBe(0);
    expect(perTokenAcceptance(5, 4)).toBeCloseTo(1, 9);
    expect(perTokenAcceptance(1.5, 1)).toBeCloseTo(0.5, 9);
    expect(perTokenAcceptance(1 + 0.5 + 0.25, 2)).toBeCloseTo(0.5, 9);
    expect(perTokenAcceptance(3.01, 1)).toBeNull();
  });
});
