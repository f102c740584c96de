import { POST as generateRoute } from "@/app/api/generate/route";
import { GET as attributionRoute } from "@/app/api/traces/[traceId]/attribution/route";
import { POST as replayRoute } from "@/app/api/traces/[traceId]/replay/route";
import { GET as replaysRoute } from "@/app/api/traces/[traceId]/replays/route";
import type { AttributionAnswer } from "@/app/_lib/replay/attribution";
import type { ReplayAnswer } from "@/app/_lib/replay/run";
import type { ReplayListItem } from "@/db/queries/replays";

/*
 * The replay routes called in-process on the real engine (the shipped pair) with a real tracer
 * provider and SQLite processor (tests/support/engine-app.ts starts them).
 */

/** A success body, or the error shape on a 4xx (tests assert the status first). */
type Answer<T> = T & { error: { message: string; param: string | null } };

const json = (body: unknown) => ({ method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const ctx = (traceId: string) => ({ params: Promise.resolve({ traceId }) });

export async function generate(body: Record<string, unknown>): Promise<{ trace_id: string; text: string; tokens: { id: number; origin: string }[] }> {
  const response = await generateRoute(new Request("http://localhost/api/generate", json(body)));
  if (response.status !== 200) throw new Error(`generate ${response.status}: ${await response.text()}`);
  return response.json();
}

export async function replay(traceId: string, body: unknown): Promise<{ status: number; body: Answer<ReplayAnswer> }> {
  const response = await replayRoute(new Request(`http://localhost/api/traces/${traceId}/replay`, json(body)), ctx(traceId));
  return { status: response.status, body: await response.json() };
}

export async function replays(traceId: string): Promise<{ replayOf: string | null; replayMode: string | null; replays: ReplayListItem[] }> {
  return (await replaysRoute(new Request(`http://localhost/api/traces/${traceId}/replays`), ctx(traceId))).json();
}

export async function attribution(traceId: string, query = ""): Promise<{ status: number; body: Answer<AttributionAnswer> }> {
  const response = await attributionRoute(new Request(`http://localhost/api/traces/${traceId}/attribution${query}`), ctx(traceId));
  return { status: response.status, body: await response.json() };
}
