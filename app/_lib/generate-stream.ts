import "server-only";
import { generationResponse } from "./generate";
import { generationErrorResponse } from "./serving/errors";
import { SSE_HEADERS } from "./http";
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
  const encoder = new TextEncoder();
  let open = true;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (event: string, data: unknown) => {
        if (open) controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      };
      send("start", { trace_id: handle.traceId, config_version: configVersion, prompt_tokens: handle.promptTokens });
      void (async () => {
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
        if (open) controller.close();
        open = false;
      })();
    },
    cancel() {
      // The client went away: the generation stops at its next step and is traced as cancelled.
      open = false;
      cancel.abort();
    },
  });
  return new Response(body, {
    headers: { ...headers, ...SSE_HEADERS, "x-speclens-trace-id": handle.traceId },
  });
}
