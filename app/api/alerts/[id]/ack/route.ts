import { z } from "zod";
import { notifyAlertEvent } from "@/app/_lib/alerts/scheduler";
import { authorize, callerIdentity } from "@/app/_lib/auth";
import { errorResponse, jsonResponse, readJsonBody } from "@/app/_lib/http";
import { getDatabase } from "@/db/client";
import { acknowledgeAlert } from "@/db/alerts/store";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const bodySchema = z.strictObject({
  note: z.string().trim().min(1, { error: "note: say why (what you checked or did)" }).max(2000, { error: "note: at most 2000 characters" }),
});

/** POST /api/alerts/{id}/ack { note }: acknowledges the alert as the authenticated caller; the note joins its history. */
export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const auth = authorize(request, "alerts:ack");
  if (!auth.ok) return auth.response;
  const { id } = await params;
  if (!/^\d+$/.test(id)) return errorResponse(400, `id: expected an alert number, got "${id}"`, { param: "id" });
  const read = await readJsonBody(request);
  if (!read.ok) return read.response;
  const parsed = bodySchema.safeParse(read.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join(".") || "body";
    return errorResponse(400, issue.message.startsWith(field) ? issue.message : `${field}: ${issue.message}`, { param: field });
  }
  const event = acknowledgeAlert(getDatabase().sqlite, Number(id), callerIdentity(auth), parsed.data.note);
  if (!event) return errorResponse(404, `alert ${id} does not exist`, { param: "id" });
  notifyAlertEvent(event);
  return jsonResponse({ alert: event.alert });
}
