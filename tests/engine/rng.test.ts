import { describe, expect, it } from "vitest";
import { createRng, uniformAt, RNG_PURPOSES } from "@/engine";

describe("counter-based RNG", () => {
  it("is a pure function of (seed, purpose, position, index)", () => {
    const a = createRng(7);
    const b = createRng(7);
    expect(a.uniform("accept", 5, 2)).toBe(b.uniform("accept", 5, 2));
    // Order does not matter: draws are not a stream.
    const later = b.uniform("target", 9);
    b.uniform("draft", 0);
    expect(b.uniform("target", 9)).toBe(later);
    expect(uniformAt(7, "accept", 5, 2)).toBe(a.uniform("accept", 5, 2));
  });

  it("differs across seeds, purposes, positions and indices", () => {
    const values = new Set<number>();
    for (const seed of [0, 1, 2 ** 31 - 1]) for (const purpose of RNG_PURPOSES) for (let pos = 0; pos < 50; pos++) for (let i = 0; i < 3; i++) values.add(uniformAt(seed, purpose, pos, i));
    expect(values.size).toBe(3 * RNG_PURPOSES.length * 50 * 3);
  });

  it("is uniform (chi-square over 20 bins) and pairs of coordinates are independent", () => {
    const n = 100_000;
    const bins = new Array(20).fill(0);
    const grid = new Array(25).fill(0);
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = uniformAt(i % 1000, "target", Math.floor(i / 1000));
      if (!(u >= 0 && u < 1)) outside++;
      bins[Math.floor(u * 20)]++;
      // Neighbouring positions and the accept/residual purposes at one position must not be correlated.
      const v = uniformAt(i % 1000, "target", Math.floor(i / 1000) + 1);
      const w = uniformAt(i % 1000, "residual", Math.floor(i / 1000));
      grid[Math.floor(v * 5) * 5 + Math.floor(w * 5)]++;
    }
    expect(outside).toBe(0);
    const chi = (counts: number[]) => counts.reduce((s, c) => s + (c - n / counts.length) ** 2 / (n / counts.length), 0);
    // 99.9th percentiles: chi-square with 19 degrees of freedom 43.8, with 24 51.2.
    expect(chi(bins)).toBeLessThan(43.8);
    expect(chi(grid)).toBeLessThan(51.2);
  });
});
