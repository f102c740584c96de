/**
 * tree: the draft's greedy chain, plus sibling branches where the draft first hesitates. Drafting
 * follows the draft's most likely token; at the first position where other tokens get at least
 * `branchMinProb` (up to `width` - 1 of them), the path forks: each sibling takes one of them and is
 * continued greedily to `depth` like the main path. All paths are rows of one batched draft pass per
 * level, and the target verifies every row in one batched pass (rows share the committed prefix and
 * repeat the drafted prefix before the fork); the verifier walks the paths as a trie and the longest
 * accepted path wins. Branching only where the draft is unsure keeps the extra rows for the steps where
 * they have a real chance, and needs no tree attention mask in the exported graph. When sampling, the
 * main path is drawn from the draft's distribution (as the chain's is) and carries it to the verifier;
 * siblings are the most probable other tokens, verified as point masses, which keeps sampling lossless.
 */
import { processedProbs, sample } from "../sampling";
import type { CacheChange, DraftPath, Proposal } from "../types";
import { noBans } from "./draft-model";
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
    if (this.width === 2 && !input.sampled && noBans({ ...input, k: depth }) && this.state.canDraftInGraph) {
      return this.proposeInGraph(input.tokens, depth);
    }
    const synced = await this.state.sync(input.tokens);
    const distAt = (logits: Float32Array, offset: number, level: number) =>
      processedProbs(logits, offset, vocab, input.sampling, input.bannedAt(input.position + level));
    /** [numPaths] the draft's next-token distribution at the end of each path */
    let dists = [distAt(synced.logits, synced.logits.length - vocab, 0)];
    const paths: DraftPath[] = [{ tokens: [], draftProbs: [], draftDists: [] }];

    for (let level = 0; level < depth; level++) {
      if (level > 0) {
        if (paths.every((p) => p.draftProbs[level - 1] < this.confidence)) break;
        const { logits } = await this.state.feed(paths.map((p) => [p.tokens[level - 1]]));
        dists = paths.map((_, row) => distAt(logits, row * vocab, level));
      }
      const top = topTokens(dists[0], paths.length === 1 ? this.width : 1);
      const main = input.sampled ? sample(dists[0], input.rng.uniform("draft", input.position + level)) : top[0];
      const alternatives = paths.length === 1 ? top.filter((t) => t !== main).slice(0, this.width - 1) : [];
      const siblings = alternatives.filter((t) => dists[0][t] >= this.branchMinProb);
      for (const token of siblings) {
        paths.push({ tokens: [...paths[0].tokens, token], draftProbs: [...paths[0].draftProbs, dists[0][token]], draftDists: [...paths[0].draftDists, undefined] });
      }
      paths[0].tokens.push(main);
      paths[0].draftProbs.push(dists[0][main]);
      paths[0].draftDists.push(input.sampled ? dists[0] : undefined);
      for (let row = 1 + siblings.length; row < paths.length; row++) {
        const [token] = topTokens(dists[row], 1);
        paths[row].tokens.push(token);
        paths[row].draftProbs.push(dists[row][token]);
        paths[row].draftDists.push(undefined);
      }
      // The siblings continue from the same draft state as the main path: copy its cache row.
      if (siblings.length > 0 && level < depth - 1) this.state.fork(paths.length);
    }
    return { paths };
  }

  rollback(committed: readonly number[]): CacheChange {
    return this.state.rollback(committed);
  }

  /**
   * Greedy width-2 trees with the graph's drafting loop: the main path and the runner-up at each of its
   * positions in one call; at the first position whose runner-up reaches branchMinProb the sibling
   * forks, and one more call continues it greedily to `depth`. Two onnxruntime calls instead of one
   * per level; the same paths as the level-by-level drafting.
   */
  private async proposeInGraph(committed: readonly number[], depth: number): Promise<Proposal> {
    const main = await this.state.syncAndDraft(committed, depth);
    const path: DraftPath = { tokens: [], draftProbs: [], draftDists: [] };
    for (let i = 0; i < main.tokens.length; i++) {
      path.tokens.push(main.tokens[i]);
      path.draftProbs.push(main.probs[i]);
      path.draftDists.push(undefined);
      if (main.probs[i] < this.confidence) break;
    }
    const fork = main.altProbs.findIndex((q, i) => i < path.tokens.length && q > 0 && q >= this.branchMinProb);
    if (fork < 0) return { paths: [path] };
    const sibling: DraftPath = {
      tokens: [...path.tokens.slice(0, fork), main.alts[fork]],
      draftProbs: [...path.draftProbs.slice(0, fork), main.altProbs[fork]],
      draftDists: new Array<undefined>(fork + 1).fill(undefined),
    };
    const remaining = depth - fork - 1;
    if (remaining > 0) {
      const more = await this.state.syncAndDraft([...committed, ...sibling.tokens], remaining);
      sibling.tokens.push(...more.tokens);
      sibling.draftProbs.push(...more.probs);
      sibling.draftDists.push(...more.tokens.map(() => undefined));
    }
    return { paths: [path, sibling] };
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
