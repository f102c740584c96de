import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { webhookTargets } from "@/app/_lib/alerts/webhooks";
import { GET as getAudit } from "@/app/api/audit/route";
import { GET as getVersion } from "@/app/api/guardrails/[version]/route";
import { GET as getDiff } from "@/app/api/guardrails/diff/route";
import { GET as getGuardrails, POST as createVersion } from "@/app/api/guardrails/route";
import { POST as validateVersion } from "@/app/api/guardrails/validate/route";
import { GET as getSettings, PATCH as patchSettings } from "@/app/api/settings/route";
import { POST as webhookTest } from "@/app/api/settings/webhook-test/route";
import type { AlertEvent } from "@/db/alerts/store";
import { closeDatabase, getDatabase, getDb } from "@/db/client";
import { getConfigVersion, listAudit } from "@/db/queries/configs";
import { maskUrl } from "@/db/queries/settings";
import { effectiveRetention } from "@/db/tracing/retention";
import { DEFAULT_ALERT_RULES } from "@/engine";
import { makeTempDir } from "../support/temp";

/*
 * Runtime settings through their route handlers on a real SQLite file, with authentication on (env keys
 * of every role): validation (400 naming the field, nothing written), precedence (saved > environment >
 * off), the audit log (caller, before/after, webhook URLs masked), admin only, the test notification,
 * the readers (retention policy, alert webhook targets), and the guardrail versions an editor may not
 * use to add or change a webhook URL. Tests share one database and run in order.
 */

const KEYS = { viewer: "settings-viewer-key", editor: "settings-editor-key", admin: "settings-admin-key" } as const;
const identity = (role: keyof typeof KEYS) => `key:env#${createHash("sha256").update(KEYS[role]).digest("hex").slice(0, 8)}`;
const ENV_NAMES = ["SPECLENS_DB", "SPECLENS_API_KEYS", "SPECLENS_RETENTION_DAYS", "SPECLENS_MAX_DB_MB", "SPECLENS_ALERT_WEBHOOK"] as const;
const saved = Object.fromEntries(ENV_NAMES.map((n) => [n, process.env[n]]));
const temp = makeTempDir("speclens-settings-");

