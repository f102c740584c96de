import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attribute } from "@/app/_lib/replay/attribution";
import { defaultReplayDeps, runReplay } from "@/app/_lib/replay/run";
import { loadOriginal } from "@/app/_lib/replay/source";
import { heldoutPrompts } from "../support/models";
import { attribution, generate } from "../support/replay-api";
import { startEngineApp } from "../support/engine-app";
import type { TracingFixture } from "../tracing/helpers";

/*
 * Attribution on the shipped pair: spans before the first draft-introduced token are the target's,
 * spans reaching it are the draft's; the target-only replay runs once and is reused; a crafted
 * near-tie is a numerical tie (the margin from a test double) and the same record with the real
 * margin is the target's; bad offsets are 400s naming start or end.
 */

let fx: TracingFixture;
let close: () => Promise<void>;
beforeAll(() => ({ fx, close } = startEngineApp()));
afterAll(() => close());

const prompts = heldoutPrompts(4, 16);

describe("GET /api/traces/{id}/attribution", () => {
  it("names the target before the planted lossy token and the draft from it on, reusing the target-only replay", async () => {
    let checked = 0;
    for (const prompt of prompts) {
      const original = await generate({ prompt, max_tokens: 32, proposer: "draft-model", verify: "lossy", lossy_threshold: 0.02 });
      const whole = await attribution(original.trace_id);
      expect(whole.status).toBe(200);
      const planted = whole.body.firstDraftIntroduced;
      if (planted === null || planted === 0) continue;
      checked++;
      const token = whole.body.tokens[planted];
      expect(token).toMatchObject({ origin: "lossy-accepted", draftIntroduced: true, sameInTargetOnly: false });
      expect(token.targetChoice?.token).not.toBe(original.tokens[planted].id);
      expect(whole.body.overall).toMatchObject({ verdict: "draft", firstDivergence: { position: planted } });

      const before = await attribution(original.trace_id, `?start=0&end=${whole.body.tokens[planted - 1].end}`);
      expect(before.body.span).toMatchObject({ verdict: "target", inTargetOnly: true });
      expect(before.body.targetOnly.reused).toBe(true);
      const after = await attribution(original.trace_id, `?start=${token.start}&end=${whole.body.completion.length}`);
      expect(after.body.span).toMatchObject({ verdict: "draft", draftEvidence: { position: planted, lossyThreshold: 0.02 } });
      expect(after.body.span?.explanation).toMatch(/introduced by the draft: lossy acceptance of .* at position \d+/);
      expect(after.body.targetOnly.traceId).toBe(whole.body.targetOnly.traceId);
      if (checked >= 2) break;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it("calls a crafted near-tie a numerical tie, and the same record with the real margin the target's", async () => {
    const original = await generate({ prompt: prompts[0], max_tokens: 16, proposer: "draft-model" });
    // As if the multi-position pass had picked the runner-up at position 5 of a lossless greedy run.
    const at = 5;
    const other = (original.tokens[at].id + 1) % 1000;
    fx.database.db.run(sql`update tokens set token_id = ${other} where trace_id = ${original.trace_id} and position = ${at}`);
    const stored = loadOriginal(fx.database.db, original.trace_id)!;
    const nearTie = { ...defaultReplayDeps, topTwo: async () => ({ first: { token: other, logprob: -1 }, second: { token: 0, logprob: -1.00001 }, margin: 1e-5 }) };
    const tie = await runReplay(fx.database.db, stored, { mode: "target-only" }, { deps: nearTie });
    expect(tie).toMatchObject({ verdict: "numerical-tie", firstDivergence: { position: at, targetTop2Margin: 1e-5 } });
    const span = await attribute(fx.database.db, stored, { start: 0, end: stored.completion.length }, nearTie);
    expect(span.span?.verdict).toBe("numerical-tie");

    const real = await runReplay(fx.database.db, stored, { mode: "target-only" });
    expect(real.verdict).toBe("target");
    expect(real.firstDivergence?.targetTop2Margin).toBeGreaterThan(1e-3);
  });

  it.each([
    ["?start=5", /^end:/],
    ["?start=-1&end=3", /^start:/],
    ["?start=4&end=4", /^end:/],
    ["?start=x&end=3", /^start:/],
    ["?start=0&end=99999", /^end:/],
    ["?begin=0", /begin/],
  ])("rejects %s with 400 naming the field", async (query, message) => {
    const original = await generate({ prompt: prompts[1], max_tokens: 8 });
    const response = await attribution(original.trace_id, query);
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(message);
  });
});
