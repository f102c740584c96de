import { describe, expect, it } from "vitest";
import { DEFAULT_PARAMS, DEFAULT_SPEC_CONFIG, type GenerateParams, type SpecConfig, type SpecConfigInput } from "@/engine";
import { generateSteps, type EngineModels } from "@/engine/generate";
import { processedProbs } from "@/engine/sampling";
import { scriptedModel, scriptedModels, type LogitsScript } from "../support/scripted";

/*
 * Lossless speculative sampling, end to end through the real loop (proposers, verification, cache
 * rollback, emission, min_tokens), on scripted models: the target is a second-order Markov chain
 * (its logits depend on the last two tokens), the draft a different first-order one. The exact
 * marginal distribution of the token at every output position is computed from the target alone
 * (with the same temperature/top-p/ban processing); N seeded runs of each speculative config must
 * match it at every position, bonus and recovered tokens included, within TOLERANCE.
 *
 * N = 20,000: the standard error of a frequency is at most 0.0035. Every cell (position x token)
 * must be within Z_LIMIT = 5 of its own standard error (a false alarm about once in 10^4 runs of
 * the ~120 cells per case) and within 0.015 absolute; a bias of 0.02 is over 5.7 standard errors
 * wherever it lands, so it is caught. Mutations checked: see docs/step-records.md.
 */

const V = 6;
const EOS = 0;
const POSITIONS = 4;
const N = Number(process.env.SPECLENS_E2E_TRIALS) || 20_000;
const TOLERANCE = 0.015;
/** Each cell is also held to its own standard error: rarer tokens have much tighter bounds. */
const Z_LIMIT = 5;
const PROMPT = [1, 2, 3, 1, 2, 3, 1, 2];

/** A fixed pseudo-random table, reproducible across runs. */
function table(seed: number, rows: number): number[][] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  return Array.from({ length: rows }, () => Array.from({ length: V }, () => 2.2 * next()));
}

const TARGET_TABLE = table(7, V * V);
const DRAFT_TABLE = table(11, V);

/** Target logits after (a, b); eosBias raises EOS (for the min_tokens case). */
const targetLogits = (eosBias: number) => (a: number, b: number): number[] => {
  const row = [...TARGET_TABLE[a * V + b]];
  row[EOS] += eosBias - 1.5;
  return row;
};
// The draft: the target's row averaged over the older token, plus its own noise: close but not equal.
const draftLogits = (eosBias: number) => (b: number): number[] =>
  Array.from({ length: V }, (_, x) => {
    let mean = 0;
    for (let a = 0; a < V; a++) mean += targetLogits(eosBias)(a, b)[x] / V;
    return mean + 1.5 * (DRAFT_TABLE[b][x] - 1.1);
  });

function models(eosBias: number): EngineModels {
  const t = targetLogits(eosBias);
  const d = draftLogits(eosBias);
  const target: LogitsScript = (c) => t(c[c.length - 2] ?? 0, c[c.length - 1]);
  const draft: LogitsScript = (c) => d(c[c.length - 1]);
  return scriptedModels(scriptedModel(V, target, "target"), scriptedModel(V, draft, "draft"), EOS);
}

/** The exact marginal of the token at each position; after EOS the output has ended ("EOS" from then on). */
function exactMarginals(params: GenerateParams, eosBias: number): number[][] {
  const t = targetLogits(eosBias);
  const END = "end";
  let state = new Map<string, number>([[`${PROMPT.at(-2)},${PROMPT.at(-1)}`, 1]]);
  const out: number[][] = [];
  const add = (m: Map<string, number>, key: string, mass: number) => m.set(key, (m.get(key) ?? 0) + mass);
  for (let pos = 0; pos < POSITIONS; pos++) {
    const marginal = new Array(V).fill(0);
    const next = new Map<string, number>();
    for (const [key, mass] of state) {
      if (key === END) {
        marginal[EOS] += mass;
        add(next, END, mass);
        continue;
      }
      const [a, b] = key.split(",").map(Number);
      const p = processedProbs(Float32Array.from(t(a, b)), 0, V, params, pos < params.minTokens ? [EOS] : []);
      for (let x = 0; x < V; x++) {
        marginal[x] += mass * p[x];
        add(next, x === EOS ? END : `${b},${x}`, mass * p[x]);
      }
    }
    out.push(marginal);
    state = next;
  }
  return out;
}

async function empiricalMarginals(config: SpecConfig, params: GenerateParams, eosBias: number): Promise<number[][]> {
  const m = models(eosBias);
  const counts = Array.from({ length: POSITIONS }, () => new Array(V).fill(0));
  for (let seed = 0; seed < N; seed++) {
    const it = generateSteps(m, PROMPT, { ...params, seed }, config);
    let result;
    for (;;) {
      const next = await it.next();
      if (next.done) { result = next.value; break; }
    }
    const ids = result.tokens.map((t) => t.id);
    for (let pos = 0; pos < POSITIONS; pos++) counts[pos][pos < ids.length ? ids[pos] : EOS]++;
  }
  return counts.map((row) => row.map((c) => c / N));
}

const sampling = (overrides: Partial<GenerateParams> = {}): GenerateParams => ({
  ...DEFAULT_PARAMS, temperature: 1, maxTokens: POSITIONS, ...overrides,
});
const config = (input: SpecConfigInput): SpecConfig => ({ ...DEFAULT_SPEC_CONFIG, ...input } as SpecConfig);

const CASES: { name: string; config: SpecConfig; params: GenerateParams; eosBias: number }[] = [
  { name: "draft-model k=3 (accepted, recovered, bonus)", config: config({ proposer: "draft-model", kMax: 3 }), params: sampling(), eosBias: 0 },
  { name: "draft-model k=2 at temperature 0.8, top-p 0.8", config: config({ proposer: "draft-model", kMax: 2 }), params: sampling({ temperature: 0.8, topP: 0.8 }), eosBias: 0 },
  { name: "n-gram point masses", config: config({ proposer: "ngram", kMax: 3, ngram: { minN: 1, maxN: 2 } }), params: sampling(), eosBias: 0 },
  { name: "tree forking at every step (sampled main path + point-mass siblings)", config: config({ proposer: "tree", kMax: 3, tree: { width: 3, depth: 3, branchMinProb: 0 } }), params: sampling(), eosBias: 0 },
  { name: "min_tokens 2 with a likely EOS, draft-model k=3", config: config({ proposer: "draft-model", kMax: 3 }), params: sampling({ minTokens: 2 }), eosBias: 3 },
];

describe("lossless speculative sampling through the real loop", () => {
  for (const c of CASES) {
    it(`${c.name}: every position's token distribution is the target's`, async () => {
      const exact = exactMarginals(c.params, c.eosBias);
      const seen = await empiricalMarginals(c.config, c.params, c.eosBias);
      let worst = { diff: 0, z: 0, pos: -1, token: -1 };
      for (let pos = 0; pos < POSITIONS; pos++) {
        expect(exact[pos].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        for (let x = 0; x < V; x++) {
          const diff = Math.abs(seen[pos][x] - exact[pos][x]);
          const z = diff / Math.sqrt(Math.max(exact[pos][x] * (1 - exact[pos][x]), 1e-6) / N);
          if (z > worst.z) worst = { diff, z, pos, token: x };
        }
      }
      const where = `largest deviation ${worst.diff.toFixed(4)} (${worst.z.toFixed(1)} standard errors) at position ${worst.pos}, token ${worst.token}`;
      expect(worst.z, where).toBeLessThan(Z_LIMIT);
      expect(worst.diff, where).toBeLessThan(TOLERANCE);
    }, 600_000);
  }
});
