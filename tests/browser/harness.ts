import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";

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
