/**
 * The one schema of a speculative config (SpecConfig): every range and every relation between fields
 * lives here, and every entry point goes through it: the HTTP wire (snake_case overrides, see
 * specConfigFromWire), stored config versions (parseSpecConfig), the CLI and the engine itself.
 *
 * A config that passed the schema is deep-frozen and remembered (validatedConfigs), so the engine can
 * tell a config the route already validated from a hand-built one and validate a request only once.
 */
import { z } from "zod";

export const PROPOSERS = ["draft-model", "ngram", "tree", "off"] as const;
export type ProposerName = (typeof PROPOSERS)[number];

export const VERIFY_MODES = ["greedy", "sampling", "lossy"] as const;
export type VerifyMode = (typeof VERIFY_MODES)[number];

/** The most draft tokens per step, wherever a config comes from (wire, stored version, CLI). */
export const K_MAX_LIMIT = 16;

const probability = z.number().min(0).max(1);

/** The fields and their ranges, without the cross-field rules: extend this one (zod refuses to extend a refined object). */
export const specConfigObject = z.strictObject({
  proposer: z.enum(PROPOSERS),
  /** greedy or sampling follow the request's temperature; lossy opts in to approximate acceptance. */
  verify: z.enum(VERIFY_MODES),
  /** Maximum draft length per step (k max). */
  kMax: z.number().int().min(1).max(K_MAX_LIMIT),
  /** Adapt k within [1, kMax] from the recent acceptance rate. */
  adaptiveK: z.boolean(),
  /** Stop drafting when the draft's probability for its own token falls below this (0 disables). */
  draftConfidence: probability,
  /**
   * draft-model, greedy drafts: stop drafting once the estimated probability that the target accepts every token
   * drafted so far falls below this (0 disables). The estimate multiplies 1 - r^2/2 over the drafted
   * tokens, r being the runner-up's probability over the drafted token's (engine/proposers/draft-stop.ts).
   */
  draftAcceptFloor: probability,
  /** lossy: accept a draft token when the target's probability for it is at least this. */
  lossyThreshold: probability,
  ngram: z.strictObject({ minN: z.number().int().min(1).max(8), maxN: z.number().int().min(1).max(8) }),
  /**
   * tree: the greedy chain of `depth` tokens, forked into at most `width` paths at the first position
   * where other tokens get at least `branchMinProb` from the draft: every extra path costs a full row
   * of the target's verification pass, so it must have a real chance of being the one.
   */
  tree: z.strictObject({
    width: z.number().int().min(1).max(8),
    depth: z.number().int().min(1).max(K_MAX_LIMIT),
    branchMinProb: probability,
  }),
  /** Keep only the first `sink` and last `recent` draft KV positions; null keeps all. */
  draftWindow: z.strictObject({ sink: z.number().int().min(0).max(4096), recent: z.number().int().min(1).max(4096) }).nullable(),
});

export type SpecConfig = z.infer<typeof specConfigObject>;

/** A partial SpecConfig whose nested groups may be partial too (see mergeSpecConfig). */
export type SpecConfigInput = Partial<Omit<SpecConfig, "ngram" | "tree" | "draftWindow">> & {
  ngram?: Partial<SpecConfig["ngram"]>;
  tree?: Partial<SpecConfig["tree"]>;
  draftWindow?: Partial<NonNullable<SpecConfig["draftWindow"]>> | null;
};

/** The relations no single field's range can express; shared by every schema that embeds SpecConfig. */
export function checkSpecRelations(config: SpecConfig, ctx: z.RefinementCtx): void {
  if (config.ngram.minN > config.ngram.maxN) {
    ctx.addIssue({ code: "custom", path: ["ngram", "minN"], message: `the shortest n-gram (${config.ngram.minN}) is longer than the longest (${config.ngram.maxN})` });
  }
  const window = config.draftWindow;
  // Rollback drops up to kMax + 1 draft positions, which must still be inside the recent window.
  if (window && window.recent < config.kMax + 2) {
    ctx.addIssue({
      code: "custom",
      path: ["draftWindow", "recent"],
      message: `a recent window of ${window.recent} positions cannot hold a rollback at k_max ${config.kMax}: it needs at least ${config.kMax + 2}`,
    });
  }
}

export const specConfigSchema = specConfigObject.superRefine(checkSpecRelations);

