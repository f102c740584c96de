import { authorize } from "@/app/_lib/auth";
import { versionJson } from "@/app/_lib/guardrails/api";
import { errorResponse, jsonResponse } from "@/app/_lib/http";
import { getDb } from "@/db/client";
import { getConfigVersion, selectorVersion } from "@/db/queries/configs";
import { NO_FIGURES, versionFigures } from "@/db/queries/config-figures";
import { maskConfigWebhooks, mayReadWebhookUrls } from "@/app/_lib/guardrails/webhook-visibility";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /api/guardrails/{version} (3 or v3): the version, its labels and its figures. */
export async function GET(request: Request, { params }: { params: Promise<{ version: string }> }): Promise<Response> {
  const auth = authorize(request, "config:read");
  if (!auth.ok) return auth.response;
  const raw = (await params).version;
  const version = selectorVersion(raw);
  if (version === null || version < 1) return errorResponse(400, `version: expected a version number such as 3 or v3, got ${JSON.stringify(raw)}`, { param: "version" });
  const db = getDb();
  const info = getConfigVersion(db, version);
  if (!info) return errorResponse(404, `version: there is no version ${version}`, { param: "version" });
  const figures = versionFigures(db, version).get(version) ?? NO_FIGURES;
  return jsonResponse(versionJson(mayReadWebhookUrls(auth.caller) ? info : { ...info, config: maskConfigWebhooks(info.config) }, figures));
}
