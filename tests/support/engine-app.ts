import { closeDatabase } from "@/db/client";
import { setActiveProcessor } from "@/db/tracing/runtime";
import { startTracingFixture, type TracingFixture } from "../tracing/helpers";
import { DRAFT_DIR, TARGET_DIR } from "./models";

/*
 * The app's route handlers in-process on the real engine (the shipped pair, or SPECLENS_TARGET_DIR /
 * SPECLENS_DRAFT_DIR) with a real tracer provider writing to a temp SQLite database.
 */
export interface EngineApp {
  fx: TracingFixture;
  close: () => Promise<void>;
}

export function startEngineApp(env: Record<string, string> = {}): EngineApp {
  const fx = startTracingFixture();
  const wanted: Record<string, string> = { SPECLENS_DB: fx.database.path, SPECLENS_TARGET_DIR: TARGET_DIR, SPECLENS_DRAFT_DIR: DRAFT_DIR, SPECLENS_THREADS: "1", ...env };
  const saved = Object.fromEntries(Object.keys(wanted).map((k) => [k, process.env[k]]));
  Object.assign(process.env, wanted);
  setActiveProcessor(fx.processor);
  return {
    fx,
    close: async () => {
      setActiveProcessor(null);
      closeDatabase();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await fx.close();
    },
  };
}

export const jsonRequest = (url: string, body: unknown, method = "POST") =>
  new Request(`http://localhost${url}`, { method, body: JSON.stringify(body), headers: { "content-type": "application/json" } });
