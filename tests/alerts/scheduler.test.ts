import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { alertMetrics, runAlertEvaluation } from "@/app/_lib/alerts/scheduler";
import { servingMetrics } from "@/app/_lib/serving/metrics";
import { closeDatabase, getDatabase } from "@/db/client";
import { applyVerdict } from "@/db/alerts/store";
import { DEFAULT_ALERT_RULES } from "@/engine";
import { makeTempDir } from "../support/temp";

let temp: ReturnType<typeof makeTempDir>;
const saved = process.env.SPECLENS_DB;
beforeEach(() => {
  temp = makeTempDir();
  process.env.SPECLENS_DB = `${temp.dir}/scheduler.db`;
});
afterEach(() => {
  closeDatabase();
  temp.cleanup();
  process.env.SPECLENS_DB = saved;
});

const metricValue = async (name: string, labels: string) => {
  const text = await servingMetrics().registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`) || (labels === "" && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
};

describe("the alert scheduler", () => {
  it("counts a series it cannot evaluate on /metrics (and logs it) while evaluating the others", async () => {
    const { sqlite } = getDatabase();
    sqlite.prepare(`INSERT INTO config_versions (version, body_json, created_at_ms, author) VALUES (7, ?, 0, 'test')`).run(JSON.stringify({ alerts: { falseAlarmRate: 5 } }));
    sqlite.prepare(`INSERT INTO requests (trace_id, span_id, node, start_ns, end_ns, operation, config_version, proposer, drafted, accepted, status_code)
      VALUES ('t1', 's', 'n', 1, 2, 'text_completion', '7', 'draft-model', 4, 2, 1), ('t2', 's', 'n', 1, 2, 'text_completion', '8', 'draft-model', 4, 2, 1)`).run();
    alertMetrics();
    const before = (await metricValue("speclens_alert_evaluator_errors_total", 'kind="series"')) ?? 0;
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      runAlertEvaluation();
    } finally {
      console.error = original;
    }
    expect(await metricValue("speclens_alert_evaluator_errors_total", 'kind="series"')).toBe(before + 1);
    expect(String(errors[0])).toMatch(/alerts\.falseAlarmRate/);
    expect(await metricValue("speclens_alert_evaluations_total", "")).toBeGreaterThanOrEqual(1);
  });

  it("exports the firing count by rule", async () => {
    const { sqlite } = getDatabase();
    const series = { configVersion: "1", targetModelId: "t", draftModelId: "d", proposer: "draft-model" };
    applyVerdict(sqlite, series, { ...DEFAULT_ALERT_RULES, confirmRequests: 0 },
      { rule: "position-drift", breach: true, value: 0.2, baseline: 0.5, threshold: 0.4, detail: "" }, [], Date.now());
    alertMetrics();
    expect(await metricValue("speclens_alerts_firing", 'rule="position-drift"')).toBe(1);
    expect(await metricValue("speclens_alerts_firing", 'rule="acceptance-drift"')).toBe(0);
  });
});
