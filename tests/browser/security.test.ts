import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import { insertUser } from "@/db/queries/auth";
import { hashPasswordSync } from "@/db/queries/passwords";
import { SCREENSHOT_DIR, type RunningApp, setUpBrowserSuite } from "./harness";

/*
 * Security in a real browser, with authentication on (one admin user in the database, one editor key):
 * pages send a browser without a session to /login; the login form signs in; pages run under a CSP with
 * a nonce and no violations while they hydrate; a prompt full of markup is shown as text on the trace
 * page (nothing runs, nothing renders as HTML: screenshot security-markup-trace.png); an API key created
 * on /settings is shown once and works; retention and the global webhook are changed on /settings (a bad
 * value refused next to its field, the source of each value, a test notification: screenshot
 * settings-retention.png); logging out ends the session.
 */

const PASSWORD = "browser test password";
const EDITOR_KEY = "browser-editor-key";
const ADMIN_KEY = "browser-admin-key";
const MARKUP = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold?</b> The river`;

/** A local webhook receiver on 127.0.0.1 that answers 200 and keeps every body. */
async function receiver() {
  const bodies: { text: string }[] = [];
  const server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => {
      bodies.push(JSON.parse(data));
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/secret-part`;
  return { url, bodies, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const session = setUpBrowserSuite({
  prefix: "speclens-browser-security-",
  viewport: { width: 1280, height: 900 },
  env: { SPECLENS_API_KEYS: `${EDITOR_KEY}:editor,${ADMIN_KEY}:admin`, SPECLENS_THREADS: "1", SPECLENS_MAX_DB_MB: "2048" },
  prepare: (databasePath) => {
    const opened = openDatabase(databasePath);
    insertUser(opened.db, { name: "alice", role: "admin", passwordHash: hashPasswordSync(PASSWORD), createdBy: "test" });
    opened.sqlite.close();
  },
});
let app: RunningApp;
let page: Page;
const cspViolations: string[] = [];

beforeAll(() => {
  ({ app, page } = session());
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
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

  it("changes retention and the global webhook on /settings: the server's refusal next to the field, then saved with its source, and a test notification", async () => {
    const hook = await receiver();
    try {
      await page.goto(`${app.baseUrl}/settings`);
      const section = page.getByTestId("retention-section");
      await section.scrollIntoViewIfNeeded();
      expect(await page.getByTestId("source-retentionDays").textContent()).toBe("default (off)");
      expect(await page.getByTestId("source-maxDbMb").textContent()).toBe("environment (SPECLENS_MAX_DB_MB)");

      await page.fill("#setting-retentionDays", "5000");
      await page.click('form[aria-label="Retention and notifications"] button[type=submit]');
      await expect.poll(() => page.getByTestId("error-retentionDays").textContent()).toContain("expected 0 (keep forever) to 3650 days");
      expect(await page.locator("#setting-retentionDays").getAttribute("aria-invalid")).toBe("true");
      await section.screenshot({ path: path.join(SCREENSHOT_DIR, "settings-retention-refused.png") });
      const unchanged = await fetch(`${app.baseUrl}/api/settings`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(((await unchanged.json()) as { settings: { retentionDays: { source: string } } }).settings.retentionDays.source).toBe("default");

      await page.fill("#setting-retentionDays", "30");
      await page.fill("#setting-alertWebhook", hook.url);
      await page.click('form[aria-label="Retention and notifications"] button[type=submit]');
      await expect.poll(() => page.getByTestId("settings-message").textContent()).toBe("Saved: retention, global alert webhook.");
      expect(await page.getByTestId("error-retentionDays").count()).toBe(0);
      expect(await page.getByTestId("source-retentionDays").textContent()).toMatch(/^saved by user:alice, /);
      // The size cap was left alone: it still follows the environment.
      expect(await page.getByTestId("source-maxDbMb").textContent()).toBe("environment (SPECLENS_MAX_DB_MB)");
      await expect.poll(() => page.getByTestId("settings-history").textContent()).toContain("alertWebhook: \"http://127.0.0.1:");
      expect(await page.getByTestId("settings-history").textContent()).not.toContain("secret-part");

      await page.getByRole("button", { name: "Send test notification" }).click();
      await expect.poll(() => page.getByTestId("webhook-test-result").textContent()).toMatch(/^Delivered: HTTP 200 from http:\/\/127\.0\.0\.1:\d+\/… in \d+ ms$/);
      expect(hook.bodies).toHaveLength(1);
      expect(hook.bodies[0].text).toContain("Test notification sent by user:alice");
      await section.screenshot({ path: path.join(SCREENSHOT_DIR, "settings-retention.png") });
      expect(cspViolations).toEqual([]);
    } finally {
      await hook.close();
    }
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
