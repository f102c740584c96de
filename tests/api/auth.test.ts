import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GET as metricsRoute } from "@/app/api/metrics/route";
import { POST as chatRoute } from "@/app/v1/chat/completions/route";
import { POST as completionsRoute } from "@/app/v1/completions/route";
import { GET as modelsRoute } from "@/app/v1/models/route";
import { closeDatabase } from "@/db/client";
import { makeTempDir } from "../support/temp";

/*
 * With SPECLENS_API_KEYS set, the OpenAI API and the metrics endpoint refuse requests without one of
 * the keys, in OpenAI's error shape, before doing any work (no engine is needed to answer them).
 */

const saved = { keys: process.env.SPECLENS_API_KEYS, db: process.env.SPECLENS_DB };
let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  temp = makeTempDir();
  // A wrong key is also looked up among the keys created on /settings, in the database.
  process.env.SPECLENS_DB = `${temp.dir}/auth.db`;
  process.env.SPECLENS_API_KEYS = "sk-one, sk-two";
});
afterEach(() => {
  closeDatabase();
  temp.cleanup();
  for (const [name, value] of [["SPECLENS_API_KEYS", saved.keys], ["SPECLENS_DB", saved.db]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const post = (authorization?: string) =>
  new Request("http://localhost/v1/completions", {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ model: "m", prompt: "x" }),
  });

describe("API keys", () => {
  it.each([
    ["no key", undefined, /requires an API key/],
    ["a wrong key", "Bearer sk-three", /not valid/],
    ["a key without the Bearer scheme", "sk-one", /requires an API key/],
  ])("refuses %s with 401 invalid_api_key", async (_, authorization, message) => {
    for (const route of [completionsRoute, chatRoute]) {
      const response = await route(post(authorization));
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const { error } = (await response.json()) as { error: { message: string; type: string; code: string } };
      expect(error).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
      expect(error.message).toMatch(message);
    }
  });

  it("guards the model list and the metrics too", async () => {
    expect((await modelsRoute(new Request("http://localhost/v1/models"))).status).toBe(401);
    expect((await metricsRoute(new Request("http://localhost/metrics"))).status).toBe(401);
    const scraped = await metricsRoute(new Request("http://localhost/metrics", { headers: { authorization: "Bearer sk-two" } }));
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain("speclens_spec_decode_num_drafts_total");
  });

  it("without authentication configured, ignores a key nobody issued (OpenAI clients always send one)", async () => {
    delete process.env.SPECLENS_API_KEYS;
    const response = await metricsRoute(new Request("http://localhost/metrics", { headers: { authorization: "Bearer unused" } }));
    expect(response.status).toBe(200);
  });
});
