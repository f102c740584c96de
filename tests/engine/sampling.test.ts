import { describe, expect, it } from "vitest";
import { createRng } from "@/engine/rng";
import { argmax, logSoftmaxAt, processedProbs, sample, targetRow, topLogSoftmax, type RowStats } from "@/engine/sampling";

const logits = Float32Array.from([2, 1, 0, -1, 0.5]);

describe("processed distributions", () => {
  it("temperature 0 gives the plain softmax, whose argmax is the logits' argmax", () => {
    const p = processedProbs(logits, 0, 5, { temperature: 0, topK: 0, topP: 1 });
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(argmax(p)).toBe(0);
    expect(p[0] / p[1]).toBeCloseTo(Math.E, 4);
  });

  it("top-k keeps the k most likely tokens and renormalises", () => {
    const p = processedProbs(logits, 0, 5, { temperature: 1, topK: 2, topP: 1 });
    expect(Array.from(p).filter((x) => x > 0)).toHaveLength(2);
    expect(p[0] + p[1]).toBeCloseTo(1, 6);
  });

  it("top-p keeps the smallest set reaching the mass", () => {
    const p = processedProbs(logits, 0, 5, { temperature: 1, topK: 0, topP: 0.6 });
    // softmax: [0.53, 0.20, 0.07, 0.03, 0.12]; 0.53 < 0.6 so the second most likely is kept too.
    expect(Array.from(p, (x) => x > 0)).toEqual([true, true, false, false, false]);
  });

  it("banned tokens get probability zero", () => {
    const p = processedProbs(logits, 0, 5, { temperature: 1, topK: 0, topP: 1 }, [0]);
    expect(p[0]).toBe(0);
    expect(argmax(p)).toBe(1);
  });

  it("a seeded draw is reproducible", () => {
    const p = processedProbs(logits, 0, 5, { temperature: 1, topK: 0, topP: 1 });
    const draw = (seed: number) => { const r = createRng(seed); return Array.from({ length: 20 }, (_, i) => sample(p, r.uniform("target", i))); };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });
});

describe("log-probabilities", () => {
  it("top alternatives are the most likely tokens with their log-softmax, most likely first", () => {
    const top = topLogSoftmax(logits, 0, 5, 3);
    expect(top.map((t) => t.id)).toEqual([0, 1, 4]);
    for (const t of top) expect(t.logprob).toBeCloseTo(logSoftmaxAt(logits, 0, 5, t.id), 6);
    const total = [0, 1, 2, 3, 4].reduce((s, i) => s + Math.exp(logSoftmaxAt(logits, 0, 5, i)), 0);
    expect(total).toBeCloseTo(1, 6);
  });

  it("a row's normaliser is reused only from a plain softmax of it, never from a tempered or banned one", () => {
    // Two rows; the log-softmax of the raw logits, computed here directly.
    const rows = Float32Array.from([2, 1, 0.5, -1, 1.5, 0.3, 0.2, 0.1, 3, -2]);
    const direct = (offset: number, t: number) => {
      const row = Array.from(rows.subarray(offset, offset + 5));
      const max = Math.max(...row);
      return row[t] - max - Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    };
    const copy = () => Float32Array.from(rows);
    // Tempered, banned, then plain softmax first: logSoftmaxAt must still be the raw logits' log-softmax.
    const tempered = copy();
    processedProbs(tempered, 0, 5, { temperature: 0.5, topK: 0, topP: 1 });
    expect(logSoftmaxAt(tempered, 0, 5, 1)).toBeCloseTo(direct(0, 1), 6);
    const banned = copy();
    processedProbs(banned, 5, 5, { temperature: 0, topK: 0, topP: 1 }, [3]);
    expect(logSoftmaxAt(banned, 5, 5, 3)).toBeCloseTo(direct(5, 3), 6);
    const plain = copy();
    const probs = processedProbs(plain, 5, 5, { temperature: 0, topK: 0, topP: 1 });
    expect(logSoftmaxAt(plain, 5, 5, 3)).toBeCloseTo(direct(5, 3), 6);
    expect(Math.exp(logSoftmaxAt(plain, 5, 5, 3))).toBeCloseTo(probs[3], 6);
    // Rows of one buffer keep their own normalisers.
    expect(logSoftmaxAt(plain, 0, 5, 0)).toBeCloseTo(direct(0, 0), 6);
  });
});


describe("target rows", () => {
  const greedy = { temperature: 0, topK: 0, topP: 1 };
  // Two rows; the second's statistics are deliberately not its own, to show which path read them.
  const rows = Float32Array.from([2, 1, 0, -1, 0.5, 0, 3, 3, 1, 2]);
  const stats: RowStats = { argmax: BigInt64Array.from([0n, 4n]), logSumExp: Float32Array.from([Math.log(Math.exp(2) + Math.exp(1) + 1 + Math.exp(-1) + Math.exp(0.5)), 10]) };

  it("read a greedy row's argmax and probabilities from the graph's statistics, as the softmax gives them", () => {
    const row = targetRow(rows, 0, 5, greedy, [], stats);
    const p = processedProbs(rows, 0, 5, greedy);
    expect(row.argmax()).toBe(0);
    for (let t = 0; t < 5; t++) expect(row.prob(t)).toBeCloseTo(p[t], 6);
    expect(Array.from(row.dist())).toEqual(Array.from(p));
    expect(logSoftmaxAt(rows, 0, 5, 1)).toBeCloseTo(Math.log(p[1]), 6);
    // The statistics are what is read, not the logits: row 1's are wrong on purpose.
    const second = targetRow(rows, 5, 5, greedy, [], stats);
    expect(second.argmax()).toBe(4);
    expect(second.prob(1)).toBeCloseTo(Math.exp(3 - 10), 9);
  });

  it("compute the softmax when sampling, when tokens are banned or without statistics", () => {
    const banned = targetRow(rows, 5, 5, greedy, [1, 2], stats);
    expect(banned.argmax()).toBe(4);
    expect(banned.prob(1)).toBe(0);
    expect(banned.prob(4)).toBeCloseTo(Math.exp(2) / (1 + Math.exp(1) + Math.exp(2)), 6);
    const sampled = targetRow(rows, 5, 5, { temperature: 1, topK: 2, topP: 1 }, [], stats);
    expect(sampled.prob(1) + sampled.prob(2)).toBeCloseTo(1, 6);
    expect(sampled.argmax()).toBe(1);
    const plain = targetRow(rows, 5, 5, greedy, []);
    expect(plain.argmax()).toBe(1);
    expect(plain.prob(2)).toBeCloseTo(plain.prob(1), 6);
  });
});
