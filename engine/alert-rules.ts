/**
 * Drift alert rules: the `alerts` field of every guardrail config version (defaults when a version
 * has none). The server evaluates them continuously over rolling windows per series
 * (config version, target model_id, draft model_id, proposer); see docs/alerts.md.
 *
 * Every statistic is request-level: one request is one unit, because the steps inside a request share
 * a prompt and a context and are strongly correlated (a per-step test would see ten times the evidence
 * there is and fire on noise). `falseAlarmRate` is the probability, per evaluation window of traffic
 * that did not change, that a drift rule breaches; the position rule splits it across positions.
 */
import { z } from "zod";

const probability = z.number().min(0).max(1);
/** A webhook URL: http or https only. The global webhook setting (db/queries/settings.ts) uses it too. */
export const webhookUrlSchema = z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).max(2048);
const webhookUrl = webhookUrlSchema.nullable();

const driftRule = (defaultMin: number) =>
  z.strictObject({
    enabled: z.boolean().default(true),
    /** Smallest shift worth an alert, however significant (absolute, in the metric's units). */
    minShift: z.number().min(0).max(1).default(defaultMin),
    /** Where this rule's notifications go in addition to the version's webhook (null: none). */
    webhook: webhookUrl.default(null),
  });

export const ALERT_RULE_NAMES = ["acceptance-floor", "acceptance-drift", "target-confidence-drift", "draft-confidence-drift", "position-drift"] as const;
export type AlertRuleName = (typeof ALERT_RULE_NAMES)[number];

const windowSchema = z.strictObject({
  requests: z.number().int().min(5).max(1000).default(30),
  minutes: z.number().min(0).max(10_080).default(0),
  /** Fewer requests than this in the window: no verdict (a quiet series never fires on 3 requests). */
  minRequests: z.number().int().min(5).max(1000).default(20),
});

const baselineSchema = z.strictObject({
  requests: z.number().int().min(10).max(100_000).default(60),
  pinned: z
    .strictObject({ fromMs: z.number().int().min(0), toMs: z.number().int().min(0) })
    .refine((p) => p.toMs > p.fromMs, { error: "toMs must be after fromMs", path: ["toMs"] })
    .nullable()
    .default(null),
});

const rulesSchema = z.strictObject({
  /** Fixed threshold: acceptance over the window below `threshold`. No baseline needed. */
  "acceptance-floor": z.strictObject({ enabled: z.boolean().default(true), threshold: probability.default(0.3), webhook: webhookUrl.default(null) }).prefault({}),
  /** Acceptance rate lower than the baseline's (one-sided test). */
  "acceptance-drift": driftRule(0.03).prefault({}),
  /** The target's mean probability of the draft tokens it accepted, shifted either way. */
  "target-confidence-drift": driftRule(0.03).prefault({}),
  /** The proposer's mean probability of its own proposals, shifted either way. */
  "draft-confidence-drift": driftRule(0.03).prefault({}),
  /** Acceptance at any of the first `positions` draft positions lower than the baseline's. */
  "position-drift": driftRule(0.05).extend({ positions: z.number().int().min(1).max(16).default(4) }).prefault({}),
});

/**
 * Every field has its default, so `{}` (or any part of the rules) parses to complete rules: a version
 * stored before alerts existed, or one that sets only `falseAlarmRate`, gets today's defaults for the rest.
 */
export const alertRulesSchema = z.strictObject({
  /** Evaluate this version's traffic at all. */
  enabled: z.boolean().default(true),
  /** The rolling window: the series' last `requests` requests, only those of the last `minutes` when > 0. */
  window: windowSchema.prefault({}),
  /** What "normal" is: the series' first `requests` requests, or the requests of a pinned time window. */
  baseline: baselineSchema.prefault({}),
  /** Per-window false-alarm probability the drift tests are tuned for. */
  falseAlarmRate: z.number().min(1e-6).max(0.1).default(0.001),
  /** A breach must hold over this many further requests before pending becomes firing (and a firing
   *  alert must stay recovered as long before it resolves): one noisy window does not page anyone. */
  confirmRequests: z.number().int().min(0).max(1000).default(3),
  /** Every notification of this version goes here (null: only SPECLENS_ALERT_WEBHOOK and per-rule hooks). */
  webhook: webhookUrl.default(null),
  rules: rulesSchema.prefault({}),
});

export type AlertRules = z.infer<typeof alertRulesSchema>;

export const DEFAULT_ALERT_RULES: AlertRules = alertRulesSchema.parse({});

/**
 * The rules of a stored config body: its `alerts` field with defaults for whatever it leaves out (all of
 * it when absent). Throws with the field's path when the stored value is invalid.
 */
export function alertRulesOf(body: unknown): AlertRules {
  const stored = body && typeof body === "object" && "alerts" in body ? (body as { alerts: unknown }).alerts : undefined;
  const parsed = alertRulesSchema.safeParse(stored ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`alerts.${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Every webhook field of a version's rules, by its path in the config: `alerts.webhook`, then
 * `alerts.rules.<rule>.webhook` in rule order (null where none is set). Who may change these is the
 * server's concern (app/_lib/guardrails/api.ts): a webhook URL decides where alert texts are sent.
 */
export function alertWebhookFields(rules: AlertRules): { path: string; url: string | null }[] {
  return [
    { path: "alerts.webhook", url: rules.webhook },
    ...ALERT_RULE_NAMES.map((name) => ({ path: `alerts.rules.${name}.webhook`, url: rules.rules[name].webhook })),
  ];
}
