import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_SESSIONS, sessionSettings } from "@/engine";

/* Per-model session settings: the measured defaults (docs/engine-performance.md), env overrides, explicit options first. */

const ENV = ["SPECLENS_TARGET_THREADS", "SPECLENS_DRAFT_THREADS", "SPECLENS_TARGET_SPIN", "SPECLENS_TARGET_SPIN_US", "SPECLENS_MEM_PATTERN"];
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe("session settings", () => {
  it("default: the target on two spinning threads (not stopped after each run), the draft on one, both with the memory pattern", () => {
    for (const k of ENV) delete process.env[k];
    const s = sessionSettings({});
    expect(s.target).toMatchObject({ threads: 2, spinning: true, stopSpinningAfterRun: false, memoryPattern: true });
    expect(s.draft.memoryPattern).toBe(true);
    expect(s.target.spinDurationUs).toBeUndefined();
    expect(s.draft).toMatchObject({ threads: 1, spinning: false });
    expect(DEFAULT_SESSIONS.target.spinning).toBe(true);
  });

  it("the environment overrides the defaults, explicit options override the environment", () => {
    process.env.SPECLENS_TARGET_SPIN = "0";
    process.env.SPECLENS_TARGET_SPIN_US = "200";
    process.env.SPECLENS_TARGET_THREADS = "1";
    const fromEnv = sessionSettings({});
    expect(fromEnv.target).toMatchObject({ threads: 1, spinning: false, spinDurationUs: 200 });
    process.env.SPECLENS_MEM_PATTERN = "0";
    expect(sessionSettings({}).draft.memoryPattern).toBe(false);
    const explicit = sessionSettings({ target: { threads: 2, spinning: true, spinDurationUs: 50, memoryPattern: true } });
    expect(explicit.target).toMatchObject({ threads: 2, spinning: true, spinDurationUs: 50, memoryPattern: true });
  });
});
