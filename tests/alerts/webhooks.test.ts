import http from "node:http";
import type { AddressInfo } from "node:net";
import { beforeEach, describe, expect, it } from "vitest";
import { deliver, deliveryLog, webhookTargets, webhookText } from "@/app/_lib/alerts/webhooks";
import type { OpenDatabase } from "@/db/client";
import type { AlertEvent } from "@/db/alerts/store";
import { updateSettings } from "@/db/queries/settings";
import { DEFAULT_ALERT_RULES } from "@/engine";
import { freshDatabasePerTest } from "../support/database";

/** A local receiver on 127.0.0.1 that answers the given statuses in turn (then 200) and keeps every body. */
async function receiver(statuses: number[]) {
  const bodies: { text: string; event: string; alert: { id: number } }[] = [];
  const at: number[] = [];
  const server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => {
      bodies.push(JSON.parse(data));
      at.push(Date.now());
      res.writeHead(statuses.shift() ?? 200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, bodies, at, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const EVENT: AlertEvent = {
  kind: "firing",
  rules: { ...DEFAULT_ALERT_RULES, webhook: "http://127.0.0.1:1/version-hook", rules: { ...DEFAULT_ALERT_RULES.rules, "acceptance-drift": { ...DEFAULT_ALERT_RULES.rules["acceptance-drift"], webhook: "http://127.0.0.1:1/rule-hook" } } },
  alert: {
    id: 7, rule: "acceptance-drift", state: "firing", configVersion: "2",
    series: { configVersion: "2", targetModelId: "t@sha256:aa", draftModelId: "d@sha256:bb", proposer: "draft-model" },
    value: 0.38, baseline: 0.46, threshold: 0.4, detail: "acceptance 0.380 over the last 30 requests vs 0.460 baseline",
    openedAt: "2026-12-03T07:00:00.000Z", firedAt: "2026-12-03T07:00:03.000Z", resolvedAt: null, acknowledged: null, traceIds: ["abc"],
  },
};

const freshDatabase = freshDatabasePerTest();
let database: OpenDatabase;
beforeEach(() => {
  database = freshDatabase();
});

describe("alert webhooks", () => {
  it("deliver JSON with a Slack-compatible text, retrying failures with backoff, every attempt logged", async () => {
    const hook = await receiver([500, 503]);
    try {
      const ok = await deliver(database.sqlite, EVENT, hook.url, { attempts: 4, backoffMs: 50 });
      expect(ok).toBe(true);
      expect(hook.bodies).toHaveLength(3);
      expect(hook.bodies[2].text).toMatch(/^\[SpecLens\] FIRING acceptance-drift \(config v2, draft-model/);
      expect(hook.bodies[2].alert.id).toBe(7);
      expect(hook.bodies[2].event).toBe("firing");
      // Backoff doubles: ~50 ms, then ~100 ms.
      expect(hook.at[1] - hook.at[0]).toBeGreaterThanOrEqual(45);
      expect(hook.at[2] - hook.at[1]).toBeGreaterThanOrEqual(95);
      const log = deliveryLog(database.sqlite, 7).reverse();
      expect(log.map((d) => [d.attempt, d.status, d.ok])).toEqual([[1, 500, false], [2, 503, false], [3, 200, true]]);
    } finally {
      await hook.close();
    }
  });

  it("give up after the last attempt when nothing listens, and log why", async () => {
    const hook = await receiver([]);
    await hook.close(); // the port is now closed: connection refused
    const ok = await deliver(database.sqlite, EVENT, hook.url, { attempts: 2, backoffMs: 10 });
    expect(ok).toBe(false);
    const log = deliveryLog(database.sqlite, 7);
    expect(log).toHaveLength(2);
    expect(log.every((d) => !d.ok && d.status === null && d.error)).toBe(true);
  });

  it("go to the global hook, the version's and the rule's", () => {
    expect(webhookTargets(EVENT, { SPECLENS_ALERT_WEBHOOK: "http://127.0.0.1:1/global" })).toEqual([
      "http://127.0.0.1:1/global", "http://127.0.0.1:1/version-hook", "http://127.0.0.1:1/rule-hook",
    ]);
    expect(webhookTargets({ ...EVENT, rules: DEFAULT_ALERT_RULES }, {})).toEqual([]);
    expect(webhookText({ ...EVENT, kind: "resolved" })).toContain("RESOLVED acceptance-drift");
  });

  it("take the global hook saved on /settings over SPECLENS_ALERT_WEBHOOK, looked up at each event", () => {
    const env = { SPECLENS_ALERT_WEBHOOK: "http://127.0.0.1:1/env-global" };
    const plain = { ...EVENT, rules: DEFAULT_ALERT_RULES };
    expect(webhookTargets(plain, env, database.db)).toEqual(["http://127.0.0.1:1/env-global"]);
    updateSettings(database.db, { alertWebhook: "http://127.0.0.1:1/saved-global" }, "test");
    expect(webhookTargets(plain, env, database.db)).toEqual(["http://127.0.0.1:1/saved-global"]);
    expect(webhookTargets(EVENT, {}, database.db)).toEqual(["http://127.0.0.1:1/saved-global", "http://127.0.0.1:1/version-hook", "http://127.0.0.1:1/rule-hook"]);
    // "" saved: no global hook, whatever the environment says; the version's and the rule's still apply.
    updateSettings(database.db, { alertWebhook: "" }, "test");
    expect(webhookTargets(EVENT, env, database.db)).toEqual(["http://127.0.0.1:1/version-hook", "http://127.0.0.1:1/rule-hook"]);
    updateSettings(database.db, { alertWebhook: null }, "test");
    expect(webhookTargets(plain, env, database.db)).toEqual(["http://127.0.0.1:1/env-global"]);
  });
});
