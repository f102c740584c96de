/**
 * The engine's one public face: app/, db/, bench/, tools/ and instrumentation.ts import "@/engine"
 * (or engine/index) only, never a module behind it (eslint.config.mjs refuses deep imports).
 * Importing it does not load onnxruntime's native binding: that happens in SpecEngine.load.
 */
export {
  SpecEngine, DEFAULT_DRAFT_DIR, DEFAULT_TARGET_DIR, DEFAULT_SESSIONS, sessionSettings, loadCausalLM, type EngineOptions, type EngineRuntime,
} from "./engine";
export type { EngineModels } from "./generate";
export {
  PROPOSERS, VERIFY_MODES, K_MAX_LIMIT, DEFAULT_SPEC_CONFIG, SPEC_WIRE_FIELDS,
  specConfigObject, specConfigSchema, checkSpecRelations, parseSpecConfig, safeParseSpecConfig, mergeSpecConfig,
  specConfigFromWire, specConfigToWire, pickSpecConfigFields, isValidatedSpecConfig, wirePath, usesDraft, SpecConfigError,
  type ProposerName, type VerifyMode, type SpecConfig, type SpecConfigInput, type SpecConfigResult, type ConfigIssue,
} from "./config";
export { DEFAULT_PARAMS } from "./types";
export type {
  GenerateParams, GenerateResult, StepRecord, OutputToken, ExaminedToken, VerifyResult, DraftPath, Proposal,
  CacheChange, PositionOutcome, TokenOrigin, StepTimings, FinishReason, SpecSummary, StepCounts, TargetChoice,
} from "./types";
export { RequestError, ModelUnavailableError } from "./errors";
export {
  A, STEP_SPAN_NAME, ROLLBACK_EVENT, TRACER_NAME, GUARDRAIL_EVENT_PREFIX, stepAttributes, traceGeneration, guardrailEventAttributes, type TraceInfo,
} from "./telemetry";
export {
  guardrailConfigSchema, validateGuardrailConfig, parseGuardrailConfig, mergeGuardrailConfig, specPart, diffConfigs, forbiddenOverride,
  vllmSpeculativeConfig, FallbackMonitor, DEFAULT_GUARDRAIL_CONFIG, DEFAULT_GUARDRAIL_RULES, OVERRIDABLE_FIELDS,
  type GuardrailConfig, type GuardrailRules, type GuardrailLimits, type GuardrailAction, type FallbackRule, type LoadRule,
  type FieldIssue, type ConfigChange, type GuardrailParse, type OverridableField,
} from "./guardrails";
export type { EngineRules } from "./generate";
export { formatModelId, combinedModelHash, MODEL_ID_FILES, type ModelId, type ModelConfigJson } from "./runtime/model-folder";
export { createRng, uniformAt, RNG_PURPOSES, type Rng, type RngPurpose } from "./rng";
export { Detokenizer, type Decoder, type StopHit } from "./detokenizer";
export { stepCounts } from "./stats";
export type { CausalLM, RuntimeOptions, SessionRuntime, GraphFeatures, DraftLoopResult } from "./runtime/causal-lm";
export type { KvCache } from "./runtime/kv-cache";
export { argmax, topLogSoftmax } from "./sampling";
export { ChatTemplate, DEFAULT_CHAT_STOP, DEFAULT_CHAT_TEMPLATE, type ChatMessageText } from "./chat";
export { TextTokenizer } from "./tokenizer";
export { ALERT_RULE_NAMES, DEFAULT_ALERT_RULES, alertRulesOf, alertRulesSchema, alertWebhookFields, webhookUrlSchema, type AlertRuleName, type AlertRules } from "./alert-rules";
export { streamDraftOnly, targetTopTwo, draftOnlyModels, type TopTwo } from "./replay";
