import "server-only";
import { errorResponse } from "./http";

/*
 * The one authorization seam: every route handler that reads or changes state calls authorize() with
 * the action it performs. Today it knows one rule: when SPECLENS_API_KEYS (comma-separated) is set,
 * every action needs `Authorization: Bearer <one of those keys>`; otherwise everything is allowed.
 * Per-action roles can be added here without touching the routes.
 */

export type Action = "generate" | "traces:read" | "traces:ingest" | "metrics:read" | "config:read" | "config:write";

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
