import "server-only";
import { forbiddenOverride, type GuardrailAction, type GuardrailRules } from "@/engine";
import type { SpecConfig } from "@/engine";
import { errorResponse } from "../http";
import { servingMetrics } from "../serving/metrics";

/*
 * The guardrail rules decided before a request is admitted, from the version it resolved to:
 *   overrides  a per-request override the version does not allow -> 403 naming the field;
 *   limits     max_tokens above the version's cap -> 400 naming the field (without max_tokens, the
 *              cap bounds the default); a time budget above the cap is capped.
 * Refusals change nothing and are counted on /metrics; the rules decided at admission time proper
 * (cooldown, load) run in startGeneration, next to the queue.
 */

export interface AdmissionInput {
  rules: GuardrailRules;
  /** The version's own policy, and the policy after the request's overrides. */
  base: SpecConfig;
  config: SpecConfig;
  /** Wire names of the overrides the request made (e.g. "verify", "k_max"). */
  overrideFields: readonly string[];
  /** max_tokens as asked, or the endpoint's default when the request did not ask (then `asked` is false). */
  maxTokens: number;
  askedMaxTokens: boolean;
  timeBudgetMs: number;
}

export interface WireNames {
  /** e.g. "max_tokens" or "max_completion_tokens". */
  maxTokens: string;
  /** Prefix of override fields: "" for /api/generate, "speclens.overrides." for /v1. */
  overridePrefix: string;
}

export type Admission =
  | { ok: true; maxTokens: number; timeBudgetMs: number; actions: GuardrailAction[] }
  | { ok: false; response: Response };

export function admitRequest(input: AdmissionInput, names: WireNames): Admission {
  const { limits } = input.rules;
  const metrics = servingMetrics();
  const forbidden = forbiddenOverride(limits, input.overrideFields, input.base, input.config);
  if (forbidden) {
    metrics.observeGuardrail({ rule: "overrides", action: "refused" });
    const param = names.overridePrefix + forbidden.path;
    return { ok: false, response: errorResponse(403, `${param}: ${forbidden.message}`, { param, code: "override_not_allowed" }) };
  }
  if (input.askedMaxTokens && input.maxTokens > limits.maxTokens) {
    metrics.observeGuardrail({ rule: "limits", action: "refused" });
    return {
      ok: false,
      response: errorResponse(400, `${names.maxTokens}: ${input.maxTokens} is above this config version's cap of ${limits.maxTokens} tokens`, { param: names.maxTokens, code: "max_tokens_above_cap" }),
    };
  }
  const actions: GuardrailAction[] = [];
  const maxTokens = Math.min(input.maxTokens, limits.maxTokens);
  let timeBudgetMs = input.timeBudgetMs;
  if (limits.timeBudgetMs > 0 && (timeBudgetMs === 0 || timeBudgetMs > limits.timeBudgetMs)) {
    if (timeBudgetMs > limits.timeBudgetMs) {
      actions.push({
        rule: "limits", action: "capped", step: null, measured: timeBudgetMs, threshold: limits.timeBudgetMs,
        detail: `time budget ${timeBudgetMs} ms capped at this version's ${limits.timeBudgetMs} ms`,
      });
    }
    timeBudgetMs = limits.timeBudgetMs;
  }
  return { ok: true, maxTokens, timeBudgetMs, actions };
}
