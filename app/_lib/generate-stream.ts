import "server-only";
import { generationResponse } from "./generate";
import { generationErrorResponse } from "./serving/errors";
import { sseResponse } from "./http";
import type { GenerationHandle } from "./serving/generation";

/*
 * POST /api/generate with "stream": true: server-sent events, one `step` event per speculative step
 * as the verifier accepts its tokens, so a client can colour tokens by origin as they arrive.
 *   event: start  {trace_id, config_version, prompt_tokens}
 *   event: step   {step, k, drafted, accepted, tokens: [{id, text, origin, prob, step}]}
 *   event: done   the non-streaming response body (text, summary, every token, timings)
 *   event: error  {error: {message, type, param, code}}   (then the stream ends)
 */
export function streamGeneration(handle: GenerationHandle, configVersion: number, cancel: AbortController, headers: Record<string, string> = {}): Response {
  // A client that goes away aborts `cancel`: the generation stops at its next step and is traced as cancelled.
  return sseResponse({ ...headers, "x-speclens-trace-id": handle.traceId }, cancel, async (write) => {
    const send = (event: string, data: unknown) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send("start", { trace_id: handle.traceId, config_version: configVersion, prompt_tokens: handle.promptTokens });
    try {
      for (;;) {
        const next = await handle.steps.next();
        if (next.done) {
          send("done", generationResponse({ traceId: handle.traceId, result: next.value }, configVersion));
          break;
        }
        const s = next.value;
        send("step", {
          step: s.index, k: s.k, drafted: s.paths[Math.max(s.verify.pathIndex, 0)]?.tokens.length ?? 0, accepted: s.verify.accepted,
          tokens: s.emitted.map((t) => ({ id: t.id, text: t.text, origin: t.origin, prob: t.prob, step: t.step })),
        });
      }
    } catch (error) {
      send("error", await generationErrorResponse(error).json());
    }
  });
}
