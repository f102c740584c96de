/**
 * `npm run traffic`: watch a drift alert fire and resolve against a running SpecLens server.
 *   npm run traffic -- [--url http://127.0.0.1:3000] [--in 90] [--out 100] [--back 100] [--concurrency 1]
 * Sends held-out in-domain prompts (models/eval/heldout.jsonl: text like the pair was trained on), then
 * out-of-domain ones (source code, JSON, lists of numbers), then in-domain again, all through
 * POST /v1/completions (temperature 1, 32-48 new tokens, the server's production config), and reports
 * each alert transition as the server records it (GET /api/alerts). SPECLENS_API_KEY is sent as a
 * bearer token when set. On a fresh database the first 60 requests of the series are its baseline.
 */
import { parseArgs } from "node:util";
import { inDomainPrompts, outOfDomainPrompts } from "./prompts";

interface ApiAlert { id: number; rule: string; state: string; value: number | null; baseline: number | null; threshold: number | null; firedAt: string | null; resolvedAt: string | null; traceIds: string[] }

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.SPECLENS_URL ?? "http://127.0.0.1:3000" },
      in: { type: "string", default: "90" },
      out: { type: "string", default: "100" },
      back: { type: "string", default: "100" },
      concurrency: { type: "string", default: "1" },
      seed: { type: "string", default: "5" },
    },
  });
  const base = values.url!.replace(/\/$/, "");
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (process.env.SPECLENS_API_KEY) headers.authorization = `Bearer ${process.env.SPECLENS_API_KEY}`;
  // Say which server and database this traffic lands in before sending any (alerts are per database).
  const health = (await (await fetch(`${base}/api/health`, { headers })).json()) as { database?: { path?: string } };
  console.log(`server ${base}, database ${health.database?.path ?? "unknown"}`);
  const models = (await (await fetch(`${base}/v1/models`, { headers })).json()) as { data?: { id: string }[] };
  const model = models.data?.[0]?.id;
  if (!model) throw new Error(`no model served at ${base}/v1/models`);
  const seed = Number(values.seed);

  const phases = [
    { name: "in-domain (baseline, then normal traffic)", prompts: inDomainPrompts(Number(values.in), seed) },
    { name: "out-of-domain (code, JSON, numbers)", prompts: outOfDomainPrompts(Number(values.out), seed + 1).map((p) => p.prompt) },
    { name: "in-domain again", prompts: inDomainPrompts(Number(values.back), seed + 2) },
  ];

  const seen = new Map<number, string>();
  const started = Date.now();
  let sent = 0;
  async function watchAlerts(phase: string, inPhase: number): Promise<void> {
    const response = await fetch(`${base}/api/alerts?state=all`, { headers });
    if (!response.ok) return;
    const { alerts } = (await response.json()) as { alerts: ApiAlert[] };
    for (const a of alerts) {
      if (seen.get(a.id) === a.state) continue;
      seen.set(a.id, a.state);
      const figures = `value ${a.value?.toFixed(3)} vs baseline ${a.baseline?.toFixed(3) ?? "-"}, threshold ${a.threshold?.toFixed(3)}`;
      console.log(`  >> alert #${a.id} ${a.rule} is ${a.state.toUpperCase()} (${figures}) after ${inPhase} requests of the ${phase} phase; ${base}/alerts#alert-${a.id}`);
    }
  }

  for (const phase of phases) {
    console.log(`phase: ${phase.name}, ${phase.prompts.length} requests`);
    let next = 0;
    let done = 0;
    let accepted = 0;
    let drafted = 0;
    const worker = async () => {
      while (next < phase.prompts.length) {
        const i = next++;
        const response = await fetch(`${base}/v1/completions`, {
          method: "POST", headers,
          body: JSON.stringify({ model, prompt: phase.prompts[i], max_tokens: 32 + ((sent + i) % 17), min_tokens: 32, temperature: 1, seed: seed * 100_000 + sent + i }),
        });
        const body = (await response.json()) as { speclens?: { accepted?: number; drafted?: number }; error?: { message: string } };
        if (!response.ok) throw new Error(`POST /v1/completions: HTTP ${response.status}: ${body.error?.message}`);
        accepted += body.speclens?.accepted ?? 0;
        drafted += body.speclens?.drafted ?? 0;
        done += 1;
        // The server evaluates shortly after each request; look a moment later.
        await new Promise((resolve) => setTimeout(resolve, 700));
        await watchAlerts(phase.name.split(" (")[0], done);
        if (done % 10 === 0) {
          const rate = drafted > 0 ? ` (acceptance so far ${(accepted / drafted).toFixed(3)})` : "";
          console.log(`  ${done}/${phase.prompts.length} sent, ${Math.round((Date.now() - started) / 1000)} s${rate}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
    sent += phase.prompts.length;
  }
  console.log(`done: ${sent} requests in ${Math.round((Date.now() - started) / 1000)} s. Open ${base}/alerts to see why each alert fired and acknowledge it.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
