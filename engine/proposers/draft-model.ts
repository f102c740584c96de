/**
 * draft-model (chain): the draft model proposes k tokens autoregressively. Greedy and lossy runs take
 * the draft's argmax; lossless sampling draws from the draft's processed distribution and hands that
 * distribution to the verifier. Greedy drafts run in one onnxruntime call on graphs with the drafting
 * loop (export_fused.py --draft-loop); sampled drafts and banned tokens take the per-token path. Drafting
 * stops early when the draft's probability for its own token falls below `confidence`, and greedy
 * drafting once the estimate that the target accepts the whole draft falls below `acceptFloor`
 * (draft-stop.ts; inside the drafting loop on graphs that can, so the tokens not drafted cost nothing).
 */
import { argmax, processedProbs, sample } from "../sampling";
import type { CacheChange, DraftPath, Proposal } from "../types";
import { DraftState } from "./draft-state";
import { agreementFactor, keptAtFloor, topTwo } from "./draft-stop";
import type { ProposeInput, Proposer } from "./types";

export class DraftModelProposer implements Proposer {
  readonly name = "draft-model" as const;

  constructor(
    private readonly state: DraftState,
    private readonly confidence: number,
    private readonly acceptFloor = 0,
  ) {}

  async propose(input: ProposeInput): Promise<Proposal> {
    // Greedy drafts without banned tokens: all k tokens in one onnxruntime call when the graph can.
    if (!input.sampled && noBans(input) && this.state.canDraftInGraph) {
      const { tokens, probs, altProbs } = await this.state.syncAndDraft(input.tokens, input.k, this.acceptFloor);
      const kept = keptAtFloor(probs, altProbs, this.acceptFloor);
      const path: DraftPath = { tokens: [], draftProbs: [], draftDists: [] };
      for (let i = 0; i < kept; i++) {
        path.tokens.push(tokens[i]);
        path.draftProbs.push(probs[i]);
        path.draftDists.push(undefined);
        if (probs[i] < this.confidence) break;
      }
      return { paths: [path] };
    }
    const vocab = this.state.model.vocabSize;
    const synced = await this.state.sync(input.tokens);
    let logits = synced.logits;
    let offset = logits.length - vocab;
    const path: DraftPath = { tokens: [], draftProbs: [], draftDists: [] };
    let estimate = 1;
    for (let i = 0; i < input.k; i++) {
      const dist = processedProbs(logits, offset, vocab, input.sampling, input.bannedAt(input.position + i));
      const token = input.sampled ? sample(dist, input.rng.uniform("draft", input.position + i)) : argmax(dist);
      path.tokens.push(token);
      path.draftProbs.push(dist[token]);
      path.draftDists.push(input.sampled ? dist : undefined);
      // The floor estimates greedy agreement; a sampled draft's acceptance depends on the target's probabilities.
      if (!input.sampled && this.acceptFloor > 0) estimate *= agreementFactor(...topTwo(dist));
      if (i === input.k - 1 || dist[token] < this.confidence || estimate < this.acceptFloor) break;
      ({ logits } = await this.state.feed([[token]]));
      offset = 0;
    }
    return { paths: [path] };
  }

  rollback(committed: readonly number[]): CacheChange {
    return this.state.rollback(committed);
  }

  kvBytes(): number {
    return this.state.bytes;
  }

  dispose(): void {
    this.state.dispose();
  }
}

/** Whether no draft position of this step has banned tokens (the drafting loop cannot ban). */
export function noBans(input: Pick<ProposeInput, "k" | "position" | "bannedAt">): boolean {
  for (let i = 0; i < input.k; i++) if (input.bannedAt(input.position + i).length > 0) return false;
  return true;
}
