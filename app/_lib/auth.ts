import "server-only";
import { errorResponse } from "./http";

/*
 * The one authorization seam: every route handler that reads or changes state calls authorize() with
 * the action it performs. Today it knows one rule: when SPECLENS_API_KEYS (comma-separated) is set,
 * every action needs `Authorization: Bearer <one of those keys>`; otherwise everything is allowed.
 * Per-action roles can be added here without touching the routes.
 */

/**
 * Every action a route can perform. Roles (viewer < editor < admin, plus an ingest scope) are mapped to
 * these in one policy table once roles exist; a new route picks the action it performs from this list.
 */
export type Action =
  | "traces:read" // trace list, detail, attribution, raw spans
  | "traces:ingest" // OTLP receiver
  | "metrics:read" // /metrics, metrics time series, home page figures
  | "config:read" // guardrail versions, labels, diff, audit log
  | "config:write" // create a guardrail config version
  | "config:label" // move a label that is not protected
  | "config:label-protected" // move a protected label (production)
  | "generate" // spend compute: /v1/*, /api/generate
  | "replay" // spend compute: replay one trace or a batch
  | "alerts:read"
  | "alerts:ack"
  | "settings:write" // retention, webhooks
  | "users:admin" // users and API keys

export type AuthResult = { ok: true } | { ok: false; response: Response };

function configuredKeys(): string[] {
  return (process.env.SPECLENS_API_KEYS ?? "").split(",").map((k) => k.trim()).filter((k) => k !== "");
}

export function authorize(request: Request, action: Action): AuthResult {
  const keys = configuredKeys();
  if (keys.length === 0) return { ok: true };
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (match && keys.includes(match[1].trim())) return { ok: true };
  const message = match ? `${action}: the API key is not valid` : `${action} requires an API key: send "Authorization: Bearer <key>"`;
  return {
    ok: false,
    response: errorResponse(401, message, { code: "invalid_api_key", headers: { "www-authenticate": 'Bearer realm="speclens"' } }),
  };
}
