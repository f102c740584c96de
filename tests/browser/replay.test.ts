import path from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { heldoutPrompts } from "../support/models";
import { SCREENSHOT_DIR, type RunningApp, setUpBrowserSuite } from "./harness";

/*
 * Replay in a browser on the shipped pair: on a planted lossy trace, select output text with the
 * mouse and read the verdict with its evidence ("introduced by the draft" from the planted token on,
 * "produced by the target" before it); run a target-only replay from the panel and follow the links
 * both ways; batch-replay from /replay with a progress bar.
 */

const session = setUpBrowserSuite({ prefix: "speclens-replay-browser-", viewport: { width: 1440, height: 1000 }, env: { SPECLENS_THREADS: "1" } });
let app: RunningApp;
let page: Page;
beforeAll(() => ({ app, page } = session()));

interface Attribution {
  firstDraftIntroduced: number | null;
  completion: string;
  tokens: { start: number; end: number }[];
}

/** A lossy trace (low threshold) with a draft-introduced token a few tokens in, found through the API. */
async function plantedLossyTrace(): Promise<{ traceId: string; planted: number; attribution: Attribution }> {
  for (const prompt of heldoutPrompts(8, 16)) {
    const generated = await page.request.post(`${app.baseUrl}/api/generate`, {
      data: { prompt, max_tokens: 32, proposer: "draft-model", verify: "lossy", lossy_threshold: 0.02 },
    });
    const { trace_id: traceId } = (await generated.json()) as { trace_id: string };
    const attribution = (await (await page.request.get(`${app.baseUrl}/api/traces/${traceId}/attribution`)).json()) as Attribution;
    const planted = attribution.firstDraftIntroduced;
    if (planted !== null && planted >= 3 && attribution.tokens[planted].start >= 8) return { traceId, planted, attribution };
  }
  throw new Error("no held-out prompt gave a draft-introduced token at position >= 3");
}

/** Select characters [start, end) of the output text by dragging the mouse across them. */
async function dragSelect(start: number, end: number): Promise<void> {
  const points = await page.getByTestId("attribution-text").evaluate((el, [a, b]) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const locate = (offset: number): [Node, number] => {
      let seen = 0;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const length = node.textContent?.length ?? 0;
        if (offset <= seen + length) return [node, offset - seen];
        seen += length;
      }
      throw new Error(`offset ${offset} beyond the text`);
    };
    const range = document.createRange();
    range.setStart(...locate(a));
    walker.currentNode = el;
    range.setEnd(...locate(b));
    const rects = [...range.getClientRects()].filter((r) => r.width > 0);
    const first = rects[0];
    const last = rects[rects.length - 1];
    return { x0: first.left + 1, y0: first.top + first.height / 2, x1: last.right - 1, y1: last.top + last.height / 2 };
  }, [start, end] as const);
  await page.mouse.move(points.x0, points.y0);
  await page.mouse.down();
  await page.mouse.move(points.x1, points.y1, { steps: 8 });
  await page.mouse.up();
}

async function shot(name: string, testId: string): Promise<void> {
  await page.getByTestId(testId).screenshot({ path: path.join(SCREENSHOT_DIR, name) });
}

describe("Replay and attribution in a browser", () => {
  it("selecting output text reads the verdict with its evidence, draft from the planted token on and target before it", async () => {
    const { traceId, planted, attribution } = await plantedLossyTrace();
    await page.goto(`${app.baseUrl}/traces/${traceId}`);
    await page.getByTestId("attribution").scrollIntoViewIfNeeded();

    const from = attribution.tokens[planted].start;
    await dragSelect(from, Math.min(attribution.completion.length, from + 24));
    const evidence = page.getByTestId("attribution-evidence");
    await expect.poll(() => evidence.getByTestId("verdict").getAttribute("data-verdict")).toBe("draft");
    expect(await page.getByTestId("attribution-explanation").textContent()).toMatch(new RegExp(`introduced by the draft: lossy acceptance of .* at position ${planted} `));
    expect(await page.getByTestId("aligned").locator("tr.diverged td").first().textContent()).toBe(String(planted));
    expect(await page.getByTestId("probabilities").textContent()).toMatch(/Draft p0\.\d{3}Target p0\.\d{3}Target alone".+"/);
    await shot("attribution-draft.png", "attribution");

    await dragSelect(0, attribution.tokens[planted - 1].end);
    await expect.poll(() => evidence.getByTestId("verdict").getAttribute("data-verdict")).toBe("target");
    expect(await evidence.textContent()).toContain("appears in the target-only output");
    expect(await page.getByTestId("attribution-explanation").textContent()).toMatch(/^produced by the target/);
    await shot("attribution-target.png", "attribution");

    // The panel: a target-only replay names the draft too, and links both ways.
    await page.getByTestId("replay-panel").getByRole("button", { name: "Target only" }).click();
    await expect.poll(() => page.getByTestId("replay-answer").getByTestId("verdict").getAttribute("data-verdict"), { timeout: 30_000 }).toBe("draft");
    expect(await page.getByTestId("replay-divergence").textContent()).toContain("lossy-accepted");
    await expect.poll(() => page.getByTestId("replay-list").locator("li").count()).toBeGreaterThanOrEqual(2);
    await shot("replay-panel.png", "replay-panel");
    await page.getByTestId("replay-link").click();
    await page.waitForURL((url) => /^\/traces\/[0-9a-f]{32}$/.test(url.pathname) && !url.pathname.endsWith(traceId));
    expect(await page.getByTestId("replay-of").textContent()).toContain("target-only");
    await page.getByTestId("replay-of").getByRole("link").click();
    await page.waitForURL(`${app.baseUrl}/traces/${traceId}`);
  });

  it("batch-replays a filter from /replay with a progress bar to a summary", async () => {
    await page.goto(`${app.baseUrl}/replay`);
    await page.locator('input[name="limit"]').fill("4");
    await page.getByRole("button", { name: "Replay them all" }).click();
    await expect.poll(() => page.getByTestId("batch-progress").textContent(), { timeout: 60_000 }).toMatch(/^(\d+) \/ \1$/);
    await expect.poll(() => page.getByTestId("batch-job").textContent()).toContain("(done)");
    expect(await page.getByTestId("batch-summary").textContent()).toMatch(/^(\d+) reproduced · 0 diverged · 0 failed · verdicts: reproduced \1/);
    await shot("replay-batch.png", "batch-replay");
  });
});
