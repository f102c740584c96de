import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type OpenDatabase } from "@/db/client";
import { createConfigVersion, listConfigLabels, resolveConfig, setConfigLabel } from "@/db/queries/configs";
import { configVersions } from "@/db/schema";
import { DEFAULT_SPEC_CONFIG } from "@/engine/types";

let open: OpenDatabase;
beforeEach(() => {
  open = openDatabase(":memory:");
});
afterEach(() => open.sqlite.close());

describe("config versions and labels", () => {
  it("starts every database at version 1, the engine defaults, labelled production", () => {
    expect(resolveConfig(open.db)).toEqual({ version: 1, label: "production", config: DEFAULT_SPEC_CONFIG });
    expect(resolveConfig(open.db, 1)).toEqual({ version: 1, label: null, config: DEFAULT_SPEC_CONFIG });
    expect(listConfigLabels(open.db).map((l) => [l.label, l.version])).toEqual([["production", 1]]);
  });

  it("numbers new versions in order and resolves labels, version numbers and v-prefixed strings", () => {
    const v2 = createConfigVersion(open.db, { ...DEFAULT_SPEC_CONFIG, proposer: "ngram" }, "ana", "prompt lookup");
    const v3 = createConfigVersion(open.db, { ...DEFAULT_SPEC_CONFIG, kMax: 6 }, "ana");
    expect([v2, v3]).toEqual([2, 3]);
    setConfigLabel(open.db, "canary", v3, "ana");
    expect(resolveConfig(open.db, "canary")).toMatchObject({ version: 3, label: "canary", config: { kMax: 6 } });
    expect(resolveConfig(open.db, "2")?.config.proposer).toBe("ngram");
    expect(resolveConfig(open.db, "v2")?.version).toBe(2);
    setConfigLabel(open.db, "production", v2, "ana");
    expect(resolveConfig(open.db)?.version).toBe(2);
  });

  it("returns null for a label or version that does not exist", () => {
    expect(resolveConfig(open.db, "nightly")).toBeNull();
    expect(resolveConfig(open.db, 99)).toBeNull();
  });

  it("fills fields a stored version predates with today's defaults, and rejects a corrupt one", () => {
    open.db.insert(configVersions).values({ version: 7, bodyJson: JSON.stringify({ proposer: "tree" }), createdAtMs: 0, author: "old" }).run();
    expect(resolveConfig(open.db, 7)?.config).toEqual({ ...DEFAULT_SPEC_CONFIG, proposer: "tree" });
    open.db.insert(configVersions).values({ version: 8, bodyJson: JSON.stringify({ proposer: "magic" }), createdAtMs: 0, author: "old" }).run();
    expect(() => resolveConfig(open.db, 8)).toThrow(/config version 8/);
  });
});
