import { postJson } from "@/app/_lib/alerts/webhooks";
import { authorize, callerIdentity } from "@/app/_lib/auth";
import { errorResponse, jsonResponse } from "@/app/_lib/http";
import { getDb } from "@/db/client";
import { effectiveSettings, maskUrl } from "@/db/queries/settings";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const TIMEOUT_MS = 5000;

/**
 * POST /api/settings/webhook-test (no body): posts one Slack-compatible `{ text }` message to the
 * effective global alert webhook, once (no retry, 5 s timeout), and reports what came back:
 * `{ ok, status, error, durationMs, url }` (url masked to scheme and host). 409 when no global
 * webhook is set. Nothing is written: the delivery log is for alert notifications.
 */
export async function POST(request: Request): Promise<Response> {
  const auth = authorize(request, "settings:write");
  if (!auth.ok) return auth.response;
  const url = effectiveSettings(getDb()).alertWebhook.value;
  if (!url) {
    return errorResponse(409, "alertWebhook: no global alert webhook is set (save one, or set SPECLENS_ALERT_WEBHOOK)", {
      type: "conflict_error", param: "alertWebhook", code: "no_webhook",
    });
  }
  const base = process.env.SPECLENS_PUBLIC_URL ?? "";
  const text = `[SpecLens] Test notification sent by ${callerIdentity(auth)} from ${base}/settings: SpecLens alert notifications will arrive here.`;
  const started = performance.now();
  const result = await postJson(url, JSON.stringify({ text, event: "test" }), TIMEOUT_MS);
  return jsonResponse({ ...result, durationMs: Math.round(performance.now() - started), url: maskUrl(url) });
}
