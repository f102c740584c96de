import { authorize } from "@/app/_lib/auth";
import { generateBodySchema, generationResponse, toEngineInputs } from "@/app/_lib/generate";
import { errorResponse, jsonResponse, parseJsonBody } from "@/app/_lib/http";
import { generationErrorResponse } from "@/app/_lib/serving/errors";
import { admitRequest } from "@/app/_lib/guardrails/admission";
import { runGeneration, startGeneration } from "@/app/_lib/serving/generation";
import { streamGeneration } from "@/app/_lib/generate-stream";
import { PhaseTimer } from "@/app/_lib/server-timing";
import { pickSpecOverrides } from "@/app/_lib/spec-config";
import { getDb } from "@/db/client";
import { resolveConfig } from "@/db/queries/configs";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * POST /api/generate: runs one traced generation on the embedded engine and returns the text, the
 * summary, every output token with its origin, and the trace_id to read back from /api/traces/{id}.
 * Answers carry a Server-Timing header (app/_lib/server-timing.ts).
 */
export async function POST(request: Request): Promise<Response> {
  const timing = new PhaseTimer();
  const auth = authorize(request, "generate");
  if (!auth.ok) return auth.response;
  timing.mark("auth");
  const parsed = await parseJsonBody(request, generateBodySchema);
  if (!parsed.ok) return parsed.response;
  timing.mark("parse");
  const resolved = resolveConfig(getDb(), parsed.data.config);
  if (!resolved) return errorResponse(400, `config: no config label or version ${JSON.stringify(parsed.data.config)}`, { param: "config" });

  try {
    // The version is fixed here, at admission: a label moved while this request runs does not change it.
    // The speculative fields are validated here, once, against the selected version (400 naming the field).
    const base = resolved.config;
    const { params, config } = toEngineInputs(parsed.data, base);
    const admitted = admitRequest(
      {
        rules: resolved.guardrail, base, config, overrideFields: Object.keys(pickSpecOverrides(parsed.data)),
        maxTokens: params.maxTokens, askedMaxTokens: (parsed.body as Record<string, unknown>).max_tokens !== undefined, timeBudgetMs: params.timeBudgetMs,
      },
      { maxTokens: "max_tokens", overridePrefix: "" },
    );
    if (!admitted.ok) return admitted.response;
    timing.mark("prepare");
    const generation = {
      prompt: parsed.data.prompt, params: { ...params, maxTokens: admitted.maxTokens, timeBudgetMs: admitted.timeBudgetMs }, config,
      endpoint: "POST /api/generate", configVersion: String(resolved.version),
      guardrails: { version: resolved.version, rules: resolved.guardrail, actions: admitted.actions },
    };
    if (parsed.data.stream) {
      // The stream outlives this handler: the client's disconnect reaches the engine through `cancel`.
      const cancel = new AbortController();
      request.signal.addEventListener("abort", () => cancel.abort(), { once: true });
      const handle = await startGeneration({ ...generation, signal: cancel.signal });
      timing.mark("start");
      return streamGeneration(handle, resolved.version, cancel, { "server-timing": timing.header() });
    }
    // runGeneration starts and runs it in one call: its start (tokenizing, admission) counts in "queue".
    const outcome = await runGeneration({ ...generation, signal: request.signal });
    timing.finish(outcome.timings, outcome.result);
    return jsonResponse(generationResponse(outcome, resolved.version), { headers: { "server-timing": timing.header() } });
  } catch (error) {
    return generationErrorResponse(error);
  }
}
