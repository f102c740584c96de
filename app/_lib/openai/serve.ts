import "server-only";
import type { z } from "zod";
import type { SpecEngine } from "@/engine";
import { authorize } from "../auth";
import { getEngine } from "../engine";
import { jsonResponse, parseJsonBody, sseResponse } from "../http";
import { PhaseTimer } from "../server-timing";
import { generationErrorResponse } from "../serving/errors";
import { startGeneration, type GenerationHandle } from "../serving/generation";
import { openaiFinishReason, speclensSummary, usage, type Dialect } from "./format";
import type { Prepared, PreparedRequest } from "./prepare";

/*
 * One handler for both OpenAI endpoints: authorize, validate, prepare, start the generation (so its
 * trace id is known), then answer in full or as server-sent events. A client that goes away (request
 * aborted, or the event stream cancelled) aborts the generation: it stops at the next step and its
 * trace ends as cancelled; the stream is still drained so that the trace is complete.
 *
 * Every answer carries a Server-Timing header (server-timing.ts): auth, parse (body and schema), prepare
 * (config and guardrails), start (tokenizing, admission, the trace's start), and for a complete reply
 * queue, generate, trace and total. A stream's headers leave before the generation: the first four.
 */

export interface OpenAIEndpoint<T extends z.ZodType> {
  schema: T;
  prepare(engine: SpecEngine, body: z.infer<T>, signal: AbortSignal): Prepared;
  dialect: Dialect;
}

export async function handleOpenAI<T extends z.ZodType>(request: Request, endpoint: OpenAIEndpoint<T>): Promise<Response> {
  const timing = new PhaseTimer();
  const auth = authorize(request, "generate");
  if (!auth.ok) return auth.response;
  timing.mark("auth");
  const parsed = await parseJsonBody(request, endpoint.schema);
  if (!parsed.ok) return parsed.response;
  timing.mark("parse");

  const cancel = new AbortController();
  request.signal.addEventListener("abort", () => cancel.abort(), { once: true });
  let prepared: Prepared;
  let engine: SpecEngine;
  try {
    engine = await getEngine();
    prepared = endpoint.prepare(engine, parsed.data, cancel.signal);
  } catch (error) {
    return generationErrorResponse(error);
  }
  if (!prepared.ok) return prepared.response;
  const req = prepared.request;
  timing.mark("prepare");

  let handle: GenerationHandle;
  try {
    handle = await startGeneration(req.generation);
  } catch (error) {
    return generationErrorResponse(error, req.paramNames);
  }
  timing.mark("start");
  const reply = {
    id: endpoint.dialect.idPrefix + handle.traceId,
    created: Math.floor(Date.now() / 1000),
    headers: { "x-speclens-trace-id": handle.traceId, "x-speclens-trace-url": `/traces/${handle.traceId}` },
  };
  return req.stream
    ? streamReply(endpoint.dialect, req, handle, { ...reply, headers: { ...reply.headers, "server-timing": timing.header() } }, cancel)
    : completeReply(endpoint.dialect, req, handle, reply, timing);
}

interface Reply {
  id: string;
  created: number;
  headers: Record<string, string>;
}

async function completeReply(dialect: Dialect, req: PreparedRequest, handle: GenerationHandle, reply: Reply, timing: PhaseTimer): Promise<Response> {
  let result;
  try {
    for (;;) {
      const next = await handle.steps.next();
      if (next.done) {
        result = next.value;
        break;
      }
    }
  } catch (error) {
    return generationErrorResponse(error, req.paramNames);
  }
  timing.finish(handle.timings, result);
  const echo = req.echo ?? "";
  const finish = openaiFinishReason(result.finishReason);
  return jsonResponse(
    {
      id: reply.id,
      object: dialect.object,
      created: reply.created,
      model: req.model,
      choices: [dialect.choice(echo + result.text, result.tokens, finish, req, echo.length, false)],
      usage: usage(handle.promptTokens, result.tokens.length),
      speclens: speclensSummary(handle.traceId, result, req),
    },
    { headers: { ...reply.headers, "server-timing": timing.header() } },
  );
}

function streamReply(dialect: Dialect, req: PreparedRequest, handle: GenerationHandle, reply: Reply, cancel: AbortController): Response {
  // A client that goes away aborts `cancel`: generation stops and the loop below drains the (now short) rest.
  return sseResponse(reply.headers, cancel, async (write) => {
    const data = (text: string) => write(`data: ${text}\n\n`);
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      data(JSON.stringify({ id: reply.id, object: dialect.chunkObject, created: reply.created, model: req.model, choices, ...extra }));
    // An SSE comment first: it puts the headers (and the trace id) on the wire at once, even while
    // the request still waits in the queue for a slot. Clients ignore comments.
    write(`: speclens trace ${handle.traceId}\n\n`);
    const opening = dialect.openingChoice();
    if (opening) chunk([opening]);
    let offset = 0;
    if (req.echo) {
      chunk([dialect.choice(req.echo, [], null, req, 0, true)]);
      offset = req.echo.length;
    }
    // The engine detokenizes incrementally (engine/detokenizer.ts): each step carries its text delta.
    let streamed = 0;
    try {
      for (;;) {
        const next = await handle.steps.next();
        if (next.done) {
          const result = next.value;
          // Only a request that ended between steps (abort, time budget) leaves text no step carried.
          const rest = result.text.slice(streamed);
          chunk([dialect.choice(rest, [], openaiFinishReason(result.finishReason), req, offset, true)], {
            speclens: speclensSummary(handle.traceId, result, req),
          });
          if (req.includeUsage) chunk([], { usage: usage(handle.promptTokens, result.tokens.length) });
          break;
        }
        const emitted = next.value.emitted;
        if (emitted.length === 0) continue;
        const delta = next.value.textDelta;
        streamed += delta.length;
        // Tokens whose text is held back still carry their logprobs now.
        if (delta === "" && req.logprobs === null) continue;
        chunk([dialect.choice(delta, emitted, null, req, offset, true)]);
        offset += delta.length;
      }
    } catch (error) {
      const response = generationErrorResponse(error, req.paramNames);
      data(await response.text());
    }
    data("[DONE]");
  });
}

/** For routes that only read (GET /v1/models): the same auth and error handling. */
export async function withEngine(request: Request, run: (engine: SpecEngine) => Response): Promise<Response> {
  const auth = authorize(request, "generate");
  if (!auth.ok) return auth.response;
  try {
    return run(await getEngine());
  } catch (error) {
    return generationErrorResponse(error);
  }
}
