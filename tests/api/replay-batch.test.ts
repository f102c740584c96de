import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchJob } from "@/app/_lib/replay/batch";
import { DELETE as cancelRoute, GET as jobRoute } from "@/app/api/replay/batch/[jobId]/route";
import { POST as batchRoute } from "@/app/api/replay/batch/route";
import { heldoutPrompts } from "../support/models";
import { generate } from "../support/replay-api";
import { startEngineApp } from "../support/engine-app";

/* Batch replay through the routes on the shipped pair: by ids and by filter to a summary, cancel, bad input. */

let close: () => Promise<void>;
let fx: ReturnType<typeof startEngineApp>["fx"];
beforeAll(() => ({ close, fx } = startEngineApp()));
afterAll(() => close());

const post = async (body: unknown) => {
  const response = await batchRoute(new Request("http://localhost/api/replay/batch", { method: "POST", body: JSON.stringify(body) }));
  return { status: response.status, body: (await response.json()) as BatchJob & { error: { message: string } } };
};
const job = async (id: string) => (await (await jobRoute(new Request(`http://localhost/api/replay/batch/${id}`), { params: Promise.resolve({ jobId: id }) })).json()) as BatchJob;

async function finished(id: string): Promise<BatchJob> {
  for (;;) {
    const j = await job(id);
    if (j.state !== "running") return j;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("POST /api/replay/batch", () => {
  it("replays traces by id and by filter to a summary", async () => {
    const ids: string[] = [];
    for (const prompt of heldoutPrompts(3, 12)) ids.push((await generate({ prompt, max_tokens: 12, proposer: "ngram" })).trace_id);
    const started = await post({ mode: "exact", trace_ids: ids });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ total: 3, state: "running" });
    const done = await finished(started.body.id);
    expect(done).toMatchObject({ state: "done", done: 3, summary: { reproduced: 3, diverged: 0, failed: 0, verdicts: { reproduced: 3 } } });
    expect(done.items.map((i) => i.traceId)).toEqual(ids);

    // The filter skips the replays the first batch stored.
    const byFilter = await post({ mode: "target-only", filter: { proposer: "ngram", limit: 10 } });
    expect(byFilter.body.total).toBe(3);
    const filtered = await finished(byFilter.body.id);
    expect(filtered.summary.reproduced + filtered.summary.diverged).toBe(3);
  });

  it("replays the breaching window of an alert", async () => {
    const ids: string[] = [];
    for (const prompt of heldoutPrompts(2, 10)) ids.push((await generate({ prompt, max_tokens: 8 })).trace_id);
    // An alert as the evaluator stores it: the requests of its breaching window.
    fx.database.db.run(sql`insert into alerts (rule, series_key, state, opened_at_ms, trace_ids_json) values ('floor', '{"test":1}', 'firing', ${Date.now()}, ${JSON.stringify(ids)})`);
    const alertId = Number(fx.database.db.get<{ id: number }>(sql`select max(id) as id from alerts`).id);
    const started = await post({ mode: "exact", alert: alertId });
    expect(started.status).toBe(202);
    const done = await finished(started.body.id);
    expect(done).toMatchObject({ source: `alert ${alertId}`, total: 2, summary: { reproduced: 2 } });
    expect(done.items.map((i) => i.traceId)).toEqual(ids);
  });

  it("cancels a running job", async () => {
    const ids: string[] = [];
    for (const prompt of heldoutPrompts(4, 12)) ids.push((await generate({ prompt, max_tokens: 48 })).trace_id);
    const started = await post({ mode: "exact", trace_ids: ids });
    const cancelled = await cancelRoute(new Request("http://localhost/x", { method: "DELETE" }), { params: Promise.resolve({ jobId: started.body.id }) });
    expect(cancelled.status).toBe(200);
    const end = await finished(started.body.id);
    expect(end.state).toBe("cancelled");
    expect(end.done).toBeLessThan(4);
  });

  it.each([
    [{ mode: "exact" }, /^trace_ids:/],
    [{ mode: "exact", trace_ids: ["a".repeat(32)], alert: 1 }, /^alert:/],
    [{ mode: "exact", trace_ids: ["XYZ"] }, /^trace_ids\.0:/],
    [{ mode: "exact", trace_ids: ["a".repeat(32)] }, /^trace_ids:.*not a stored original/],
    [{ mode: "exact", alert: 999 }, /^alert:/],
    [{ mode: "exact", filter: { proposer: "nothing-like-this" } }, /^filter:/],
    [{ mode: "config", filter: {}, overrides: { k_max: 99 } }, /^overrides\.k_max:/],
    [{ mode: "backwards", trace_ids: ["a".repeat(32)] }, /^mode:/],
  ])("rejects %j with 400 naming the field", async (body, message) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(message);
  });

  it("answers 404 for an unknown job", async () => {
    expect((await jobRoute(new Request("http://localhost/x"), { params: Promise.resolve({ jobId: "nope" }) })).status).toBe(404);
  });
});
