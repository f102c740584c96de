import { describe, expect, it } from "vitest";
import { agreementFactor, keptAtFloor, topTwo } from "@/engine/proposers/draft-stop";

describe("the acceptance estimate behind draftAcceptFloor", () => {
  it("counts a clear winner as sure and two equal candidates as a coin flip", () => {
    expect(agreementFactor(0.9, 0)).toBe(1);
    expect(agreementFactor(0.3, 0.3)).toBeCloseTo(0.5, 12);
    expect(agreementFactor(0.4, 0.2)).toBeCloseTo(1 - 0.25 / 2, 12);
    expect(agreementFactor(0, 0)).toBe(0);
  });

  it("keeps tokens up to and including the one that takes the product below the floor", () => {
    // factors: 1, 0.875, 0.5, 1 -> running 1, 0.875, 0.4375, 0.4375
    const probs = [0.5, 0.4, 0.3, 0.6];
    const alts = [0, 0.2, 0.3, 0];
    expect(keptAtFloor(probs, alts, 0)).toBe(4);
    expect(keptAtFloor(probs, alts, 0.4)).toBe(4);
    expect(keptAtFloor(probs, alts, 0.5)).toBe(3);
    expect(keptAtFloor(probs, alts, 0.9)).toBe(2);
    expect(keptAtFloor(probs, alts, 1)).toBe(2);
    expect(keptAtFloor([], [], 0.5)).toBe(0);
  });

  it("finds the two largest probabilities of a row", () => {
    expect(topTwo(Float32Array.from([0.1, 0.5, 0.05, 0.35]))).toEqual([0.5, Math.fround(0.35)]);
    expect(topTwo([0.7, 0.7])).toEqual([0.7, 0.7]);
    expect(topTwo([1])).toEqual([1, 0]);
  });
});
