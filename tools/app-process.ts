/**
 * The production app as a child process: `next start` on a free port against a given database, for
 * the end-to-end tests (tests/server, tests/browser) and the load benchmark (bench/load.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningApp {
  baseUrl: string;
  logs: () => string;
  stop: () => Promise<void>;
  /** The server's process id (crash tests kill it with SIGKILL). */
  pid: number;
  /** Resolves when the process has exited, however it ended. */
  exited: Promise<void>;
}

/** Starts the production build (`next start`) on a free port against the given database file. */
export async function startApp(databasePath: string, env: Record<string, string> = {}, options: { nodeArgs?: string[] } = {}): Promise<RunningApp> {
  if (!fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) {
    throw new Error("no production build: run `npm run build` before the end-to-end tests (npm test does)");
  }
  const port = await freePort();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(ROOT, "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: ROOT,
    env: { ...process.env, SPECLENS_DB: databasePath, NEXT_TELEMETRY_DISABLED: "1", NEXT_IGNORE_INCORRECT_LOCKFILE: "1", NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));

  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHealth(baseUrl, child, () => output);
  const exited = new Promise<void>((resolve) => (hasExited(child) ? resolve() : child.once("exit", () => resolve())));
  return { baseUrl, logs: () => output, stop: () => stopProcess(child), pid: child.pid!, exited };
}

async function waitForHealth(baseUrl: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}:\n${logs()}`);
    try {
      const response = await fetch(`${baseUrl}/api/health`);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`app did not become healthy within 60 s:\n${logs()}`);
}

/** exitCode stays null for a process ended by a signal (a crash test's SIGKILL); signalCode says so. */
const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function stopProcess(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(killTimer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
