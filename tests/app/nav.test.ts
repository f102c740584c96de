import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { NAV_ITEMS, navItem } from "@/app/_lib/nav";

const APP_DIR = path.resolve(__dirname, "../../app");

describe("navigation", () => {
  it("lists the six sections in order", () => {
    expect(NAV_ITEMS.map((item) => item.label)).toEqual(["Traces", "Metrics", "Guardrails", "Alerts", "Replay", "Playground"]);
  });

  it.each(NAV_ITEMS.map((item) => [item.href]))("%s has a page", (href) => {
    expect(fs.existsSync(path.join(APP_DIR, href, "page.tsx"))).toBe(true);
  });

  it("rejects an unknown section", () => {
    expect(() => navItem("/nope" as never)).toThrow(/unknown section/);
  });
});
