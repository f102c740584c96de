/**
 * Guardrail configs: the body of every stored config version. A guardrail config is the speculation
 * policy (every SpecConfig field, from engine/config.ts) plus its bounds:
 *   fallback  acceptance over the last `window` drafting steps of a request below `minAcceptance`
 *             switches speculation off for the rest of that request (the engine enforces it, see
 *             FallbackMonitor) and, when `cooldownSeconds` > 0, for new requests of the version for
 *             that long (the server enforces that);
 *   load      speculation off for a request admitted while more than `maxRunning` requests are in
 *             flight (speculation can cost more than it saves under load);
 *   limits    the max_tokens cap, the time budget cap, and which per-request overrides callers may make;
 *   alerts    the drift alert rules (evaluated by the alerts module; versioned here).
 * Every rule that acts is reported as a GuardrailAction: a span event `speclens.guardrail.<rule>`
 * with the rule, the measured value and the threshold, and a /metrics count.
 */
import { z } from "zod";
import { alertRulesSchema, DEFAULT_ALERT_RULES } from "./alert-rules";
import { checkSpecRelations, DEFAULT_SPEC_CONFIG, parseSpecConfig, specConfigObject, type SpecConfig } from "./config";

/** Per-request override fields a version can allow or forbid, by their wire (snake_case) names. */
export const OVERRIDABLE_FIELDS = ["proposer", "verify", "k_max", "adaptive_k", "draft_confidence", "draft_accept_floor", "lossy_threshold", "ngram", "tree", "draft_window"] as const;
export type OverridableField = (typeof OVERRIDABLE_FIELDS)[number];

export const fallbackRuleSchema = z.strictObject({
  /** Drafting steps (steps that proposed at least one token) the acceptance rate is measured over. */
  window: z.number().int().min(1).max(256),
  /** Speculation stops when accepted / drafted over the window falls below this. */
  minAcceptance: z.number().min(0).max(1),
  /** After a request trips the rule, new requests of this version run without speculation this long (0: none). */
  cooldownSeconds: z.number().min(0).max(86_400),
});

export const loadRuleSchema = z.strictObject({
  /** Speculation off for a request admitted while more than this many requests are in flight. */
  maxRunning: z.number().int().min(0).max(10_000),
});

export const limitsSchema = z.strictObject({
  /** Requests asking for more output tokens are refused (400 naming the field); the default when none is asked. */
  maxTokens: z.number().int().min(1).max(32_768),
  /** Wall-clock budget cap per request in ms; a request's own budget can only shorten it (0: no cap). */
  timeBudgetMs: z.number().int().min(0).max(3_600_000),
  overrides: z.strictObject({
    /** Which speculative fields a request may override: all, none, or the listed wire names. */
    allowed: z.union([z.enum(["all", "none"]), z.array(z.enum(OVERRIDABLE_FIELDS)).max(OVERRIDABLE_FIELDS.length)], {
      error: `expected "all", "none" or a list of the fields ${OVERRIDABLE_FIELDS.join(", ")}`,
    }),
    /** Whether a request may make itself lossy (verify "lossy", or a lossy threshold). */
    allowLossy: z.boolean(),
  }),
});

export type FallbackRule = z.infer<typeof fallbackRuleSchema>;
export type LoadRule = z.infer<typeof loadRuleSchema>;
export type GuardrailLimits = z.infer<typeof limitsSchema>;

/** The guardrail sections of a version, beside the SpecConfig fields. */
const ruleShape = {
  fallback: fallbackRuleSchema.nullable(),
  load: loadRuleSchema.nullable(),
  limits: limitsSchema,
  alerts: alertRulesSchema,
};
const RULE_KEYS = Object.keys(ruleShape) as (keyof typeof ruleShape)[];

/**
 * The guardrail config schema: the engine's one SpecConfig object (its ranges) extended with the
 * rules, and the SpecConfig relations checked on the whole. Input must be complete (see
 * mergeGuardrailConfig to fill it from a base version); unknown fields are refused.
 */
export const guardrailConfigSchema = specConfigObject.extend(ruleShape).superRefine((config, ctx) => checkSpecRelations(config, ctx));
export type GuardrailConfig = z.infer<typeof guardrailConfigSchema>;
export type GuardrailRules = Pick<GuardrailConfig, keyof typeof ruleShape>;