beforeAll(() => {
  process.env.SPECLENS_DB = path.join(temp.dir, "speclens.db");
  process.env.SPECLENS_API_KEYS = Object.entries(KEYS).map(([role, key]) => `${key}:${role}`).join(",");
  process.env.SPECLENS_RETENTION_DAYS = "7";
  delete process.env.SPECLENS_MAX_DB_MB;
  process.env.SPECLENS_ALERT_WEBHOOK = "http://127.0.0.1:9/env-hook";
});
afterAll(() => {
  closeDatabase();
  for (const name of ENV_NAMES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  temp.cleanup();
});

const request = (method: string, url: string, role: keyof typeof KEYS, body?: unknown) =>
  new Request(`http://localhost${url}`, {
    method,
    headers: { authorization: `Bearer ${KEYS[role]}`, "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
const get = (role: keyof typeof KEYS = "admin") => getSettings(request("GET", "/api/settings", role));
const patch = (body: unknown, role: keyof typeof KEYS = "admin") => patchSettings(request("PATCH", "/api/settings", role, body));

interface View { value: number | string; source: string; savedBy: string | null; savedAt: string | null; default: { value: number | string; source: string; variable: string } }
type Settings = Record<"retentionDays" | "maxDbMb" | "alertWebhook", View>;
const settingsOf = async (response: Response) => ((await response.json()) as { settings: Settings }).settings;

/** Rows of the settings and audit tables plus total_changes(): any write shows up. */
function writes() {
  const sqlite = getDatabase().sqlite;
  const n = (table: string) => Number(sqlite.prepare(`SELECT count(*) FROM ${table}`).pluck().get());
  return { settings: n("runtime_settings"), audit: n("config_audit"), changes: sqlite.prepare("SELECT total_changes()").pluck().get() };
}

describe("GET /api/settings", () => {
  it("shows each effective value and its source: the environment's, else off", async () => {
    const response = await get();
    expect(response.status).toBe(200);
    const settings = await settingsOf(response);
    expect(settings.retentionDays).toMatchObject({ value: 7, source: "environment", savedBy: null, default: { value: 7, source: "environment", variable: "SPECLENS_RETENTION_DAYS" } });
    expect(settings.maxDbMb).toMatchObject({ value: 0, source: "default", default: { value: 0, source: "default", variable: "SPECLENS_MAX_DB_MB" } });
    expect(settings.alertWebhook).toMatchObject({ value: "http://127.0.0.1:9/env-hook", source: "environment" });
  });

  it("is admin only: a viewer or an editor gets 403 naming settings:read (the webhook URL can hold a secret)", async () => {
    for (const role of ["viewer", "editor"] as const) {
      const response = await get(role);
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/^settings:read needs the admin role/);
    }
  });
});

describe("PATCH /api/settings", () => {
  it.each(([
    [{ retentionDays: 3651 }, "retentionDays"],
    [{ retentionDays: -1 }, "retentionDays"],
    [{ retentionDays: 1.5 }, "retentionDays"],
    [{ retentionDays: "30" }, "retentionDays"],
    [{ maxDbMb: 1_000_001 }, "maxDbMb"],
    [{ maxDbMb: 2.5 }, "maxDbMb"],
    [{ maxDbMb: true }, "maxDbMb"],
    [{ alertWebhook: "ftp://example.com/hook" }, "alertWebhook"],
    [{ alertWebhook: "javascript:alert(1)" }, "alertWebhook"],
    [{ alertWebhook: "not a url" }, "alertWebhook"],
    [{ alertWebhook: 42 }, "alertWebhook"],
    [{ alertWebhook: `https://example.com/${"x".repeat(2100)}` }, "alertWebhook"],
    [{ retentionDays: 30, maxDbMb: -5 }, "maxDbMb"],
  ] as const).map(([body, field]) => [JSON.stringify(body).slice(0, 60), body, field] as const))("refuses %s with 400 naming the field, and writes nothing", async (_label, body, field) => {
    const before = writes();
    const response = await patch(body);
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: { message: string; param: string }; issues: { path: string; message: string }[] };
    expect(answer.error.param).toBe(field);
    expect(answer.error.message.startsWith(`${field}: `)).toBe(true);
    expect(answer.issues.map((i) => i.path)).toEqual([field]);
    expect(writes()).toEqual(before);
  });

  it("refuses an empty patch, an unknown field and a body that is not JSON, writing nothing", async () => {
    const before = writes();
    for (const body of [{}, { retentionDays: 30, retention: 30 }, "{", "[]", "null"]) {
      const response = await patch(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect(((await (await patch({})).json()) as { error: { message: string } }).error.message).toMatch(/nothing to change/);
    expect(writes()).toEqual(before);
  });

  it("is admin only: an editor gets 403 naming settings:write, and nothing is written", async () => {
    const before = writes();
    const response = await patch({ retentionDays: 1 }, "editor");
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/^settings:write needs the admin role; key:env#[0-9a-f]{8} has editor/);
    expect(writes()).toEqual(before);
  });

  it("saves a value that wins over the environment, audited with the caller and before/after", async () => {
    const response = await patch({ retentionDays: 30 });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { settings: Settings; changed: string[] };
    expect(body.changed).toEqual(["retentionDays"]);
    expect(body.settings.retentionDays).toMatchObject({ value: 30, source: "saved", savedBy: identity("admin"), default: { value: 7, source: "environment" } });
    expect(body.settings.maxDbMb.source).toBe("default");
    expect((await settingsOf(await get())).retentionDays.value).toBe(30);
    const [entry] = listAudit(getDb(), { action: "settings.update" }).entries;
    expect(entry).toMatchObject({ actor: identity("admin"), action: "settings.update", subject: "settings", before: { retentionDays: null }, after: { retentionDays: 30 } });
    expect(effectiveRetention(getDb())).toEqual({ maxAgeDays: 30, maxBytes: null });
  });

  it("writes nothing (no audit entry) when the patch matches what is saved", async () => {
    const before = writes();
    const response = await patch({ retentionDays: 30 });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { changed: string[] }).changed).toEqual([]);
    expect(writes()).toEqual(before);
  });

  it("saves 0 to switch a limit off whatever the environment says, and null to follow the environment again", async () => {
    let settings = await settingsOf(await patch({ retentionDays: 0, maxDbMb: 512 }));
    expect(settings.retentionDays).toMatchObject({ value: 0, source: "saved" });
    expect(settings.maxDbMb).toMatchObject({ value: 512, source: "saved" });
    expect(effectiveRetention(getDb())).toEqual({ maxAgeDays: null, maxBytes: 512 * 1024 * 1024 });
    settings = await settingsOf(await patch({ retentionDays: null, maxDbMb: null }));
    expect(settings.retentionDays).toMatchObject({ value: 7, source: "environment", savedBy: null });
    expect(settings.maxDbMb).toMatchObject({ value: 0, source: "default" });
    expect(effectiveRetention(getDb())).toEqual({ maxAgeDays: 7, maxBytes: null });
    const [reset, set] = listAudit(getDb(), { action: "settings.update" }).entries;
    expect(set).toMatchObject({ before: { retentionDays: 30, maxDbMb: null }, after: { retentionDays: 0, maxDbMb: 512 } });
    expect(reset).toMatchObject({ before: { retentionDays: 0, maxDbMb: 512 }, after: { retentionDays: null, maxDbMb: null } });
  });

  it("saves a webhook URL (trimmed), masked beyond scheme and host in the audit log, and used for every alert from then on", async () => {
    const secret = "https://hooks.slack.com/services/T000/B000/SECRETSECRET?token=abc";
    const settings = await settingsOf(await patch({ alertWebhook: `  ${secret} ` }));
    expect(settings.alertWebhook).toMatchObject({ value: secret, source: "saved", default: { value: "http://127.0.0.1:9/env-hook", source: "environment" } });
    const [entry] = listAudit(getDb(), { action: "settings.update" }).entries;
    expect(entry.before).toEqual({ alertWebhook: null });
    expect(entry.after).toEqual({ alertWebhook: "https://hooks.slack.com/…" });
    const auditText = getDatabase().sqlite.prepare("SELECT group_concat(coalesce(before_json, '') || after_json) FROM config_audit").pluck().get() as string;
    expect(auditText).not.toContain("SECRET");
    expect(auditText).not.toContain("token");

    expect(webhookTargets(EVENT, process.env, getDb())).toEqual([secret]);
    // Without the database (or before anything is saved) the environment's hook is the global one.
    expect(webhookTargets(EVENT, process.env)).toEqual(["http://127.0.0.1:9/env-hook"]);
  });

  it('saves "" for no global webhook (over the environment\'s), and null returns to the environment\'s', async () => {
    let settings = await settingsOf(await patch({ alertWebhook: "" }));
    expect(settings.alertWebhook).toMatchObject({ value: "", source: "saved" });
    expect(webhookTargets(EVENT, process.env, getDb())).toEqual([]);
    expect(listAudit(getDb(), { action: "settings.update" }).entries[0]).toMatchObject({ before: { alertWebhook: "https://hooks.slack.com/…" }, after: { alertWebhook: "" } });
    settings = await settingsOf(await patch({ alertWebhook: null }));
    expect(settings.alertWebhook).toMatchObject({ value: "http://127.0.0.1:9/env-hook", source: "environment" });
    expect(webhookTargets(EVENT, process.env, getDb())).toEqual(["http://127.0.0.1:9/env-hook"]);
  });
});

const EVENT: AlertEvent = {
  kind: "firing",
  rules: DEFAULT_ALERT_RULES,
  alert: {
    id: 1, rule: "acceptance-drift", state: "firing", configVersion: "1",
    series: { configVersion: "1", targetModelId: "t", draftModelId: "d", proposer: "draft-model" },
    value: 0.3, baseline: 0.5, threshold: 0.4, detail: "test", openedAt: "2026-12-03T07:00:00.000Z", firedAt: null, resolvedAt: null, acknowledged: null, traceIds: [],
  },
};

/** A local receiver answering `status` and keeping every body. */
async function receiver(status: number) {
  const bodies: { text: string; event: string }[] = [];
  const server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => {
      bodies.push(JSON.parse(data));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/secret-part`;
  return { url, bodies, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("POST /api/settings/webhook-test", () => {
  const test = (role: keyof typeof KEYS = "admin") => webhookTest(request("POST", "/api/settings/webhook-test", role));

  it("posts one Slack-compatible {text} to the global webhook and reports the status, writing nothing", async () => {
    for (const status of [200, 500]) {
      const hook = await receiver(status);
      try {
        await patch({ alertWebhook: hook.url });
        const before = writes();
        const response = await test();
        expect(response.status).toBe(200);
        const answer = (await response.json()) as { ok: boolean; status: number; url: string; durationMs: number };
        expect(answer).toMatchObject({ ok: status === 200, status, url: `${new URL(hook.url).origin}/…` });
        expect(hook.bodies).toHaveLength(1);
        expect(hook.bodies[0].text).toMatch(/^\[SpecLens\] Test notification sent by key:env#[0-9a-f]{8}/);
        expect(writes()).toEqual(before);
      } finally {
        await hook.close();
      }
    }
  });

  it("answers 409 naming alertWebhook when there is none, and 403 to an editor", async () => {
    await patch({ alertWebhook: "" });
    const none = await test();
    expect(none.status).toBe(409);
    expect(((await none.json()) as { error: { param: string } }).error.param).toBe("alertWebhook");
    const editor = await test("editor");
    expect(editor.status).toBe(403);
    expect(((await editor.json()) as { error: { message: string } }).error.message).toMatch(/^settings:write/);
  });
});

describe("webhook URLs in guardrail config versions", () => {
  const create = (role: keyof typeof KEYS, baseVersion: number, config: Record<string, unknown>) =>
    createVersion(request("POST", "/api/guardrails", role, { baseVersion, message: "test", config }));
  const versions = () => Number(getDatabase().sqlite.prepare("SELECT count(*) FROM config_versions").pluck().get());
  let latest = 1;

  beforeEach(async () => {
    // The store creates version 1 on first read.
    await getGuardrails(request("GET", "/api/guardrails", "viewer"));
  });

  it("refuses an editor's version that adds a webhook URL: 403 naming settings:write and the field, nothing written", async () => {
    const before = { versions: versions(), ...writes() };
    for (const [alerts, field] of [
      [{ webhook: "https://attacker.example/collect" }, "config.alerts.webhook"],
      [{ rules: { "acceptance-drift": { webhook: "https://attacker.example/collect" } } }, "config.alerts.rules.acceptance-drift.webhook"],
    ] as const) {
      const response = await create("editor", 1, { alerts });
      expect(response.status).toBe(403);
      const { error } = (await response.json()) as { error: { message: string; param: string; code: string } };
      expect(error.param).toBe(field);
      expect(error.code).toBe("forbidden");
      expect(error.message).toMatch(new RegExp(`^settings:write needs the admin role to add or change a webhook URL \\(${field.replace(/\./g, "\\.")}\\); key:env#[0-9a-f]{8} has editor$`));
    }
    expect({ versions: versions(), ...writes() }).toEqual(before);
  });

  it("lets an admin add one", async () => {
    const response = await create("admin", 1, { alerts: { webhook: "https://hooks.example.com/a", rules: { "position-drift": { webhook: "https://hooks.example.com/p" } } } });
    expect(response.status).toBe(201);
    latest = ((await response.json()) as { version: number }).version;
  });

  it("lets an editor build on that version when its webhook URLs stay as they are", async () => {
    const response = await create("editor", latest, { kMax: 6, alerts: { falseAlarmRate: 0.002 } });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { version: number; config: { kMax: number; alerts: typeof DEFAULT_ALERT_RULES } };
    // The editor is shown the hooks masked; the version holds them in full.
    expect(body.config.alerts.webhook).toBe("https://hooks.example.com/…");
    const stored = getConfigVersion(getDb(), body.version)!.config.alerts;
    expect(stored.webhook).toBe("https://hooks.example.com/a");
    expect(stored.rules["position-drift"].webhook).toBe("https://hooks.example.com/p");
    // Repeating the parent's URLs explicitly is not a change either.
    const same = await create("editor", body.version, { alerts: { webhook: "https://hooks.example.com/a" } });
    expect(same.status).toBe(201);
    latest = ((await same.json()) as { version: number }).version;
  });

  it("refuses an editor's version that changes or removes the parent's URLs, naming every changed field", async () => {
    const before = versions();
    const changed = await create("editor", latest, { alerts: { webhook: "https://hooks.example.com/b", rules: { "position-drift": { webhook: null } } } });
    expect(changed.status).toBe(403);
    const { error } = (await changed.json()) as { error: { message: string; param: string } };
    expect(error.param).toBe("config.alerts.webhook");
    expect(error.message).toContain("(config.alerts.webhook, config.alerts.rules.position-drift.webhook)");
    expect(versions()).toBe(before);
  });

  it("shows viewers and editors the URLs cut to scheme and host (versions, one version, diff, dry run, audit), admins in full", async () => {
    type Version = { version: number; config: { alerts: typeof DEFAULT_ALERT_RULES } };
    const list = async (role: keyof typeof KEYS) => ((await (await getGuardrails(request("GET", "/api/guardrails", role))).json()) as { versions: Version[] }).versions;
    const withHook = (versions: Version[]) => versions.find((v) => v.version === latest)!;
    for (const role of ["viewer", "editor"] as const) {
      expect(withHook(await list(role)).config.alerts.webhook).toBe("https://hooks.example.com/…");
      const one = (await (await getVersion(request("GET", `/api/guardrails/${latest}`, role), { params: Promise.resolve({ version: String(latest) }) })).json()) as Version;
      expect(one.config.alerts.rules["position-drift"].webhook).toBe("https://hooks.example.com/…");
      const diff = (await (await getDiff(request("GET", `/api/guardrails/diff?from=1&to=${latest}`, role))).json()) as { changes: { path: string; to: unknown }[] };
      expect(diff.changes.find((c) => c.path === "alerts.webhook")?.to).toBe("https://hooks.example.com/…");
      // The editor's dry run returns the merged config and its changes: masked too.
      const dryRun = (await (await validateVersion(request("POST", "/api/guardrails/validate", role, { baseVersion: 1, config: { alerts: { webhook: "https://hooks.example.com/a" } } }))).json()) as Version & { changes: { path: string; to: unknown }[] };
      expect(dryRun.config.alerts.webhook).toBe("https://hooks.example.com/…");
      expect(dryRun.changes.find((c) => c.path === "alerts.webhook")?.to).toBe("https://hooks.example.com/…");
      const audit = JSON.stringify(await (await getAudit(request("GET", "/api/audit?limit=50", role))).json());
      expect(audit).not.toContain("hooks.example.com/a");
      expect(audit).not.toContain("hooks.example.com/p");
    }
    expect(withHook(await list("admin")).config.alerts.webhook).toBe("https://hooks.example.com/a");
    const adminDryRun = (await (await validateVersion(request("POST", "/api/guardrails/validate", "admin", { baseVersion: 1, config: { alerts: { webhook: "https://hooks.example.com/a" } } }))).json()) as Version;
    expect(adminDryRun.config.alerts.webhook).toBe("https://hooks.example.com/a");
    expect(JSON.stringify(await (await getAudit(request("GET", "/api/audit?limit=50", "admin"))).json())).toContain("hooks.example.com/a");
  });

  it("lets an editor save back the masked config it was shown: the hooks stay the base's in full", async () => {
    const shown = ((await (await getVersion(request("GET", `/api/guardrails/${latest}`, "editor"), { params: Promise.resolve({ version: String(latest) }) })).json()) as { config: Record<string, unknown> }).config;
    const response = await create("editor", latest, { ...shown, kMax: 5 });
    expect(response.status).toBe(201);
    const version = ((await response.json()) as { version: number }).version;
    const stored = getConfigVersion(getDb(), version)!.config;
    expect(stored.kMax).toBe(5);
    expect(stored.alerts.webhook).toBe("https://hooks.example.com/a");
    expect(stored.alerts.rules["position-drift"].webhook).toBe("https://hooks.example.com/p");
    // A masked value of another host is not the base's hook: it is a change, and an editor may not make it.
    const other = await create("editor", version, { alerts: { webhook: "https://elsewhere.example/…" } });
    expect(other.status).toBe(403);
  });

  it("masks a URL to scheme and host", () => {
    expect(maskUrl("https://hooks.slack.com/services/T/B/X")).toBe("https://hooks.slack.com/…");
    expect(maskUrl("http://user:pw@example.com:8080")).toBe("http://example.com:8080/…");
    expect(maskUrl("https://example.com")).toBe("https://example.com/");
    expect(maskUrl("")).toBe("");
  });
});
