/**
 * The engine facade: loads the target, the optional draft and the shared tokenizer once, and runs
 * requests. Requests are independent (each owns its KV caches), so several may run concurrently on
 * the same sessions.
 */
import { resolve } from "node:path";
import { ChatTemplate } from "./chat";
import { checkRequest, generateSteps, type EngineModels, type EngineRules } from "./generate";
import { SpecConfigError, isValidatedSpecConfig, mergeSpecConfig, pickSpecConfigFields, DEFAULT_SPEC_CONFIG, type SpecConfig } from "./config";
import { RequestError } from "./errors";
import type { CausalLM, RuntimeOptions, SessionRuntime } from "./runtime/causal-lm";
import type { ModelId } from "./runtime/model-folder";
import { TextTokenizer } from "./tokenizer";
import {
  DEFAULT_PARAMS, type GenerateParams, type GenerateResult, type SpecConfigInput, type StepRecord,
} from "./types";

/**
 * A config the schema already accepted (e.g. by the route that parsed the request) is used as is:
 * a request is validated once. Anything else (a partial config from a library caller, or a guardrail
 * config carrying more sections) has its SpecConfig fields completed from the defaults and validated
 * here, its errors becoming RequestErrors naming the field.
 */
function resolveConfig(config: SpecConfig | SpecConfigInput): SpecConfig {
  if (isValidatedSpecConfig(config)) return config;
  try {
    return mergeSpecConfig(DEFAULT_SPEC_CONFIG, pickSpecConfigFields(config));
  } catch (error) {
    if (!(error instanceof SpecConfigError)) throw error;
    const first = error.issues[0];
    throw new RequestError(first?.path ?? "", error.message, "config");
  }
}

/** The shipped pair, relative to the repository root (SPECLENS_TARGET_DIR / SPECLENS_DRAFT_DIR override). */
export const DEFAULT_TARGET_DIR = "models/speclens-brown-20m";
export const DEFAULT_DRAFT_DIR = "models/speclens-brown-draft-2m-int8";

/** The target session's runtime (the numbers that decide the tokens), Node's version, and the draft's session. */
export interface EngineRuntime extends SessionRuntime {
  node: string;
  draft: SessionRuntime | null;
}

export interface EngineOptions extends RuntimeOptions {
  targetDir?: string;
  /** null runs without a draft model (ngram and off only). */
  draftDir?: string | null;
  /** Session settings of the target (threads / spinning here override the shared ones above). */
  target?: RuntimeOptions;
  /** Session settings of the draft. */
  draft?: RuntimeOptions;
}

type SessionDefaults = Required<Pick<RuntimeOptions, "threads" | "spinning" | "stopSpinningAfterRun" | "memoryPattern">> & Pick<RuntimeOptions, "spinDurationUs">;

/**
 * Per-model session settings (`npm run bench:sessions` measures the alternatives). The target runs on
 * two intra-op threads whose workers spin between kernels (onnxruntime's default): on an idle 2-core
 * host a one-position pass takes 4.26 ms spinning against 5.95 ms without, and a one-thread draft pass
 * right after it is not slowed (1.18 vs 1.21 ms), because the draft runs on the calling thread.
 * Stopping the spinners after every run (session.force_spinning_stop) costs 2-3x and is off. The
 * draft (2M parameters, a pass around a millisecond) loses more to waking a worker than it gains, so
 * it runs on one thread. On a host busy with other work spinning loses (SPECLENS_TARGET_SPIN=0).
 * Both keep onnxruntime's memory pattern (RuntimeOptions.memoryPattern has the measurements).
 * off uses the same target session, so its comparison stays fair.
 * SPECLENS_TARGET_THREADS / SPECLENS_DRAFT_THREADS / SPECLENS_TARGET_SPIN / SPECLENS_TARGET_SPIN_US /
 * SPECLENS_MEM_PATTERN override them.
 */
export const DEFAULT_SESSIONS: { target: SessionDefaults; draft: SessionDefaults } = {
  target: { threads: 2, spinning: true, stopSpinningAfterRun: false, memoryPattern: true },
  draft: { threads: 1, spinning: false, stopSpinningAfterRun: false, memoryPattern: true },
};

function envNumber(name: string): number | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : Number(v);
}

/** "1" is true, any other non-empty value false, unset or empty undefined. */
function envFlag(name: string): boolean | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : v === "1";
}

/** The session settings a load uses: explicit per-model options, then shared ones, then env, then defaults. */
export function sessionSettings(options: EngineOptions): { target: RuntimeOptions; draft: RuntimeOptions } {
  const shared = { executionProvider: options.executionProvider, profilePrefix: options.profilePrefix };
  return {
    target: {
      ...shared,
      threads: options.target?.threads ?? options.threads ?? envNumber("SPECLENS_TARGET_THREADS") ?? DEFAULT_SESSIONS.target.threads,
      spinning: options.target?.spinning ?? options.spinning ?? envFlag("SPECLENS_TARGET_SPIN") ?? DEFAULT_SESSIONS.target.spinning,
      stopSpinningAfterRun: options.target?.stopSpinningAfterRun ?? DEFAULT_SESSIONS.target.stopSpinningAfterRun,
      spinDurationUs: options.target?.spinDurationUs ?? envNumber("SPECLENS_TARGET_SPIN_US") ?? DEFAULT_SESSIONS.target.spinDurationUs,
      memoryPattern: options.target?.memoryPattern ?? options.memoryPattern ?? envFlag("SPECLENS_MEM_PATTERN") ?? DEFAULT_SESSIONS.target.memoryPattern,
    },
    draft: {
      ...shared,
      threads: options.draft?.threads ?? options.threads ?? envNumber("SPECLENS_DRAFT_THREADS") ?? DEFAULT_SESSIONS.draft.threads,
      spinning: options.draft?.spinning ?? options.spinning ?? DEFAULT_SESSIONS.draft.spinning,
      stopSpinningAfterRun: options.draft?.stopSpinningAfterRun ?? DEFAULT_SESSIONS.draft.stopSpinningAfterRun,
      memoryPattern: options.draft?.memoryPattern ?? options.memoryPattern ?? envFlag("SPECLENS_MEM_PATTERN") ?? DEFAULT_SESSIONS.draft.memoryPattern,
    },
  };
}

