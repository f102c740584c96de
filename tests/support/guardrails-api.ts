import { GET as auditRoute } from "@/app/api/audit/route";
import { GET as diffRoute } from "@/app/api/guardrails/diff/route";
import { PUT as labelRoute } from "@/app/api/guardrails/labels/[label]/route";
import { GET as listRoute, POST as createRoute } from "@/app/api/guardrails/route";
import { POST as validateRoute } from "@/app/api/guardrails/validate/route";
import { GET as versionRoute } from "@/app/api/guardrails/[version]/route";

/** The guardrail API's route handlers called in-process, as the server would call them. */
const json = (method: string, url: string, body?: unknown) =>
  new Request(`http://localhost${url}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "content-type": "application/json" } });

export const guardrailsApi = {
  list: () => listRoute(json("GET", "/api/guardrails")),
  get: (version: string) => versionRoute(json("GET", `/api/guardrails/${version}`), { params: Promise.resolve({ version }) }),
  create: (body: unknown) => createRoute(json("POST", "/api/guardrails", body)),
  validate: (body: unknown) => validateRoute(json("POST", "/api/guardrails/validate", body)),
  move: (label: string, body: unknown) => labelRoute(json("PUT", `/api/guardrails/labels/${label}`, body), { params: Promise.resolve({ label }) }),
  diff: (query: string) => diffRoute(json("GET", `/api/guardrails/diff?${query}`)),
  audit: (query = "") => auditRoute(json("GET", `/api/audit?${query}`)),
};
