import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { POST as generate } from "@/app/api/generate/route";
import { POST as completions } from "@/app/v1/completions/route";
import { getEngine } from "@/app/_lib/engine";
import { servedModelNames } from "@/app/_lib/openai/prepare";
import { resetServingState } from "@/app/_lib/serving/limits";
import { closeDatabase } from "@/db/client";
import { DRAFT_DIR, TARGET_DIR } from "../support/models";
import { makeTempDir } from "../support/temp";

/*
 * Request limits, each refused with a 4xx that names the limit, before any generation runs: stop strings
 * (count and length, one schema for both APIs), prompt tokens and max_tokens (SPECLENS_MAX_PROMPT_TOKENS,
 * SPECLENS_MAX_NEW_TOKENS). Body size is covered for every route by fuzz.test.ts, requests per minute per
 * key by sessions.test.ts.
 */

let temp: ReturnType<typeof makeTempDir>;
let model = "";
const names = ["SPECLENS_DB", "SPECLENS_API_KEYS", "SPECLENS_TARGET_DIR", "SPECLENS_DRAFT_DIR", "SPECLENS_THREADS", "SPECLENS_MAX_PROMPT_TOKENS", "SPECLENS_MAX_NEW_TOKENS"] as const;
const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));

beforeAll(async () => {
  temp = makeTempDir();
  process.env.SPECLENS_DB = path.join(temp.dir, "limits.db");
  delete process.env.SPECLENS_API_KEYS;
  process.env.SPECLENS_TARGET_DIR = TARGET_DIR;
  process.env.SPECLENS_DRAFT_DIR = DRAFT_DIR;
  process.env.SPECLENS_THREADS = "1";
  model = servedModelNames(await getEngine())[0];
});
beforeEach(() => {
  delete process.env.SPECLENS_MAX_PROMPT_TOKENS;
  delete process.env.SPECLENS_MAX_NEW_TOKENS;
  resetServingState();
});
afterAll(() => {
  resetServingState();
  closeDatabase();
  temp.cleanup();
  for (const n of names) {
    if (saved[n] === undefined) delete process.env[n];
    else process.env[n] = saved[n];
  }
});

const post = (route: (r: Request) => Promise<Response>, url: string, body: unknown) =>
  route(new Request(`http://127.0.0.1${url}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));

async function refusal(response: Response): Promise<{ status: number; message: string; param: string | null }> {
  const { error } = (await response.json()) as { error: { message: string; param: string | null } };
  return { status: response.status, message: error.message, param: error.param };
}

describe("stop strings", () => {
  it.each([
    ["nine of them", Array.from({ length: 9 }, (_, i) => `s${i}`), /at most 8 stop strings/],
    ["one of 257 characters", ["x".repeat(257)], /at most 256 characters per stop string/],
  ])("refuses %s on both APIs", async (_, stop, message) => {
    for (const [route, url, body] of [
      [generate, "/api/generate", { prompt: "The river", stop }],
      [completions, "/v1/completions", { model, prompt: "The river", stop }],
    ] as const) {
      const r = await refusal(await post(route, url, body));
      expect(r.status).toBe(400);
      expect(r.message).toMatch(/^stop/);
      expect(r.message).toMatch(message);
    }
  });
});

describe("token limits", () => {
  it("refuses a prompt over SPECLENS_MAX_PROMPT_TOKENS, naming the field and the limit", async () => {
    process.env.SPECLENS_MAX_PROMPT_TOKENS = "4";
    const r = await refusal(await post(generate, "/api/generate", { prompt: "The river ran down to the sea past the old mill", max_tokens: 2 }));
    expect(r).toMatchObject({ status: 400, param: "prompt" });
    expect(r.message).toMatch(/limit of 4 prompt tokens \(SPECLENS_MAX_PROMPT_TOKENS\)/);
  });

  it("refuses max_tokens over SPECLENS_MAX_NEW_TOKENS on both APIs", async () => {
    process.env.SPECLENS_MAX_NEW_TOKENS = "8";
    for (const [route, url, body] of [
      [generate, "/api/generate", { prompt: "The river", max_tokens: 9 }],
      [completions, "/v1/completions", { model, prompt: "The river", max_tokens: 9 }],
    ] as const) {
      const r = await refusal(await post(route, url, body));
      expect(r).toMatchObject({ status: 400, param: "max_tokens" });
      expect(r.message).toMatch(/limit of 8 \(SPECLENS_MAX_NEW_TOKENS\)/);
    }
  });

  it("refuses a prompt that leaves no room in the model's context", async () => {
    const r = await refusal(await post(generate, "/api/generate", { prompt: "word ".repeat(3000), max_tokens: 2 }));
    expect(r).toMatchObject({ status: 400, param: "prompt" });
    expect(r.message).toMatch(/exceeds the model context/);
  });
});
