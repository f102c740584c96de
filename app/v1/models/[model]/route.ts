import { errorResponse, jsonResponse } from "@/app/_lib/http";
import { servedModel } from "@/app/_lib/openai/models";
import { servedModelNames } from "@/app/_lib/openai/prepare";
import { withEngine } from "@/app/_lib/openai/serve";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /v1/models/{model}: one model, by name or model_id; 404 in OpenAI's shape otherwise. */
export async function GET(request: Request, { params }: { params: Promise<{ model: string }> }): Promise<Response> {
  const { model } = await params;
  const name = decodeURIComponent(model);
  return withEngine(request, (engine) =>
    servedModelNames(engine).includes(name)
      ? jsonResponse(servedModel(engine))
      : errorResponse(404, `model: the model \`${name}\` does not exist`, { param: "model", code: "model_not_found" }),
  );
}
