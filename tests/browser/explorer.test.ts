import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import { writeSpans } from "@/db/tracing/store";
import { request, step } from "../support/request-spans";
import { SCREENSHOT_DIR, type RunningApp, setUpBrowserSuite } from "./harness";

/*
 * The trace explorer, metrics and home pages on the production build with real engine traces: a few
 * generations through POST /api/generate (the shipped model pair), then list, filter, search, open a
 * trace, the token panel, the charts. Screenshots go to test-results/screenshots/ (small copies of a
 * few to docs/screenshots/ for the README tour when SPECLENS_DOC_SCREENSHOTS=1).
 */

const session = setUpBrowserSuite({ prefix: "speclens-explorer-", viewport: { width: 1280, height: 860 } });
let databasePath: string;
let app: RunningApp;
let page: Page;
const generated: { traceId: string; proposer: string }[] = [];
const DOCS = path.resolve(__dirname, "../../docs/screenshots");

async function shot(name: string, options: { fullPage?: boolean; doc?: boolean } = {}) {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: options.fullPage ?? false });
  if (options.doc && process.env.SPECLENS_DOC_SCREENSHOTS === "1") {
    fs.mkdirSync(DOCS, { recursive: true });
    await page.screenshot({ path: path.join(DOCS, `${name}.png`), clip: { x: 0, y: 0, width: 1280, height: 760 } });
  }
}

async function generate(body: Record<string, unknown>): Promise<string> {
  const response = await page.request.post(`${app.baseUrl}/api/generate`, { data: { max_tokens: 48, ...body } });
  expect(response.status(), await response.text()).toBe(200);
  return ((await response.json()) as { trace_id: string }).trace_id;
}

beforeAll(async () => {
  ({ databasePath, app, page } = session());
  const runs = [
    { prompt: "The jury said that the city election was", proposer: "draft-model" },
    { prompt: "Mrs. Smith went to the market and bought", proposer: "ngram" },
    { prompt: "The committee reported that the budget", proposer: "tree" },
    { prompt: "He looked out of the window at the river", proposer: "draft-model", temperature: 0.8, seed: 7 },
    { prompt: "The governor of the state announced", proposer: "off" },
  ];
  for (const run of runs) generated.push({ traceId: await generate(run), proposer: run.proposer });
}, 240_000);

