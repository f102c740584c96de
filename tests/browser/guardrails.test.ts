import path from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { SCREENSHOT_DIR, type RunningApp, setUpBrowserSuite } from "./harness";

/*
 * A new user's path through guardrail configs in a real browser on the production build: edit the
 * config in the form (an inline error, then a valid edit with a strict fallback rule), save it as
 * version 2, promote production to it with the typed confirmation, run the Playground under it, see
 * version 2 and the fallback rule acting on the trace, then roll production back in one move.
 */

const session = setUpBrowserSuite({ prefix: "speclens-guardrails-browser-", viewport: { width: 1440, height: 1000 }, env: { SPECLENS_THREADS: "1" } });
let app: RunningApp;
let page: Page;
beforeAll(() => ({ app, page } = session()));

const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOT_DIR, `guardrails-${name}.png`), fullPage: true });
const productionRow = () => page.getByTestId("label-mover").locator('tr[data-label="production"]');

describe("guardrail configs in the browser", () => {
  it("edits a config with inline validation and saves it as version 2", async () => {
    await page.goto(`${app.baseUrl}/guardrails`);
    const editor = page.getByTestId("guardrail-editor");
    await editor.waitFor();

    await editor.locator('input[name="kMax"]').fill("0");
    const kMaxLabel = editor.locator("label", { has: page.locator('input[name="kMax"]') });
    await expect.poll(() => kMaxLabel.locator(".field-error").textContent(), { timeout: 10_000 }).toMatch(/>=\s*1|too small/i);
    expect(await editor.getByRole("button", { name: "Save as a new version" }).isDisabled()).toBe(true);
    await shot("inline-error");

    await editor.locator('input[name="kMax"]').fill("3");
    await editor.locator('input[name="fallback.enabled"]').check();
    await editor.locator('input[name="fallback.window"]').fill("1");
    await editor.locator('input[name="fallback.minAcceptance"]').fill("1");
    await expect.poll(() => editor.getByTestId("change-list").textContent(), { timeout: 10_000 }).toMatch(/kMax: 4 → 3.*fallback: null →/s);
    expect(await kMaxLabel.locator(".field-error").count()).toBe(0);
    // The JSON view shows the same config, and edits there reach the form.
    await editor.getByRole("tab", { name: "JSON" }).click();
    const json = JSON.parse(await editor.locator('textarea[name="config-json"]').inputValue());
    expect(json).toMatchObject({ kMax: 3, fallback: { window: 1, minAcceptance: 1 } });
    await editor.locator('textarea[name="config-json"]').fill("{ not json");
    await expect.poll(() => editor.locator(".field-error").first().textContent()).toMatch(/^JSON:/);
    await editor.locator('textarea[name="config-json"]').fill(JSON.stringify(json, null, 2));
    await editor.getByRole("tab", { name: "Form" }).click();
    expect(await editor.locator('input[name="kMax"]').inputValue()).toBe("3");
    await editor.locator('input[name="message"]').fill("k 3 with a strict fallback rule");
    await editor.getByRole("button", { name: "Save as a new version" }).click();

    await page.waitForURL(/saved=2/);
    await page.getByTestId("saved-notice").waitFor();
    const v2 = page.getByTestId("versions-table").locator('tr[data-version="2"]');
    await v2.waitFor();
    expect(await v2.textContent()).toContain("k 3 with a strict fallback rule");
    await shot("saved");
  });

  it("moves production to version 2 only after its name is typed", async () => {
    await page.goto(`${app.baseUrl}/guardrails`);
    await productionRow().locator("select").selectOption("2");
    await productionRow().getByRole("button", { name: "Move" }).click();
    const dialog = page.getByTestId("confirm-move");
    await dialog.waitFor();
    const confirm = dialog.getByRole("button", { name: "Confirm" });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.locator('input[name="confirm-label"]').fill("production");
    await shot("confirm-move");
    await confirm.click();
    await expect.poll(() => productionRow().locator("td").nth(1).textContent(), { timeout: 10_000 }).toBe("v2");
  });

  it("runs the Playground under production and shows version 2 and the fallback rule on the trace", async () => {
    await page.goto(`${app.baseUrl}/playground`);
    await page.locator('textarea[name="prompt"]').fill("The jury said that the city");
    await page.locator('input[name="max_tokens"]').fill("32");
    await page.getByRole("button", { name: "Generate" }).click();
    const link = page.getByTestId("trace-link");
    await link.waitFor({ timeout: 60_000 });
    expect(await page.getByTestId("playground-result").textContent()).toMatch(/Config version\s*2/);
    await link.click();
    await page.getByTestId("step-list").waitFor();
    expect(await page.getByTestId("trace-models").textContent()).toMatch(/2/);
    const events = page.getByTestId("guardrail-events");
    await events.waitFor();
    const rule = events.locator('li[data-rule="fallback"]');
    expect(await rule.count()).toBe(1);
    const step = Number(await rule.getAttribute("data-step"));
    expect(await rule.textContent()).toContain(`at step ${step}`);
    // The steps after the one where the rule acted drafted nothing.
    const rows = page.getByTestId("step-list").locator(".step-row");
    const count = await rows.count();
    expect(count).toBeGreaterThan(step + 1);
    for (let i = step + 1; i < count; i++) {
      expect(await rows.nth(i).locator(".proposals").textContent()).toBe("nothing drafted");
    }
    await shot("trace");
  });

  it("shows the version's figures and rolls production back in one move, audited", async () => {
    await page.goto(`${app.baseUrl}/guardrails`);
    const v2 = page.getByTestId("versions-table").locator('tr[data-version="2"] td');
    expect(await v2.nth(4).textContent()).toBe("1"); // requests
    expect(await v2.nth(8).textContent()).toBe("1"); // rule actions
    await productionRow().getByRole("button", { name: "Roll back to v1" }).click();
    const dialog = page.getByTestId("confirm-move");
    await dialog.locator('input[name="confirm-label"]').fill("production");
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => productionRow().locator("td").nth(1).textContent(), { timeout: 10_000 }).toBe("v1");
    const audit = await page.getByTestId("audit-table").locator("tbody tr").allTextContents();
    expect(audit[0]).toMatch(/label\.move.*production.*v2.*v1.*roll back to v1/);
    expect(audit[1]).toMatch(/label\.move.*production.*v1.*v2/);
    expect(audit[2]).toMatch(/version\.create.*v2/);
    const diff = await (await page.request.get(`${app.baseUrl}/api/guardrails/diff?from=1&to=2`)).json();
    expect(diff.changes.map((c: { path: string }) => c.path)).toEqual(["kMax", "fallback"]);
    await shot("rolled-back");
  });
});
