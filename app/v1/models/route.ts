import { jsonResponse } from "@/app/_lib/http";
import { servedModel } from "@/app/_lib/openai/models";
import { withEngine } from "@/app/_lib/openai/serve";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /v1/models: the model this server answers to (the target; the draft is listed under `speclens`). */
export function GET(request: Request): Promise<Response> {
  return withEngine(request, (engine) => jsonResponse({ object: "list", data: [servedModel(engine)] }));
}
