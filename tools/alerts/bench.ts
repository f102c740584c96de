/**
 * `npm run bench:alerts`: how fast the default drift rules catch a real drop, and how often they fire on
 * traffic that did not change, measured on recorded traffic from the shipped pair
 * (tests/fixtures/alert-traffic.json, made by tools/alerts/record.ts).
 *
 * Each of many seeded streams resamples recorded requests (with replacement): a baseline of in-domain
 * requests, then in-domain traffic evaluated in non-overlapping windows (false alarms: a window whose
 * test breaches; and firings, with the lifecycle's confirmation, evaluated after every request as the
 * server does), then a switch to out-of-domain traffic (requests from the switch until the alert fires).
 * Writes tools/alerts/results.json and prints a table.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ALERT_RULE_NAMES, DEFAULT_ALERT_RULES, type AlertRuleName, type AlertRules } from "../../engine";
import { evaluateRules, type RequestSignals, type Verdict } from "../../db/alerts/rules";
import { seededRandom } from "./prompts";
import type { Recording, RecordedRequest } from "./record";

export function toSignals(r: RecordedRequest, i: number): RequestSignals {
  return {
    traceId: `rec-${i}`,
    accepted: r.accepted,
    drafted: r.drafted,
    positionCounts: r.posDrafted.map((d, p) => [r.posAccepted[p] ?? 0, d]),
    targetConfidence: r.targetConfN > 0 ? r.targetConfSum / r.targetConfN : null,
    targetConfidenceN: r.targetConfN,
    draftConfidence: r.draftConfN > 0 ? r.draftConfSum / r.draftConfN : null,
    draftConfidenceN: r.draftConfN,
  };
}

export function loadRecording(file = "tests/fixtures/alert-traffic.json"): { inDomain: RequestSignals[]; outOfDomain: RequestSignals[]; recording: Recording } {
  const recording = JSON.parse(readFileSync(file, "utf8")) as Recording;
  const all = recording.requests.map(toSignals);
  return {
    recording,
    inDomain: all.filter((_, i) => recording.requests[i].domain === "in"),
    outOfDomain: all.filter((_, i) => recording.requests[i].domain === "out"),
  };
}

/**
 * The server's lifecycle (db/alerts/store.ts applyVerdict), by request count: pending after a breach,
 * firing once the breach held `confirm` more requests; a firing alert resolves once its window is back
 * halfway to the baseline for `confirm` requests. step() returns the transition this verdict caused.
 */
export class Lifecycle {
  state: "none" | "pending" | "firing" = "none";
  private streak = 0;
  constructor(private readonly confirm: number) {}
  step(v: Verdict): "fired" | "resolved" | null {
    if (this.state === "none") {
      if (!v.breach) return null;
      this.state = this.confirm === 0 ? "firing" : "pending";
      this.streak = 0;
      return this.state === "firing" ? "fired" : null;
    }
    if (this.state === "pending") {
      if (!v.breach) this.state = "none";
      else if (++this.streak >= this.confirm) {
        this.state = "firing";
        this.streak = 0;
        return "fired";
      }
      return null;
    }
    const recovered = v.baseline === null ? v.value >= v.threshold : Math.abs(v.value - v.baseline) <= Math.abs(v.threshold - v.baseline) / 2;
    this.streak = v.breach || !recovered ? 0 : this.streak + 1;
    if (this.streak > this.confirm) {
      this.state = "none";
      return "resolved";
    }
    return null;
  }
}

