import { describe, expect, it } from "vitest";
import { formatDurationNs, formatTimestampNs, shortId } from "@/app/_lib/format";

describe("formatDurationNs", () => {
  it.each([
    [0n, "0 ns"],
    [850n, "850 ns"],
    [1_000n, "1 µs"],
    [12_400n, "12.4 µs"],
    [3_214_000n, "3.21 ms"],
    [999_400_000n, "999 ms"],
    [1_500_000_000n, "1.5 s"],
    [125_000_000_000n, "125 s"],
  ])("%s ns reads as %s", (ns, expected) => {
    expect(formatDurationNs(ns)).toBe(expected);
  });
});

describe("formatTimestampNs", () => {
  it("shows UTC to the millisecond and drops sub-millisecond digits", () => {
    expect(formatTimestampNs(1_763_840_000_123_456_789n)).toBe("2025-11-22 19:33:20.123 UTC");
  });
});

describe("shortId", () => {
  it("keeps the first 8 hex characters", () => {
    expect(shortId("4bf92f3577b34da6a3ce929d0e0e4736")).toBe("4bf92f35");
  });
});
