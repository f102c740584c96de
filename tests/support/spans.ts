import type { NewSpan } from "@/db/schema";

/** A span row with realistic ids; tests override only what they assert on. */
export function spanRow(overrides: Partial<NewSpan> & Pick<NewSpan, "traceId" | "spanId">): NewSpan {
  return {
    name: "speclens.step",
    startTimeNs: 1_763_840_000_000_000_000n,
    endTimeNs: 1_763_840_000_001_000_000n,
    ...overrides,
  };
}

/** 32-hex trace id / 16-hex span id built from a small number, so fixtures stay readable. */
export const traceIdOf = (n: number) => n.toString(16).padStart(32, "0");
export const spanIdOf = (n: number) => n.toString(16).padStart(16, "0");
