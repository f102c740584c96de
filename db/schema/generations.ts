import { sql } from "drizzle-orm";
import { index, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { int, nanos } from "./columns";

/*
 * Derived tables: the dashboard's fast path. They are written from spans (db/tracing/derive.ts) in the
 * same transaction as the raw rows, whether the spans were produced here or ingested over OTLP, so a
 * trace from another node fills exactly the same rows. Deleting a trace deletes from all of them
 * (db/tracing/retention.ts). A step span's per-position data lives only here: its raw row keeps the
 * other attributes (see leanStepAttributes in db/tracing/derive.ts), so nothing is stored twice.
 *
 * JSON columns hold arrays as TEXT; their shapes are noted per column.
 */

/** One row per generation request, from the request span ("text_completion <target>"). */
export const requests = sqliteTable(
  "requests",
  {
    traceId: text("trace_id").primaryKey(),
    spanId: text("span_id").notNull(),
    node: text("node").notNull(),
    startNs: nanos("start_ns").notNull(),
    endNs: nanos("end_ns").notNull(),
    endpoint: text("endpoint"),
    operation: text("operation").notNull(), // gen_ai.operation.name
    requestModel: text("request_model"),
    responseModel: text("response_model"),
    prompt: text("prompt").notNull().default(""),
    completion: text("completion"),
    paramsJson: text("params_json").notNull().default("{}"), // GenerateParams
    configJson: text("config_json").notNull().default("{}"), // SpecConfig
    configVersion: text("config_version"),
    proposer: text("proposer"),
    verifyMode: text("verify_mode"),
    targetModelId: text("target_model_id"), // "<name>@sha256:<12 hex>"
    targetSha256: text("target_sha256"),
    draftModelId: text("draft_model_id"), // null without a draft model
    draftSha256: text("draft_sha256"),
    seed: int("seed"),
    temperature: real("temperature"),
    maxTokens: int("max_tokens"),
    inputTokens: int("input_tokens"),
    outputTokens: int("output_tokens"),
    finishReason: text("finish_reason"), // null while unfinished or on error
    statusCode: int("status_code").notNull().default(0), // OTel: 0 unset, 1 ok, 2 error
    statusMessage: text("status_message"),
    steps: int("steps"),
    drafted: int("drafted"),
    accepted: int("accepted"),
    acceptanceRate: real("acceptance_rate"), // accepted / drafted
    meanAcceptanceLength: real("mean_acceptance_length"), // 1 + accepted / steps
    perPositionJson: text("per_position_json").notNull().default("[]"), // [kMax] acceptance per draft position
    // Request-level signals for the drift alerts, filled from the steps (local and OTLP traces alike):
    positionCountsJson: text("position_counts_json").notNull().default("[]"), // [kMax] [accepted, drafted] steps per draft position
    targetConfidence: real("target_confidence"), // the target's mean probability of the draft tokens it accepted
    targetConfidenceN: int("target_confidence_n"), // accepted draft tokens behind it
    draftConfidence: real("draft_confidence"), // the proposer's mean probability of the tokens it proposed
    draftConfidenceN: int("draft_confidence_n"), // proposed tokens behind it
    prefillMs: real("prefill_ms"),
    ttftMs: real("ttft_ms"),
    totalMs: real("total_ms"),
    queueMs: real("queue_ms"), // time spent waiting for an engine slot before running
    cancelled: int("cancelled").notNull().default(0), // 1 when the client aborted
    tokensPerS: real("tokens_per_s"), // output_tokens / total time, stored so the list can sort and filter on it
    guardrailActions: int("guardrail_actions").notNull().default(0), // speclens.guardrail.* events on the request span
    discarded: int("discarded"), // accepted draft tokens cut by the request's end (EOS, stop, max_tokens)
    runtimeJson: text("runtime_json"), // speclens.runtime: onnxruntime version, execution provider, threads, graph optimisation
    targetFilesJson: text("target_files_json"), // {"model.onnx": sha256, "tokenizer.json": sha256, "config.json": sha256}
    draftFilesJson: text("draft_files_json"),
    // A replay is a trace of its own that names the trace it re-ran and how (exact | target-only |
    // draft-only | config); null for an original request.
    replayOf: text("replay_of"),
    replayMode: text("replay_mode"),
  },
  (t) => [
    // Keyset pagination (start_ns desc, trace_id desc) and every filter below narrow by time.
    index("requests_start_idx").on(t.startNs, t.traceId),
    index("requests_proposer_idx").on(t.proposer, t.startNs),
    index("requests_target_model_idx").on(t.targetModelId, t.startNs),
    index("requests_draft_model_idx").on(t.draftModelId, t.startNs),
    index("requests_finish_reason_idx").on(t.finishReason, t.startNs),
    index("requests_node_idx").on(t.node, t.startNs),
    index("requests_verify_mode_idx").on(t.verifyMode, t.startNs),
    index("requests_config_version_idx").on(t.configVersion, t.startNs),
    index("requests_status_idx").on(t.statusCode, t.startNs),
    index("requests_cancelled_idx").on(t.cancelled, t.startNs),
    // Sorting by these (keyset on value, trace_id) and narrow range filters read these indexes.
    index("requests_total_ms_idx").on(t.totalMs, t.traceId),
    index("requests_acceptance_idx").on(t.acceptanceRate, t.traceId),
    index("requests_tokens_per_s_idx").on(t.tokensPerS, t.traceId),
    index("requests_output_tokens_idx").on(t.outputTokens, t.traceId),
    // Covering index of the metrics queries: a time range is read from the index alone, never the
    // wide rows (prompt, completion, params), which is what keeps a 24 h window fast at 100k requests.
    index("requests_metrics_idx").on(
      t.startNs, t.configVersion, t.proposer, t.verifyMode, t.node, t.targetModelId, t.draftModelId, t.statusCode,
      t.steps, t.drafted, t.accepted, t.outputTokens, t.totalMs, t.ttftMs, t.queueMs, t.tokensPerS, t.perPositionJson,
    ),
    index("requests_series_idx").on(t.configVersion, t.targetModelId, t.draftModelId, t.proposer, t.startNs),
    index("requests_replay_of_idx").on(t.replayOf, t.startNs),
  ],
);

/** One row per speculative step, from a "speclens.step" span. */
export const steps = sqliteTable(
  "steps",
  {
    traceId: text("trace_id").notNull(),
    stepIndex: int("step_index").notNull(),
    spanId: text("span_id").notNull(),
    startNs: nanos("start_ns").notNull(),
    endNs: nanos("end_ns").notNull(),
    proposer: text("proposer").notNull(),
    k: int("k").notNull(),
    draftTokensJson: text("draft_tokens_json").notNull().default("[]"), // [sum of path lengths] token ids
    draftProbsJson: text("draft_probs_json").notNull().default("[]"), // [sum of path lengths]
    pathLengthsJson: text("path_lengths_json").notNull().default("[]"), // [numPaths]
    pathIndex: int("path_index").notNull(), // -1 when nothing was accepted
    accepted: int("accepted").notNull(), // accepted draft tokens that were emitted (the engine's count)
    drafted: int("drafted").notNull(), // the engine's count (engine/stats.ts): every path's draft tokens less the discarded
    // [examined] {path, depth, token, outcome, targetProb, targetArgmax, targetChoice: {token, prob}, draftProb, pointMass, acceptProb, uniform}
    examinedJson: text("examined_json").notNull().default("[]"),
    pointMassJson: text("point_mass_json"), // [sum of path lengths] booleans, like draft_tokens_json
    position: int("position"), // output position of the step's first token
    discarded: int("discarded"), // accepted draft tokens cut by the request's end
    textDelta: text("text_delta"), // the text this step adds to the output
    nextTargetChoice: int("next_target_choice"), // what the target alone would have emitted at next_token's position
    nextTargetChoiceProb: real("next_target_choice_prob"),
    rollbackDraftEvicted: int("rollback_draft_evicted"), // positions the draft window evicted since the previous step
    nextToken: int("next_token"),
    nextOrigin: text("next_origin"), // recovered | bonus | target
    nextTokenProb: real("next_token_prob"),
    emitted: int("emitted").notNull(), // tokens this step emitted
    rollbackTargetDropped: int("rollback_target_dropped"),
    rollbackTargetBefore: int("rollback_target_before"),
    rollbackTargetAfter: int("rollback_target_after"),
    rollbackDraftDropped: int("rollback_draft_dropped"), // null without a draft cache
    rollbackDraftBefore: int("rollback_draft_before"),
    rollbackDraftAfter: int("rollback_draft_after"),
    draftMs: real("draft_ms"),
    verifyMs: real("verify_ms"),
    overheadMs: real("overhead_ms"),
    kvTargetBytes: int("kv_target_bytes"),
    kvDraftBytes: int("kv_draft_bytes"),
  },
  (t) => [primaryKey({ columns: [t.traceId, t.stepIndex] }), index("steps_proposer_idx").on(t.proposer)],
);

/** One row per output token, from the emitted.* arrays of the step spans. */
export const tokens = sqliteTable(
  "tokens",
  {
    traceId: text("trace_id").notNull(),
    stepIndex: int("step_index").notNull(),
    offset: int("offset").notNull(), // position within its step's emitted tokens
    // Position in the completion; filled once the trace's earlier steps are known (steps may arrive
    // out of order over OTLP), so it is null only while a trace is still arriving.
    position: int("position").$defaultFn(() => sql`NULL`),
    tokenId: int("token_id").notNull(),
    text: text("text").notNull(),
    origin: text("origin").notNull(), // accepted | lossy-accepted | recovered | bonus | target
    prob: real("prob"),
    logprob: real("logprob"),
    draftProb: real("draft_prob"), // the proposer's probability for an accepted draft token; null for target tokens
    targetChoice: int("target_choice"), // what the target alone would have emitted here
    targetChoiceProb: real("target_choice_prob"),
  },
  (t) => [
    primaryKey({ columns: [t.traceId, t.stepIndex, t.offset] }),
    index("tokens_trace_position_idx").on(t.traceId, t.position),
  ],
);

export type RequestRow = typeof requests.$inferSelect;
export type NewRequestRow = typeof requests.$inferInsert;
export type StepRow = typeof steps.$inferSelect;
export type NewStepRow = typeof steps.$inferInsert;
export type TokenRow = typeof tokens.$inferSelect;
export type NewTokenRow = typeof tokens.$inferInsert;
