import fs from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import { insertUser } from "@/db/queries/auth";
import { hashPasswordSync } from "@/db/queries/passwords";
import { makeTempDir } from "../support/temp";
import { launchChromium, SCREENSHOT_DIR, startApp, type RunningApp } from "./harness";

/*
 * Security in a real browser, with authentication on (one admin user in the database, one editor key):
 * pages send a browser without a session to /login; the login form signs in; pages run under a CSP with
 * a nonce and no violations while they hydrate; a prompt full of markup is shown as text on the trace
 * page (nothing runs, nothing renders as HTML: screenshot security-markup-trace.png); an API key created
 * on /settings is shown once and works; logging out ends the session.
 */

const PASSWORD = "browser test password";
const EDITOR_KEY = "browser-editor-key";
const MARKUP = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold?</b> The river`;

let temp: ReturnType<typeof makeTempDir>;
let app: RunningApp;
let browser: Browser;
let page: Page;
const cspViolations: string[] = [];

beforeAll(async () => {
  temp = makeTempDir("speclens-browser-security-");
  const databasePath = path.join(temp.dir, "speclens.db");
  const opened = openDatabase(databasePath);
  insertUser(opened.db, { name: "alice", role: "admin", passwordHash: hashPasswordSync(PASSWORD), createdBy: "test" });
  opened.sqlite.close();
  app = await startApp(databasePath, { SPECLENS_API_KEYS: `${EDITOR_KEY}:editor`, SPECLENS_THREADS: "1" });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  temp?.cleanup();
});

describe("with authentication on", () => {
  it("shows a browser without a session the login form instead of the page; the form signs in and returns to the page", async () => {
    await page.goto(`${app.baseUrl}/metrics`);
    await page.locator("#password").waitFor();
    expect(await page.locator("h1").allTextContents()).toEqual(["SpecLens"]);
    await page.fill("#name", "alice");
    await page.fill("#password", "wrong password here");
    await page.click("button[type=submit]");
    await expect.poll(() => page.locator(".login-error").textContent()).toContain("Wrong name or password");
    await page.fill("#name", "alice");
    await page.fill("#password", PASSWORD);
    await page.click("button[type=submit]");
    await page.waitForURL(/\/metrics$/);
    await page.getByTestId("user-badge").waitFor();
    expect(await page.locator("h1").first().textContent()).toBe("Metrics");
    expect(await page.getByTestId("user-badge").textContent()).toContain("user:alice");
    const cookie = (await page.context().cookies()).find((c) => c.name === "speclens_session")!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax" });
  });

  it("shows a prompt full of markup as inert text on the trace page, with no CSP violation", async () => {
    const response = await fetch(`${app.baseUrl}/api/generate`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${EDITOR_KEY}` },
      body: JSON.stringify({ prompt: MARKUP, max_tokens: 12, proposer: "ngram" }),
    });
    expect(response.status).toBe(200);
    const { trace_id: traceId } = (await response.json()) as { trace_id: string };

    await page.goto(`${app.baseUrl}/traces/${traceId}`);
    await page.getByTestId("trace-request").waitFor();
    // Loaded and hydrated: any script the markup smuggled in would have run by now.
    await page.waitForLoadState("load");
    await page.waitForTimeout(1000);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator("main b", { hasText: "bold?" }).count()).toBe(0);
    expect(await page.locator("main img[src=x]").count()).toBe(0);
    expect(await page.locator("main").textContent()).toContain("<b>bold?</b>");
    expect(cspViolations).toEqual([]);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "security-markup-trace.png"), fullPage: false });
  });

  it("creates an API key on /settings, shows it once, and the key works", async () => {
    await page.goto(`${app.baseUrl}/settings`);
    await page.fill('form[aria-label="New API key"] input[name=name]', "browser-ci");
    await page.selectOption('form[aria-label="New API key"] select[name=role]', "viewer");
    await page.click('form[aria-label="New API key"] button[type=submit]');
    const key = (await page.getByTestId("new-key").textContent())!.trim();
    expect(key).toMatch(/^sl_/);
    await expect.poll(() => page.locator("table.settings-table").first().textContent()).toContain("browser-ci");
    expect(await page.locator("table.settings-table").first().textContent()).toContain(key.slice(0, 10));
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "security-settings.png") });
    expect((await fetch(`${app.baseUrl}/api/traces`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    expect((await fetch(`${app.baseUrl}/api/generate`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: "{}" })).status).toBe(403);
    await page.reload();
    expect(await page.getByTestId("new-key").count()).toBe(0);
    expect(await page.locator("main").textContent()).not.toContain(key);
  });

  it("logs out: the session ends server-side", async () => {
    const cookie = (await page.context().cookies()).find((c) => c.name === "speclens_session")!;
    await page.goto(`${app.baseUrl}/traces`);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(/\/login$/);
    const replayed = await fetch(`${app.baseUrl}/api/traces`, { headers: { cookie: `speclens_session=${cookie.value}` } });
    expect(replayed.status).toBe(401);
    await page.goto(`${app.baseUrl}/traces`);
    await page.locator("#password").waitFor();
    expect(await page.getByTestId("user-badge").count()).toBe(0);
    expect(cspViolations).toEqual([]);
  });
});
