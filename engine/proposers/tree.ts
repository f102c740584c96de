/**
 * tree: branch into the draft's `width` most likely first tokens (a branch beyond the first only when
 * the draft gives its token at least `branchMinProb`), then continue each branch greedily
 * to `depth`, all branches as rows of one batched draft pass per level. The target verifies every
 * branch in one batched pass (rows sharing the committed prefix) and the longest accepted path wins.
 * Candidates are chosen deterministically, so the verifier treats them as point masses, which keeps
 * sampling lossless. Branching at the first position is where the draft is least certain about the
 * continuation of the committed text, and it needs no tree attention mask in the exported graph.
 */
import { processedProbs } from "../sampling";
import type { DraftPath, Proposal } from "../types";
import { DraftState } from "./draft-state";
import type { ProposeInput, Proposer } from "./types";

export class TreeProposer implements Proposer {
  readonly name = "tree" as const;

  constructor(
    private readonly state: DraftState,
    private readonly width: number,
    private readonly depth: number,
    private readonly branchMinProb: number,
    private readonly confidence: number,
  ) {}

  async propose(input: ProposeInput): Promise<Proposal> {
    const vocab = this.state.model.vocabSize;
    const depth = Math.min(this.depth, input.k);
    const synced = await this.state.sync(input.tokens);
    const first = processedProbs(synced.logits, synced.logits.length - vocab, vocab, input.sampling, input.banned);
    const roots = topTokens(first, this.width).filter((t, i) => i === 0 || first[t] >= this.branchMinProb);
    const paths: DraftPath[] = roots.map((t) => ({ tokens: [t], draftProbs: [first[t]], draftDists: [] }));
    if (depth > 1) this.state.fork(paths.length);
    for (let level = 1; level < depth; level++) {
      if (paths.every((p) => p.draftProbs[level - 1] < this.confidence)) break;
      const { logits } = await this.state.feed(paths.map((p) => [p.tokens[level - 1]]));
      paths.forEach((p, row) => {
        const dist = processedProbs(logits, row * vocab, vocab, input.sampling, input.banned);
        const [token] = topTokens(dist, 1);
        p.tokens.push(token);
        p.draftProbs.push(dist[token]);
      });
    }
    return { paths, draftCache: synced.change };
  }

  kvBytes(): number {
    return this.state.bytes;
  }

  dispose(): void {
    this.state.dispose();
  }
}

/** The `n` most probable tokens with non-zero probability, most probable first. */
export function topTokens(dist: Float32Array, n: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < dist.length; i++) {
    if (dist[i] <= 0) continue;
    let pos = best.length;
    while (pos > 0 && dist[best[pos - 1]] < dist[i]) pos--;
    if (pos < n) {
      best.splice(pos, 0, i);
      if (best.length > n) best.pop();
    }
  }
  return best;
}