interface RuleFigures {
  windows: number;
  breaches: number;
  requestsEvaluated: number;
  falseFirings: number;
  detections: number[];
  resolutions: number[];
  streams: number;
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export function runBench(rules: AlertRules, inDomain: RequestSignals[], outOfDomain: RequestSignals[], streams: number, windowsPerStream: number, seed = 7, independentWindows = 50_000) {
  const rand = seededRandom(seed);
  const draw = (pool: RequestSignals[]) => pool[Math.floor(rand() * pool.length)];
  const figures = Object.fromEntries(ALERT_RULE_NAMES.map((r) => [r, { windows: 0, breaches: 0, requestsEvaluated: 0, falseFirings: 0, detections: [] as number[], resolutions: [] as number[], streams }])) as unknown as Record<AlertRuleName, RuleFigures>;
  const W = rules.window.requests;
  const maxOut = 150;
  for (let s = 0; s < streams; s++) {
    const baseline = Array.from({ length: rules.baseline.requests }, () => draw(inDomain));
    // In-domain phase: evaluated after every request (firings) and counted per non-overlapping window (breaches).
    const traffic: RequestSignals[] = [];
    const life = Object.fromEntries(ALERT_RULE_NAMES.map((r) => [r, new Lifecycle(rules.confirmRequests)])) as Record<AlertRuleName, Lifecycle>;
    for (let i = 0; i < W * windowsPerStream; i++) {
      traffic.push(draw(inDomain));
      const window = traffic.slice(-W);
      const verdicts = evaluateRules(rules, baseline, window);
      const windowBoundary = traffic.length % W === 0;
      for (const v of verdicts) {
        const f = figures[v.rule];
        f.requestsEvaluated += 1;
        if (life[v.rule].step(v) === "fired") f.falseFirings += 1;
        if (windowBoundary) {
          f.windows += 1;
          if (v.breach) f.breaches += 1;
        }
      }
    }
    // Drop: in-domain window full, then out-of-domain traffic until each rule fires (or maxOut requests),
    // then in-domain traffic again until it resolves.
    for (const rule of ALERT_RULE_NAMES) {
      const lifecycle = new Lifecycle(rules.confirmRequests);
      const stream = traffic.slice(-W);
      let firedAfter: number | null = null;
      for (let n = 1; n <= maxOut && firedAfter === null; n++) {
        stream.push(draw(outOfDomain));
        const v = evaluateRules(rules, baseline, stream.slice(-W)).find((x) => x.rule === rule);
        if (v && lifecycle.step(v) === "fired") firedAfter = n;
      }
      if (firedAfter === null) continue;
      figures[rule].detections.push(firedAfter);
      for (let n = 1; n <= maxOut; n++) {
        stream.push(draw(inDomain));
        const v = evaluateRules(rules, baseline, stream.slice(-W)).find((x) => x.rule === rule);
        if (v && lifecycle.step(v) === "resolved") {
          figures[rule].resolutions.push(n);
          break;
        }
      }
    }
  }
  // Independent windows: a fresh baseline for every window, so one unlucky baseline cannot cluster
  // breaches; this is the per-window false-alarm rate the test states.
  const independent = Object.fromEntries(ALERT_RULE_NAMES.map((r) => [r, { windows: 0, breaches: 0 }])) as Record<AlertRuleName, { windows: number; breaches: number }>;
  for (let i = 0; i < independentWindows; i++) {
    const baseline = Array.from({ length: rules.baseline.requests }, () => draw(inDomain));
    const window = Array.from({ length: W }, () => draw(inDomain));
    for (const v of evaluateRules(rules, baseline, window)) {
      independent[v.rule].windows += 1;
      if (v.breach) independent[v.rule].breaches += 1;
    }
  }
  return Object.fromEntries(
    ALERT_RULE_NAMES.map((rule) => {
      const f = figures[rule];
      const ind = independent[rule];
      return [rule, {
        independentWindows: ind.windows,
        independentBreaches: ind.breaches,
        independentBreachRate: ind.windows ? ind.breaches / ind.windows : null,
        windows: f.windows,
        breaches: f.breaches,
        breachRate: f.windows ? f.breaches / f.windows : null,
        requestsEvaluated: f.requestsEvaluated,
        falseFiringsPer1000Requests: f.requestsEvaluated ? (1000 * f.falseFirings) / f.requestsEvaluated : null,
        detectedStreams: f.detections.length / f.streams,
        requestsToFireMedian: percentile(f.detections, 0.5),
        requestsToFireP90: percentile(f.detections, 0.9),
        requestsToResolveMedian: percentile(f.resolutions, 0.5),
        requestsToResolveP90: percentile(f.resolutions, 0.9),
      }];
    }),
  );
}

function main(): void {
  const { values } = parseArgs({
    options: {
      streams: { type: "string", default: "200" }, windows: { type: "string", default: "10" }, file: { type: "string" },
      // Trade-offs to try against the defaults: window and baseline sizes (requests), false-alarm rate.
      seed: { type: "string", default: "7" }, independent: { type: "string", default: "50000" }, window: { type: "string" }, baseline: { type: "string" }, alpha: { type: "string" }, out: { type: "string", default: "tools/alerts/results.json" },
    },
  });
  const rules: AlertRules = {
    ...DEFAULT_ALERT_RULES,
    window: { ...DEFAULT_ALERT_RULES.window, requests: Number(values.window ?? DEFAULT_ALERT_RULES.window.requests) },
    baseline: { ...DEFAULT_ALERT_RULES.baseline, requests: Number(values.baseline ?? DEFAULT_ALERT_RULES.baseline.requests) },
    falseAlarmRate: Number(values.alpha ?? DEFAULT_ALERT_RULES.falseAlarmRate),
  };
  const { inDomain, outOfDomain, recording } = loadRecording(values.file);
  const mean = (rows: RequestSignals[]) => rows.reduce((a, r) => a + r.accepted, 0) / rows.reduce((a, r) => a + r.drafted, 0);
  const started = performance.now();
  const results = runBench(rules, inDomain, outOfDomain, Number(values.streams), Number(values.windows), Number(values.seed), Number(values.independent));
  const report = {
    recording: { file: values.file ?? "tests/fixtures/alert-traffic.json", models: recording.models, inDomain: inDomain.length, outOfDomain: outOfDomain.length, acceptanceIn: mean(inDomain), acceptanceOut: mean(outOfDomain) },
    rules: { window: rules.window, baseline: rules.baseline, falseAlarmRate: rules.falseAlarmRate, confirmRequests: rules.confirmRequests },
    streams: Number(values.streams),
    seed: Number(values.seed),
    results,
    seconds: (performance.now() - started) / 1000,
  };
  writeFileSync(values.out!, JSON.stringify(report, null, 2) + "\n");
  console.log(`recorded: ${inDomain.length} in-domain (acceptance ${mean(inDomain).toFixed(3)}), ${outOfDomain.length} out-of-domain (${mean(outOfDomain).toFixed(3)})`);
  console.log("rule                     | independent windows: breaches (rate) | stream windows | breaches (rate)  | false firings /1000 req | fired streams | to fire p50 / p90 | to resolve p50 / p90");
  for (const [rule, r] of Object.entries(results)) {
    console.log(`${rule.padEnd(24)} | ${String(r.independentWindows).padStart(6)}: ${String(r.independentBreaches).padStart(4)} (${((r.independentBreachRate ?? 0) * 100).toFixed(3)}%) | ${String(r.windows).padStart(7)} | ${String(r.breaches).padStart(5)} (${((r.breachRate ?? 0) * 100).toFixed(3)}%) | ${(r.falseFiringsPer1000Requests ?? 0).toFixed(3).padStart(23)} | ${(r.detectedStreams * 100).toFixed(1).padStart(12)}% | ${`${r.requestsToFireMedian ?? "-"} / ${r.requestsToFireP90 ?? "-"}`.padStart(17)} | ${r.requestsToResolveMedian ?? "-"} / ${r.requestsToResolveP90 ?? "-"}`);
  }
}

if (process.argv[1]?.endsWith("bench.ts")) main();
