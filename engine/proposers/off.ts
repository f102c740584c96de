/** off: no proposals; the loop decodes one target token per step. The baseline for every speedup. */
import type { Proposal } from "../types";
import type { Proposer } from "./types";

export class OffProposer implements Proposer {
  readonly name = "off" as const;

  async propose(): Promise<Proposal> {
    return { paths: [] };
  }

  rollback(): null {
    return null;
  }

  kvBytes(): number {
    return 0;
  }

  dispose(): void {}
}