const rowIds = () => page.getByTestId("trace-table").locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-trace-id")));
const noHorizontalOverflow = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describe("trace explorer", () => {
  it("lists every generation with its columns, newest first", async () => {
    await page.goto(`${app.baseUrl}/traces`);
    await page.getByTestId("trace-table").waitFor();
    expect(await rowIds()).toEqual(generated.map((g) => g.traceId).reverse());
    const first = await page.getByTestId("trace-table").locator("tbody tr").first().textContent();
    expect(first).toContain("The governor of the state");
    expect(first).toContain("off");
    expect(await page.locator("svg.sparkline").count()).toBeGreaterThan(0);
    expect(await noHorizontalOverflow()).toBe(true);
    await shot("traces-list", { doc: true });
  });

  it("filters with the form, keeping the view in the URL", async () => {
    await page.goto(`${app.baseUrl}/traces`);
    await page.locator('select[name="proposer"]').selectOption("ngram");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/proposer=ngram/);
    expect(await rowIds()).toEqual([generated[1].traceId]);
    await shot("traces-filtered");
    // The same URL, shared, shows the same view; the API takes the same parameters.
    const api = await page.request.get(`${app.baseUrl}/api/traces?proposer=ngram`);
    expect(((await api.json()) as { traces: { traceId: string }[] }).traces.map((t) => t.traceId)).toEqual([generated[1].traceId]);
  });

  it("finds a trace by a word of its prompt or output", async () => {
    await page.goto(`${app.baseUrl}/traces`);
    await page.locator('input[name="q"]').fill("market");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/q=market/);
    expect(await rowIds()).toEqual([generated[1].traceId]);
    await page.goto(`${app.baseUrl}/traces?q=zzzyzzy`);
    expect(await page.getByTestId("empty-state").textContent()).toContain("No traces match");
  });

  it("sorts by a column and pages with a cursor", async () => {
    await page.goto(`${app.baseUrl}/traces?limit=2&sort=latency`);
    const first = await rowIds();
    expect(first).toHaveLength(2);
    await page.getByTestId("next-page").click();
    await page.waitForURL(/cursor=/);
    const second = await rowIds();
    expect(second.some((id) => first.includes(id))).toBe(false);
  });

  it("opens a trace: proposals as text, the token panel says who produced a token and why", async () => {
    const { traceId } = generated[0];
    await page.goto(`${app.baseUrl}/traces/${traceId}`);
    await page.getByTestId("step-waterfall").waitFor();
    const detail = (await (await page.request.get(`${app.baseUrl}/api/traces/${traceId}`)).json()) as { steps: unknown[]; tokens: { origin: string }[] };
    expect(await page.locator("[data-step]").count()).toBe(detail.steps.length);
    // Proposals are token text, not ids.
    const proposals = await page.locator("[data-step] .proposals").first().textContent();
    expect(proposals).toMatch(/[a-z]/i);
    const index = detail.tokens.findIndex((t) => t.origin === "recovered");
    await page.locator(`.token-strip button[data-index="${index}"]`).click();
    const panel = page.getByTestId("token-panel");
    await panel.waitFor();
    expect(await page.getByTestId("token-origin").textContent()).toBe("recovered");
    expect(await panel.textContent()).toContain("Rejected draft");
    expect(await page.getByTestId("token-target-choice").textContent()).toContain("the same token");
    expect(await noHorizontalOverflow()).toBe(true);
    await shot("trace-token-panel", { doc: true });
    await page.locator('.token-strip button[data-origin="accepted"]').first().click();
    expect(await page.getByTestId("token-origin").textContent()).toBe("accepted");
    expect(await panel.textContent()).toMatch(/Draft p\s*0\.\d{3}/);
    expect(await page.getByTestId("per-position-chart").locator(".recharts-bar-rectangle").count()).toBeGreaterThan(0);
    expect(await page.getByTestId("kv-chart").locator(".recharts-line-curve").count()).toBeGreaterThan(0);
    await shot("trace-detail", { fullPage: true });
  });

  it("zooms the waterfall by dragging across the overview", async () => {
    await page.goto(`${app.baseUrl}/traces/${generated[2].traceId}`);
    const minimap = page.getByTestId("minimap");
    await minimap.waitFor();
    await minimap.scrollIntoViewIfNeeded();
    const all = await page.locator("[data-step]").count();
    const box = (await minimap.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + 10);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.9, box.y + 10, { steps: 5 });
    await page.mouse.up();
    await page.getByTestId("reset-zoom").waitFor();
    const zoomed = await page.locator("[data-step]").count();
    expect(zoomed).toBeGreaterThan(0);
    expect(zoomed).toBeLessThan(all);
    await shot("trace-waterfall-zoomed");
  });

  it("renders a 2,000-step trace without rendering 2,000 rows", async () => {
    const writer = openDatabase(databasePath);
    const n = 999_001;
    writeSpans(writer.sqlite, [request(n, { steps: 2000 }), ...Array.from({ length: 2000 }, (_, i) => step(n, i, i % 4, 4))]);
    writer.sqlite.close();
    const traceId = n.toString(16).padStart(32, "0");
    const started = Date.now();
    await page.goto(`${app.baseUrl}/traces/${traceId}`);
    await page.getByTestId("step-list").waitFor();
    expect(Date.now() - started).toBeLessThan(20_000);
    const rendered = await page.locator("[data-step]").count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(60);
    await page.getByTestId("step-list").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect.poll(() => page.locator('[data-step="1999"]').count()).toBe(1);
    expect(await noHorizontalOverflow()).toBe(true);
    await shot("trace-2000-steps");
  });
});

describe("metrics, home and playground", () => {
  it("draws the metric charts from the stored requests, grouped by proposer", async () => {
    await page.goto(`${app.baseUrl}/metrics?range=1h&groupBy=proposer`);
    const chart = page.getByTestId("chart-acceptance_rate");
    // The generations fall in one or two buckets: each series is drawn as dots there.
    await chart.locator(".recharts-line-dot").first().waitFor();
    expect(await chart.locator(".recharts-line").count()).toBeGreaterThanOrEqual(3);
    expect(await page.getByTestId("chart-per-position").locator(".recharts-bar-rectangle").count()).toBeGreaterThan(0);
    expect(await noHorizontalOverflow()).toBe(true);
    await shot("metrics", { doc: true, fullPage: true });
  });

  it("shows the last 24 hours on the home page", async () => {
    await page.goto(app.baseUrl);
    expect(await page.locator("h1").textContent()).toBe("Last 24 hours");
    expect(Number((await page.getByTestId("home-requests").locator(".stat-value").textContent())?.replace(/,/g, ""))).toBeGreaterThanOrEqual(generated.length);
    expect(await page.getByTestId("home-latest").locator("li").count()).toBeGreaterThan(0);
    await shot("home", { doc: true });
  });

  it("streams a Playground generation step by step", async () => {
    const response = await page.request.post(`${app.baseUrl}/api/generate`, { data: { prompt: "The jury said", max_tokens: 16, stream: true } });
    expect(response.headers()["content-type"]).toContain("text/event-stream");
    const text = await response.text();
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events[0]).toBe("start");
    expect(events.filter((e) => e === "step").length).toBeGreaterThan(1);
    expect(events.at(-1)).toBe("done");

    await page.goto(`${app.baseUrl}/playground`);
    await page.locator('textarea[name="prompt"]').fill("The committee reported that");
    await page.getByRole("button", { name: "Generate" }).click();
    await page.getByTestId("trace-link").waitFor({ timeout: 30_000 });
    expect(await page.getByTestId("token-strip").locator("[data-origin]").count()).toBeGreaterThan(0);
    await shot("playground", { doc: true });
  });
});
