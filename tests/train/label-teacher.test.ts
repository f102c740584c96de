import { describe, expect, it } from "vitest";
import { topKProbabilities } from "../../tools/train/label_teacher";

function softmax(row: number[]): number[] {
  const max = Math.max(...row);
  const e = row.map((x) => Math.exp(x - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

describe("topKProbabilities", () => {
  it("writes the k most likely ids best first with their softmax probabilities and returns their mass", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 8 - 4;
    const vocab = 300, k = 16, rows = 3;
    const logits = Float32Array.from({ length: vocab * rows }, rand);
    const ids = new Uint16Array(rows * k), probs = new Float32Array(rows * k);
    for (let r = 0; r < rows; r++) {
      const mass = topKProbabilities(logits, r * vocab, vocab, k, ids, probs, r * k);
      const p = softmax(Array.from(logits.subarray(r * vocab, (r + 1) * vocab)));
      const expected = p.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0]).slice(0, k);
      expect(Array.from(ids.subarray(r * k, (r + 1) * k))).toEqual(expected.map(([, i]) => i));
      expected.forEach(([x], i) => expect(probs[r * k + i]).toBeCloseTo(x, 6));
      expect(mass).toBeCloseTo(expected.reduce((a, [x]) => a + x, 0), 5);
    }
  });

  it("keeps ties and a row smaller than k apart from the rest of the buffer", () => {
    const logits = Float32Array.from([0, 2, 2, -1]);
    const ids = new Uint16Array(6).fill(99), probs = new Float32Array(6);
    const mass = topKProbabilities(logits, 0, 4, 4, ids, probs, 1);
    expect(ids[0]).toBe(99);
    expect(ids[5]).toBe(99);
    expect(new Set(ids.subarray(1, 3))).toEqual(new Set([1, 2]));
    expect(Array.from(ids.subarray(3, 5))).toEqual([0, 3]);
    expect(mass).toBeCloseTo(1, 6);
  });
});
