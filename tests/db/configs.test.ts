import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type OpenDatabase } from "@/db/client";
import { versionFigures } from "@/db/queries/config-figures";
import { createConfigVersion, diffConfigVersions, getConfigVersion, listAudit, listConfigLabels, listConfigVersions, moveConfigLabel, previousLabelVersion, resolveConfig, saveConfigVersion, setConfigLabel } from "@/db/queries/configs";
import { configVersions, requests } from "@/db/schema";
import { DEFAULT_SPEC_CONFIG } from "@/engine";
import { DEFAULT_GUARDRAIL_CONFIG, type GuardrailConfig } from "@/engine/guardrails";

let open: OpenDatabase;
beforeEach(() => {
  open = openDatabase(":memory:");
});
afterEach(() => open.sqlite.close());

const withChange = (patch: Partial<GuardrailConfig>): GuardrailConfig => ({ ...DEFAULT_GUARDRAIL_CONFIG, ...patch });
const rowCounts = () => ({
  versions: Number((open.sqlite.prepare("select count(*) n from config_versions").get() as { n: bigint }).n),
  audit: Number((open.sqlite.prepare("select count(*) n from config_audit").get() as { n: bigint }).n),
});

describe("config versions and labels", () => {
  it("starts every database at version 1, the defaults, labelled production, with its audit rows", () => {
    expect(resolveConfig(open.db)).toEqual({ version: 1, label: "production", config: DEFAULT_SPEC_CONFIG, guardrail: DEFAULT_GUARDRAIL_CONFIG });
    expect(resolveConfig(open.db, 1)).toEqual({ version: 1, label: null, config: DEFAULT_SPEC_CONFIG, guardrail: DEFAULT_GUARDRAIL_CONFIG });
    expect(listConfigLabels(open.db).map((l) => [l.label, l.version])).toEqual([["production", 1]]);
    const audit = listAudit(open.db).entries;
    expect(audit.map((e) => [e.action, e.subject, e.actor])).toEqual([["label.create", "production", "speclens"], ["version.create", "v1", "speclens"]]);
    expect(audit[0]).toMatchObject({ before: null, after: { version: 1 } });
  });

  it("numbers new versions in order and resolves labels, version numbers and v-prefixed strings", () => {
    const v2 = createConfigVersion(open.db, { proposer: "ngram" }, "ana", "prompt lookup");
    const v3 = createConfigVersion(open.db, withChange({ kMax: 6 }), "ana", "longer drafts");
    expect([v2, v3]).toEqual([2, 3]);
    setConfigLabel(open.db, "canary", v3, "ana");
    expect(resolveConfig(open.db, "canary")).toMatchObject({ version: 3, label: "canary", config: { kMax: 6 } });
    expect(resolveConfig(open.db, "2")?.config.proposer).toBe("ngram");
    expect(resolveConfig(open.db, "v2")?.version).toBe(2);
    expect(getConfigVersion(open.db, 3)).toMatchObject({ version: 3, author: "ana", message: "longer drafts", labels: ["canary"], baseVersion: null });
    expect(listConfigVersions(open.db).map((v) => v.version)).toEqual([3, 2, 1]);
  });

  it("returns null for a label or version that does not exist", () => {
    expect(resolveConfig(open.db, "nightly")).toBeNull();
    expect(resolveConfig(open.db, 99)).toBeNull();
  });

  it("fills fields a stored version predates with today's defaults, and rejects a corrupt one", () => {
    resolveConfig(open.db);
    open.db.insert(configVersions).values({ version: 7, bodyJson: JSON.stringify({ proposer: "tree" }), createdAtMs: 0, author: "old" }).run();
    expect(resolveConfig(open.db, 7)?.guardrail).toEqual({ ...DEFAULT_GUARDRAIL_CONFIG, proposer: "tree" });
    expect(resolveConfig(open.db, 7)?.config).toEqual({ ...DEFAULT_SPEC_CONFIG, proposer: "tree" });
    open.db.insert(configVersions).values({ version: 8, bodyJson: JSON.stringify({ proposer: "magic" }), createdAtMs: 0, author: "old" }).run();
    expect(() => resolveConfig(open.db, 8)).toThrow(/config version 8.*proposer/);
  });
});

