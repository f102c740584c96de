import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { parseJsonBody, sseResponse } from "@/app/_lib/http";

const schema = z.object({ prompt: z.string().min(1), max_tokens: z.number().int().max(64).default(16) });
const post = (body: string, headers: Record<string, string> = {}) =>
  new Request("http://localhost/api/x", { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

describe("parseJsonBody", () => {
  it("returns the validated data with defaults applied, and the body as sent", async () => {
    const result = await parseJsonBody(post(JSON.stringify({ prompt: "The river" })), schema);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.data).toEqual({ prompt: "The river", max_tokens: 16 });
    expect(result.body).toEqual({ prompt: "The river" });
  });

  it("answers 400 naming the first field that failed validation", async () => {
    const result = await parseJsonBody(post(JSON.stringify({ prompt: "x", max_tokens: 65 })), schema);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.response.status).toBe(400);
    const { error } = await result.response.json();
    expect(error.param).toBe("max_tokens");
    expect(error.message).toMatch(/^max_tokens: /);
  });

  it("answers 400 for a body that is not JSON, before validating", async () => {
    const result = await parseJsonBody(post("{prompt:"), schema);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.response.status).toBe(400);
    expect((await result.response.json()).error.message).toBe("body: not valid JSON");
  });

  it("answers 413 for a body over the size limit", async () => {
    const saved = process.env.SPECLENS_MAX_BODY_BYTES;
    process.env.SPECLENS_MAX_BODY_BYTES = "16";
    try {
      const result = await parseJsonBody(post(JSON.stringify({ prompt: "a prompt longer than sixteen bytes" })), schema);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.response.status).toBe(413);
    } finally {
      if (saved === undefined) delete process.env.SPECLENS_MAX_BODY_BYTES;
      else process.env.SPECLENS_MAX_BODY_BYTES = saved;
    }
  });
});

describe("sseResponse", () => {
  it("streams what the writer writes with the SSE headers, and ends when it returns", async () => {
    const response = sseResponse({ "x-speclens-trace-id": "abc" }, new AbortController(), async (write) => {
      write("event: start\ndata: {}\n\n");
      await new Promise((resolve) => setTimeout(resolve, 5));
      write("data: [DONE]\n\n");
    });
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("x-speclens-trace-id")).toBe("abc");
    expect(await response.text()).toBe("event: start\ndata: {}\n\ndata: [DONE]\n\n");
  });

  it("aborts the generation when the client goes away, and drops later writes", async () => {
    const cancel = new AbortController();
    let release!: () => void;
    const wrote: boolean[] = [];
    const response = sseResponse({}, cancel, async (write) => {
      write("data: 1\n\n");
      await new Promise<void>((resolve) => (release = resolve));
      write("data: 2\n\n");
      wrote.push(true);
    });
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: 1\n\n");
    await reader.cancel();
    expect(cancel.signal.aborted).toBe(true);
    release();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(wrote).toEqual([true]);
  });

  it("closes the stream and logs an error the writer did not handle", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const response = sseResponse({}, new AbortController(), async (write) => {
        write("data: 1\n\n");
        throw new Error("boom");
      });
      expect(await response.text()).toBe("data: 1\n\n");
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(logged).toHaveBeenCalledWith("speclens: event stream failed:", expect.objectContaining({ message: "boom" }));
    } finally {
      logged.mockRestore();
    }
  });
});
