import { describe, expect, it } from "vitest";
import type { StepDetail, TraceDetail } from "@/db/queries/traces";
import { buildTraceView, tokenTextFor } from "@/app/traces/_lib/trace-view";

const T0 = 1_763_840_000_000_000_000n;

/** Step 0: drafted [10, 11, 12], the target accepted 10 and 11, rejected 12 and recovered 20. */
const step0: StepDetail = {
  index: 0, spanId: "a".repeat(16), startNs: T0 + 1_000_000n, endNs: T0 + 9_000_000n, proposer: "draft-model", k: 3,
  proposals: [{ tokens: [10, 11, 12], draftProbs: [0.9, 0.8, 0.4] }],
  verification: {
    pathIndex: 0, accepted: 2, drafted: 3, nextToken: 20, nextOrigin: "recovered", nextTokenProb: 0.6,
    positions: [
      { path: 0, depth: 0, token: 10, outcome: "accepted", targetProb: 0.7, targetArgmax: true },
      { path: 0, depth: 1, token: 11, outcome: "accepted", targetProb: 0.5, targetArgmax: true },
      { path: 0, depth: 2, token: 12, outcome: "rejected", targetProb: 0.1, targetArgmax: false },
    ],
  },
  rollback: { target: { dropped: 1, lengthBefore: 8, lengthAfter: 7 }, draft: { dropped: 1, lengthBefore: 7, lengthAfter: 6 } },
  timings: { draftMs: 3, verifyMs: 4, overheadMs: 1 }, kvBytes: { target: 1, draft: 1 }, emitted: 3,
};

function trace(verifyMode: string): TraceDetail {
  return {
    traceId: "0".repeat(32),
    request: { startNs: T0, verifyMode } as TraceDetail["request"],
    params: {}, config: { lossyThreshold: 0.3 }, perPositionAcceptance: [1, 1, 0], spans: [],
    steps: [step0],
    tokens: [
      { position: 0, step: 0, id: 10, text: " the", origin: "accepted", prob: 0.7, logprob: -0.3, draftProb: null, targetChoice: null },
      { position: 1, step: 0, id: 11, text: " jury", origin: "accepted", prob: 0.5, logprob: -0.7, draftProb: null, targetChoice: null },
      { position: 2, step: 0, id: 20, text: " said", origin: "recovered", prob: 0.6, logprob: -0.5, draftProb: null, targetChoice: null },
    ],
  };
}

describe("trace page view model", () => {
  it("gives each token its draft probability, verdict and the draft it replaced", () => {
    const t = trace("greedy");
    const view = buildTraceView(t, tokenTextFor(t, (id) => `<${id}>`));
    expect(view.tokens.map((x) => [x.offset, x.draftProb, x.verdict?.targetProb ?? null])).toEqual([[0, 0.9, 0.7], [1, 0.8, 0.5], [2, null, null]]);
    expect(view.tokens[2].replaced).toEqual({ token: 12, text: "<12>", prob: 0.4, targetProb: 0.1 });
    // Greedy: the target alone emits its argmax, which each of these tokens is.
    expect(view.tokens.map((x) => x.targetChoice?.token)).toEqual([10, 11, 20]);
  });

  it("resolves proposals to text, known output text first, and marks each draft position's outcome", () => {
    const t = trace("greedy");
    const view = buildTraceView(t, tokenTextFor(t, null));
    expect(view.steps[0].paths[0].tokens.map((x) => x.text)).toEqual([" the", " jury", "#12"]);
    expect(view.steps[0].paths[0].outcomes).toEqual(["accepted", "accepted", "rejected"]);
    expect(view.steps[0]).toMatchObject({ startMs: 1, durationMs: 8, kvTarget: 7, rolledBackTarget: 1, next: { text: " said", origin: "recovered" } });
  });

  it("shows the recorded choice of the target alone, whatever the mode", () => {
    const t = trace("sampling");
    t.tokens[1] = { ...t.tokens[1], targetChoice: { token: 30, prob: 0.55 }, draftProb: 0.8 };
    const view = buildTraceView(t, tokenTextFor(t, (id) => `<${id}>`));
    expect(view.tokens[1].targetChoice).toEqual({ token: 30, text: "<30>", prob: 0.55 });
  });

  it("does not claim what the target alone would have chosen when sampling and nothing was recorded", () => {
    const t = trace("sampling");
    expect(buildTraceView(t, tokenTextFor(t, null)).tokens.map((x) => x.targetChoice)).toEqual([null, null, null]);
  });
});
