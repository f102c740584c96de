/**
 * draft-model (chain): the draft model proposes k tokens autoregressively. Greedy and lossy runs take
 * the draft's argmax; lossless sampling draws from the draft's processed distribution and hands that
 * distribution to the verifier. Greedy drafts run in one onnxruntime call on graphs with the drafting
 * loop (export_fused.py --draft-loop); sampled drafts and banned tokens take the per-token path. Drafting stops early when the draft's probability for its own token
 * falls below `confidence`.
 */
import { argmax, processedProbs, sample } from "../sampling";
import type { DraftPath, Proposal } from "../types";
import { DraftState } from "./draft-state";
import type { ProposeInput, Proposer } from "./types";

export class DraftModelProposer implements Proposer {
  readonly name = "draft-model" as const;

  constructor(
    private readonly state: DraftState,
    private readonly confidence: number,
  ) {}

  async propose(input: ProposeInput): Promise<Proposal> {
    // Greedy drafts without banned tokens: all k tokens in one onnxruntime call when the graph can.
    if (!input.sampled && input.banned.length === 0 && this.state.canDraftInGraph) {
      const { tokens, probs, change } = await this.state.syncAndDraft(input.tokens, input.k);
      const path: DraftPath = { tokens: [], draftProbs: [], draftDists: [] };
      for (let i = 0; i < tokens.length; i++) {
        path.tokens.push(tokens[i]);
        path.draftProbs.push(probs[i]);
        if (probs[i] < this.confidence) break;
      }
      return { paths: [path], draftCache: change };
    }
    const vocab = this.state.model.vocabSize;
    const synced = await this.state.sync(input.tokens);
    let logits = synced.logits;
    let offset = logits.length - vocab;
    const path: DraftPath = { tokens: [], draftProbs: [], draftDists: [] };
    for (let i = 0; i < input.k; i++) {
      const dist = processedProbs(logits, offset, vocab, input.sampling, input.banned);
      const token = input.sampled ? sample(dist, input.rng) : argmax(dist);
      path.tokens.push(token);
      path.draftProbs.push(dist[token]);
      if (input.sampled) path.draftDists.push(dist);
      if (i === input.k - 1 || dist[token] < this.confidence) break;
      ({ logits } = await this.state.feed([[token]]));
      offset = 0;
    }
    return { paths: [path], draftCache: synced.change };
  }

  kvBytes(): number {
    return this.state.bytes;
  }

  dispose(): void {
    this.state.dispose();
  }
}