export const DEFAULT_GUARDRAIL_RULES: GuardrailRules = {
  fallback: null,
  load: null,
  limits: { maxTokens: 2048, timeBudgetMs: 0, overrides: { allowed: "all", allowLossy: true } },
  alerts: DEFAULT_ALERT_RULES,
};
export const DEFAULT_GUARDRAIL_CONFIG: GuardrailConfig = { ...DEFAULT_SPEC_CONFIG, ...DEFAULT_GUARDRAIL_RULES };

export interface FieldIssue {
  /** Dotted path of the field in the config, e.g. "fallback.window" or "ngram.minN"; "" for the whole config. */
  path: string;
  message: string;
}

export type GuardrailParse = { ok: true; config: GuardrailConfig } | { ok: false; issues: FieldIssue[] };

/** Validate a complete guardrail config, naming every offending field. */
export function validateGuardrailConfig(input: unknown): GuardrailParse {
  const parsed = guardrailConfigSchema.safeParse(input);
  if (parsed.success) return { ok: true, config: parsed.data };
  // An unknown field is named by its own path ("fallback.windw: unknown field"), so typos point at themselves.
  const issues = parsed.error.issues.flatMap((i): FieldIssue[] => {
    if (i.code === "unrecognized_keys") return i.keys.map((k) => ({ path: [...i.path, k].join("."), message: "unknown field" }));
    return [{ path: i.path.join("."), message: i.message }];
  });
  // zod skips the cross-field check once a field fails; run it on the well-formed fields, so one
  // answer names every problem.
  for (const extra of relationIssues(input)) if (!issues.some((i) => i.path === extra.path)) issues.push(extra);
  return { ok: false, issues };
}

