import { describe, expect, it } from "vitest";
import { createRng } from "@/engine/rng";
import type { DraftPath } from "@/engine/types";
import { sample } from "@/engine/sampling";
import { distsFromArrays, verifyPaths as verifyArrays, type VerifyOptions } from "@/engine/verify";

const V = 4;
const dist = (...p: number[]) => Float32Array.from(p);
const path = (tokens: number[], draftDists: (Float32Array | undefined)[] = []): DraftPath =>
  ({ tokens, draftProbs: tokens.map(() => 1), draftDists });
const verifyPaths = (paths: DraftPath[], target: Float32Array[][], opts: VerifyOptions) =>
  verifyArrays(paths, distsFromArrays(target), opts);
const greedy: VerifyOptions = { mode: "greedy", lossyThreshold: 0, sampled: false, rng: createRng(1), position: 0 };

describe("greedy verification", () => {
  it("accepts the matching prefix and emits the target's argmax as the recovered token", () => {
    const target = [[dist(0.1, 0.7, 0.1, 0.1), dist(0.6, 0.2, 0.1, 0.1), dist(0.1, 0.1, 0.1, 0.7)]];
    const v = verifyPaths([path([1, 2])], target, greedy);
    expect(v.accepted).toBe(1);
    expect(v.examined.map((e) => e.outcome)).toEqual(["accepted", "rejected"]);
    expect(v.nextToken).toBe(0);
    expect(v.nextOrigin).toBe("recovered");
    expect(v.nextTokenProb).toBeCloseTo(0.6);
  });

  it("emits a bonus token when every draft token is accepted", () => {
    const target = [[dist(0.1, 0.7, 0.1, 0.1), dist(0.1, 0.1, 0.7, 0.1), dist(0.1, 0.1, 0.1, 0.7)]];
    const v = verifyPaths([path([1, 2])], target, greedy);
    expect(v.accepted).toBe(2);
    expect(v.nextToken).toBe(3);
    expect(v.nextOrigin).toBe("bonus");
  });

  it("with no proposal emits the target's own token", () => {
    const v = verifyPaths([], [[dist(0.1, 0.2, 0.6, 0.1)]], greedy);
    expect(v).toMatchObject({ pathIndex: -1, accepted: 0, nextToken: 2, nextOrigin: "target" });
  });

  it("tree: keeps the path whose branch the target accepts, and the longest accepted prefix", () => {
    // Row 0 proposes [3, 1]; row 1 proposes [2, 2]. The target prefers 2 first, then 2 again.
    const target = [
      [dist(0.1, 0.1, 0.5, 0.3), dist(0.7, 0.1, 0.1, 0.1), dist(0.25, 0.25, 0.25, 0.25)],
      [dist(0.1, 0.1, 0.5, 0.3), dist(0.1, 0.1, 0.7, 0.1), dist(0.1, 0.6, 0.2, 0.1)],
    ];
    const v = verifyPaths([path([3, 1]), path([2, 2])], target, greedy);
    expect(v.pathIndex).toBe(1);
    expect(v.accepted).toBe(2);
    expect(v.examined.map((e) => [e.path, e.token, e.outcome])).toEqual([
      [0, 3, "rejected"], [1, 2, "accepted"], [1, 2, "accepted"],
    ]);
    expect(v).toMatchObject({ nextToken: 1, nextOrigin: "bonus" });
  });
});

describe("lossy verification", () => {
  it("accepts a non-argmax token above the threshold and records that the target would not have chosen it", () => {
    const target = [[dist(0.5, 0.35, 0.1, 0.05), dist(0.1, 0.1, 0.7, 0.1)]];
    const v = verifyPaths([path([1])], target, { ...greedy, mode: "lossy", lossyThreshold: 0.3 });
    expect(v.accepted).toBe(1);
    expect(v.examined[0]).toMatchObject({ outcome: "lossy-accepted", targetArgmax: false });
    expect(v.nextToken).toBe(2);
  });

  it("rejects below the threshold", () => {
    const target = [[dist(0.5, 0.25, 0.2, 0.05), dist(0.1, 0.1, 0.7, 0.1)]];
    const v = verifyPaths([path([1])], target, { ...greedy, mode: "lossy", lossyThreshold: 0.3 });
    expect(v.accepted).toBe(0);
    expect(v.nextToken).toBe(0);
  });
});

/** Empirical distribution of the first emitted token over many seeded verifications. */
function firstTokenFrequencies(paths: (rng: ReturnType<typeof createRng>) => DraftPath[], target: Float32Array[][], trials: number) {
  const counts = new Array(V).fill(0);
  for (let i = 0; i < trials; i++) {
    const rng = createRng(i);
    const v = verifyPaths(paths(rng), target, { mode: "sampling", lossyThreshold: 0, sampled: true, rng, position: 0 });
    const acceptedFirst = v.examined.find((e) => e.depth === 0 && e.outcome === "accepted");
    counts[acceptedFirst ? acceptedFirst.token : v.nextToken]++;
  }
  return counts.map((c) => c / trials);
}

