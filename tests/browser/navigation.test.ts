import path from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { NAV_ITEMS } from "@/app/_lib/nav";
import { openDatabase } from "@/db/client";
import { spans } from "@/db/schema";
import { spanIdOf, spanRow } from "../support/spans";
import { committedMigrationCount } from "../support/temp";
import { SCREENSHOT_DIR, type RunningApp, setUpBrowserSuite } from "./harness";

const session = setUpBrowserSuite({ prefix: "speclens-browser-", viewport: { width: 1440, height: 900 } });
let databasePath: string;
let app: RunningApp;
let page: Page;
beforeAll(() => ({ databasePath, app, page } = session()));

async function activeLinks(): Promise<string[]> {
  return page.locator('nav[aria-label="Sections"] a[aria-current="page"]').allTextContents();
}

describe("SpecLens in a browser", () => {
  it("serves /api/health with the database it was started on", async () => {
    const response = await page.request.get(`${app.baseUrl}/api/health`);
    expect(response.status()).toBe(200);
    const body = (await response.json()) as { status: string; database: { status: string; path: string; journalMode: string; schemaVersion: number } };
    expect(body.status).toBe("ok");
    expect(body.database).toMatchObject({ status: "ok", path: databasePath, journalMode: "wal", schemaVersion: committedMigrationCount() });
  });

  it("lands on the last 24 hours; Traces has its empty state and a live health badge", async () => {
    await page.goto(app.baseUrl);
    expect(await page.locator("h1").textContent()).toBe("Last 24 hours");
    expect(await page.getByTestId("home-requests").textContent()).toContain("0");
    await page.goto(`${app.baseUrl}/traces`);
    expect(await page.locator("h1").textContent()).toBe("Traces");
    await expect.poll(() => page.getByTestId("empty-state").textContent()).toContain("No traces yet");
    expect(await activeLinks()).toEqual(["Traces"]);
    await expect
      .poll(() => page.getByTestId("health-badge").textContent(), { timeout: 10_000 })
      .toContain(`Database ok · schema v${committedMigrationCount()}`);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "traces-empty.png") });
  });

  it("navigates to every section from the sidebar, highlighting only the current one", async () => {
    await page.goto(`${app.baseUrl}/traces`);
    // Reverse order so every click moves to a section other than the current one.
    for (const item of [...NAV_ITEMS].reverse()) {
      await page.locator('nav[aria-label="Sections"]').getByRole("link", { name: item.label, exact: true }).click();
      await page.waitForURL(`${app.baseUrl}${item.href}`);
      await expect.poll(() => page.locator("h1").textContent()).toBe(item.label);
      expect(await page.locator(".purpose").textContent()).toBe(item.purpose);
      expect(await activeLinks()).toEqual([item.label]);
      const emptyState = (await page.getByTestId("empty-state").textContent()) ?? "";
      expect(emptyState.length).toBeGreaterThan(80);
    }
  });

  it("lists traces that are not generations in the raw spans view", async () => {
    const writer = openDatabase(databasePath);
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const start = 1_763_840_000_123_456_789n;
    writer.db.insert(spans).values([
      spanRow({ traceId, spanId: spanIdOf(1), name: "POST /v1/completions", startTimeNs: start, endTimeNs: start + 42_500_000n }),
      spanRow({ traceId, spanId: spanIdOf(2), parentSpanId: spanIdOf(1), name: "speclens.step", startTimeNs: start + 1_000n, endTimeNs: start + 2_000_000n, statusCode: 2 }),
    ]).run();
    writer.sqlite.close();

    // Not a generation: the generation list stays empty and links to the raw view, which lists it.
    await page.goto(`${app.baseUrl}/traces`);
    await page.getByTestId("empty-state").waitFor();
    await page.getByRole("link", { name: "Raw spans view" }).click();
    const table = page.getByTestId("raw-trace-table");
    await table.waitFor();
    const cells = await table.locator("tbody tr").first().locator("td").allTextContents();
    expect(cells).toEqual(["4bf92f35", "POST /v1/completions", "2025-11-22 19:33:20.123 UTC", "42.5 ms", "2", "other", expect.any(String)]);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "traces-with-data.png") });
  });

  it("runs a generation from the Playground and opens its stored trace", async () => {
    await page.goto(`${app.baseUrl}/playground`);
    await page.locator('textarea[name="prompt"]').fill("The jury said that the city");
    await page.locator('input[name="max_tokens"]').fill("24");
    await page.getByRole("button", { name: "Generate" }).click();
    const link = page.getByTestId("trace-link");
    await link.waitFor({ timeout: 30_000 });
    const traceId = ((await link.textContent()) ?? "").trim();
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(await page.getByTestId("token-strip").locator("span").count()).toBeGreaterThan(0);

    const stored = await page.request.get(`${app.baseUrl}/api/traces/${traceId}`);
    expect(stored.status()).toBe(200);
    const trace = (await stored.json()) as { request: { endpoint: string; configVersion: string; outputTokens: number }; steps: unknown[]; tokens: unknown[] };
    expect(trace.request).toMatchObject({ endpoint: "POST /api/generate", configVersion: "1" });
    expect(trace.tokens).toHaveLength(trace.request.outputTokens);

    await link.click();
    await page.waitForURL(`${app.baseUrl}/traces/${traceId}`);
    await page.getByTestId("step-list").waitFor();
    expect(await page.getByTestId("step-list").locator("[data-step]").count()).toBe(trace.steps.length);
    expect(await page.getByTestId("trace-models").textContent()).toMatch(/@sha256:[0-9a-f]{12}/);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "trace-from-playground.png"), fullPage: true });
  });
});
