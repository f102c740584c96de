/**
 * What replay needs from the engine beyond SpecEngine.stream, kept apart from the generation loop:
 * - draft-only generation: the draft model as the generator (speculation off), on the sessions the
 *   engine already holds, so "what would the draft alone have written?" costs no second load;
 * - the target's top-2 margin at one output position: one forward pass over the prompt and the
 *   output before that position, to tell a numerical near-tie from a real disagreement.
 */
import { RequestError } from "./errors";
import { checkRequest, generateSteps, type EngineModels } from "./generate";
import { topLogSoftmax } from "./sampling";
import { mergeSpecConfig, type SpecConfig } from "./config";
import { DEFAULT_PARAMS, type GenerateParams, type GenerateResult, type StepRecord } from "./types";

/** The loaded models as a draft-only engine sees them: the draft in the target's place, no proposer. */
export function draftOnlyModels(models: EngineModels): EngineModels {
  if (!models.draft) throw new RequestError("mode", "draft-only replay needs a draft model, and none is loaded", "params");
  return { target: models.draft, draft: null, tokenizer: models.tokenizer };
}

/**
 * Stream a generation by the draft model alone: speculation off (every token is the draft's own
 * choice, sampled with the same parameters and seed). The result's models name the draft as the
 * model that generated. Throws a RequestError at once when the request cannot run.
 */
export function streamDraftOnly(
  models: EngineModels,
  promptIds: readonly number[],
  params: Partial<GenerateParams>,
  config: SpecConfig,
  signal?: AbortSignal,
): AsyncGenerator<StepRecord, GenerateResult> {
  const draftModels = draftOnlyModels(models);
  const fullParams = { ...DEFAULT_PARAMS, ...params };
  const fullConfig = mergeSpecConfig(config, { proposer: "off" });
  checkRequest(draftModels, promptIds.length, fullParams, fullConfig);
  return generateSteps(draftModels, promptIds, fullParams, fullConfig, signal);
}

export interface TopTwo {
  /** The target's most likely token after the context, and the runner-up; natural-log probabilities. */
  first: { token: number; logprob: number };
  second: { token: number; logprob: number };
  /** first.logprob - second.logprob (>= 0): how far the target's choice was from a tie. */
  margin: number;
}

/**
 * The target's two most likely next tokens after `context` (prompt then output tokens), from one
 * single-sequence forward pass with a fresh cache: the reference a multi-position verification pass
 * may round differently from. Unprocessed logits: a tie is a property of the model, not of sampling.
 */
export async function targetTopTwo(models: EngineModels, context: readonly number[]): Promise<TopTwo> {
  const { target } = models;
  const ids = context.length > 0 ? [...context] : [models.tokenizer.eosId];
  if (ids.length > target.maxPositions) throw new RequestError("position", `context of ${ids.length} tokens exceeds the model's ${target.maxPositions} positions`);
  const { out, cache } = await target.forward([ids], target.emptyCache(), 0);
  try {
    const vocab = target.vocabSize;
    const [first, second] = topLogSoftmax(out.logits, (out.seq - 1) * vocab, vocab, 2);
    return {
      first: { token: first.id, logprob: first.logprob },
      second: { token: second.id, logprob: second.logprob },
      margin: first.logprob - second.logprob,
    };
  } finally {
    cache.dispose();
  }
}