describe("lossless speculative sampling", () => {
  const p = dist(0.5, 0.2, 0.2, 0.1);
  const q = dist(0.1, 0.6, 0.1, 0.2);
  const trials = 40_000;
  // Standard error of a frequency near 0.5 over 40k trials is 0.0025; 0.015 is six of them.
  const tolerance = 0.015;

  it("reproduces the target distribution when drafts are sampled from q (Leviathan et al.)", () => {
    const target = [[p, dist(0.25, 0.25, 0.25, 0.25)]];
    const sampleQ = (rng: ReturnType<typeof createRng>) => {
      const u = rng.uniform("draft", 0);
      let acc = 0;
      for (let t = 0; t < V; t++) if (u < (acc += q[t])) return t;
      return V - 1;
    };
    const freq = firstTokenFrequencies((rng) => [path([sampleQ(rng)], [q])], target, trials);
    freq.forEach((f, t) => expect(Math.abs(f - p[t])).toBeLessThan(tolerance));
  });

  it("reproduces the target distribution for point-mass candidates (n-gram, tree siblings)", () => {
    const target = [[p, dist(0.25, 0.25, 0.25, 0.25)], [p, dist(0.25, 0.25, 0.25, 0.25)]];
    const freq = firstTokenFrequencies(() => [path([3]), path([1])], target, trials);
    freq.forEach((f, t) => expect(Math.abs(f - p[t])).toBeLessThan(tolerance));
  });

  it("reproduces the target distribution for a tree: a main path sampled from q, then a point-mass sibling", () => {
    // The sibling is chosen after the main draw (the most probable other token under q), as the tree does.
    const target = [[p, dist(0.25, 0.25, 0.25, 0.25)], [p, dist(0.25, 0.25, 0.25, 0.25)]];
    const sampleQ = (rng: ReturnType<typeof createRng>) => {
      const u = rng.uniform("draft", 0);
      let acc = 0;
      for (let t = 0; t < V; t++) if (u < (acc += q[t])) return t;
      return V - 1;
    };
    const freq = firstTokenFrequencies((rng) => {
      const main = sampleQ(rng);
      const sibling = main === 1 ? 3 : 1;
      return [path([main], [q]), path([sibling])];
    }, target, trials);
    freq.forEach((f, t) => expect(Math.abs(f - p[t])).toBeLessThan(tolerance));
  });

  it("a draft that disagrees with the target is rejected in proportion to its excess mass", () => {
    // A point mass on token 3 (p = 0.1) must be accepted about 10% of the time.
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      accepted += verifyPaths([path([3])], [[p, p]], { mode: "sampling", lossyThreshold: 0, sampled: true, rng: createRng(i), position: 0 }).accepted;
    }
    expect(Math.abs(accepted / 20_000 - 0.1)).toBeLessThan(0.01);
  });
});

describe("records that recompute the decision", () => {
  const p = dist(0.5, 0.2, 0.2, 0.1);
  const q = dist(0.1, 0.6, 0.1, 0.2);

  it("every examined token: accepted iff uniform < acceptProb; acceptProb is min(1, p/q) or the residual's p'", () => {
    let checked = 0;
    for (let seed = 0; seed < 2000; seed++) {
      const rng = createRng(seed);
      const main = sample(q, rng.uniform("draft", 0));
      const sibling = main === 1 ? 3 : 1;
      const v = verifyPaths([path([main], [q]), path([sibling])], [[p, p], [p, p]], { mode: "sampling", lossyThreshold: 0, sampled: true, rng, position: 0 });
      const [first, second] = v.examined;
      expect(first).toMatchObject({ pointMass: false, draftProb: 1, acceptProb: Math.min(1, p[main] / q[main]) });
      expect(first.outcome === "accepted").toBe(first.uniform < first.acceptProb);
      expect(first.uniform).toBe(rng.uniform("accept", 0, 0));
      if (second) {
        // The residual after rejecting a sample from q: norm(max(0, p - q)).
        const residual = Array.from(p, (x, i) => Math.max(0, x - q[i]));
        const total = residual.reduce((a, b) => a + b, 0);
        expect(second.pointMass).toBe(true);
        expect(second.acceptProb).toBeCloseTo(residual[sibling] / total, 6);
        expect(second.outcome === "accepted").toBe(second.uniform < second.acceptProb);
        checked++;
      }
      // What the target alone would have emitted at this position: its draw with uniform("target", 0).
      expect(first.targetChoice.token).toBe(sample(p, rng.uniform("target", 0)));
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("sampled-lossy: the lossless test first, and exactly the acceptances beyond it are lossy-accepted", () => {
    let lossy = 0;
    for (let seed = 0; seed < 2000; seed++) {
      const rng = createRng(seed);
      const token = sample(q, rng.uniform("draft", 0));
      const v = verifyPaths([path([token], [q])], [[p, p]], { mode: "lossy", lossyThreshold: 0.15, sampled: true, rng, position: 0 });
      const e = v.examined[0];
      const passes = e.uniform < e.acceptProb;
      expect(e.outcome).toBe(passes ? "accepted" : p[token] >= 0.15 ? "lossy-accepted" : "rejected");
      if (e.outcome === "lossy-accepted") lossy++;
    }
    expect(lossy).toBeGreaterThan(0);
  });

  it("a residual that sums to zero falls back to p instead of drawing token 0", () => {
    // q covers p everywhere (p - q <= 0), as rounding can make it: the recovered token must follow p.
    const pOnly = dist(0, 0, 1, 0);
    const qAll = dist(0, 0, 1, 0);
    const counts = [0, 0, 0, 0];
    for (let seed = 0; seed < 200; seed++) {
      // A "rejection" of a point mass whose p' is 1 happens only through rounding; force it with an RNG double.
      const rng = { uniform: (purpose: string) => (purpose === "accept" ? 0.999999 : createRng(seed).uniform("residual", 0)) };
      const v = verifyPaths([path([2], [qAll])], [[Float32Array.from([0, 0, 0.9999, 0]), pOnly]], { mode: "sampling", lossyThreshold: 0, sampled: true, rng, position: 0 });
      if (v.nextOrigin === "recovered") counts[v.nextToken]++;
    }
    expect(counts[0]).toBe(0);
    expect(counts[2]).toBeGreaterThan(0);
  });
});