export const DEFAULT_SPEC_CONFIG: SpecConfig = deepFreeze({
  proposer: "draft-model",
  verify: "greedy",
  kMax: 4,
  adaptiveK: false,
  draftConfidence: 0,
  draftAcceptFloor: 0,
  lossyThreshold: 0.3,
  ngram: { minN: 1, maxN: 4 },
  tree: { width: 2, depth: 4, branchMinProb: 0.3 },
  draftWindow: null,
});

export interface ConfigIssue {
  /** The field's path, e.g. "ngram.minN", or on the wire "speclens.overrides.ngram.min_n". */
  path: string;
  message: string;
}

export type SpecConfigResult = { ok: true; config: SpecConfig } | { ok: false; issues: ConfigIssue[] };

/** A config that failed the schema; `issues` name every offending field. */
export class SpecConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => `${i.path || "config"}: ${i.message}`).join("; "));
    this.name = "SpecConfigError";
  }
}

/*
 * Configs that passed the schema. Next compiles the routes and the preloaded engine into separate
 * bundles, each with its own copy of this module, so the set lives on globalThis.
 */
const holder = globalThis as typeof globalThis & { __speclensValidatedConfigs?: WeakSet<object> };
const validatedConfigs: WeakSet<object> = (holder.__speclensValidatedConfigs ??= new WeakSet());
validatedConfigs.add(DEFAULT_SPEC_CONFIG);