describe("immutability, enforced by the database", () => {
  it("refuses UPDATE and DELETE on versions and on the audit log, whoever asks", () => {
    createConfigVersion(open.db, { kMax: 2 }, "ana", "short");
    const before = rowCounts();
    expect(() => open.sqlite.prepare("update config_versions set body_json = '{}' where version = 2").run()).toThrow(/immutable/);
    expect(() => open.sqlite.prepare("update config_versions set note = 'edited'").run()).toThrow(/immutable/);
    expect(() => open.sqlite.prepare("delete from config_versions where version = 2").run()).toThrow(/immutable/);
    expect(() => open.sqlite.prepare("update config_audit set actor = 'mallory'").run()).toThrow(/append-only/);
    expect(() => open.sqlite.prepare("delete from config_audit").run()).toThrow(/append-only/);
    expect(rowCounts()).toEqual(before);
    expect(getConfigVersion(open.db, 2)).toMatchObject({ message: "short", config: { kMax: 2 } });
  });
});

describe("saving from an editor", () => {
  it("creates a version from its base, with author, message and lineage, audited", () => {
    const saved = saveConfigVersion(open.db, { config: withChange({ kMax: 3 }), message: "k 3", author: "ana", baseVersion: 1, baseLabel: "production" });
    expect(saved).toEqual({ kind: "created", version: 2 });
    expect(getConfigVersion(open.db, 2)).toMatchObject({ baseVersion: 1, author: "ana", message: "k 3" });
    expect(listAudit(open.db).entries[0]).toMatchObject({ action: "version.create", subject: "v2", actor: "ana", before: { version: 1 }, after: { version: 2, config: { kMax: 3 } }, message: "k 3" });
  });

  it("refuses a stale base when the label the editor opened has moved, saying who moved it and what changed", () => {
    const v2 = createConfigVersion(open.db, { kMax: 6, proposer: "ngram" }, "ben", "ngram");
    moveConfigLabel(open.db, { label: "production", version: v2, actor: "ben" });
    const before = rowCounts();
    const saved = saveConfigVersion(open.db, { config: withChange({ kMax: 3 }), message: "k 3", author: "ana", baseVersion: 1, baseLabel: "production" });
    expect(saved.kind).toBe("stale");
    if (saved.kind !== "stale") return;
    expect(saved.stale).toMatchObject({ reason: "label-moved", label: "production", baseVersion: 1, currentVersion: 2, changedBy: "ben" });
    expect(saved.stale.changes).toEqual([{ path: "proposer", from: "draft-model", to: "ngram" }, { path: "kMax", from: 4, to: 6 }]);
    expect(rowCounts()).toEqual(before);
  });

  it("refuses a stale base when another version was already built on it", () => {
    expect(saveConfigVersion(open.db, { config: withChange({ kMax: 5 }), message: "a", author: "ana", baseVersion: 1 }).kind).toBe("created");
    const second = saveConfigVersion(open.db, { config: withChange({ kMax: 2 }), message: "b", author: "ben", baseVersion: 1 });
    expect(second).toMatchObject({ kind: "stale", stale: { reason: "base-superseded", currentVersion: 2, changedBy: "ana", changes: [{ path: "kMax", from: 4, to: 5 }] } });
    expect(saveConfigVersion(open.db, { config: withChange({ kMax: 2 }), message: "b", author: "ben", baseVersion: 9 }).kind).toBe("no-base");
  });
});

