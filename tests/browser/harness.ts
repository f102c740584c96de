import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { startApp, type RunningApp } from "../../tools/app-process";
import { makeTempDir } from "../support/temp";

export { freePort, startApp, type RunningApp } from "../../tools/app-process";

const ROOT = path.resolve(__dirname, "../..");

/** Debian's chromium; SPECLENS_CHROMIUM points elsewhere. Playwright's own browser builds are never downloaded. */
export const CHROMIUM_PATH = process.env.SPECLENS_CHROMIUM ?? "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium (or set SPECLENS_CHROMIUM)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
      "--disable-quic",
    ],
  });
}

/** Screenshots land here for a person to look at; the folder is git-ignored. */
export const SCREENSHOT_DIR = path.join(ROOT, "test-results", "screenshots");

/** What a browser suite runs against: the production server on its own database, chromium and one page. */
export interface BrowserSession {
  databasePath: string;
  app: RunningApp;
  browser: Browser;
  page: Page;
}

export interface BrowserSessionOptions {
  /** Prefix of the suite's temporary folder. */
  prefix: string;
  viewport: { width: number; height: number };
  /** Extra environment for the server. */
  env?: Record<string, string>;
  /** Fills the database before the server opens it. */
  prepare?: (databasePath: string) => void;
}

/**
 * Registers the suite's beforeAll and afterAll: a temporary folder with the database (`prepare` may
 * fill it first), the production server on it, chromium and one page; afterwards all of it closed and
 * removed, whatever part of it started. Returns the session for the suite's hooks and tests.
 */
export function setUpBrowserSuite(options: BrowserSessionOptions): () => BrowserSession {
  let temp: ReturnType<typeof makeTempDir> | undefined;
  let app: RunningApp | undefined;
  let browser: Browser | undefined;
  let session: BrowserSession | undefined;
  beforeAll(async () => {
    temp = makeTempDir(options.prefix);
    const databasePath = path.join(temp.dir, "speclens.db");
    options.prepare?.(databasePath);
    app = await startApp(databasePath, options.env);
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: options.viewport });
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    session = { databasePath, app, browser, page };
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    temp?.cleanup();
  });
  return () => {
    if (!session) throw new Error("the browser session has not started (setUpBrowserSuite's beforeAll failed or has not run)");
    return session;
  };
}
