import "server-only";
import { z } from "zod";
import { PROPOSERS, VERIFY_MODES, type SpecConfig } from "@/engine/types";

/*
 * The speculative config on the wire (snake_case): every field optional, nested groups merged field by
 * field onto a base config. The same shape is the top level of POST /api/generate and the
 * `speclens.overrides` object of the OpenAI-compatible API.
 */
export const specOverridesShape = {
  proposer: z.enum(PROPOSERS).optional(),
  verify: z.enum(VERIFY_MODES).optional(),
  k_max: z.number().int().min(1).max(16).optional(),
  adaptive_k: z.boolean().optional(),
  draft_confidence: z.number().min(0).max(1).optional(),
  lossy_threshold: z.number().min(0).max(1).optional(),
  ngram: z
    .strictObject({ min_n: z.number().int().min(1).max(8).optional(), max_n: z.number().int().min(1).max(8).optional() })
    .optional(),
  tree: z
    .strictObject({
      width: z.number().int().min(1).max(8).optional(),
      depth: z.number().int().min(1).max(16).optional(),
      branch_min_prob: z.number().min(0).max(1).optional(),
    })
    .optional(),
  /** Sink plus sliding window for the draft's KV cache; null keeps every position. */
  draft_window: z
    .strictObject({ sink: z.number().int().min(0).max(4096), recent: z.number().int().min(1).max(4096) })
    .nullable()
    .optional(),
};

export const specOverridesSchema = z.strictObject(specOverridesShape);
export type SpecOverrides = z.infer<typeof specOverridesSchema>;

/** `base` with the given overrides applied; fields left out keep the base's values. */
export function applySpecOverrides(base: SpecConfig, o: SpecOverrides): SpecConfig {
  return {
    proposer: o.proposer ?? base.proposer,
    verify: o.verify ?? base.verify,
    kMax: o.k_max ?? base.kMax,
    adaptiveK: o.adaptive_k ?? base.adaptiveK,
    draftConfidence: o.draft_confidence ?? base.draftConfidence,
    lossyThreshold: o.lossy_threshold ?? base.lossyThreshold,
    ngram: { minN: o.ngram?.min_n ?? base.ngram.minN, maxN: o.ngram?.max_n ?? base.ngram.maxN },
    tree: {
      width: o.tree?.width ?? base.tree.width,
      depth: o.tree?.depth ?? base.tree.depth,
      branchMinProb: o.tree?.branch_min_prob ?? base.tree.branchMinProb,
    },
    draftWindow: o.draft_window === undefined ? base.draftWindow : o.draft_window,
  };
}

/** Only the overrides that were given, from a parsed body that may hold other fields too. */
export function pickSpecOverrides(body: Record<string, unknown>): SpecOverrides {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(specOverridesShape)) if (body[key] !== undefined) picked[key] = body[key];
  return picked as SpecOverrides;
}
