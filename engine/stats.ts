/**
 * Speculation metrics, defined next to their computation.
 * - drafted: draft tokens proposed (every path of a tree counts).
 * - accepted: draft tokens kept by the verifier (on the winning path).
 * - acceptance rate = accepted / drafted.
 * - mean acceptance length = 1 + accepted / steps: tokens emitted per target pass, counting the
 *   recovered or bonus token (vLLM's convention).
 * - per-position acceptance[i] = steps that accepted position i / steps that drafted position i.
 */
import type { ProposerName, SpecSummary, StepCounts, VerifyResult, VerifyMode } from "./types";

/**
 * A step's counts, computed once, in the loop, when the step is built; the summary, /metrics and the
 * trace read StepRecord.counts instead of counting again. `kept` is how many of the accepted draft
 * tokens were emitted: the request may end inside the accepted prefix (EOS, a stop string,
 * max_tokens), and the tokens after its end are discarded, neither drafted nor accepted.
 */
export function stepCounts(paths: readonly { tokens: readonly number[] }[], verify: Pick<VerifyResult, "accepted" | "pathIndex">, kept: number): StepCounts {
  const accepted = Math.min(verify.accepted, kept);
  const discarded = verify.accepted - accepted;
  const depth = Math.max(0, ...paths.map((p) => p.tokens.length));
  // Positions past the request's end were drafted for nothing: drop them from the per-position counts.
  const countedDepth = discarded > 0 ? accepted : depth;
  return {
    drafted: paths.reduce((n, p) => n + p.tokens.length, 0) - discarded,
    accepted,
    discarded,
    draftedAt: Array.from({ length: countedDepth }, () => 1),
    acceptedAt: Array.from({ length: countedDepth }, (_, i) => (i < accepted ? 1 : 0)),
  };
}

export class SpecStats {
  private steps = 0;
  private drafted = 0;
  private accepted = 0;
  private discarded = 0;
  private readonly draftedAt: number[] = [];
  private readonly acceptedAt: number[] = [];

  add(counts: StepCounts): void {
    this.steps++;
    this.drafted += counts.drafted;
    this.accepted += counts.accepted;
    this.discarded += counts.discarded;
    counts.draftedAt.forEach((d, i) => (this.draftedAt[i] = (this.draftedAt[i] ?? 0) + d));
    counts.acceptedAt.forEach((a, i) => (this.acceptedAt[i] = (this.acceptedAt[i] ?? 0) + a));
  }

  summary(proposer: ProposerName, verify: VerifyMode): SpecSummary {
    return {
      proposer,
      verify,
      steps: this.steps,
      drafted: this.drafted,
      accepted: this.accepted,
      discarded: this.discarded,
      acceptanceRate: this.drafted > 0 ? this.accepted / this.drafted : 0,
      meanAcceptanceLength: this.steps > 0 ? 1 + this.accepted / this.steps : 0,
      perPositionAcceptance: this.draftedAt.map((d, i) => (d > 0 ? (this.acceptedAt[i] ?? 0) / d : 0)),
    };
  }
}

/**
 * Adaptive draft length: k follows the expected run of accepted tokens at the recent per-token
 * acceptance rate a (an exponential moving average), k = round(a / (1 - a)) + 1, within [1, kMax].
 */
export class AdaptiveK {
  private rate = 0.6;

  constructor(
    private readonly kMax: number,
    private readonly enabled: boolean,
  ) {}

  get k(): number {
    if (!this.enabled) return this.kMax;
    const expectedRun = this.rate / Math.max(1e-6, 1 - this.rate);
    return Math.max(1, Math.min(this.kMax, Math.round(expectedRun) + 1));
  }

  observe(drafted: number, accepted: number): void {
    if (drafted === 0) return;
    this.rate = 0.7 * this.rate + 0.3 * (accepted / drafted);
  }
}
