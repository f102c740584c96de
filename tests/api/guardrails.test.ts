import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, getDatabase } from "@/db/client";
import { guardrailsApi as api } from "../support/guardrails-api";
import { makeTempDir } from "../support/temp";

/*
 * The guardrail config API (store side) through its route handlers on a real SQLite file: versions,
 * validation naming every field with nothing written, stale bases, labels, rollback, diff and audit.
 * Tests run in order and share one database, as a user's session would.
 */

const temp = makeTempDir("speclens-guardrails-");
const savedDb = process.env.SPECLENS_DB;
beforeAll(() => {
  process.env.SPECLENS_DB = path.join(temp.dir, "speclens.db");
});
afterAll(() => {
  closeDatabase();
  if (savedDb === undefined) delete process.env.SPECLENS_DB;
  else process.env.SPECLENS_DB = savedDb;
  temp.cleanup();
});

const counts = () => {
  const sqlite = getDatabase().sqlite;
  const n = (table: string) => Number((sqlite.prepare(`select count(*) n from ${table}`).get() as { n: bigint }).n);
  return { versions: n("config_versions"), labels: n("config_labels"), audit: n("config_audit"), changes: sqlite.prepare("select total_changes() n").get() };
};

interface VersionBody { version: number; config: Record<string, unknown> & { kMax: number }; message: string; author: string; createdAt: string; labels: string[]; baseVersion: number | null }

