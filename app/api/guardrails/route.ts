import { authorize, callerIdentity, requireAlso } from "@/app/_lib/auth";
import { candidateConfig, changedWebhookFields, createBodySchema, versionJson } from "@/app/_lib/guardrails/api";
import { errorResponse, jsonResponse, parseJsonBody } from "@/app/_lib/http";
import { getDb } from "@/db/client";
import { getConfigVersion, listConfigLabels, listConfigVersions, protectedLabels, saveConfigVersion } from "@/db/queries/configs";
import { NO_FIGURES, versionFigures } from "@/db/queries/config-figures";
import { maskConfigWebhooks, maskWebhookChanges, mayReadWebhookUrls } from "@/app/_lib/guardrails/webhook-visibility";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /api/guardrails: every version (newest first) with its labels and figures, and the label map. */
export async function GET(request: Request): Promise<Response> {
  const auth = authorize(request, "config:read");
  if (!auth.ok) return auth.response;
  const db = getDb();
  const figures = versionFigures(db);
  const reveal = mayReadWebhookUrls(auth.caller);
  return jsonResponse({
    versions: listConfigVersions(db).map((v) => versionJson(reveal ? v : { ...v, config: maskConfigWebhooks(v.config) }, figures.get(v.version) ?? NO_FIGURES)),
    labels: Object.fromEntries(listConfigLabels(db).map((l) => [l.label, l.version])),
    protectedLabels: protectedLabels(),
  });
}

/**
 * POST /api/guardrails `{ config, message, baseVersion, baseLabel? }` -> 201 `{ version }`. A bad
 * config is a 400 naming every field (nothing stored); a stale base a 409 saying what changed; a
 * webhook URL added or changed by a caller without settings:write (an editor) a 403 naming the field.
 */
export async function POST(request: Request): Promise<Response> {
  const auth = authorize(request, "config:write");
  if (!auth.ok) return auth.response;
  const body = await parseJsonBody(request, createBodySchema);
  if (!body.ok) return body.response;
  const db = getDb();
  const candidate = candidateConfig(db, body.data.baseVersion, body.data.config);
  if (!candidate.ok) {
    return "missingBase" in candidate ? errorResponse(400, `baseVersion: there is no version ${body.data.baseVersion}`, { param: "baseVersion" }) : candidate.response;
  }
  const webhooks = changedWebhookFields(candidate.base.config, candidate.config);
  if (webhooks.length > 0) {
    const refused = requireAlso(auth.caller, "settings:write", "add or change a webhook URL", webhooks);
    if (refused) return refused;
  }
  const saved = saveConfigVersion(db, {
    config: candidate.config, message: body.data.message, author: callerIdentity(auth), baseVersion: body.data.baseVersion, baseLabel: body.data.baseLabel ?? null,
  });
  switch (saved.kind) {
    case "created": {
      const created = getConfigVersion(db, saved.version)!;
      const shown = mayReadWebhookUrls(auth.caller) ? created : { ...created, config: maskConfigWebhooks(created.config) };
      return jsonResponse(versionJson(shown), { status: 201, headers: { location: `/api/guardrails/${saved.version}` } });
    }
    case "no-base":
      return errorResponse(400, saved.message, { param: saved.param });
    case "stale": {
      const s = saved.stale;
      const what = s.reason === "label-moved"
        ? `the label ${s.label} moved from version ${s.baseVersion} to ${s.currentVersion} (by ${s.changedBy} at ${new Date(s.changedAtMs).toISOString()})`
        : `version ${s.currentVersion} was already built on version ${s.baseVersion} (by ${s.changedBy} at ${new Date(s.changedAtMs).toISOString()})`;
      const changed = s.changes.map((c) => c.path).join(", ") || "nothing in the config";
      return jsonResponse(
        {
          error: { message: `baseVersion: stale base: ${what}; changed since: ${changed}. Reload version ${s.currentVersion} and re-apply your edit.`, type: "conflict_error", param: "baseVersion", code: "stale_base" },
          stale: { ...s, changes: mayReadWebhookUrls(auth.caller) ? s.changes : maskWebhookChanges(s.changes), changedAt: new Date(s.changedAtMs).toISOString() },
        },
        { status: 409 },
      );
    }
  }
}
