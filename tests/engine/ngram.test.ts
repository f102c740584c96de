import { describe, expect, it } from "vitest";
import { lookup } from "@/engine/proposers/ngram";

describe("n-gram prompt lookup", () => {
  it("proposes the tokens that followed the most recent earlier match of the suffix", () => {
    // suffix [1,2] occurred at 0 (followed by 3,4) and at 4 (followed by 9,9): the latest wins.
    expect(lookup([1, 2, 3, 4, 1, 2, 9, 9, 1, 2], 1, 3, 2)).toEqual([9, 9]);
  });

  it("prefers the longest matching n", () => {
    // n=3 suffix [5,6,7] matches at 0 -> 8; n=1 suffix [7] would match later at 5 -> 1.
    expect(lookup([5, 6, 7, 8, 0, 7, 1, 5, 6, 7], 1, 3, 1)).toEqual([8]);
  });

  it("truncates the proposal at the end of the known tokens and at k", () => {
    expect(lookup([4, 5, 4], 1, 2, 5)).toEqual([5, 4]);
    expect(lookup([1, 2, 3, 1, 2, 3, 1], 1, 1, 2)).toEqual([2, 3]);
  });

  it("returns nothing when no suffix of length >= minN recurs", () => {
    expect(lookup([1, 2, 3, 4], 1, 4, 3)).toEqual([]);
    expect(lookup([1, 2, 9, 1, 2, 8], 2, 3, 3)).toEqual([]);
    expect(lookup([7], 1, 3, 3)).toEqual([]);
  });
});
