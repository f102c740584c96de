import "server-only";
import { z } from "zod";
import type { SpecLensDb } from "@/db/client";
import { resolveConfig } from "@/db/queries/configs";
import { mergeSpecConfig, RequestError, targetTopTwo, type GenerateParams, type SpecConfig, type SpecEngine, type TopTwo } from "@/engine";
import { getEngine } from "../engine";
import { runGeneration } from "../serving/generation";
import { applySpecOverrides, specOverridesSchema } from "../spec-config";
import {
  REPLAY_MODES, decideVerdict, describeDivergence, divergencePosition,
  type DraftEvidence, type FirstDivergence, type ReplayMode, type ReplayedToken, type Verdict,
} from "./compare";
import { modelChanges, type LoadedIdentity } from "./models";
import type { OriginalTrace } from "./source";

/*
 * One replay: re-run a stored trace through the one generation path (queue, tracing, metrics) as a
 * trace of its own linked to the original (speclens.replay_of), then compare the outputs token for
 * token and decide the verdict (./compare.ts).
 *   exact        same prompt ids, parameters, seed, config and config version
 *   target-only  the target alone (speculation off), same parameters and seed: the counterfactual
 *   draft-only   the draft alone, same parameters and seed
 *   config       another config version (or the original's) with overrides
 */

export const replayBodySchema = z
  .strictObject({
    mode: z.enum(REPLAY_MODES),
    config: z.union([z.string().min(1).max(64), z.number().int().min(1)]).optional(),
    overrides: specOverridesSchema.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.mode === "config") return;
    for (const field of ["config", "overrides"] as const) {
      if (body[field] !== undefined) ctx.addIssue({ code: "custom", path: [field], message: `only with mode "config" (mode is "${body.mode}")` });
    }
  });
export type ReplayBody = z.infer<typeof replayBodySchema>;

export interface ReplayAnswer {
  /** The replay's own trace. */
  traceId: string;
  replayOf: string;
  mode: ReplayMode;
  reproduced: boolean;
  firstDivergence: FirstDivergence | null;
  verdict: Verdict;
  explanation: string;
  modelChanges: string[];
  draftEvidence: DraftEvidence | null;
  configVersion: string | null;
  /** What the replay changed from the original's parameters, and why (e.g. a time budget dropped). */
  adjustments: string[];
  original: { tokens: number; text: string };
  replay: { tokens: number; text: string; finishReason: string };
}

/** What a replay needs from the engine; tests swap topTwo for a double to craft a near-tie. */
export interface ReplayDeps {
  engine: () => Promise<SpecEngine>;
  topTwo: (engine: SpecEngine, context: readonly number[]) => Promise<TopTwo>;
}

export const defaultReplayDeps: ReplayDeps = {
  engine: getEngine,
  topTwo: (engine, context) => targetTopTwo(engine.models, context),
};

export class ReplayInputError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

export function loadedIdentity(engine: SpecEngine): LoadedIdentity {
  const { target, draft } = engine.modelIds;
  const runtime = engine.runtime() as unknown as Record<string, unknown>;
  return { target, draft, runtime };
}

/** The parameters and config a mode runs with, and what differs from the original. */
export function replayInputs(db: SpecLensDb, original: OriginalTrace, body: ReplayBody): { params: GenerateParams; config: SpecConfig; configVersion: string | null; adjustments: string[] } {
  const adjustments: string[] = [];
  const params: GenerateParams = { ...original.params, timeBudgetMs: 0 };
  if (original.finishReason === "time_budget" || original.finishReason === "abort") {
    params.maxTokens = Math.max(1, original.tokens.length);
    adjustments.push(`the original ended early (${original.finishReason}) after ${original.tokens.length} tokens: max_tokens set to that`);
  }
  switch (body.mode) {
    case "exact":
      return { params, config: original.config, configVersion: original.configVersion, adjustments };
    case "target-only":
    case "draft-only":
      return { params, config: mergeSpecConfig(original.config, { proposer: "off" }), configVersion: original.configVersion, adjustments };
    case "config": {
      const selector = body.config ?? original.configVersion ?? undefined;
      const resolved = resolveConfig(db, selector);
      if (!resolved) throw new ReplayInputError("config", `no config label or version ${JSON.stringify(selector)}`);
      return { params, config: applySpecOverrides(resolved.config, body.overrides ?? {}, "overrides"), configVersion: String(resolved.version), adjustments };
    }
  }
}

export async function runReplay(
  db: SpecLensDb,
  original: OriginalTrace,
  body: ReplayBody,
  options: { signal?: AbortSignal; deps?: ReplayDeps } = {},
): Promise<ReplayAnswer> {
  const deps = options.deps ?? defaultReplayDeps;
  const { params, config, configVersion, adjustments } = replayInputs(db, original, body);
  const engine = await deps.engine();
  if (body.mode === "draft-only" && !engine.models.draft) throw new RequestError("mode", "draft-only replay needs a draft model, and none is loaded");
  const promptIds = original.promptIds ?? engine.tokenizer.encode(original.prompt);
  const { traceId, result } = await runGeneration({
    prompt: promptIds,
    promptText: original.prompt,
    params,
    config,
    endpoint: "POST /api/traces/{traceId}/replay",
    configVersion: configVersion ?? undefined,
    signal: options.signal,
    replay: { of: original.traceId, mode: body.mode },
    generator: body.mode === "draft-only" ? "draft-only" : "speculative",
  });
  const replayed: ReplayedToken[] = result.tokens.map((t) => ({ id: t.id, text: t.text }));
  return compareReplay(original, replayed, { engine, deps, mode: body.mode, promptIds, configVersion, adjustments, traceId, replayText: result.text, finishReason: result.finishReason });
}

/** Compare a finished replay with its original (also used when a stored replay is reused). */
export async function compareReplay(
  original: OriginalTrace,
  replayed: ReplayedToken[],
  ctx: {
    engine: SpecEngine; deps: ReplayDeps; mode: ReplayMode; promptIds: readonly number[]; configVersion: string | null;
    adjustments: string[]; traceId: string; replayText: string; finishReason: string;
  },
): Promise<ReplayAnswer> {
  const position = divergencePosition(original.tokens, replayed);
  let margin: number | null = null;
  if (position !== null) {
    const context = [...ctx.promptIds, ...original.tokens.slice(0, position).map((t) => t.id)];
    if (context.length < ctx.engine.models.target.maxPositions) margin = (await ctx.deps.topTwo(ctx.engine, context)).margin;
  }
  const divergence = describeDivergence(position, original.tokens, replayed, margin);
  const changes = modelChanges(original.identity, loadedIdentity(ctx.engine));
  const decided = decideVerdict({
    mode: ctx.mode,
    modelChanges: changes,
    original: original.tokens,
    divergence,
    greedy: original.params.temperature === 0,
    configVersion: original.configVersion,
    lossyThreshold: original.config.verify === "lossy" ? original.config.lossyThreshold : null,
    tokenText: (id) => ctx.engine.tokenizer.tokenText(id),
  });
  return {
    traceId: ctx.traceId,
    replayOf: original.traceId,
    mode: ctx.mode,
    reproduced: position === null,
    firstDivergence: divergence,
    ...decided,
    modelChanges: changes,
    configVersion: ctx.configVersion,
    adjustments: ctx.adjustments,
    original: { tokens: original.tokens.length, text: original.completion },
    replay: { tokens: replayed.length, text: ctx.replayText, finishReason: ctx.finishReason },
  };
}
