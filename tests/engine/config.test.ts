import { describe, expect, it } from "vitest";
import {
  DEFAULT_SPEC_CONFIG, SpecConfigError, isValidatedSpecConfig, mergeSpecConfig, parseSpecConfig, specConfigFromWire,
  specConfigSchema, specConfigToWire,
} from "@/engine";

describe("the one SpecConfig schema", () => {
  it("accepts the defaults and refuses every range and relation", () => {
    expect(specConfigSchema.safeParse(DEFAULT_SPEC_CONFIG).success).toBe(true);
    const bad: [object, string][] = [
      [{ kMax: 0 }, "kMax"],
      [{ kMax: 17 }, "kMax"],
      [{ kMax: 2.5 }, "kMax"],
      [{ draftConfidence: 1.5 }, "draftConfidence"],
      [{ draftAcceptFloor: -0.5 }, "draftAcceptFloor"],
      [{ lossyThreshold: -0.1 }, "lossyThreshold"],
      [{ ngram: { minN: 0 } }, "ngram.minN"],
      [{ ngram: { minN: 4, maxN: 2 } }, "ngram.minN"],
      [{ tree: { width: 0 } }, "tree.width"],
      [{ tree: { depth: 17 } }, "tree.depth"],
      [{ draftWindow: { sink: 4, recent: 5 } }, "draftWindow.recent"],
      [{ kMax: 8, draftWindow: { sink: 4, recent: 9 } }, "draftWindow.recent"],
      [{ proposer: "magic" }, "proposer"],
    ];
    for (const [partial, path] of bad) {
      let caught: unknown;
      try { mergeSpecConfig(DEFAULT_SPEC_CONFIG, partial); } catch (error) { caught = error; }
      expect(caught, JSON.stringify(partial)).toBeInstanceOf(SpecConfigError);
      expect((caught as SpecConfigError).issues.map((i) => i.path)).toContain(path);
    }
    expect(mergeSpecConfig(DEFAULT_SPEC_CONFIG, { kMax: 8, draftWindow: { sink: 4, recent: 10 } }).draftWindow).toEqual({ sink: 4, recent: 10 });
  });

  it("parses stored bodies: defaults for missing fields, the same ranges as the wire", () => {
    expect(parseSpecConfig({ proposer: "ngram", ngram: { maxN: 3 } })).toEqual({ ...DEFAULT_SPEC_CONFIG, proposer: "ngram", ngram: { minN: 1, maxN: 3 } });
    // kMax was unbounded when stored; now it is 1-16 everywhere.
    expect(() => parseSpecConfig({ kMax: 40 })).toThrow(/kMax/);
    expect(() => parseSpecConfig("x")).toThrow(SpecConfigError);
  });

  it("marks what it validated, frozen, so the engine validates a request once", () => {
    const config = mergeSpecConfig(DEFAULT_SPEC_CONFIG, { kMax: 6 });
    expect(isValidatedSpecConfig(config)).toBe(true);
    expect(Object.isFrozen(config) && Object.isFrozen(config.ngram)).toBe(true);
    expect(isValidatedSpecConfig({ ...config })).toBe(false);
  });

  it("maps the snake_case wire onto it, errors naming the wire path", () => {
    const ok = specConfigFromWire(DEFAULT_SPEC_CONFIG, { k_max: 6, draft_accept_floor: 0.5, ngram: { max_n: 3 }, tree: { branch_min_prob: 0.2 }, draft_window: { sink: 4, recent: 32 } }, "speclens.overrides");
    expect(ok).toEqual({ ok: true, config: { ...DEFAULT_SPEC_CONFIG, kMax: 6, draftAcceptFloor: 0.5, ngram: { minN: 1, maxN: 3 }, tree: { ...DEFAULT_SPEC_CONFIG.tree, branchMinProb: 0.2 }, draftWindow: { sink: 4, recent: 32 } } });
    const cases: [unknown, string][] = [
      [{ ngram: { min_n: 5, max_n: 2 } }, "speclens.overrides.ngram.min_n"],
      [{ k_max: 17 }, "speclens.overrides.k_max"],
      [{ k_max: "4" }, "speclens.overrides.k_max"],
      [{ k_max: 8, draft_window: { sink: 0, recent: 4 } }, "speclens.overrides.draft_window.recent"],
      [{ tree: { branch_min_prob: 2 } }, "speclens.overrides.tree.branch_min_prob"],
      [{ draft_accept_floor: 1.2 }, "speclens.overrides.draft_accept_floor"],
      [{ kmax: 3 }, "speclens.overrides.kmax"],
      [{ ngram: { minN: 2 } }, "speclens.overrides.ngram.minN"],
      [{ draft_window: { recent: 8 } }, "speclens.overrides.draft_window.sink"],
    ];
    for (const [wire, path] of cases) {
      const result = specConfigFromWire(DEFAULT_SPEC_CONFIG, wire, "speclens.overrides");
      expect(result.ok, JSON.stringify(wire)).toBe(false);
      if (!result.ok) expect(result.issues[0].path).toBe(path);
    }
    expect(specConfigFromWire(DEFAULT_SPEC_CONFIG, { draft_window: null }).ok).toBe(true);
    const full = mergeSpecConfig(DEFAULT_SPEC_CONFIG, { proposer: "tree", draftWindow: { sink: 2, recent: 12 } });
    expect(specConfigFromWire(DEFAULT_SPEC_CONFIG, specConfigToWire(full))).toEqual({ ok: true, config: full });
  });
});

describe("configs that carry more than SpecConfig", () => {
  it("pickSpecConfigFields keeps the SpecConfig fields of a guardrail-style body", async () => {
    const { pickSpecConfigFields } = await import("@/engine");
    const body = { ...DEFAULT_SPEC_CONFIG, kMax: 6, fallback: { window: 4 }, limits: { maxTokens: 64 } };
    expect(mergeSpecConfig(DEFAULT_SPEC_CONFIG, pickSpecConfigFields(body))).toEqual({ ...DEFAULT_SPEC_CONFIG, kMax: 6 });
    expect(parseSpecConfig(body).kMax).toBe(6);
  });
});
