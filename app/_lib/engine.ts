import "server-only";
import type { SpecEngine } from "@/engine";
import { formatModelId } from "@/engine";

/*
 * The process-wide engine: loaded once (instrumentation.ts starts it at start-up; failing that, the
 * first request that needs it) and shared by every request after (requests own their KV caches, so
 * they run concurrently on the same sessions).
 * Kept on globalThis so Next's per-route bundles and dev-mode reloads share one engine.
 */

const holder = globalThis as typeof globalThis & { __speclensEngine?: Promise<SpecEngine>; __speclensEngineLoaded?: SpecEngine };

export function getEngine(): Promise<SpecEngine> {
  // Imported here, not at the top: /api/health reads loadedModels() and must not pull in onnxruntime.
  holder.__speclensEngine ??= import("@/engine")
    .then(({ SpecEngine }) => SpecEngine.load({ threads: Number(process.env.SPECLENS_THREADS) || undefined }))
    .then(
      (engine) => {
        holder.__speclensEngineLoaded = engine;
        return engine;
      },
      (error: unknown) => {
        // Not cached: the next request retries (e.g. once the model files are in place).
        holder.__speclensEngine = undefined;
        throw error;
      },
    );
  return holder.__speclensEngine;
}

/** The engine if it has already been loaded; never starts loading (for /api/health). */
export function loadedEngine(): SpecEngine | null {
  return holder.__speclensEngineLoaded ?? null;
}

export interface LoadedModel {
  role: "target" | "draft";
  modelId: string;
  name: string;
  sha256: string;
}

export function loadedModels(): LoadedModel[] {
  const engine = loadedEngine();
  if (!engine) return [];
  const { target, draft } = engine.modelIds;
  const models: LoadedModel[] = [{ role: "target", modelId: formatModelId(target), ...target }];
  if (draft) models.push({ role: "draft", modelId: formatModelId(draft), ...draft });
  return models;
}
