import "server-only";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { tracingReport } from "@/db/tracing/runtime";
import type { GenerateResult, GuardrailAction, StepRecord } from "@/engine";
import { loadedModels } from "../engine";
import { admissionQueue } from "./limits";

/*
 * Prometheus metrics for GET /metrics, in the style of vLLM's speculative-decoding metrics. Every
 * generation the server runs (OpenAI API, /api/generate, the Playground) is counted, per step as the
 * engine yields it and per request when it ends. Definitions, next to the computation:
 *   drafts            steps in which the proposer offered at least one token
 *   draft tokens      tokens proposed (every path of a tree counts), = the summary's `drafted`
 *   accepted tokens   draft tokens the verifier kept and the request emitted
 *   discarded tokens  accepted draft tokens cut by the request's end (in neither count above)
 *   accepted per pos  steps whose position i was accepted; divided by drafts at i it is the
 *                     per-position acceptance rate
 * Acceptance rate = rate(accepted) / rate(draft tokens); mean acceptance length =
 * 1 + rate(accepted) / rate(steps).
 */

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
const FIRST_TOKEN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const PER_TOKEN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64];

class ServingMetrics {
  readonly registry = new Registry();
  private readonly steps: Counter<"proposer">;
  private readonly drafts: Counter<"proposer">;
  private readonly draftTokens: Counter<"proposer">;
  private readonly acceptedTokens: Counter<"proposer">;
  private readonly discardedTokens: Counter<"proposer">;
  private readonly draftedPerPos: Counter<"proposer" | "position">;
  private readonly acceptedPerPos: Counter<"proposer" | "position">;
  private readonly requests: Counter<"endpoint" | "finish_reason">;
  private readonly rejected: Counter<"reason">;
  private readonly promptTokens: Counter;
  private readonly generationTokens: Counter<"origin">;
  private readonly e2eLatency: Histogram<"endpoint">;
  private readonly firstToken: Histogram<"endpoint">;
  private readonly perOutputToken: Histogram<"endpoint">;
  private readonly queueTime: Histogram;
  private readonly guardrailActions: Counter<"rule" | "action">;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers });
    const histogram = <L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) =>
      new Histogram<L>({ name, help, buckets, labelNames, registers });

    this.steps = counter("speclens_spec_decode_num_steps_total", "Speculative steps (target verification passes).", ["proposer"]);
    this.drafts = counter("speclens_spec_decode_num_drafts_total", "Steps in which the proposer offered at least one draft token.", ["proposer"]);
    this.draftTokens = counter("speclens_spec_decode_num_draft_tokens_total", "Draft tokens proposed (all tree paths count).", ["proposer"]);
    this.acceptedTokens = counter("speclens_spec_decode_num_accepted_tokens_total", "Draft tokens accepted by the verifier.", ["proposer"]);
    this.discardedTokens = counter("speclens_spec_decode_num_discarded_tokens_total", "Accepted draft tokens cut by the request's end (EOS, stop string, max_tokens); in neither drafted nor accepted.", ["proposer"]);
    this.draftedPerPos = counter("speclens_spec_decode_num_draft_tokens_per_pos_total", "Steps that drafted position i.", ["proposer", "position"]);
    this.acceptedPerPos = counter("speclens_spec_decode_num_accepted_tokens_per_pos_total", "Steps that accepted position i.", ["proposer", "position"]);
    this.requests = counter("speclens_request_success_total", "Finished generations by endpoint and engine finish reason.", ["endpoint", "finish_reason"]);
    this.rejected = counter("speclens_request_rejected_total", "Requests refused before running (queue_full).", ["reason"]);
    this.promptTokens = counter("speclens_prompt_tokens_total", "Prompt tokens of finished generations.");
    this.generationTokens = counter("speclens_generation_tokens_total", "Output tokens by origin (accepted, lossy-accepted, recovered, bonus, target).", ["origin"]);
    this.e2eLatency = histogram("speclens_e2e_request_latency_seconds", "Arrival to last token, queueing included.", LATENCY_BUCKETS, ["endpoint"]);
    this.firstToken = histogram("speclens_time_to_first_token_seconds", "Arrival to first output token, queueing included.", FIRST_TOKEN_BUCKETS, ["endpoint"]);
    this.perOutputToken = histogram("speclens_time_per_output_token_seconds", "Mean time between output tokens after the first, per request.", PER_TOKEN_BUCKETS, ["endpoint"]);
    this.guardrailActions = counter(
      "speclens_guardrail_actions_total",
      "Guardrail rule actions: fallback/cooldown/load switching speculation off, limits and overrides refusing or capping a request.",
      ["rule", "action"],
    );
    this.queueTime = histogram("speclens_request_queue_time_seconds", "Time a request waited for a slot.", FIRST_TOKEN_BUCKETS);

    new Gauge({
      name: "speclens_num_requests_running", help: "Generations holding a slot.", registers,
      collect() { this.set(admissionQueue().stats().running); },
    });
    new Gauge({
      name: "speclens_num_requests_waiting", help: "Generations waiting for a slot (queue depth).", registers,
      collect() { this.set(admissionQueue().stats().waiting); },
    });
    new Gauge({
      name: "speclens_exporter_queue_depth", help: "Finished spans buffered in the SQLite exporter, not yet written.", registers,
      collect() { this.set(tracingReport().exporter?.queued ?? 0); },
    });
    // The exporter keeps its own cumulative counts; these counters mirror them at scrape time.
    const mirrored = (name: string, help: string, read: (e: NonNullable<ReturnType<typeof tracingReport>["exporter"]>) => number) =>
      new Counter({
        name, help, registers,
        collect() {
          const exporter = tracingReport().exporter;
          this.reset();
          if (exporter) this.inc(read(exporter));
        },
      });
    mirrored("speclens_exporter_spans_exported_total", "Spans the SQLite exporter wrote.", (e) => e.exported);
    mirrored("speclens_exporter_spans_dropped_total", "Spans the SQLite exporter dropped (always 0 unless writes keep failing).", (e) => e.dropped);
    mirrored("speclens_exporter_write_failures_total", "Failed exporter writes (their spans are retried).", (e) => e.failures);
    mirrored("speclens_exporter_inflight_marker_failures_total", "Requests whose in-flight marker could not be written.", (e) => e.inflightFailures);
    new Gauge({
      name: "speclens_requests_interrupted_at_start", help: "Requests found running when the server last died, stored as interrupted at this start.", registers,
      collect() { this.set(tracingReport().interruptedAtStart); },
    });
    new Gauge({
      name: "speclens_model_info", help: "The loaded models (value 1), by role, model_id and sha256.", registers,
      labelNames: ["role", "model_id", "sha256"] as const,
      collect() {
        this.reset();
        for (const m of loadedModels()) this.set({ role: m.role, model_id: m.modelId, sha256: m.sha256 }, 1);
      },
    });
  }

  observeStep(step: StepRecord): void {
    const proposer = step.proposer;
    this.steps.inc({ proposer });
    // The engine counted the step once (engine/stats.ts stepCounts); the trace stores the same numbers.
    const { drafted, accepted, discarded, draftedAt, acceptedAt } = step.counts;
    if (discarded > 0) this.discardedTokens.inc({ proposer }, discarded);
    if (drafted === 0) return;
    this.drafts.inc({ proposer });
    this.draftTokens.inc({ proposer }, drafted);
    this.acceptedTokens.inc({ proposer }, accepted);
    draftedAt.forEach((d, i) => {
      if (d > 0) this.draftedPerPos.inc({ proposer, position: String(i) }, d);
      if (acceptedAt[i] > 0) this.acceptedPerPos.inc({ proposer, position: String(i) }, acceptedAt[i]);
    });
  }

  observeRequest(endpoint: string, result: GenerateResult, timing: { queueMs: number; totalMs: number; firstTokenMs: number | null }): void {
    this.requests.inc({ endpoint, finish_reason: result.finishReason });
    this.promptTokens.inc(result.promptTokens);
    for (const t of result.tokens) this.generationTokens.inc({ origin: t.origin });
    this.queueTime.observe(timing.queueMs / 1000);
    this.e2eLatency.observe({ endpoint }, timing.totalMs / 1000);
    if (timing.firstTokenMs !== null) {
      this.firstToken.observe({ endpoint }, timing.firstTokenMs / 1000);
      if (result.tokens.length > 1) {
        this.perOutputToken.observe({ endpoint }, (timing.totalMs - timing.firstTokenMs) / 1000 / (result.tokens.length - 1));
      }
    }
  }

  observeGuardrail(action: Pick<GuardrailAction, "rule" | "action">): void {
    this.guardrailActions.inc({ rule: action.rule, action: action.action });
  }

  observeRejected(reason: "queue_full"): void {
    this.rejected.inc({ reason });
  }
}

const holder = globalThis as typeof globalThis & { __speclensMetrics?: ServingMetrics };

/** The process-wide metrics (on globalThis: Next bundles each route separately). */
export function servingMetrics(): ServingMetrics {
  holder.__speclensMetrics ??= new ServingMetrics();
  return holder.__speclensMetrics;
}
