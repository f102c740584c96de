/**
 * Records real traffic from the shipped pair for `npm run bench:alerts` and the evaluator tests:
 *   nice -n 19 npx tsx tools/alerts/record.ts [--in 300] [--out 120] [--file tests/fixtures/alert-traffic.json]
 * Each request runs through the engine exactly as /v1/completions runs it (draft-model proposer, the
 * default config, temperature 1, a fresh seed per request, 32-48 new tokens) and is kept as its
 * request-level signals (tools/alerts/signals.ts), not its text: the file stays small.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { SpecEngine } from "../../engine";
import { inDomainPrompts, outOfDomainPrompts } from "./prompts";
import { signalsOfSteps, type RequestSignals } from "./signals";

export interface RecordedRequest extends RequestSignals {
  domain: "in" | "out";
  kind: string;
  outputTokens: number;
}

export interface Recording {
  recordedAt: string;
  models: { target: string; draft: string | null };
  params: { temperature: number; maxTokens: [number, number]; proposer: string; kMax: number };
  requests: RecordedRequest[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      in: { type: "string", default: "300" },
      out: { type: "string", default: "120" },
      file: { type: "string", default: "tests/fixtures/alert-traffic.json" },
      threads: { type: "string", default: "1" },
    },
  });
  const engine = await SpecEngine.load({ threads: Number(values.threads) });
  const jobs = [
    ...inDomainPrompts(Number(values.in), 11).map((prompt) => ({ domain: "in" as const, kind: "heldout", prompt })),
    ...outOfDomainPrompts(Number(values.out), 12).map(({ kind, prompt }) => ({ domain: "out" as const, kind, prompt })),
  ];
  const ids = engine.modelIds;
  const recording: Recording = {
    recordedAt: new Date().toISOString(),
    models: { target: `${ids.target.name}@sha256:${ids.target.sha256.slice(0, 12)}`, draft: ids.draft ? `${ids.draft.name}@sha256:${ids.draft.sha256.slice(0, 12)}` : null },
    params: { temperature: 1, maxTokens: [32, 48], proposer: "draft-model", kMax: 4 },
    requests: [],
  };
  const started = performance.now();
  for (const [i, job] of jobs.entries()) {
    const result = await engine.generate(job.prompt, { temperature: 1, seed: 1000 + i, maxTokens: 32 + (i % 17), minTokens: 32 }, {});
    recording.requests.push({ domain: job.domain, kind: job.kind, outputTokens: result.tokens.length, ...signalsOfSteps(result.steps) });
    if ((i + 1) % 20 === 0) {
      const done = recording.requests.filter((r) => r.domain === job.domain);
      const rate = done.reduce((n, r) => n + r.accepted, 0) / Math.max(1, done.reduce((n, r) => n + r.drafted, 0));
      console.log(`${i + 1}/${jobs.length} (${((performance.now() - started) / 1000).toFixed(0)} s) ${job.domain}-domain acceptance so far ${rate.toFixed(3)}`);
      writeFileSync(values.file!, JSON.stringify(recording));
    }
  }
  writeFileSync(values.file!, JSON.stringify(recording));
  await engine.dispose();
  console.log(`wrote ${recording.requests.length} requests to ${values.file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
