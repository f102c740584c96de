import { completionsDialect } from "@/app/_lib/openai/format";
import { prepareCompletion } from "@/app/_lib/openai/prepare";
import { completionBodySchema } from "@/app/_lib/openai/schema";
import { handleOpenAI } from "@/app/_lib/openai/serve";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** POST /v1/completions: OpenAI's completions API on the embedded engine, streaming or not. */
export function POST(request: Request): Promise<Response> {
  return handleOpenAI(request, { schema: completionBodySchema, prepare: prepareCompletion, dialect: completionsDialect });
}