describe("labels", () => {
  it("move, roll back and audit every move with before and after", () => {
    const v2 = createConfigVersion(open.db, { kMax: 2 }, "ana", "two");
    expect(moveConfigLabel(open.db, { label: "production", version: v2, actor: "ana", message: "ship it" })).toEqual({ kind: "moved", label: "production", from: 1, to: 2 });
    expect(resolveConfig(open.db)?.version).toBe(2);
    expect(previousLabelVersion(open.db, "production")).toBe(1);
    // Rollback is moving the label back.
    expect(moveConfigLabel(open.db, { label: "production", version: 1, actor: "ben", expectedVersion: 2 })).toMatchObject({ kind: "moved", from: 2, to: 1 });
    expect(resolveConfig(open.db)?.version).toBe(1);
    const moves = listAudit(open.db).entries.filter((e) => e.subject === "production");
    expect(moves.map((e) => [e.action, e.actor, e.before, e.after])).toEqual([
      ["label.move", "ben", { version: 2 }, { version: 1 }],
      ["label.move", "ana", { version: 1 }, { version: 2 }],
      ["label.create", "speclens", null, { version: 1 }],
    ]);
  });

  it("refuses a move whose expected version is stale, and a move to a missing version, changing nothing", () => {
    const v2 = createConfigVersion(open.db, { kMax: 2 }, "ana");
    moveConfigLabel(open.db, { label: "staging", version: v2, actor: "ana" });
    const before = rowCounts();
    expect(moveConfigLabel(open.db, { label: "staging", version: 1, actor: "ben", expectedVersion: 1 })).toMatchObject({ kind: "stale", currentVersion: 2, changedBy: "ana" });
    expect(moveConfigLabel(open.db, { label: "staging", version: 42, actor: "ben" }).kind).toBe("no-version");
    expect(moveConfigLabel(open.db, { label: "staging", version: 2, actor: "ben" }).kind).toBe("unchanged");
    expect(rowCounts()).toEqual(before);
  });
});

describe("diff, audit paging and figures", () => {
  it("diffs any two versions field by field, nested fields by their path", () => {
    const v2 = createConfigVersion(open.db, { kMax: 6, fallback: { window: 4, minAcceptance: 0.3, cooldownSeconds: 0 }, limits: { ...DEFAULT_GUARDRAIL_CONFIG.limits, maxTokens: 256 } }, "ana");
    const diff = diffConfigVersions(open.db, 1, v2);
    expect(diff).toEqual({
      from: 1, to: 2,
      changes: [
        { path: "kMax", from: 4, to: 6 },
        { path: "fallback", from: null, to: { window: 4, minAcceptance: 0.3, cooldownSeconds: 0 } },
        { path: "limits.maxTokens", from: 2048, to: 256 },
      ],
    });
    expect(diffConfigVersions(open.db, 1, 9)).toEqual({ missing: 9 });
  });

  it("pages the audit log newest first", () => {
    for (let i = 0; i < 5; i++) createConfigVersion(open.db, { kMax: i + 1 }, "ana", `m${i}`);
    const first = listAudit(open.db, { limit: 3 });
    expect(first.entries.map((e) => e.subject)).toEqual(["v6", "v5", "v4"]);
    const second = listAudit(open.db, { limit: 3, before: first.nextBefore! });
    expect(second.entries.map((e) => e.subject)).toEqual(["v3", "v2", "production"]);
    const third = listAudit(open.db, { limit: 3, before: second.nextBefore! });
    expect(third).toEqual({ entries: [expect.objectContaining({ subject: "v1" })], nextBefore: null });
  });

  it("computes per-version figures from the requests table", () => {
    const base = { spanId: "0000000000000001", node: "n", startNs: 1n, endNs: 2n, operation: "text_completion" };
    open.db.insert(requests).values([
      { ...base, traceId: "a".repeat(32), configVersion: "1", steps: 10, drafted: 40, accepted: 20, outputTokens: 30, totalMs: 1000, guardrailActions: 1 },
      { ...base, traceId: "b".repeat(32), configVersion: "1", steps: 10, drafted: 40, accepted: 10, outputTokens: 20, totalMs: 1000 },
      { ...base, traceId: "c".repeat(32), configVersion: "2", steps: 5, drafted: 0, accepted: 0, outputTokens: 5, totalMs: 500 },
    ]).run();
    const figures = versionFigures(open.db);
    expect(figures.get(1)).toEqual({ requests: 2, acceptanceRate: 30 / 80, meanAcceptanceLength: 1 + 30 / 20, tokensPerSecond: 25, ruleActions: 1 });
    expect(figures.get(2)).toEqual({ requests: 1, acceptanceRate: null, meanAcceptanceLength: 1, tokensPerSecond: 10, ruleActions: 0 });
    expect([...versionFigures(open.db, 2).keys()]).toEqual([2]);
  });
});
