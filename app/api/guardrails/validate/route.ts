import { authorize } from "@/app/_lib/auth";
import { candidateConfig, createBodySchema } from "@/app/_lib/guardrails/api";
import { maskConfigWebhooks, maskWebhookChanges, mayReadWebhookUrls } from "@/app/_lib/guardrails/webhook-visibility";
import { errorResponse, jsonResponse, parseJsonBody } from "@/app/_lib/http";
import { getDb } from "@/db/client";
import { loadedModels } from "@/app/_lib/engine";
import { diffConfigs, specPart, vllmSpeculativeConfig } from "@/engine";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const validateBodySchema = createBodySchema.pick({ config: true, baseVersion: true });

/**
 * POST /api/guardrails/validate `{ config, baseVersion }`: a dry run of a save, for the editor's inline
 * messages as you type. 200 `{ config, changes }` or the same 400 a save would get. Stores nothing.
 */
export async function POST(request: Request): Promise<Response> {
  const auth = authorize(request, "config:read");
  if (!auth.ok) return auth.response;
  const body = await parseJsonBody(request, validateBodySchema);
  if (!body.ok) return body.response;
  const candidate = candidateConfig(getDb(), body.data.baseVersion, body.data.config);
  if (!candidate.ok) {
    return "missingBase" in candidate ? errorResponse(400, `baseVersion: there is no version ${body.data.baseVersion}`, { param: "baseVersion" }) : candidate.response;
  }
  const draftName = loadedModels().find((m) => m.role === "draft")?.name ?? "<draft model>";
  const changes = diffConfigs(candidate.base.config, candidate.config);
  const reveal = mayReadWebhookUrls(auth.caller);
  return jsonResponse({
    config: reveal ? candidate.config : maskConfigWebhooks(candidate.config),
    changes: reveal ? changes : maskWebhookChanges(changes),
    vllm: vllmSpeculativeConfig(specPart(candidate.config), draftName),
  });
}
