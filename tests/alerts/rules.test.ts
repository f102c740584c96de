import { describe, expect, it } from "vitest";
import { evaluateRules, type RequestSignals } from "@/db/alerts/rules";
import { driftTest, normalQuantile, tQuantile, type Unit } from "@/db/alerts/stats";
import { alertRulesOf, alertRulesSchema, DEFAULT_ALERT_RULES, type AlertRules } from "@/engine";
import { seededRandom } from "@/tools/alerts/prompts";
import { loadRecording } from "@/tools/alerts/bench";

// Real traffic from the shipped pair (tools/alerts/record.ts): 300 held-out in-domain requests, then
// 150 out-of-domain ones (code, JSON, number lists).
const { inDomain, outOfDomain } = loadRecording();
const rate = (rows: RequestSignals[]) => rows.reduce((a, r) => a + r.accepted, 0) / rows.reduce((a, r) => a + r.drafted, 0);
const breached = (rules: AlertRules, baseline: RequestSignals[], window: RequestSignals[]) =>
  evaluateRules(rules, baseline, window).filter((v) => v.breach).map((v) => v.rule);

describe("quantiles", () => {
  it("match tabulated values", () => {
    expect(normalQuantile(0.001)).toBeCloseTo(-3.0902, 3);
    expect(normalQuantile(0.975)).toBeCloseTo(1.96, 3);
    expect(tQuantile(0.001, 59)).toBeCloseTo(-3.2317, 2);
    expect(tQuantile(0.025, 20)).toBeCloseTo(-2.086, 2);
  });
});

describe("drift rules on recorded traffic", () => {
  const baseline = inDomain.slice(0, DEFAULT_ALERT_RULES.baseline.requests);

  it("the recording shows the drop the rules must catch", () => {
    expect(rate(outOfDomain)).toBeLessThan(rate(inDomain) - 0.05);
  });

  it("fire on the real drop: a window of out-of-domain requests after an in-domain baseline", () => {
    const windows = [0, 30, 60, 90, 120].map((start) => outOfDomain.slice(start, start + 30));
    const caught = windows.filter((w) => breached(DEFAULT_ALERT_RULES, baseline, w).includes("acceptance-drift"));
    expect(caught.length).toBeGreaterThanOrEqual(3);
  });

  it("stay quiet on unseen in-domain windows", () => {
    for (let start = 60; start + 30 <= inDomain.length; start += 30) {
      expect(breached(DEFAULT_ALERT_RULES, baseline, inDomain.slice(start, start + 30)), `window at ${start}`).toEqual([]);
    }
  });

  it("stay quiet on noise of the same mean (windows resampled from the baseline's own distribution, spread 1.5x)", () => {
    const rand = seededRandom(3);
    const mean = rate(inDomain);
    let breaches = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      // Each request keeps its size; its acceptance moves away from the mean by 1.5x its own deviation.
      const window = Array.from({ length: 30 }, () => {
        const r = inDomain[Math.floor(rand() * inDomain.length)];
        const accepted = Math.min(r.drafted, Math.max(0, Math.round(mean * r.drafted + 1.5 * (r.accepted - mean * r.drafted))));
        return { ...r, accepted };
      });
      if (breached(DEFAULT_ALERT_RULES, inDomain.slice(0, 60), window).some((r) => r === "acceptance-drift" || r === "acceptance-floor")) breaches++;
    }
    // A wider spread is not a drop: at a 0.1% false-alarm rate, a handful of 400 at most.
    expect(breaches).toBeLessThanOrEqual(4);
  });

  it("can fail: with no minimum shift and a 10% false-alarm rate, same-mean noise does breach", () => {
    const loose = alertRulesOf({ alerts: { falseAlarmRate: 0.1, rules: { "acceptance-drift": { enabled: true, minShift: 0 } } } });
    const rand = seededRandom(4);
    let breaches = 0;
    for (let t = 0; t < 300; t++) {
      const window = Array.from({ length: 30 }, () => inDomain[Math.floor(rand() * inDomain.length)]);
      if (breached(loose, baseline, window).includes("acceptance-drift")) breaches++;
    }
    expect(breaches).toBeGreaterThan(5);
  });
});

describe("the request-level test", () => {
  it("holds its false-alarm rate on skewed, correlated-within-request data", () => {
    // Each request: 10 steps of 4 draft positions sharing one request-level acceptance probability drawn
    // from a skewed beta-like law, so steps within a request are correlated.
    const rand = seededRandom(9);
    const request = (): Unit => {
      const p = Math.pow(rand(), 2.5);
      let x = 0;
      for (let s = 0; s < 40; s++) x += rand() < p ? 1 : 0;
      return { x, n: 40 };
    };
    let breaches = 0;
    const trials = 4000;
    for (let t = 0; t < trials; t++) {
      const baseline = Array.from({ length: 60 }, request);
      const window = Array.from({ length: 30 }, request);
      if (driftTest(baseline, window, 0.01, "lower", 0)?.breach) breaches++;
    }
    expect(breaches / trials).toBeLessThan(0.015);
    expect(breaches / trials).toBeGreaterThan(0.003);
  });
});

describe("alert rules schema", () => {
  it("fills defaults field by field and names a bad field", () => {
    expect(alertRulesOf({})).toEqual(DEFAULT_ALERT_RULES);
    expect(alertRulesSchema.parse({ rules: { "acceptance-floor": { threshold: 0.2 } } }).rules["acceptance-floor"]).toEqual({ enabled: true, threshold: 0.2, webhook: null });
    expect(alertRulesOf({ alerts: { window: { requests: 50 } } }).window).toEqual({ requests: 50, minutes: 0, minRequests: 20 });
    expect(() => alertRulesOf({ alerts: { rules: { "acceptance-floor": { threshold: 2 } } } })).toThrow(/alerts\.rules\.acceptance-floor\.threshold/);
    expect(alertRulesSchema.safeParse({ ...DEFAULT_ALERT_RULES, falseAlarmRate: 0.5 }).success).toBe(false);
    expect(alertRulesSchema.safeParse({ ...DEFAULT_ALERT_RULES, baseline: { requests: 60, pinned: { fromMs: 5, toMs: 1 } } }).success).toBe(false);
    expect(alertRulesSchema.safeParse({ ...DEFAULT_ALERT_RULES, webhook: "ftp://x" }).success).toBe(false);
  });
});
