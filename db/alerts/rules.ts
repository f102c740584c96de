import type { AlertRuleName, AlertRules } from "@/engine";
import { driftTest, ratioSample, type DriftTest, type Unit } from "./stats";

/*
 * The rules as pure functions of a baseline and a window of requests, each request reduced to its
 * signals (db/tracing/signals.ts). The server's evaluator and `npm run bench:alerts` both call this,
 * so the benchmark measures exactly what runs.
 */

export interface RequestSignals {
  traceId: string;
  accepted: number;
  drafted: number;
  /** [position] [steps that accepted it, steps that drafted it] */
  positionCounts: [number, number][];
  targetConfidence: number | null;
  targetConfidenceN: number;
  draftConfidence: number | null;
  draftConfidenceN: number;
}

export interface Verdict {
  rule: AlertRuleName;
  breach: boolean;
  value: number;
  /** null for the floor rule, which has no baseline. */
  baseline: number | null;
  threshold: number;
  /** The test, in words (for the page and the webhook text). */
  detail: string;
}

const acceptanceUnits = (rows: readonly RequestSignals[]): Unit[] => rows.map((r) => ({ x: r.accepted, n: r.drafted }));
const positionUnits = (rows: readonly RequestSignals[], i: number): Unit[] =>
  rows.map((r) => ({ x: r.positionCounts[i]?.[0] ?? 0, n: r.positionCounts[i]?.[1] ?? 0 }));
const targetUnits = (rows: readonly RequestSignals[]): Unit[] =>
  rows.map((r) => ({ x: (r.targetConfidence ?? 0) * r.targetConfidenceN, n: r.targetConfidence === null ? 0 : r.targetConfidenceN }));
const draftUnits = (rows: readonly RequestSignals[]): Unit[] =>
  rows.map((r) => ({ x: (r.draftConfidence ?? 0) * r.draftConfidenceN, n: r.draftConfidence === null ? 0 : r.draftConfidenceN }));

const fmt = (v: number) => v.toFixed(3);

function describe(what: string, test: DriftTest, alpha: number, windowRequests: number): string {
  return `${what} ${fmt(test.value)} over the last ${windowRequests} requests vs ${fmt(test.baseline)} baseline ` +
    `(${test.baselineUnits} requests); z = ${test.z.toFixed(2)}, fires past ${fmt(test.threshold)} ` +
    `(request-level test, false-alarm rate ${alpha} per window)`;
}

/** The position rule's test at one draft position (0-based), e.g. to chart the position that fired. */
export function positionVerdict(rules: AlertRules, baseline: readonly RequestSignals[], window: readonly RequestSignals[], position: number): Verdict | null {
  const { positions, minShift } = rules.rules["position-drift"];
  const alpha = rules.falseAlarmRate / positions;
  const test = driftTest(positionUnits(baseline, position), positionUnits(window, position), alpha, "lower", minShift);
  if (!test || window.length < rules.window.minRequests) return null;
  return {
    rule: "position-drift", breach: test.breach, value: test.value, baseline: test.baseline, threshold: test.threshold,
    detail: describe(`acceptance at draft position ${position + 1}`, test, alpha, window.length) + `; ${positions} positions tested`,
  };
}

/** Every enabled rule's verdict on a window (no verdict when the window or baseline is too small). */
export function evaluateRules(rules: AlertRules, baseline: readonly RequestSignals[], window: readonly RequestSignals[]): Verdict[] {
  if (!rules.enabled || window.length < rules.window.minRequests) return [];
  const verdicts: Verdict[] = [];
  const r = rules.rules;
  const alpha = rules.falseAlarmRate;

  if (r["acceptance-floor"].enabled) {
    const value = ratioSample(acceptanceUnits(window)).mean;
    if (Number.isFinite(value)) {
      const threshold = r["acceptance-floor"].threshold;
      verdicts.push({
        rule: "acceptance-floor", breach: value < threshold, value, baseline: null, threshold,
        detail: `acceptance ${fmt(value)} over the last ${window.length} requests; floor ${fmt(threshold)}`,
      });
    }
  }
  if (baseline.length < Math.min(rules.baseline.requests, 10)) return verdicts;

  const drift = (rule: AlertRuleName, what: string, units: (rows: readonly RequestSignals[]) => Unit[], side: "lower" | "both", minShift: number) => {
    const test = driftTest(units(baseline), units(window), alpha, side, minShift);
    if (test) verdicts.push({ rule, breach: test.breach, value: test.value, baseline: test.baseline, threshold: test.threshold, detail: describe(what, test, alpha, window.length) });
  };
  if (r["acceptance-drift"].enabled) drift("acceptance-drift", "acceptance", acceptanceUnits, "lower", r["acceptance-drift"].minShift);
  if (r["target-confidence-drift"].enabled) {
    drift("target-confidence-drift", "target confidence in accepted drafts", targetUnits, "both", r["target-confidence-drift"].minShift);
  }
  if (r["draft-confidence-drift"].enabled) {
    drift("draft-confidence-drift", "draft confidence in its proposals", draftUnits, "both", r["draft-confidence-drift"].minShift);
  }
  if (r["position-drift"].enabled) {
    // One test per position at alpha / positions (Bonferroni): the rule as a whole keeps alpha.
    const { positions, minShift } = r["position-drift"];
    let worst: { test: DriftTest; position: number } | null = null;
    for (let i = 0; i < positions; i++) {
      const test = driftTest(positionUnits(baseline, i), positionUnits(window, i), alpha / positions, "lower", minShift);
      if (!test) continue;
      const margin = (test.value - test.threshold) / Math.max(Math.abs(test.baseline - test.threshold), 1e-9);
      const worstMargin = worst ? (worst.test.value - worst.test.threshold) / Math.max(Math.abs(worst.test.baseline - worst.test.threshold), 1e-9) : Infinity;
      if (margin < worstMargin) worst = { test, position: i };
    }
    if (worst) {
      verdicts.push({
        rule: "position-drift", breach: worst.test.breach, value: worst.test.value, baseline: worst.test.baseline, threshold: worst.test.threshold,
        detail: describe(`acceptance at draft position ${worst.position + 1}`, worst.test, alpha / positions, window.length) + `; ${positions} positions tested`,
      });
    }
  }
  return verdicts;
}
