import path from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import type { RequestSignals } from "@/db/alerts/rules";
import { evaluateAlerts, listAlerts } from "@/db/alerts/store";
import { loadRecording } from "@/tools/alerts/bench";
import { traceIdOf } from "../support/spans";
import { SCREENSHOT_DIR, type RunningApp, setUpBrowserSuite } from "./harness";

let firingId = 0;

/**
 * A database in which config version 1's traffic (recorded from the shipped pair) drops: 90 in-domain
 * requests, then out-of-domain ones, evaluated after each request as the server does, until the
 * acceptance-drift alert fires and 10 requests more.
 */
function prepare(databasePath: string): void {
  const { inDomain, outOfDomain } = loadRecording();
  const { sqlite } = openDatabase(databasePath);
  const T0 = Date.now() - 10 * 60_000;
  let n = 0;
  const store = (r: RequestSignals) => {
    n += 1;
    const startNs = BigInt(T0 + n * 2000) * 1_000_000n;
    sqlite.prepare(`INSERT INTO requests (trace_id, span_id, node, start_ns, end_ns, operation, config_version, proposer, target_model_id, draft_model_id,
        status_code, drafted, accepted, acceptance_rate, position_counts_json, target_confidence, target_confidence_n, draft_confidence, draft_confidence_n)
        VALUES (?, 'span', 'n', ?, ?, 'text_completion', '1', 'draft-model', 'speclens-brown-20m@sha256:aaa', 'speclens-brown-draft-2m@sha256:bbb', 1, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(traceIdOf(n), startNs, startNs + 1_000_000_000n, r.drafted, r.accepted, r.accepted / r.drafted, JSON.stringify(r.positionCounts),
        r.targetConfidence, r.targetConfidenceN, r.draftConfidence, r.draftConfidenceN);
    evaluateAlerts(sqlite, T0 + n * 2000 + 1500);
  };
  for (const r of inDomain.slice(0, 90)) store(r);
  let after = -1;
  for (const r of outOfDomain) {
    store(r);
    if (after < 0 && listAlerts(sqlite, "firing").some((a) => a.rule === "acceptance-drift")) after = 0;
    if (after >= 0 && ++after > 10) break;
  }
  firingId = listAlerts(sqlite, "firing").find((a) => a.rule === "acceptance-drift")!.id;
  sqlite.close();
}

const session = setUpBrowserSuite({
  prefix: "speclens-alerts-browser-", viewport: { width: 1280, height: 1000 }, env: { SPECLENS_ALERT_INTERVAL_MS: "600000" }, prepare,
});
let app: RunningApp;
let page: Page;
beforeAll(() => ({ app, page } = session()));

describe("the Alerts page", () => {
  it("shows the firing alert first with its chart, config version and traces, and a badge in the navigation", async () => {
    await page.goto(`${app.baseUrl}/alerts`);
    const cards = page.getByTestId("alert-card");
    await cards.first().waitFor();
    expect(await cards.first().getAttribute("data-state")).toBe("firing");
    const card = page.locator(`#alert-${firingId}`);
    expect(await card.locator("h2").textContent()).toBe("acceptance-drift");
    // The chart: recharts drew the metric line, the threshold and the baseline band.
    const chart = card.getByTestId("alert-chart");
    await chart.locator(".recharts-wrapper > svg.recharts-surface").waitFor();
    expect(await chart.locator(".recharts-legend-item").allTextContents()).toEqual(["acceptance rate", "baseline", "baseline band", "threshold"]);
    expect(await chart.locator(".recharts-line").count()).toBeGreaterThanOrEqual(3);
    expect(await chart.locator(".recharts-area").count()).toBe(1);
    expect(await chart.locator(".recharts-reference-line").count()).toBeGreaterThanOrEqual(1);
    expect(await card.getByRole("link", { name: "v1" }).getAttribute("href")).toBe("/guardrails?version=1");
    const traceLinks = card.locator(".alert-traces a");
    expect(await traceLinks.count()).toBe(12);
    expect(await traceLinks.first().getAttribute("href")).toMatch(/^\/traces\/[0-9a-f]{32}$/);
    await expect.poll(() => page.getByTestId("alerts-badge").textContent(), { timeout: 10_000 }).toMatch(/^[1-9]\d*$/);
    await card.screenshot({ path: path.join(SCREENSHOT_DIR, "alerts-firing.png") });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "alerts-page.png") });
  });

  it("acknowledges the alert with a note, which joins its history", async () => {
    const card = page.locator(`#alert-${firingId}`);
    await card.getByLabel(`note for alert ${firingId}`).fill("out-of-domain load test, expected");
    await card.getByRole("button", { name: "Acknowledge" }).click();
    await expect.poll(() => card.locator(".alert-acked").textContent(), { timeout: 10_000 }).toContain("acknowledged by local");
    await card.locator("summary").click();
    expect(await card.locator(".alert-history").textContent()).toContain("acknowledged");
    const api = (await (await page.request.get(`${app.baseUrl}/api/alerts?state=firing`)).json()) as { alerts: { id: number; acknowledged: { note: string } | null }[] };
    expect(api.alerts.find((a) => a.id === firingId)?.acknowledged?.note).toBe("out-of-domain load test, expected");
  });

  it("lists open alerts on the Overview, firing first, linked to their cards", async () => {
    await page.goto(`${app.baseUrl}/`);
    const open = page.getByTestId("home-alerts");
    expect(await open.locator("li").first().textContent()).toMatch(/^firing /);
    const item = open.locator("li").filter({ has: page.locator(`a[href="/alerts#alert-${firingId}"]`) });
    expect(await item.textContent()).toMatch(/^firing acceptance-drift draft-model · config v1 · \d\.\d{3} vs baseline \d\.\d{3}/);
    expect(await item.textContent()).toContain("acknowledged by local");
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "home-alerts.png") });
  });
});
