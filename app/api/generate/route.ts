import { authorize } from "@/app/_lib/auth";
import { generateBodySchema, generationResponse, toEngineInputs } from "@/app/_lib/generate";
import { errorResponse, jsonResponse, readJsonBody, zodErrorResponse } from "@/app/_lib/http";
import { generationErrorResponse } from "@/app/_lib/serving/errors";
import { admitRequest } from "@/app/_lib/guardrails/admission";
import { runGeneration } from "@/app/_lib/serving/generation";
import { pickSpecOverrides } from "@/app/_lib/spec-config";
import { getDb } from "@/db/client";
import { resolveConfig } from "@/db/queries/configs";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * POST /api/generate: runs one traced generation on the embedded engine and returns the text, the
 * summary, every output token with its origin, and the trace_id to read back from /api/traces/{id}.
 */
export async function POST(request: Request): Promise<Response> {
  const auth = authorize(request, "generate");
  if (!auth.ok) return auth.response;
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const parsed = generateBodySchema.safeParse(read.body);
  if (!parsed.success) return zodErrorResponse(parsed.error);
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
        maxTokens: params.maxTokens, askedMaxTokens: (read.body as Record<string, unknown>).max_tokens !== undefined, timeBudgetMs: params.timeBudgetMs,
      },
      { maxTokens: "max_tokens", overridePrefix: "" },
    );
    if (!admitted.ok) return admitted.response;
    const outcome = await runGeneration({
      prompt: parsed.data.prompt, params: { ...params, maxTokens: admitted.maxTokens, timeBudgetMs: admitted.timeBudgetMs }, config,
      endpoint: "POST /api/generate", configVersion: String(resolved.version), signal: request.signal,
      guardrails: { version: resolved.version, rules: resolved.guardrail, actions: admitted.actions },
    });
    return jsonResponse(generationResponse(outcome, resolved.version));
  } catch (error) {
    return generationErrorResponse(error);
  }
}
