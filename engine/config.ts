/**
 * TEMPORARY stand-in for the foundations branch's engine/config.ts (issue 9), so that the guardrail
 * store can be built before it lands. On merge, the foundations version replaces this file whole.
 */
import { z } from "zod";
import { DEFAULT_SPEC_CONFIG, PROPOSERS, VERIFY_MODES, resolveSpecConfig, type SpecConfig } from "./types";

export { DEFAULT_SPEC_CONFIG, type SpecConfig };

export const specConfigSchema = z
  .strictObject({
    proposer: z.enum(PROPOSERS),
    verify: z.enum(VERIFY_MODES),
    kMax: z.number().int().min(1).max(16),
    adaptiveK: z.boolean(),
    draftConfidence: z.number().min(0).max(1),
    lossyThreshold: z.number().min(0).max(1),
    ngram: z.strictObject({ minN: z.number().int().min(1).max(8), maxN: z.number().int().min(1).max(8) }),
    tree: z.strictObject({ width: z.number().int().min(1).max(8), depth: z.number().int().min(1).max(16), branchMinProb: z.number().min(0).max(1) }),
    draftWindow: z.strictObject({ sink: z.number().int().min(0).max(4096), recent: z.number().int().min(1).max(4096) }).nullable(),
  })
  .superRefine((c, ctx) => {
    if (c.ngram.minN > c.ngram.maxN) ctx.addIssue({ code: "custom", path: ["ngram", "minN"], message: `the shortest n-gram (${c.ngram.minN}) is longer than the longest (${c.ngram.maxN})` });
    if (c.draftWindow && c.draftWindow.recent < c.kMax + 2) ctx.addIssue({ code: "custom", path: ["draftWindow", "recent"], message: `needs at least kMax + 2 = ${c.kMax + 2}` });
  });

export function parseSpecConfig(body: unknown): SpecConfig {
  return specConfigSchema.parse(resolveSpecConfig((body ?? {}) as Partial<SpecConfig>));
}