/** Whether the config came out of this schema (and, being frozen, has not changed since). */
export function isValidatedSpecConfig(config: unknown): config is SpecConfig {
  return typeof config === "object" && config !== null && validatedConfigs.has(config);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function accept(config: SpecConfig): SpecConfig {
  const frozen = deepFreeze(config);
  validatedConfigs.add(frozen);
  return frozen;
}

function issuesOf(error: z.ZodError, rename: (path: PropertyKey[]) => string): ConfigIssue[] {
  return error.issues.map((issue) => ({ path: rename(issue.path), message: issue.message }));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Validate a complete camelCase config (no defaults filled). */
export function safeParseSpecConfig(input: unknown): SpecConfigResult {
  if (isValidatedSpecConfig(input)) return { ok: true, config: input };
  const parsed = specConfigSchema.safeParse(input);
  if (!parsed.success) return { ok: false, issues: issuesOf(parsed.error, (p) => p.map(String).join(".")) };
  return { ok: true, config: accept(parsed.data) };
}

/**
 * A stored config body (or any camelCase config, possibly partial): fields left out get today's
 * defaults, nested groups field by field, so a version written by an older SpecLens still parses.
 * Top-level sections that are not SpecConfig fields (e.g. a guardrail version's limits or alerts) are
 * ignored here; their own schemas read them. Throws a SpecConfigError naming every bad field.
 */
export function parseSpecConfig(input: unknown): SpecConfig {
  if (isValidatedSpecConfig(input)) return input;
  if (!isRecord(input)) throw new SpecConfigError([{ path: "", message: "a config must be an object" }]);
  const result = safeParseSpecConfig(mergeLoose(DEFAULT_SPEC_CONFIG, pickSpecConfigFields(input)));
  if (!result.ok) throw new SpecConfigError(result.issues);
  return result.config;
}

/**
 * Only the SpecConfig fields of an object that may carry more (a guardrail config version's
 * `fallback`, `limits`, `alerts`, ...), e.g. to hand a guardrail config to the engine.
 */
export function pickSpecConfigFields(input: object): SpecConfigInput {
  const known: Record<string, unknown> = {};
  for (const key of Object.keys(specConfigObject.shape)) {
    const value = (input as Record<string, unknown>)[key];
    if (value !== undefined) known[key] = value;
  }
  return known as SpecConfigInput;
}

/** `base` with the partial config applied (nested groups field by field), validated. Throws SpecConfigError. */
export function mergeSpecConfig(base: SpecConfig, partial: SpecConfigInput): SpecConfig {
  const result = safeParseSpecConfig(mergeLoose(base, partial as Record<string, unknown>));
  if (!result.ok) throw new SpecConfigError(result.issues);
  return result.config;
}

/** Merge without judging types: groups that are objects on both sides merge field by field. */
function mergeLoose(base: SpecConfig, partial: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    const old = out[key];
    out[key] = isRecord(value) && isRecord(old) ? { ...old, ...value } : value;
  }
  return out;
}

/* ---------------------------------------------------------------- the wire (snake_case) */

/** snake_case wire name -> camelCase field, per level; a nested group maps its own fields. */
const WIRE_FIELDS: Record<string, { field: keyof SpecConfig; group?: Record<string, string> }> = {
  proposer: { field: "proposer" },
  verify: { field: "verify" },
  k_max: { field: "kMax" },
  adaptive_k: { field: "adaptiveK" },
  draft_confidence: { field: "draftConfidence" },
  draft_accept_floor: { field: "draftAcceptFloor" },
  lossy_threshold: { field: "lossyThreshold" },
  ngram: { field: "ngram", group: { min_n: "minN", max_n: "maxN" } },
  tree: { field: "tree", group: { width: "width", depth: "depth", branch_min_prob: "branchMinProb" } },
  draft_window: { field: "draftWindow", group: { sink: "sink", recent: "recent" } },
};

/** The wire names of the speculative fields (a body that mixes them with other fields picks these). */
export const SPEC_WIRE_FIELDS: readonly string[] = Object.keys(WIRE_FIELDS);

const CAMEL_TO_WIRE = new Map<string, string>();
for (const [wire, { field, group }] of Object.entries(WIRE_FIELDS)) {
  CAMEL_TO_WIRE.set(field, wire);
  for (const [w, f] of Object.entries(group ?? {})) CAMEL_TO_WIRE.set(`${field}.${f}`, `${wire}.${w}`);
}

const join = (prefix: string, path: string) => (prefix && path ? `${prefix}.${path}` : prefix || path);

/** The wire path of a camelCase field path, e.g. ["ngram", "minN"] -> "ngram.min_n". */
export function wirePath(path: readonly PropertyKey[]): string {
  const camel = path.map(String);
  return CAMEL_TO_WIRE.get(camel.slice(0, 2).join(".")) ?? CAMEL_TO_WIRE.get(camel[0] ?? "") ?? camel.join(".");
}

/**
 * Apply snake_case overrides from the wire (every field optional, nested groups merged field by field)
 * to `base`, and validate the result with the one schema. Issues name the wire path under
 * `pathPrefix`, e.g. "speclens.overrides.ngram.min_n"; unknown fields are issues too.
 */
export function specConfigFromWire(base: SpecConfig, wire: unknown, pathPrefix = ""): SpecConfigResult {
  if (wire === undefined || wire === null) return safeParseSpecConfig(base);
  if (!isRecord(wire)) return { ok: false, issues: [{ path: pathPrefix, message: "expected an object of config overrides" }] };
  const issues: ConfigIssue[] = [];
  const partial: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wire)) {
    const spec = WIRE_FIELDS[key];
    if (!spec) { issues.push({ path: join(pathPrefix, key), message: `unknown config field; known: ${SPEC_WIRE_FIELDS.join(", ")}` }); continue; }
    if (value === undefined) continue;
    if (!spec.group || !isRecord(value)) { partial[spec.field] = value; continue; }
    const group: Record<string, unknown> = {};
    for (const [sub, v] of Object.entries(value)) {
      const field = spec.group[sub];
      if (!field) issues.push({ path: join(pathPrefix, `${key}.${sub}`), message: `unknown field; known: ${Object.keys(spec.group).join(", ")}` });
      else if (v !== undefined) group[field] = v;
    }
    partial[spec.field] = group;
  }
  if (issues.length > 0) return { ok: false, issues };
  const result = safeParseSpecConfig(mergeLoose(base, partial));
  if (result.ok) return result;
  return { ok: false, issues: result.issues.map((i) => ({ path: join(pathPrefix, wirePath(i.path.split("."))), message: i.message })) };
}

/** The config as snake_case wire overrides (the inverse of specConfigFromWire on a complete config). */
export function specConfigToWire(config: SpecConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [wire, { field, group }] of Object.entries(WIRE_FIELDS)) {
    const value = config[field];
    if (!group || value === null) { out[wire] = value; continue; }
    const sub: Record<string, unknown> = {};
    for (const [w, f] of Object.entries(group)) sub[w] = (value as Record<string, unknown>)[f];
    out[wire] = sub;
  }
  return out;
}

export function usesDraft(config: Pick<SpecConfig, "proposer">): boolean {
  return config.proposer === "draft-model" || config.proposer === "tree";
}
