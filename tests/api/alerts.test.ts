import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { POST as ackRoute } from "@/app/api/alerts/[id]/ack/route";
import { GET as listRoute } from "@/app/api/alerts/route";
import { closeDatabase, getDatabase } from "@/db/client";
import { alertHistory, applyVerdict } from "@/db/alerts/store";
import { DEFAULT_ALERT_RULES } from "@/engine";
import { makeTempDir } from "../support/temp";

let temp: ReturnType<typeof makeTempDir>;
const saved = { db: process.env.SPECLENS_DB, keys: process.env.SPECLENS_API_KEYS };
const series = { configVersion: "1", targetModelId: "t@sha256:aa", draftModelId: "d@sha256:bb", proposer: "draft-model" };

beforeEach(() => {
  temp = makeTempDir();
  process.env.SPECLENS_DB = `${temp.dir}/api.db`;
  delete process.env.SPECLENS_API_KEYS;
  // One firing alert (confirmRequests 0 fires at once) and one resolved.
  const { sqlite } = getDatabase();
  const rules = { ...DEFAULT_ALERT_RULES, confirmRequests: 0 };
  const verdict = { rule: "acceptance-drift" as const, breach: true, value: 0.38, baseline: 0.46, threshold: 0.4, detail: "drop" };
  const window = [{ traceId: "a".repeat(32), endNs: 1_000_000n, accepted: 1, drafted: 2, positionCounts: [], targetConfidence: null, targetConfidenceN: 0, draftConfidence: null, draftConfidenceN: 0 }];
  applyVerdict(sqlite, series, rules, { ...verdict, rule: "acceptance-floor", baseline: null }, window, 1000);
  applyVerdict(sqlite, series, rules, { ...verdict, rule: "acceptance-floor", baseline: null, breach: false, value: 0.5 }, window, 2000);
  applyVerdict(sqlite, series, rules, verdict, window, 3000);
});
afterEach(() => {
  closeDatabase();
  temp.cleanup();
  process.env.SPECLENS_DB = saved.db;
  if (saved.keys === undefined) delete process.env.SPECLENS_API_KEYS;
  else process.env.SPECLENS_API_KEYS = saved.keys;
});

const list = async (query: string, headers: Record<string, string> = {}) => {
  const response = await listRoute(new Request(`http://localhost/api/alerts${query}`, { headers }));
  return { status: response.status, body: (await response.json()) as { alerts: Record<string, unknown>[]; error?: { message: string } } };
};
const ack = (id: string, body: unknown) =>
  ackRoute(new Request(`http://localhost/api/alerts/${id}/ack`, { method: "POST", body: JSON.stringify(body) }), { params: Promise.resolve({ id }) });

describe("GET /api/alerts", () => {
  it("lists alerts by state, firing first, in the documented shape", async () => {
    const all = await list("?state=all");
    expect(all.status).toBe(200);
    expect(all.body.alerts.map((a) => [a.rule, a.state])).toEqual([["acceptance-drift", "firing"], ["acceptance-floor", "resolved"]]);
    expect(all.body.alerts[0]).toMatchObject({ id: expect.any(Number), configVersion: "1", series, value: 0.38, baseline: 0.46, threshold: 0.4, firedAt: expect.any(String), resolvedAt: null, traceIds: ["a".repeat(32)] });
    expect((await list("?state=firing")).body.alerts).toHaveLength(1);
    expect((await list("?state=resolved")).body.alerts.map((a) => a.rule)).toEqual(["acceptance-floor"]);
    const bad = await list("?state=loud");
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/^state/);
  });

  it("needs an API key when keys are configured", async () => {
    process.env.SPECLENS_API_KEYS = "k1";
    expect((await list("")).status).toBe(401);
    expect((await list("", { authorization: "Bearer k1" })).status).toBe(200);
  });
});

describe("POST /api/alerts/{id}/ack", () => {
  it("acknowledges with a note, kept in the history; a bad body is a 400 naming the field and writes nothing", async () => {
    const [firing] = (await list("?state=firing")).body.alerts as { id: number }[];
    const empty = await ack(String(firing.id), { note: " " });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { message: string } }).error.message).toMatch(/^note/);
    expect(alertHistory(getDatabase().sqlite, firing.id).some((t) => t.toState === "acknowledged")).toBe(false);

    const ok = await ack(String(firing.id), { note: "known: load test" });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { alert: { acknowledged: unknown } }).alert.acknowledged).toMatchObject({ by: "local", note: "known: load test" });
    expect(alertHistory(getDatabase().sqlite, firing.id).at(-1)).toMatchObject({ toState: "acknowledged", by: "local", note: "known: load test" });
    expect((await ack("999", { note: "x" })).status).toBe(404);
    expect((await ack("abc", { note: "x" })).status).toBe(400);
  });
});
