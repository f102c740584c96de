import { chatDialect } from "@/app/_lib/openai/format";
import { prepareChat } from "@/app/_lib/openai/prepare";
import { chatBodySchema } from "@/app/_lib/openai/schema";
import { handleOpenAI } from "@/app/_lib/openai/serve";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** POST /v1/chat/completions: OpenAI's chat API; messages are rendered by the model's chat template. */
export function POST(request: Request): Promise<Response> {
  return handleOpenAI(request, { schema: chatBodySchema, prepare: prepareChat, dialect: chatDialect });
}
