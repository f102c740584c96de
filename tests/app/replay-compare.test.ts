import { describe, expect, it } from "vitest";
import {
  decideVerdict, describeDivergence, divergencePosition, firstDraftIntroduced, NEAR_TIE_MARGIN, spanVerdict, tokenOffsets, tokensInRange,
  type RecordedToken, type VerdictInput,
} from "@/app/_lib/replay/compare";
import { modelChanges } from "@/app/_lib/replay/models";

/* The verdict rules on crafted records: every branch, including the ones real runs rarely reach. */

const tok = (position: number, id: number, origin = "accepted", targetAgrees: boolean | null = true): RecordedToken => ({
  position, id, text: `t${id}`, origin, targetProb: 0.5, draftProb: 0.6, targetChoice: targetAgrees === false ? { token: 99, prob: 0.7 } : null, targetAgrees,
});
const original = [tok(0, 1, "target"), tok(1, 2), tok(2, 3, "recovered"), tok(3, 4)];
const replayOf = (ids: number[]) => ids.map((id) => ({ id, text: `t${id}` }));

function input(over: Partial<VerdictInput>): VerdictInput {
  return { mode: "exact", modelChanges: [], original, divergence: null, greedy: true, configVersion: "3", lossyThreshold: null, ...over };
}

describe("replay verdicts", () => {
  it("finds the first divergence, including one output ending early", () => {
    expect(divergencePosition(original, replayOf([1, 2, 3, 4]))).toBeNull();
    expect(divergencePosition(original, replayOf([1, 2, 7, 4]))).toBe(2);
    expect(divergencePosition(original, replayOf([1, 2]))).toBe(2);
    expect(describeDivergence(2, original, replayOf([1, 2]), 0.5)).toEqual({ position: 2, original: { token: 3, text: "t3", origin: "recovered" }, replay: null, targetTop2Margin: 0.5 });
  });

  it("reproduced when identical, models-changed when the files differ even then", () => {
    expect(decideVerdict(input({})).verdict).toBe("reproduced");
    expect(decideVerdict(input({ modelChanges: ["target model.onnx sha256 was aaa, loaded is bbb"] })).verdict).toBe("models-changed");
  });

  it("draft at a lossy-accepted token the target would not have chosen, naming position, version and threshold", () => {
    const lossy = [tok(0, 1, "target"), tok(1, 2, "lossy-accepted", true), tok(2, 5, "lossy-accepted", false), tok(3, 6)];
    expect(firstDraftIntroduced(lossy)?.position).toBe(2);
    const divergence = describeDivergence(2, lossy, replayOf([1, 2, 99]), 2.1);
    const answer = decideVerdict(input({ mode: "target-only", original: lossy, divergence, lossyThreshold: 0.05 }));
    expect(answer.verdict).toBe("draft");
    expect(answer.draftEvidence).toMatchObject({ position: 2, configVersion: "3", lossyThreshold: 0.05 });
    expect(answer.explanation).toMatch(/position 2 .*config version 3 with lossy threshold 0.05/);
  });

  it("numerical-tie on a crafted near-tie under greedy, target above the margin or under sampling", () => {
    const at = (margin: number) => describeDivergence(1, original, replayOf([1, 8]), margin);
    expect(decideVerdict(input({ divergence: at(NEAR_TIE_MARGIN / 4) })).verdict).toBe("numerical-tie");
    expect(decideVerdict(input({ divergence: at(0.5) })).verdict).toBe("target");
    expect(decideVerdict(input({ divergence: at(NEAR_TIE_MARGIN / 4), greedy: false })).verdict).toBe("target");
  });

  it("span verdicts: target before the draft-introduced token, draft from it on, numerical-tie across a near-tie", () => {
    const lossy = [tok(0, 1, "target"), tok(1, 2), tok(2, 5, "lossy-accepted", false), tok(3, 6)];
    const divergence = describeDivergence(2, lossy, replayOf([1, 2, 99]), 2);
    const base = { original: lossy, divergence, greedy: true, modelChanges: [], configVersion: "2", lossyThreshold: 0.05 };
    expect(spanVerdict({ ...base, first: 0, last: 1 }).verdict).toBe("target");
    expect(spanVerdict({ ...base, first: 1, last: 2 }).verdict).toBe("draft");
    expect(spanVerdict({ ...base, first: 3, last: 3 }).explanation).toMatch(/^the span follows a token introduced by the draft/);
    const tie = describeDivergence(1, original, replayOf([1, 8]), 1e-5);
    expect(spanVerdict({ ...base, original, divergence: tie, first: 2, last: 3 }).verdict).toBe("numerical-tie");
    expect(spanVerdict({ ...base, original, divergence: tie, first: 0, last: 0 }).verdict).toBe("target");
  });

  it("maps character offsets to tokens", () => {
    const offsets = tokenOffsets([{ text: "The" }, { text: " cat" }, { text: " sat" }], "The cat sat");
    expect(offsets).toEqual([{ start: 0, end: 3 }, { start: 3, end: 7 }, { start: 7, end: 11 }]);
    expect(tokensInRange(offsets, 4, 9)).toEqual([1, 2]);
    expect(tokensInRange(offsets, 3, 4)).toEqual([1]);
    // Token texts that do not concatenate to the completion: the decoded prefixes decide.
    const prefixes = ["é", "é!"];
    expect(tokenOffsets([{ text: "\ufffd" }, { text: "!" }], "é!", (n) => prefixes[n - 1])).toEqual([{ start: 0, end: 1 }, { start: 1, end: 2 }]);
  });
});

describe("models-changed", () => {
  const loaded = { target: { name: "t", sha256: "a".repeat(64), files: { "tokenizer.json": "c".repeat(64) } }, draft: { name: "d", sha256: "b".repeat(64) }, runtime: { onnxruntimeVersion: "1.30.0", threads: 2 } };
  it("names the model file and runtime field that changed, and ignores thread counts", () => {
    expect(modelChanges({ target: { sha256: "a".repeat(64) }, draft: { sha256: "b".repeat(64) }, runtime: { onnxruntimeVersion: "1.30.0", threads: 1 } }, loaded)).toEqual([]);
    expect(modelChanges({ target: { sha256: "f".repeat(64) }, draft: null }, loaded)).toEqual([`target model sha256 was ${"f".repeat(12)}, loaded is ${"a".repeat(12)} (t)`]);
    expect(modelChanges({ target: { sha256: "a".repeat(64), files: { "tokenizer.json": "e".repeat(64) } }, draft: null }, loaded)[0]).toMatch(/^target tokenizer.json sha256 was e{12}/);
    expect(modelChanges({ target: { sha256: "a".repeat(64) }, draft: { sha256: "b".repeat(64) }, runtime: { onnxruntimeVersion: "1.19.0" } }, loaded)).toEqual(['runtime onnxruntimeVersion was "1.19.0", loaded is "1.30.0"']);
    expect(modelChanges({ target: { sha256: "a".repeat(64) }, draft: { sha256: "b".repeat(64) } }, { ...loaded, draft: null })).toEqual(["the trace used a draft model and none is loaded now"]);
  });
});