function relationIssues(input: unknown): FieldIssue[] {
  if (!isPlainObject(input)) return [];
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const ngram = isPlainObject(input.ngram) && n(input.ngram.minN) !== null && n(input.ngram.maxN) !== null ? input.ngram : { minN: 0, maxN: 0 };
  const kMax = n(input.kMax);
  const window = kMax !== null && kMax >= 1 && isPlainObject(input.draftWindow) && n(input.draftWindow.recent) !== null ? input.draftWindow : null;
  const found: FieldIssue[] = [];
  const ctx = { addIssue: (issue: { path?: PropertyKey[]; message?: string }) => found.push({ path: (issue.path ?? []).map(String).join("."), message: issue.message ?? "" }) };
  checkSpecRelations({ ...DEFAULT_SPEC_CONFIG, kMax: kMax ?? 1, ngram, draftWindow: window } as SpecConfig, ctx as unknown as z.RefinementCtx);
  return found;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `base` with `patch` laid over it: nested objects merge field by field, anything else (arrays,
 * null, numbers) replaces. Fields the patch leaves out keep the base's values.
 */
export function mergeGuardrailConfig(base: GuardrailConfig, patch: unknown): unknown {
  const merge = (a: unknown, b: unknown): unknown => {
    if (b === undefined) return a;
    if (!isPlainObject(a) || !isPlainObject(b)) return b;
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
    return out;
  };
  return merge(base, patch);
}

/** A stored body: fields a version predates (older rows held only the policy) get today's defaults. */
export function parseGuardrailConfig(stored: unknown): GuardrailConfig {
  const parsed = validateGuardrailConfig(mergeGuardrailConfig(DEFAULT_GUARDRAIL_CONFIG, stored));
  if (!parsed.ok) throw new Error(parsed.issues.map((i) => `${i.path || "config"}: ${i.message}`).join("; "));
  return parsed.config;
}

/** The policy part alone, validated by the engine's schema: what the engine runs (the rules are enforced around it). */
export function specPart(config: GuardrailConfig): SpecConfig {
  const spec: Record<string, unknown> = { ...config };
  for (const key of RULE_KEYS) delete spec[key];
  return parseSpecConfig(spec);
}

/** One field that differs between two configs; `from`/`to` are undefined where a side lacks the field. */
export interface ConfigChange {
  path: string;
  from: unknown;
  to: unknown;
}

/** Field-by-field differences, nested objects walked to their leaves, arrays compared whole. */
export function diffConfigs(from: unknown, to: unknown, prefix = ""): ConfigChange[] {
  if (isPlainObject(from) && isPlainObject(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])];
    return keys.flatMap((k) => diffConfigs(from[k], to[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(from) === JSON.stringify(to) ? [] : [{ path: prefix || "config", from, to }];
}

/** Which rule acted, what it measured against which threshold, and what it did. */
export interface GuardrailAction {
  rule: "fallback" | "cooldown" | "load" | "limits" | "overrides";
  action: "speculation_off" | "refused" | "capped";
  /** The step it acted at (fallback), or null for admission-time rules. */
  step: number | null;
  measured: number;
  threshold: number;
  detail: string;
}

/**
 * The fallback rule inside one request: fed every step, it trips once, at the first step where the
 * last `window` drafting steps accepted fewer than `minAcceptance` of their draft tokens. Steps that
 * drafted nothing do not count (they say nothing about acceptance).
 */
export class FallbackMonitor {
  private readonly recent: { drafted: number; accepted: number }[] = [];
  private tripped = false;

  constructor(private readonly rule: FallbackRule | null) {}

  /** The action when this step trips the rule, else null (always null after the first trip). */
  observe(step: number, drafted: number, accepted: number): GuardrailAction | null {
    if (!this.rule || this.tripped || drafted === 0) return null;
    this.recent.push({ drafted, accepted });
    if (this.recent.length > this.rule.window) this.recent.shift();
    if (this.recent.length < this.rule.window) return null;
    const totalDrafted = this.recent.reduce((n, s) => n + s.drafted, 0);
    const measured = this.recent.reduce((n, s) => n + s.accepted, 0) / totalDrafted;
    if (measured >= this.rule.minAcceptance) return null;
    this.tripped = true;
    return {
      rule: "fallback", action: "speculation_off", step, measured, threshold: this.rule.minAcceptance,
      detail: `acceptance ${measured.toFixed(3)} over the last ${this.rule.window} drafting steps is below ${this.rule.minAcceptance}: speculation off for the rest of the request`,
    };
  }

  get off(): boolean {
    return this.tripped;
  }
}

/**
 * Checks the overrides a request makes against the version's allowed list. `given` are the wire
 * names the request set; `result` the config after them. Returns the first forbidden field, or null.
 */
export function forbiddenOverride(limits: GuardrailLimits, given: readonly string[], base: SpecConfig, result: SpecConfig): FieldIssue | null {
  const { allowed, allowLossy } = limits.overrides;
  for (const field of given) {
    if (allowed === "all") break;
    if (allowed === "none" || !allowed.includes(field as OverridableField)) {
      return { path: field, message: `this config version does not allow overriding ${field} per request (allowed: ${allowed === "none" ? "none" : allowed.join(", ") || "none"})` };
    }
  }
  const lossyField = given.includes("verify") ? "verify" : given.includes("lossy_threshold") ? "lossy_threshold" : null;
  if (!allowLossy && result.verify === "lossy" && lossyField && (base.verify !== "lossy" || result.lossyThreshold < base.lossyThreshold)) {
    return { path: lossyField, message: `this config version does not allow lossy overrides: the output could differ from the target model's` };
  }
  return null;
}

/** vLLM's --speculative-config for the fields that map, and what vLLM cannot express. */
export function vllmSpeculativeConfig(config: SpecConfig, draftModel: string | null): { json: Record<string, unknown> | null; unmapped: string[] } {
  const unmapped: string[] = [];
  if (config.adaptiveK) unmapped.push("adaptiveK (vLLM keeps num_speculative_tokens fixed)");
  if (config.draftConfidence > 0) unmapped.push("draftConfidence");
  if (config.draftAcceptFloor > 0) unmapped.push("draftAcceptFloor (vLLM drafts num_speculative_tokens every step)");
  if (config.verify === "lossy") unmapped.push("verify: lossy (vLLM verifies losslessly)");
  if (config.draftWindow) unmapped.push("draftWindow");
  switch (config.proposer) {
    case "off":
      return { json: null, unmapped: ["proposer off: run vLLM without --speculative-config"] };
    case "ngram":
      return { json: { method: "ngram", num_speculative_tokens: config.kMax, prompt_lookup_max: config.ngram.maxN, prompt_lookup_min: config.ngram.minN }, unmapped };
    case "tree":
      unmapped.push("tree width/branchMinProb (vLLM's draft-model method drafts one chain)");
      return { json: { method: "draft_model", model: draftModel, num_speculative_tokens: config.tree.depth }, unmapped };
    case "draft-model":
      return { json: { method: "draft_model", model: draftModel, num_speculative_tokens: config.kMax }, unmapped };
  }
}
