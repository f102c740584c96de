import type { CausalLM } from "../runtime/causal-lm";
import type { ProposerName, SpecConfig } from "../types";
import { DraftModelProposer } from "./draft-model";
import { DraftState } from "./draft-state";
import { NgramProposer } from "./ngram";
import { OffProposer } from "./off";
import { TreeProposer } from "./tree";
import type { Proposer } from "./types";

export type { Proposer, ProposeInput } from "./types";

/** One proposer per request: proposers that own a draft KV cache are stateful. */
export function createProposer(config: SpecConfig, draft: CausalLM | null): Proposer {
  const name: ProposerName = config.proposer;
  const needDraft = (): CausalLM => {
    if (!draft) throw new Error(`proposer ${name} needs a draft model, and none is loaded`);
    return draft;
  };
  switch (name) {
    case "draft-model":
      return new DraftModelProposer(new DraftState(needDraft(), config.draftWindow), config.draftConfidence, config.draftAcceptFloor);
    case "tree":
      return new TreeProposer(new DraftState(needDraft(), config.draftWindow), config.tree.width, config.tree.depth, config.tree.branchMinProb, config.draftConfidence);
    case "ngram":
      return new NgramProposer(config.ngram.minN, config.ngram.maxN);
    case "off":
      return new OffProposer();
    default: {
      const unknown: never = name;
      throw new Error(`unknown proposer ${String(unknown)}`);
    }
  }
}
