import { authorize, callerIdentity } from "@/app/_lib/auth";
import { jsonResponse, readJsonBody } from "@/app/_lib/http";
import { settingsIssuesResponse, settingsJson, settingsPatchSchema } from "@/app/_lib/security/settings";
import { getDb } from "@/db/client";
import { effectiveSettings, updateSettings } from "@/db/queries/settings";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * GET /api/settings: the runtime settings (retention days, database size cap, global alert webhook),
 * each with its effective value, its source (saved | environment | default) and what applies without a
 * saved value. Admin only: the webhook URL can hold a secret.
 */
export function GET(request: Request): Response {
  const auth = authorize(request, "settings:read");
  if (!auth.ok) return auth.response;
  return jsonResponse({ settings: settingsJson(effectiveSettings(getDb())) });
}

/**
 * PATCH /api/settings `{ retentionDays?, maxDbMb?, alertWebhook? }`: a value saves it, null resets it
 * to the environment default. A bad field is a 400 naming it (nothing written); a change is audited
 * (config_audit, action settings.update, webhook URLs masked) and applies without a restart.
 */
export async function PATCH(request: Request): Promise<Response> {
  const auth = authorize(request, "settings:write");
  if (!auth.ok) return auth.response;
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const parsed = settingsPatchSchema.safeParse(read.body);
  if (!parsed.success) return settingsIssuesResponse(parsed.error);
  const db = getDb();
  const { changed } = updateSettings(db, parsed.data, callerIdentity(auth));
  return jsonResponse({ settings: settingsJson(effectiveSettings(db)), changed });
}