describe("guardrail config API", () => {
  it("lists version 1 labelled production", async () => {
    const res = await api.list();
    expect(res.status).toBe(200);
    const body = (await res.json()) as { versions: VersionBody[]; labels: Record<string, number>; protectedLabels: string[] };
    expect(body.labels).toEqual({ production: 1 });
    expect(body.protectedLabels).toEqual(["production"]);
    expect(body.versions).toHaveLength(1);
    expect(body.versions[0]).toMatchObject({ version: 1, labels: ["production"], author: "speclens", figures: { requests: 0 } });
    expect(body.versions[0].config).toMatchObject({ proposer: "draft-model", fallback: null, load: null, limits: { maxTokens: 2048 } });
  });

  it("refuses a bad config with 400 naming every field, and writes nothing", async () => {
    const before = counts();
    const res = await api.create({
      baseVersion: 1, message: "broken",
      config: { kMax: 0, ngram: { minN: 5, maxN: 2 }, fallback: { window: 0, minAcceptance: 1.5, cooldownSeconds: 0 }, limits: { overrides: { allowed: ["nope"] } }, alerts: { rules: { "acceptance-floor": { threshold: 2 } } }, typo: 1 },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; message: string; code: string }; issues: { path: string; message: string }[] };
    expect(body.error.code).toBe("invalid_config");
    const paths = body.issues.map((i) => i.path);
    for (const p of ["config.kMax", "config.ngram.minN", "config.fallback.window", "config.fallback.minAcceptance", "config.limits.overrides.allowed", "config.alerts.rules.acceptance-floor.threshold", "config.typo"]) expect(paths).toContain(p);
    expect(body.error.message).toMatch(/config\.kMax: /);
    expect(body.issues.find((i) => i.path === "config.typo")?.message).toBe("unknown field");
    expect(counts()).toEqual(before);
  });

  it("refuses a missing message, a missing base and a malformed body with 400, writing nothing", async () => {
    const before = counts();
    for (const [body, param] of [
      [{ baseVersion: 1, message: "  ", config: {} }, "message"],
      [{ baseVersion: 9, message: "x", config: {} }, "baseVersion"],
      [{ message: "x", config: {} }, "baseVersion"],
      [{ baseVersion: 1, message: "x", config: [] }, "config"],
    ] as const) {
      const res = await api.create(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
    }
    expect(counts()).toEqual(before);
  });

  it("validates without storing (the editor's inline messages)", async () => {
    const before = counts();
    const ok = await api.validate({ baseVersion: 1, config: { kMax: 6 } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ changes: [{ path: "kMax", from: 4, to: 6 }] });
    const bad = await api.validate({ baseVersion: 1, config: { lossyThreshold: 2 } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues: { path: string }[] }).issues[0].path).toBe("config.lossyThreshold");
    expect(counts()).toEqual(before);
  });

  it("creates version 2 from its base, filling unchanged fields from it, and audits it", async () => {
    const res = await api.create({ baseVersion: 1, baseLabel: "production", message: "shorter drafts", config: { kMax: 2, fallback: { window: 4, minAcceptance: 0.25, cooldownSeconds: 0 } } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as VersionBody;
    expect(body).toMatchObject({ version: 2, message: "shorter drafts", author: "local", baseVersion: 1, labels: [] });
    expect(body.config).toMatchObject({ kMax: 2, proposer: "draft-model", fallback: { window: 4 } });
    expect(res.headers.get("location")).toBe("/api/guardrails/2");
    const one = await api.get("v2");
    expect(((await one.json()) as VersionBody).config.kMax).toBe(2);
    expect((await api.get("7")).status).toBe(404);
    expect((await api.get("latest")).status).toBe(400);
  });

  it("moves a label, requiring the typed confirmation for production", async () => {
    const staging = await api.move("staging", { version: 2 });
    expect(staging.status).toBe(200);
    expect(await staging.json()).toEqual({ label: "staging", version: 2, previousVersion: null });

    const before = counts();
    const unconfirmed = await api.move("production", { version: 2 });
    expect(unconfirmed.status).toBe(400);
    expect(await unconfirmed.json()).toMatchObject({ error: { param: "confirm", code: "confirmation_required" } });
    expect((await api.move("production", { version: 2, confirm: "prod" })).status).toBe(400);
    expect((await api.move("42", { version: 2 })).status).toBe(400);
    expect((await api.move("staging", { version: 99 })).status).toBe(404);
    expect(counts()).toEqual(before);

    const promoted = await api.move("production", { version: 2, confirm: "production", expectedVersion: 1, message: "promote" });
    expect(promoted.status).toBe(200);
    expect(await promoted.json()).toEqual({ label: "production", version: 2, previousVersion: 1 });
  });

  it("refuses a save from a stale base with 409 saying who moved the label and what changed", async () => {
    const before = counts();
    const res = await api.create({ baseVersion: 1, baseLabel: "production", message: "edit made before the promotion", config: { kMax: 5 } });
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; message: string }; stale: { currentVersion: number; changedBy: string; changes: { path: string }[] } };
    expect(body.error.code).toBe("stale_base");
    expect(body.error.message).toMatch(/production moved from version 1 to 2 .*kMax, fallback/);
    expect(body.stale).toMatchObject({ currentVersion: 2, changedBy: "local" });
    expect(body.stale.changes.map((c) => c.path)).toEqual(["kMax", "fallback"]);
    const sibling = await api.create({ baseVersion: 1, message: "another edit of version 1", config: { kMax: 5 } });
    expect(sibling.status).toBe(409);
    expect(counts()).toEqual(before);
  });

  it("rolls back in one move, refusing a stale expected version", async () => {
    const stale = await api.move("production", { version: 1, confirm: "production", expectedVersion: 1 });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ error: { code: "stale_label", param: "expectedVersion" }, currentVersion: 2 });
    const back = await api.move("production", { version: 1, confirm: "production", expectedVersion: 2, message: "roll back" });
    expect(back.status).toBe(200);
    expect(await back.json()).toEqual({ label: "production", version: 1, previousVersion: 2 });
    const list = (await (await api.list()).json()) as { labels: Record<string, number> };
    expect(list.labels).toEqual({ production: 1, staging: 2 });
  });

  it("diffs two versions field by field", async () => {
    const res = await api.diff("from=1&to=2");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      from: 1, to: 2,
      changes: [{ path: "kMax", from: 4, to: 2 }, { path: "fallback", from: null, to: { window: 4, minAcceptance: 0.25, cooldownSeconds: 0 } }],
    });
    expect((await api.diff("from=1")).status).toBe(400);
    expect((await api.diff("from=1&to=8")).status).toBe(404);
  });

  it("keeps an audit log of every change with before, after, who and when, newest first and paginated", async () => {
    const first = await api.audit("limit=2");
    expect(first.status).toBe(200);
    const page = (await first.json()) as { entries: { id: number; action: string; subject: string; actor: string; at: string; before: unknown; after: unknown; message: string }[]; nextBefore: number };
    expect(page.entries.map((e) => [e.action, e.subject, e.before, e.after, e.message])).toEqual([
      ["label.move", "production", { version: 2 }, { version: 1 }, "roll back"],
      ["label.move", "production", { version: 1 }, { version: 2 }, "promote"],
    ]);
    expect(page.entries[0].actor).toBe("local");
    expect(Date.parse(page.entries[0].at)).toBeGreaterThan(0);
    const rest = (await (await api.audit(`limit=50&before=${page.nextBefore}`)).json()) as { entries: { action: string; subject: string }[]; nextBefore: null };
    expect(rest.entries.map((e) => `${e.action} ${e.subject}`)).toEqual(["label.create staging", "version.create v2", "label.create production", "version.create v1"]);
    expect(rest.nextBefore).toBeNull();
    expect((await api.audit("limit=0")).status).toBe(400);
  });
});
