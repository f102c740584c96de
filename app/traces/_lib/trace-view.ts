import type { ExaminedPosition, TraceDetail } from "@/db/queries/traces";

/*
 * The trace page's view model: one flat, JSON-safe record per output token and per step, with every
 * token id resolved to text. Built on the server from getTrace() so the client components receive
 * only what they draw (a 2,000-step trace stays a few hundred KB).
 */

export type TokenText = (id: number) => string;

export interface ViewCandidate {
  token: number;
  text: string;
  prob: number | null;
}

export interface ViewToken {
  index: number;
  id: number;
  text: string;
  origin: string;
  step: number;
  /** Position within its step's emitted tokens. */
  offset: number;
  /** The target's probability of this token (after temperature / top-k / top-p). */
  prob: number | null;
  logprob: number | null;
  /** The proposer's probability, for a token that was drafted (accepted or lossy-accepted). */
  draftProb: number | null;
  /** The verifier's record of this token as a draft (null for target-emitted tokens). */
  verdict: { outcome: string; targetProb: number | null; targetArgmax: boolean; acceptProb: number | null; uniform: number | null } | null;
  /** For a recovered token: the draft token the target rejected at this position. */
  replaced: (ViewCandidate & { targetProb: number | null }) | null;
  /** What the target alone would have emitted here, when the record has it. */
  targetChoice: ViewCandidate | null;
}

export interface ViewStep {
  index: number;
  /** ms since the request started. */
  startMs: number;
  durationMs: number;
  draftMs: number;
  verifyMs: number;
  overheadMs: number;
  k: number;
  accepted: number;
  drafted: number;
  pathIndex: number;
  paths: { tokens: ViewCandidate[]; outcomes: (string | null)[] }[];
  next: { text: string; origin: string | null; prob: number | null } | null;
  emitted: number;
  kvTarget: number | null;
  kvDraft: number | null;
  rolledBackTarget: number;
  rolledBackDraft: number | null;
}

export interface TraceView {
  tokens: ViewToken[];
  steps: ViewStep[];
  perPosition: number[];
  verifyMode: string | null;
  lossyThreshold: number | null;
}

type Extended = ExaminedPosition;

const NS_PER_MS = 1_000_000;

/** The text of token ids: the loaded tokenizer when it is the trace's model, else what the trace itself recorded. */
export function tokenTextFor(trace: TraceDetail, tokenizer: TokenText | null): TokenText {
  const seen = new Map<number, string>();
  for (const t of trace.tokens) seen.set(t.id, t.text);
  return (id) => seen.get(id) ?? (tokenizer ? tokenizer(id) : `#${id}`);
}

export function buildTraceView(trace: TraceDetail, text: TokenText): TraceView {
  const origin = trace.request?.startNs ?? trace.steps[0]?.startNs ?? 0n;
  const stepByIndex = new Map(trace.steps.map((s) => [s.index, s]));
  const steps: ViewStep[] = trace.steps.map((s) => {
    const positions = s.verification.positions as Extended[];
    return {
      index: s.index,
      startMs: Number(s.startNs - origin) / NS_PER_MS,
      durationMs: Number(s.endNs - s.startNs) / NS_PER_MS,
      draftMs: s.timings.draftMs ?? 0,
      verifyMs: s.timings.verifyMs ?? 0,
      overheadMs: s.timings.overheadMs ?? 0,
      k: s.k,
      accepted: s.verification.accepted,
      drafted: s.verification.drafted,
      pathIndex: s.verification.pathIndex,
      paths: s.proposals.map((p, pi) => ({
        tokens: p.tokens.map((token, d) => ({ token, text: text(token), prob: p.draftProbs[d] ?? null })),
        outcomes: p.tokens.map((_, d) => positions.find((x) => (x.path ?? 0) === pi && x.depth === d)?.outcome ?? null),
      })),
      next: s.verification.nextToken === null ? null : { text: text(s.verification.nextToken), origin: s.verification.nextOrigin, prob: s.verification.nextTokenProb },
      emitted: s.emitted,
      kvTarget: s.rollback.target.lengthAfter,
      kvDraft: s.rollback.draft?.lengthAfter ?? null,
      rolledBackTarget: s.rollback.target.dropped ?? 0,
      rolledBackDraft: s.rollback.draft?.dropped ?? null,
    };
  });

  let offset = 0;
  let lastStep = -1;
  const tokens: ViewToken[] = trace.tokens.map((t, index) => {
    offset = t.step === lastStep ? offset + 1 : 0;
    lastStep = t.step;
    const step = stepByIndex.get(t.step);
    const positions = (step?.verification.positions ?? []) as Extended[];
    const chosen = step ? Math.max(step.verification.pathIndex, 0) : 0;
    const drafted = step !== undefined && offset < step.verification.accepted;
    const examined = step ? positions.find((p) => (p.path ?? 0) === chosen && p.depth === offset) : undefined;
    const rejected = !drafted && step ? positions.find((p) => p.depth === offset && p.outcome === "rejected" && (step.verification.pathIndex < 0 || (p.path ?? 0) === chosen)) : undefined;
    const record = drafted ? examined : rejected;
    // The token row's own record first (newer engines store it per output token), then the examined
    // position's, then what greedy decoding implies.
    const recorded = t.targetChoice ?? (record?.targetChoice?.token != null ? { token: record.targetChoice.token, prob: record.targetChoice.prob } : null);
    const targetChoice = recorded
      ? { token: recorded.token, text: text(recorded.token), prob: recorded.prob }
      : greedyTargetChoice(t, drafted, examined, trace.request?.verifyMode ?? null);
    return {
      index, id: t.id, text: t.text, origin: t.origin, step: t.step, offset, prob: t.prob, logprob: t.logprob,
      draftProb: t.draftProb ?? (drafted && step ? (step.proposals[chosen]?.draftProbs[offset] ?? null) : null),
      verdict: drafted && examined
        ? { outcome: examined.outcome ?? "accepted", targetProb: examined.targetProb, targetArgmax: examined.targetArgmax, acceptProb: examined.acceptProb ?? null, uniform: examined.uniform ?? null }
        : null,
      replaced: rejected?.token != null
        ? { token: rejected.token, text: text(rejected.token), prob: rejected.draftProb ?? draftProbAt(step, rejected), targetProb: rejected.targetProb }
        : null,
      targetChoice,
    };
  });

  const config = (trace.config ?? {}) as { lossyThreshold?: number };
  return {
    tokens, steps, perPosition: trace.perPositionAcceptance, verifyMode: trace.request?.verifyMode ?? null,
    lossyThreshold: typeof config.lossyThreshold === "number" ? config.lossyThreshold : null,
  };
}

function draftProbAt(step: TraceDetail["steps"][number] | undefined, p: ExaminedPosition): number | null {
  if (!step || p.depth === null) return null;
  return step.proposals[p.path ?? 0]?.draftProbs[p.depth] ?? null;
}

/**
 * Greedy decoding: the target alone emits its argmax, so an accepted draft that was the argmax, a
 * recovered token and a target-only token are each what the target alone would have chosen. Anything
 * else (sampling, lossy) needs the recorded choice.
 */
function greedyTargetChoice(t: TraceDetail["tokens"][number], drafted: boolean, examined: ExaminedPosition | undefined, verifyMode: string | null): ViewCandidate | null {
  if (verifyMode !== "greedy") return null;
  if (!drafted || examined?.targetArgmax) return { token: t.id, text: t.text, prob: t.prob };
  return null;
}
