import { spawn } from "node:child_process";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, startApp, type RunningApp } from "../../tools/app-process";
import { makeTempDir } from "../support/temp";

/*
 * Against the production build: `npm run serve` (what `npm start` runs) listens on the loopback address
 * only without authentication; responses carry the hardening headers and pages a CSP with a fresh nonce;
 * a kill -9 in the middle of a load run loses nothing: after a restart every answered request is stored
 * with its full trace, the ones in flight are `interrupted`, and the database passes integrity_check.
 */

const ROOT = path.resolve(__dirname, "../..");
const temps: ReturnType<typeof makeTempDir>[] = [];
const apps: RunningApp[] = [];
afterAll(async () => {
  for (const app of apps) await app.stop();
  for (const t of temps) t.cleanup();
});

function tempDb(): string {
  const t = makeTempDir("speclens-security-");
  temps.push(t);
  return path.join(t.dir, "speclens.db");
}

const canConnect = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });

describe("npm run serve without authentication", () => {
  it("listens on 127.0.0.1 only", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "tools/serve.ts", "--port", String(port)], {
      cwd: ROOT, env: { ...process.env, SPECLENS_DB: tempDb(), SPECLENS_API_KEYS: "", SPECLENS_TRACING: "off" }, stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    try {
      const deadline = Date.now() + 60_000;
      while (!(await canConnect("127.0.0.1", port))) {
        expect(Date.now() < deadline && child.exitCode === null, output).toBe(true);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(output).toMatch(/local single-user dashboard on http:\/\/127\.0\.0\.1/);
      expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(200);
      const external = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal);
      if (external) expect(await canConnect(external.address, port)).toBe(false);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
});

describe("headers", () => {
  it("hardens every response and gives pages a CSP with a per-request nonce", async () => {
    const app = await startApp(tempDb(), { SPECLENS_TRACING: "off" });
    apps.push(app);
    const [a, b] = await Promise.all([fetch(`${app.baseUrl}/traces`), fetch(`${app.baseUrl}/traces`)]);
    const csp = a.headers.get("content-security-policy")!;
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(b.headers.get("content-security-policy")).not.toBe(csp);
    const nonce = /'nonce-([^']+)'/.exec(csp)![1];
    const html = await a.text();
    // Every script Next renders carries the nonce.
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    const api = await fetch(`${app.baseUrl}/api/traces`);
    for (const [name, value] of [["x-content-type-options", "nosniff"], ["x-frame-options", "DENY"], ["referrer-policy", "same-origin"], ["cross-origin-opener-policy", "same-origin"]]) {
      expect(a.headers.get(name)).toBe(value);
      expect(api.headers.get(name)).toBe(value);
    }
    await app.stop();
  });
});

describe("kill -9 during a load run", () => {
  it("keeps every answered request with its full trace, marks the in-flight ones interrupted, and passes integrity_check", async () => {
    const db = tempDb();
    const env = { SPECLENS_MAX_RUNNING: "2", SPECLENS_THREADS: "1" };
    const app = await startApp(db, env);
    apps.push(app);
    const answered: string[] = [];
    let sent = 0;
    let killed = false;
    const prompts = ["The river", "In the morning the", "She opened the door and", "Once upon a time"];
    const client = async (n: number) => {
      for (let i = 0; !killed; i++) {
        sent += 1;
        const body = { prompt: prompts[(n + i) % prompts.length], max_tokens: 24 + 8 * ((n + i) % 3), temperature: (n + i) % 2 ? 0.8 : 0, seed: n * 100 + i, proposer: ["draft-model", "ngram", "tree", "off"][(n + i) % 4] };
        try {
          const response = await fetch(`${app.baseUrl}/api/generate`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
          if (response.status === 200) answered.push(((await response.json()) as { trace_id: string }).trace_id);
        } catch {
          return; // the server is gone
        }
        if (answered.length >= 10 && !killed) {
          killed = true;
          process.kill(app.pid, "SIGKILL");
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(client));
    await app.exited;
    expect(answered.length).toBeGreaterThanOrEqual(10);

    // The database as the kill left it.
    const raw = new Database(db);
    expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
    const inflight = raw.prepare("SELECT trace_id FROM requests_inflight").pluck().all() as string[];
    raw.close();

    const restarted = await startApp(db, env);
    apps.push(restarted);
    const check = new Database(db, { readonly: true });
    try {
      for (const traceId of answered) {
        const request = check.prepare("SELECT finish_reason, steps, output_tokens FROM requests WHERE trace_id = ?").get(traceId) as { finish_reason: string; steps: number; output_tokens: number };
        expect(request.finish_reason, traceId).not.toBe("interrupted");
        expect(check.prepare("SELECT count(*) FROM steps WHERE trace_id = ?").pluck().get(traceId)).toBe(request.steps);
        expect(check.prepare("SELECT count(*) FROM tokens WHERE trace_id = ?").pluck().get(traceId)).toBe(request.output_tokens);
      }
      const interrupted = check.prepare("SELECT trace_id FROM requests WHERE finish_reason = 'interrupted'").pluck().all() as string[];
      expect(interrupted.sort()).toEqual(inflight.sort());
      expect(interrupted.length).toBeGreaterThan(0);
      expect(check.prepare("SELECT count(*) FROM requests_inflight").pluck().get()).toBe(0);
      expect(check.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      check.close();
    }
    const listed = (await (await fetch(`${restarted.baseUrl}/api/traces?finish_reason=interrupted`)).json()) as { traces: unknown[] };
    expect(listed.traces.length).toBe(inflight.length);
    const metrics = await (await fetch(`${restarted.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/speclens_requests_interrupted_at_start [1-9]/);
    console.log(`[crash] sent ${sent}, answered ${answered.length} before the kill, ${inflight.length} in flight -> interrupted`);
  });
});
