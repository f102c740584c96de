/**
 * The speculative decoding loop for one request. Each step: propose draft paths, verify them on the
 * target in one (batched) forward pass, emit the accepted prefix plus the recovered or bonus token,
 * roll back both KV caches, adapt k, and yield a StepRecord.
 *
 * Target cache invariant: at the start of a step it holds every committed token but the last, which
 * is fed together with the drafts, so the target pass yields the distribution after the last
 * committed token and after each draft token. The first step starts from an empty cache and feeds the
 * whole prompt with its drafts: the prefill is that step's pass.
 */
import { usesDraft } from "./config";
import { RequestError } from "./errors";
import { createProposer } from "./proposers";
import type { Proposer } from "./proposers";
import { createRng, type Rng } from "./rng";
import type { CausalLM } from "./runtime/causal-lm";
import type { KvCache } from "./runtime/kv-cache";
import { verifyPass } from "./runtime/target-pass";
import { logSoftmaxAt, targetRow, topLogSoftmax, type SamplingParams } from "./sampling";
import { Detokenizer } from "./detokenizer";
import { AdaptiveK, SpecStats, stepCounts } from "./stats";
import type { TextTokenizer } from "./tokenizer";
import type {
  FinishReason, GenerateParams, GenerateResult, OutputToken, SpecConfig, StepRecord, TargetChoice, TokenOrigin, VerifyMode,
} from "./types";
import { FallbackMonitor, type FallbackRule } from "./guardrails";
import { verifyPaths } from "./verify";

export interface EngineModels {
  target: CausalLM;
  draft: CausalLM | null;
  tokenizer: TextTokenizer;
}

/** greedy or sampling is chosen by temperature; lossy is an explicit opt-in. */
export function effectiveMode(config: SpecConfig, params: GenerateParams): VerifyMode {
  if (config.verify === "lossy") return "lossy";
  return params.temperature > 0 ? "sampling" : "greedy";
}

/** Guardrail rules the engine enforces inside a request (the rest are enforced around it, by the server). */
export interface EngineRules {
  fallback?: FallbackRule | null;
}

