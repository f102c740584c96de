import { authorize, callerIdentity } from "@/app/_lib/auth";
import { moveBodySchema } from "@/app/_lib/guardrails/api";
import { errorResponse, jsonResponse, parseJsonBody } from "@/app/_lib/http";
import { getDb } from "@/db/client";
import { LABEL_PATTERN, moveConfigLabel, protectedLabels } from "@/db/queries/configs";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * PUT /api/guardrails/labels/{label} `{ version, expectedVersion?, confirm?, message? }`: create the
 * label or move it; rolling back is moving it back. A protected label (production) needs the
 * protected-label permission and `confirm` equal to its name; a stale expectedVersion is a 409.
 */
export async function PUT(request: Request, { params }: { params: Promise<{ label: string }> }): Promise<Response> {
  const label = decodeURIComponent((await params).label);
  const isProtected = protectedLabels().includes(label);
  const auth = authorize(request, isProtected ? "config:label-protected" : "config:label");
  if (!auth.ok) return auth.response;
  if (!LABEL_PATTERN.test(label)) {
    return errorResponse(400, `label: ${JSON.stringify(label)} is not a label name (letters, digits, . _ -, up to 64, not a version number)`, { param: "label" });
  }
  const body = await parseJsonBody(request, moveBodySchema);
  if (!body.ok) return body.response;
  if (isProtected && body.data.confirm !== label) {
    return errorResponse(400, `confirm: ${label} is a protected label: send confirm: ${JSON.stringify(label)} to move it`, { param: "confirm", code: "confirmation_required" });
  }
  const moved = moveConfigLabel(getDb(), { label, version: body.data.version, actor: callerIdentity(auth), expectedVersion: body.data.expectedVersion, message: body.data.message });
  switch (moved.kind) {
    case "moved":
      return jsonResponse({ label, version: moved.to, previousVersion: moved.from });
    case "unchanged":
      return jsonResponse({ label, version: moved.to, previousVersion: moved.to });
    case "no-version":
      return errorResponse(404, moved.message, { param: "version" });
    case "stale":
      return jsonResponse(
        {
          error: {
            message: `expectedVersion: the label ${label} points at version ${moved.currentVersion} now, not ${moved.expectedVersion} (moved by ${moved.changedBy} at ${new Date(moved.changedAtMs).toISOString()})`,
            type: "conflict_error", param: "expectedVersion", code: "stale_label",
          },
          currentVersion: moved.currentVersion,
        },
        { status: 409 },
      );
  }
}
