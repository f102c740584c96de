import { describe, expect, it } from "vitest";
import { AdmissionQueue, QueueFullError } from "@/app/_lib/serving/queue";

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("AdmissionQueue", () => {
  it("runs up to maxRunning at once and hands slots to waiters in arrival order", async () => {
    const queue = new AdmissionQueue(2, 2);
    const order: string[] = [];
    const run = async (name: string) => {
      const release = await queue.admit().ready();
      order.push(`start ${name}`);
      return () => {
        order.push(`end ${name}`);
        release();
      };
    };
    const a = await run("a");
    const b = await run("b");
    const c = run("c");
    const d = run("d");
    await tick();
    expect(queue.stats()).toMatchObject({ running: 2, waiting: 2 });
    expect(order).toEqual(["start a", "start b"]);
    a();
    const endC = await c;
    expect(order).toEqual(["start a", "start b", "end a", "start c"]);
    b();
    (await d)();
    endC();
    expect(queue.stats()).toMatchObject({ running: 0, waiting: 0, admitted: 4, rejected: 0 });
  });

  it("refuses at once, with a retry hint, when every slot and waiting place is taken", async () => {
    const queue = new AdmissionQueue(1, 1);
    const release = await queue.admit().ready();
    const waiting = queue.admit();
    expect(() => queue.admit()).toThrow(QueueFullError);
    try {
      queue.admit();
    } catch (error) {
      expect((error as QueueFullError).retryAfterS).toBeGreaterThanOrEqual(1);
      expect((error as Error).message).toMatch(/1 running, 1 waiting/);
    }
    expect(queue.stats()).toMatchObject({ running: 1, waiting: 1, rejected: 2 });
    release();
    (await waiting.ready())();
    expect(queue.stats()).toMatchObject({ running: 0, waiting: 0 });
  });

  it("lets a waiter whose client went away leave without taking or freeing a slot", async () => {
    const queue = new AdmissionQueue(1, 2);
    const release = await queue.admit().ready();
    const gone = new AbortController();
    const leaving = queue.admit().ready(gone.signal);
    const staying = queue.admit().ready();
    await tick();
    gone.abort();
    const noop = await leaving;
    expect(queue.stats()).toMatchObject({ running: 1, waiting: 1 });
    noop();
    expect(queue.stats()).toMatchObject({ running: 1, waiting: 1 });
    release();
    const next = await staying;
    expect(queue.stats()).toMatchObject({ running: 1, waiting: 0 });
    next();
    next();
    expect(queue.stats()).toMatchObject({ running: 0, waiting: 0 });
  });

  it("does not wait at all for a request that was cancelled before it asked", async () => {
    const queue = new AdmissionQueue(1, 1);
    const release = await queue.admit().ready();
    const gone = new AbortController();
    gone.abort();
    const noop = await queue.admit().ready(gone.signal);
    noop();
    expect(queue.stats()).toMatchObject({ running: 1, waiting: 0 });
    release();
  });

  it("rejects limits that cannot work", () => {
    expect(() => new AdmissionQueue(0, 1)).toThrow(/maxRunning/);
    expect(() => new AdmissionQueue(1, -1)).toThrow(/maxWaiting/);
  });
});