export async function* generateSteps(
  models: EngineModels,
  promptIds: readonly number[],
  params: GenerateParams,
  config: SpecConfig,
  signal?: AbortSignal,
  rules: EngineRules = {},
): AsyncGenerator<StepRecord, GenerateResult> {
  const started = performance.now();
  const { target, tokenizer } = models;
  const mode = effectiveMode(config, params);
  const sampled = params.temperature > 0;
  const sampling: SamplingParams = { temperature: params.temperature, topK: params.topK, topP: params.topP };
  const rng: Rng = createRng(params.seed);
  const prompt = promptIds.length > 0 ? [...promptIds] : [tokenizer.eosId];

  const proposer: Proposer = createProposer(config, models.draft);
  let cache: KvCache = target.emptyCache();
  const committed = [...prompt];
  const output: OutputToken[] = [];
  const stats = new SpecStats();
  const adaptive = new AdaptiveK(config.kMax, config.adaptiveK);
  // Once the fallback rule trips, no more drafts: every later step is one plain target pass.
  const fallback = new FallbackMonitor(rules.fallback ?? null);
  const detokenizer = new Detokenizer(tokenizer, params.stop);
  // min_tokens bans EOS per output position, on the draft and the verify side alike: a step that
  // crosses min_tokens may emit EOS at the positions past it, exactly as target-only decoding would.
  const noEos: readonly number[] = [tokenizer.eosId];
  const bannedAt = (position: number): readonly number[] => (!params.ignoreEos && position < params.minTokens ? noEos : []);
  let finishReason: FinishReason | null = null;
  let firstTokenMs = 0;

  try {
    // The prompt is prefilled by the first step's verification pass (one pass, not two); prefillMs is
    // that pass. A request cancelled before it ran (e.g. while queued) ends at once, without one.
    let prefillMs = 0;

    for (let index = 0; finishReason === null; index++) {
      if (signal?.aborted) { finishReason = "abort"; break; }
      if (params.timeBudgetMs > 0 && performance.now() - started > params.timeBudgetMs) { finishReason = "time_budget"; break; }
      const stepStart = performance.now();
      const position = output.length;
      const remaining = params.maxTokens - position;
      const k = fallback.off ? 0 : Math.min(adaptive.k, remaining - 1);

      const proposal = k > 0
        ? await proposer.propose({ tokens: committed, k, sampling, sampled, position, bannedAt, rng })
        : { paths: [] };
      const draftMs = performance.now() - stepStart;

      // Verify every path in one target pass (a tree mask or batch rows; runtime/target-pass.ts).
      const paths = proposal.paths;
      const depth = Math.max(0, ...paths.map((p) => p.tokens.length));
      const verifyStart = performance.now();
      const pass = await verifyPass(target, cache, committed.slice(cache.length), paths, tokenizer.eosId);
      const verifyMs = performance.now() - verifyStart;
      if (index === 0) prefillMs = verifyMs;

      const vocab = target.vocabSize;
      const dist = (r: number, pos: number) =>
        targetRow(pass.logits, pass.offset(r, pos), vocab, sampling, bannedAt(position + pos), pass.stats);
      const verdict = verifyPaths(paths, dist, { mode, lossyThreshold: config.lossyThreshold, sampled, rng, position });

      // Roll back the target cache to the committed prefix of the winning path.
      const row = Math.max(0, verdict.pathIndex);
      const lengthBefore = pass.lengthAfterPass;
      cache = pass.keep(row, verdict.accepted);
      const keep = cache.length;

      const chosen = paths[row]?.tokens ?? [];
      const newTokens: { id: number; origin: TokenOrigin; prob: number; pos: number; draftProb: number | null; targetChoice: TargetChoice }[] = [];
      for (let i = 0; i < verdict.accepted; i++) {
        const e = verdict.examined.find((x) => x.depth === i && x.outcome !== "rejected")!;
        newTokens.push({ id: chosen[i], origin: e.outcome === "lossy-accepted" ? "lossy-accepted" : "accepted", prob: e.targetProb, pos: i, draftProb: e.draftProb, targetChoice: e.targetChoice });
      }
      newTokens.push({ id: verdict.nextToken, origin: verdict.nextOrigin, prob: verdict.nextTokenProb, pos: verdict.accepted, draftProb: null, targetChoice: verdict.nextTargetChoice });

      // Emit tokens in order, applying EOS, stop strings and max_tokens; what follows the end is discarded.
      const emitted: OutputToken[] = [];
      let textDelta = "";
      let processed = 0;
      for (const t of newTokens) {
        processed++;
        if (t.id === tokenizer.eosId && !params.ignoreEos) { finishReason = "eos"; break; }
        const offset = pass.offset(row, t.pos);
        const token: OutputToken = {
          id: t.id, text: tokenizer.tokenText(t.id), origin: t.origin, prob: t.prob, draftProb: t.draftProb, targetChoice: t.targetChoice, step: index,
          logprob: logSoftmaxAt(pass.logits, offset, vocab, t.id),
          topLogprobs: params.topLogprobs > 0
            ? topLogSoftmax(pass.logits, offset, vocab, params.topLogprobs).map((a) => ({ ...a, text: tokenizer.tokenText(a.id) }))
            : [],
        };
        output.push(token);
        emitted.push(token);
        committed.push(t.id);
        textDelta += detokenizer.push(t.id);
        if (detokenizer.stop) { finishReason = "stop"; break; }
        if (output.length >= params.maxTokens) { finishReason = "length"; break; }
      }
      if (finishReason !== null) textDelta += detokenizer.flush();
      if (output.length > 0 && firstTokenMs === 0) firstTokenMs = performance.now() - started;
      // The draft's rollback is reported in the step that caused it (the last step too).
      const draftChange = proposer.rollback(committed);
      const counts = stepCounts(paths, verdict, Math.min(processed, verdict.accepted));

      const record: StepRecord = {
        index,
        proposer: config.proposer,
        k,
        position,
        paths: paths.map((p) => ({ tokens: p.tokens, draftProbs: p.draftProbs, pointMass: p.tokens.map((_, d) => !p.draftDists[d]) })),
        verify: verdict,
        emitted,
        textDelta,
        counts,
        rollback: {
          target: { dropped: lengthBefore - keep, evicted: 0, lengthBefore, lengthAfter: keep },
          draft: draftChange,
        },
        timings: { draftMs, verifyMs, overheadMs: performance.now() - stepStart - draftMs - verifyMs },
        kvBytes: { target: cache.bytes, draft: proposer.kvBytes() },
      };
      // The same counts as the summary and /metrics: one definition of acceptance.
      const acted = fallback.observe(index, counts.drafted, counts.accepted);
      if (acted) record.guardrail = acted;
      stats.add(counts);
      adaptive.observe(depth, verdict.accepted);
      yield record;
    }

    // Ended between steps (abort, time budget): the text held back for a possible stop is final now.
    detokenizer.flush();
    const text = detokenizer.text;
    return {
      text,
      tokens: output,
      promptTokens: promptIds.length,
      finishReason: finishReason ?? "length",
      summary: stats.summary(config.proposer, mode),
      models: { target: target.id, draft: usesDraft(config) ? models.draft?.id ?? null : null },
      timings: { prefillMs, totalMs: performance.now() - started, firstTokenMs },
    };
  } finally {
    cache.dispose();
    proposer.dispose();
  }
}

/**
 * Throws a RequestError when the request cannot run as asked (the context, a missing draft model).
 * SpecEngine.stream calls it once, before the generator starts, so servers can answer 400 before
 * they stream; the config itself was validated by its schema (engine/config.ts) before that.
 */
export function checkRequest(models: EngineModels, promptTokens: number, params: GenerateParams, config: SpecConfig): void {
  const context = models.target.maxPositions;
  if (promptTokens >= context) {
    throw new RequestError("prompt", `prompt (${promptTokens} tokens) exceeds the model context of ${context} tokens, leaving no room to generate`, "prompt");
  }
  if (Math.max(promptTokens, 1) + params.maxTokens > context) {
    throw new RequestError("maxTokens", `prompt (${promptTokens} tokens) plus max_tokens (${params.maxTokens}) exceeds the model context of ${context} tokens`);
  }
  if (usesDraft(config) && !models.draft) {
    throw new RequestError("proposer", `proposer ${config.proposer} needs a draft model, and none is loaded`, "config");
  }
}