export class SpecEngine {
  private constructor(
    readonly models: EngineModels,
    /** Renders chat messages for the target (its folder's template, or SpecLens's default). */
    readonly chatTemplate: ChatTemplate,
  ) {}

  static async load(options: EngineOptions = {}): Promise<SpecEngine> {
    const env = process.env;
    const targetDir = resolve(options.targetDir ?? env.SPECLENS_TARGET_DIR ?? DEFAULT_TARGET_DIR);
    const draftDir = options.draftDir === null ? null : resolve(options.draftDir ?? env.SPECLENS_DRAFT_DIR ?? DEFAULT_DRAFT_DIR);
    const settings = sessionSettings(options);
    // Loaded here, not at the top: importing the engine's face (for its schema, types or attribute
    // names) must not load onnxruntime's native binding.
    const { CausalLM } = await import("./runtime/causal-lm");
    const [target, draft] = await Promise.all([
      CausalLM.load(targetDir, settings.target),
      draftDir ? CausalLM.load(draftDir, settings.draft) : Promise.resolve(null),
    ]);
    if (draft && draft.vocabSize !== target.vocabSize) {
      throw new Error(`draft vocabulary (${draft.vocabSize}) differs from the target's (${target.vocabSize})`);
    }
    const eos = target.folder.config.eos_token_id;
    const tokenizer = new TextTokenizer(target.folder.tokenizerPath, Array.isArray(eos) ? eos[0] : eos);
    return new SpecEngine({ target, draft, tokenizer }, ChatTemplate.forModelFolder(targetDir));
  }

  get modelIds(): { target: ModelId; draft: ModelId | null } {
    return { target: this.models.target.id, draft: this.models.draft?.id ?? null };
  }

  /**
   * What decides the numerics of this engine's outputs, recorded on every request (speclens.runtime):
   * onnxruntime's version, the execution provider, threads and graph optimisation per session.
   */
  runtime(): EngineRuntime {
    const { target, draft } = this.models;
    return { ...target.runtime, node: process.versions.node, draft: draft ? draft.runtime : null };
  }

  /** The session settings and graph features each model runs with (recorded with every figure). */
  sessionInfo(): { target: CausalLM["settings"] & { graph: CausalLM["features"] }; draft: (CausalLM["settings"] & { graph: CausalLM["features"] }) | null } {
    const describe = (m: CausalLM) => ({ ...m.settings, graph: m.features });
    return { target: describe(this.models.target), draft: this.models.draft ? describe(this.models.draft) : null };
  }

  get tokenizer(): TextTokenizer {
    return this.models.tokenizer;
  }

  /**
   * Stream step records as tokens are accepted; the generator's return value is the result.
   * Throws a RequestError at once (not on the first step) when the request cannot run as asked.
   */
  stream(
    prompt: string | readonly number[],
    params: Partial<GenerateParams> = {},
    config: SpecConfig | SpecConfigInput = {},
    signal?: AbortSignal,
    rules: EngineRules = {},
  ): AsyncGenerator<StepRecord, GenerateResult> {
    const ids = typeof prompt === "string" ? this.models.tokenizer.encode(prompt) : prompt;
    const fullParams = { ...DEFAULT_PARAMS, ...params };
    const fullConfig = resolveConfig(config);
    // Validate now, not at the generator's first step, so a bad request fails before anything streams.
    checkRequest(this.models, ids.length, fullParams, fullConfig);
    return generateSteps(this.models, ids, fullParams, fullConfig, signal, rules);
  }

  async generate(
    prompt: string | readonly number[],
    params: Partial<GenerateParams> = {},
    config: SpecConfig | SpecConfigInput = {},
    signal?: AbortSignal,
    rules: EngineRules = {},
  ): Promise<GenerateResult & { steps: StepRecord[] }> {
    const steps: StepRecord[] = [];
    const it = this.stream(prompt, params, config, signal, rules);
    for (;;) {
      const next = await it.next();
      if (next.done) return { ...next.value, steps };
      steps.push(next.value);
    }
  }

  async dispose(): Promise<void> {
    await Promise.all([this.models.target.release(), this.models.draft?.release()]);
  }
}

/**
 * One model folder as a CausalLM, for the benches and tools that time or compare single models.
 * onnxruntime's binding is imported here, on first use, not when the engine's face is imported.
 */
export async function loadCausalLM(dir: string, options: RuntimeOptions = {}): Promise<CausalLM> {
  const { CausalLM } = await import("./runtime/causal-lm");
  return CausalLM.load(dir, options);
}
