import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LaunchRefused, planLaunch } from "@/tools/serve";
import { makeTempDir } from "../support/temp";

/*
 * The safe default of `npm start` (tools/serve.ts): loopback only without authentication; anywhere else
 * refused with the reason; with authentication configured, where asked.
 */

const ROOT = path.resolve(__dirname, "../..");
const noUsers = () => 0;

describe("planLaunch", () => {
  it("listens on 127.0.0.1 when no authentication is configured", () => {
    expect(planLaunch([], {}, noUsers)).toMatchObject({ host: "127.0.0.1", port: 3000, authConfigured: false });
    expect(planLaunch(["--port", "4000"], { PORT: "5000" }, noUsers).port).toBe(4000);
    expect(planLaunch(["-H", "::1"], {}, noUsers).host).toBe("::1");
    expect(planLaunch([], { SPECLENS_HOST: "localhost" }, noUsers).host).toBe("localhost");
  });

  it.each([["--host", "0.0.0.0"], ["-H", "192.168.1.20"], ["--host=::"]])("refuses %s %s without authentication, saying why", (...argv) => {
    expect(() => planLaunch(argv.filter(Boolean), {}, noUsers)).toThrow(LaunchRefused);
    expect(() => planLaunch(argv.filter(Boolean), {}, noUsers)).toThrow(/without authentication/);
  });

  it("listens where asked once keys or users exist, and says which", () => {
    expect(planLaunch(["--host", "0.0.0.0"], { SPECLENS_API_KEYS: "abc:viewer" }, noUsers)).toMatchObject({ host: "0.0.0.0", authConfigured: true });
    expect(planLaunch([], {}, () => 2)).toMatchObject({ host: "0.0.0.0", authConfigured: true, reason: "2 user(s) in the database" });
  });

  it("refuses a key with an unknown role instead of reading it as part of the key", () => {
    expect(() => planLaunch([], { SPECLENS_API_KEYS: "abc:editr" }, noUsers)).toThrow(/unknown role "editr"/);
  });
});

describe("npm run serve", () => {
  it("exits 2 with the reason when asked to listen on 0.0.0.0 without authentication", () => {
    const temp = makeTempDir();
    try {
      const run = spawnSync(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "tools/serve.ts", "--host", "0.0.0.0"], {
        cwd: ROOT,
        env: { ...process.env, SPECLENS_DB: path.join(temp.dir, "x.db"), SPECLENS_API_KEYS: "", SPECLENS_AUTH_REQUIRED: "" },
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without authentication/);
      expect(run.stderr).toMatch(/npm run admin -- create <name>/);
    } finally {
      temp.cleanup();
    }
  });
});
