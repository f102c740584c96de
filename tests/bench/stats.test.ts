import { describe, expect, it } from "vitest";
import { mean, median, percentile, sum } from "../../bench/stats";

describe("bench statistics", () => {
  it("sum adds, and is 0 for nothing", () => {
    expect(sum([1, 2, 6])).toBe(9);
    expect(sum([])).toBe(0);
  });

  it("mean averages, and is 0 for nothing", () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(mean([])).toBe(0);
  });

  it("median takes the middle value, or the mean of the two middle ones", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([1.9, 2.09, 1.63, 1.79, 1.82])).toBe(1.82);
  });

  it("percentile takes the nearest rank of an ascending list", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(percentile([], 50)).toBe(0);
  });
});
