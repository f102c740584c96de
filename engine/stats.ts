/**
 * Speculation metrics, defined next to their computation.
 * - drafted: draft tokens proposed (every path of a tree counts).
 * - accepted: draft tokens kept by the verifier (on the winning path).
 * - acceptance rate = accepted / drafted.
 * - mean acceptance length = 1 + accepted / steps: tokens emitted per target pass, counting the
 *   recovered or bonus token (vLLM's convention).
 * - per-position acceptance[i] = steps that accepted position i / steps that drafted position i.
 */
import type { ProposerName, SpecSummary, StepRecord, VerifyMode } from "./types";

export class SpecStats {
  private steps = 0;
  private drafted = 0;
  private accepted = 0;
  private readonly draftedAt: number[] = [];
  private readonly acceptedAt: number[] = [];

  add(step: Pick<StepRecord, "paths" | "verify">): void {
    this.steps++;
    const depth = Math.max(0, ...step.paths.map((p) => p.tokens.length));
    this.drafted += step.paths.reduce((n, p) => n + p.tokens.length, 0);
    this.accepted += step.verify.accepted;
    for (let i = 0; i < depth; i++) {
      this.draftedAt[i] = (this.draftedAt[i] ?? 0) + 1;
      this.acceptedAt[i] = (this.acceptedAt[i] ?? 0) + (i < step.verify.accepted ? 1 : 0);
    }
  }

  summary(proposer: ProposerName, verify: VerifyMode): SpecSummary {
    return {
      proposer,
      verify,
      steps: this.steps,
      drafted: this.drafted,
      accepted: this.accepted,
      acceptanceRate: this.drafted > 0 ? this.accepted / this.drafted : 0,
      meanAcceptanceLength: this.steps > 0 ? 1 + this.accepted / this.steps : 0,
      perPositionAcceptance: this.draftedAt.map((d, i) => (d > 0 ? this.acceptedAt[i] / d : 0)),
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
