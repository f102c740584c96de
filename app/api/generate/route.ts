import { authorize } from "@/app/_lib/auth";
import { generateBodySchema, generationResponse, toEngineInputs } from "@/app/_lib/generate";
import { errorResponse, jsonResponse, readJsonBody, zodErrorResponse } from "@/app/_lib/http";
import { generationErrorResponse } from "@/app/_lib/serving/errors";
import { runGeneration } from "@/app/_lib/serving/generation";
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
    // The speculative fields are validated here, once, against the selected version (400 naming the field).
    const { params, config } = toEngineInputs(parsed.data, resolved.config);
    const outcome = await runGeneration({
      prompt: parsed.data.prompt, params, config, endpoint: "POST /api/generate", configVersion: String(resolved.version), signal: request.signal,
    });
    return jsonResponse(generationResponse(outcome, resolved.version));
  } catch (error) {
    return generationErrorResponse(error);
  }
}
