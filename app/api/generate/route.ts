import { authorize } from "@/app/_lib/auth";
import { generateBodySchema, generationResponse, runGeneration, toEngineInputs } from "@/app/_lib/generate";
import { describeZodError, errorResponse, jsonResponse } from "@/app/_lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * POST /api/generate: runs one traced generation on the embedded engine and returns the text, the
 * summary, every output token with its origin, and the trace_id to read back from /api/traces/{id}.
 */
export async function POST(request: Request): Promise<Response> {
  const auth = authorize(request, "generate");
  if (!auth.ok) return auth.response;

  let raw: unknown;
  try {
    raw = await request.json();
  } catch {
    return errorResponse(400, "body: not valid JSON");
  }
  const parsed = generateBodySchema.safeParse(raw);
  if (!parsed.success) return errorResponse(400, describeZodError(parsed.error));

  const { params, config } = toEngineInputs(parsed.data);
  try {
    const outcome = await runGeneration(parsed.data.prompt, params, config, { endpoint: "POST /api/generate", signal: request.signal });
    return jsonResponse(generationResponse(outcome));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // RangeError: the request cannot run as asked (e.g. prompt + max_tokens exceed the context).
    if (error instanceof RangeError || /needs a draft model/.test(message)) return errorResponse(400, message);
    if (/ENOENT|no model\.onnx|no config\.json/.test(message)) return errorResponse(503, `models not available: ${message}`, "unavailable");
    return errorResponse(500, message, "internal");
  }
}
