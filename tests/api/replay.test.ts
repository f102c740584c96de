import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countDerived } from "@/db/queries/traces";
import { heldoutPrompts } from "../support/models";
import { attribution, generate, replay, replays } from "../support/replay-api";
import { startEngineApp } from "../support/engine-app";
import type { TracingFixture } from "../tracing/helpers";

/*
 * Replay end to end on the shipped pair: exact replay reproduces lossless greedy and seeded sampling
 * traces token for token and links both ways; a planted lossy case (low threshold) is attributed to
 * the draft at the first lossy-accepted token the target would not have chosen; a changed stored hash
 * says models-changed; bad input is a 400 naming the field with nothing run or stored.
 */

let fx: TracingFixture;
let close: () => Promise<void>;
beforeAll(() => ({ fx, close } = startEngineApp()));
afterAll(() => close());

const prompts = heldoutPrompts(3, 16);

describe("POST /api/traces/{id}/replay", () => {
  it.each([
    ["greedy draft-model", { proposer: "draft-model", k_max: 4 }],
    ["greedy tree", { proposer: "tree" }],
    ["seeded sampling", { proposer: "draft-model", temperature: 0.8, top_p: 0.95, seed: 7 }],
  ])("exact replay reproduces a %s trace token for token, linked both ways", async (_name, options) => {
    const original = await generate({ prompt: prompts[0], max_tokens: 24, ...options });
    const { status, body } = await replay(original.trace_id, { mode: "exact" });
    expect(status).toBe(200);
    expect(body).toMatchObject({ replayOf: original.trace_id, mode: "exact", reproduced: true, firstDivergence: null, verdict: "reproduced" });
    expect(body.traceId).not.toBe(original.trace_id);
    expect(body.replay.text).toBe(original.text);

    const links = await replays(original.trace_id);
    expect(links.replays.map((r) => r.traceId)).toContain(body.traceId);
    const back = await replays(body.traceId);
    expect(back).toMatchObject({ replayOf: original.trace_id, replayMode: "exact" });
  });

  it("attributes a planted lossy case to the draft at the first lossy-accepted token the target would not have chosen", async () => {
    let checked = 0;
    for (const prompt of prompts) {
      const original = await generate({ prompt, max_tokens: 32, proposer: "draft-model", verify: "lossy", lossy_threshold: 0.02 });
      const { body } = await replay(original.trace_id, { mode: "target-only" });
      const { body: attr } = await attribution(original.trace_id);
      const planted = attr.firstDraftIntroduced as number | null;
      if (planted === null) {
        expect(body.verdict).not.toBe("draft");
        continue;
      }
      checked++;
      expect(body.verdict).toBe("draft");
      expect(body.firstDivergence?.position).toBe(planted);
      expect(body.firstDivergence?.original?.origin).toBe("lossy-accepted");
      expect(body.draftEvidence).toMatchObject({ position: planted, lossyThreshold: 0.02 });
      expect(body.explanation).toMatch(/introduced by the draft/);
      // The target's own choice there: what the target-only replay wrote at the same position.
      expect(body.draftEvidence?.targetChoice?.text).toBe(body.firstDivergence?.replay?.text);
    }
    expect(checked).toBeGreaterThan(0);
  });

  it("says models-changed when the stored model hash differs from the loaded one", async () => {
    const original = await generate({ prompt: prompts[1], max_tokens: 12 });
    fx.database.db.run(sql`update requests set target_sha256 = ${"0".repeat(64)} where trace_id = ${original.trace_id}`);
    const { body } = await replay(original.trace_id, { mode: "exact" });
    expect(body.verdict).toBe("models-changed");
    expect(body.reproduced).toBe(true);
    expect(body.modelChanges.join(" ")).toMatch(/target model sha256 was 000000000000/);
  });

  it("runs draft-only and config replays as traces of their own", async () => {
    const original = await generate({ prompt: prompts[2], max_tokens: 16 });
    const draftOnly = await replay(original.trace_id, { mode: "draft-only" });
    expect(draftOnly.status).toBe(200);
    expect(draftOnly.body.mode).toBe("draft-only");
    const config = await replay(original.trace_id, { mode: "config", overrides: { proposer: "ngram" } });
    expect(config.status).toBe(200);
    // Greedy and lossless under any proposer: the n-gram run writes the same text.
    expect(config.body).toMatchObject({ mode: "config", reproduced: true, verdict: "reproduced" });
    const modes = (await replays(original.trace_id)).replays.map((r) => r.replayMode).sort();
    expect(modes).toEqual(["config", "draft-only"]);
  });

  it.each([
    [{}, /^mode:/],
    [{ mode: "sideways" }, /^mode:/],
    [{ mode: "exact", overrides: { k_max: 2 } }, /^overrides:/],
    [{ mode: "config", overrides: { k_max: 0 } }, /^overrides\.k_max:/],
    [{ mode: "config", overrides: { colour: 1 } }, /colour/],
    [{ mode: "config", config: "nightly" }, /^config:/],
  ])("rejects %j with 400 naming the field and stores nothing", async (body, message) => {
    const original = await generate({ prompt: prompts[0], max_tokens: 4 });
    const before = countDerived(fx.database.db);
    const response = await replay(original.trace_id, body);
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(message);
    expect(countDerived(fx.database.db)).toEqual(before);
  });

  it("answers 404 for an unknown trace and 400 for a malformed id", async () => {
    expect((await replay("f".repeat(32), { mode: "exact" })).status).toBe(404);
    const bad = await replay("nope", { mode: "exact" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^traceId:/);
  });
});
