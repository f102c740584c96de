/*
 * The per-request signals the alert rules watch, computed from a request's steps. The same definitions
 * fill the requests table's columns from stored step rows (db/alerts/signals.ts, SQL over steps), so
 * a recording made here and a trace stored by the server give the same numbers.
 *   acceptance        accepted / drafted over the request (drafted: the chosen path's draft tokens)
 *   per position i    steps that accepted position i / steps whose chosen path reached position i
 *   target confidence the target's mean probability of the draft tokens it accepted
 *   draft confidence  the proposer's mean probability of every token it proposed (all tree paths)
 */
export interface RequestSignals {
  accepted: number;
  drafted: number;
  /** [kMax] steps that accepted position i */
  posAccepted: number[];
  /** [kMax] steps whose chosen path drafted position i */
  posDrafted: number[];
  targetConfSum: number;
  targetConfN: number;
  draftConfSum: number;
  draftConfN: number;
}

export interface StepLike {
  paths: { tokens: number[]; draftProbs: number[] }[];
  verify: { pathIndex: number; accepted: number; examined: { outcome: string; targetProb: number }[] };
}

export function signalsOfSteps(steps: readonly StepLike[]): RequestSignals {
  const s: RequestSignals = { accepted: 0, drafted: 0, posAccepted: [], posDrafted: [], targetConfSum: 0, targetConfN: 0, draftConfSum: 0, draftConfN: 0 };
  for (const step of steps) {
    if (step.paths.length === 0) continue;
    const chosen = step.paths[Math.max(step.verify.pathIndex, 0)];
    s.accepted += step.verify.accepted;
    s.drafted += chosen.tokens.length;
    for (let i = 0; i < chosen.tokens.length; i++) {
      s.posDrafted[i] = (s.posDrafted[i] ?? 0) + 1;
      s.posAccepted[i] = (s.posAccepted[i] ?? 0) + (i < step.verify.accepted ? 1 : 0);
    }
    for (const e of step.verify.examined) {
      if (e.outcome === "rejected") continue;
      s.targetConfSum += e.targetProb;
      s.targetConfN += 1;
    }
    for (const path of step.paths) {
      for (const p of path.draftProbs) {
        s.draftConfSum += p;
        s.draftConfN += 1;
      }
    }
  }
  return s;
}
