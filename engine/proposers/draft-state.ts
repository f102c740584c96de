/**
 * The draft model's KV cache kept in step with what the target accepted. The cache may hold several
 * rows (tree branches); each row holds `prefix` followed by that row's own tokens. Right after
 * verification, rollback() keeps the row that agrees longest with the committed tokens and drops the
 * rest, so the rollback is reported in the step that caused it (the last step too). Before proposing,
 * sync() feeds the committed tokens the draft has not seen yet, returning the logits after the last.
 * Positions evicted by the sliding window are counted and reported with the next rollback.
 */
import type { CausalLM } from "../runtime/causal-lm";
import type { KvCache } from "../runtime/kv-cache";
import type { CacheChange } from "../types";

export class DraftState {
  private cache: KvCache;
  /** [cached positions] tokens shared by every row */
  private prefix: number[] = [];
  /** [batch][row positions] each row's tokens after the prefix */
  private rowTokens: number[][] = [[]];
  /** Evicted by the window, and rolled back outside rollback(), since the last report. */
  private evicted = 0;
  private droppedUnreported = 0;

  constructor(
    readonly model: CausalLM,
    private readonly window: { sink: number; recent: number } | null,
  ) {
    this.cache = model.emptyCache();
  }

  get bytes(): number {
    return this.cache.bytes;
  }

  get batch(): number {
    return this.cache.batch;
  }

  /** Logical position of the next token fed to every row. */
  get position(): number {
    return this.prefix.length + this.rowTokens[0].length;
  }

  /**
   * Keep the row that agrees longest with `committed` and drop what it holds beyond: the rollback of
   * this step. At least the last committed token is left unfed, so sync() has logits to draft from.
   */
  rollback(committed: readonly number[]): CacheChange {
    const lengthBefore = this.cache.length;
    const dropped = this.align(committed) + this.droppedUnreported;
    const change = { dropped, evicted: this.evicted, lengthBefore, lengthAfter: this.cache.length };
    this.evicted = 0;
    this.droppedUnreported = 0;
    return change;
  }

  /**
   * Align the cache with `committed` (normally done by rollback() already) and feed what is missing.
   * Returns the logits ([1, n, vocab]; the last row is the distribution of the next token).
   */
  async sync(committed: readonly number[]): Promise<{ logits: Float32Array }> {
    this.droppedUnreported += this.align(committed);
    const { logits } = await this.feed([committed.slice(this.position)]);
    return { logits };
  }

  /** Select the best row and truncate it to the committed prefix it shares; returns positions dropped. */
  private align(committed: readonly number[]): number {
    const positionsBefore = this.position;
    let best = 0;
    let bestCommon = -1;
    for (let r = 0; r < this.rowTokens.length; r++) {
      const common = commonPrefix([...this.prefix, ...this.rowTokens[r]], committed);
      if (common > bestCommon) {
        best = r;
        bestCommon = common;
      }
    }
    const keep = Math.min(bestCommon, committed.length - 1);
    if (keep === positionsBefore && this.rowTokens.length === 1) return 0;
    const physicalKeep = this.cache.length - (positionsBefore - keep);
    if (physicalKeep < 0) throw new Error("draft window too small for the rollback requested");
    this.cache = this.cache.selectRow(best, physicalKeep);
    this.prefix = committed.slice(0, keep);
    this.rowTokens = [[]];
    return positionsBefore - keep;
  }

  /** Whether syncAndDraft can run: a graph with the drafting loop, and no window (the loop's positions are physical). */
  get canDraftInGraph(): boolean {
    return this.model.features?.draftLoop === true && this.window === null;
  }

  /**
   * sync() and up to `count` greedy draft tokens in one onnxruntime call (the graph's drafting loop),
   * fewer when the loop stops at `stopFloor` (draft-stop.ts). The cache then holds every drafted token
   * but the last, which the next rollback drops as needed.
   */
  async syncAndDraft(committed: readonly number[], count: number, stopFloor = 0): Promise<{ tokens: number[]; probs: number[]; alts: number[]; altProbs: number[] }> {
    this.droppedUnreported += this.align(committed);
    const fresh = committed.slice(this.position);
    const { out, cache } = await this.model.draftGreedy(fresh, this.cache, this.position, count - 1, stopFloor);
    this.cache = cache;
    this.prefix.push(...fresh, ...out.tokens.slice(0, -1));
    return { tokens: out.tokens, probs: out.probs, alts: out.alts, altProbs: out.altProbs };
  }

  /** Feed one token row per batch row; returns logits [batch, seq, vocab]. */
  async feed(rows: number[][]): Promise<{ logits: Float32Array; seq: number }> {
    const { out, cache } = await this.model.forward(rows, this.cache, this.position);
    this.cache = cache;
    if (rows.length === 1 && this.rowTokens.length === 1) {
      this.prefix.push(...rows[0]);
    } else {
      this.rowTokens = rows.map((row, r) => [...(this.rowTokens[r] ?? this.rowTokens[0]), ...row]);
    }
    if (this.window && this.cache.batch === 1) {
      const before = this.cache.length;
      this.cache = this.cache.window(this.window.sink, this.window.recent);
      this.evicted += before - this.cache.length;
    }
    return { logits: out.logits, seq: out.seq };
  }

  /** Fork the single row into `count` rows that will continue with different tokens. */
  fork(count: number): void {
    this.cache = this.cache.repeatRow0(count);
    this.rowTokens = Array.from({ length: count }, () => [...this.rowTokens[0]]);
  }

  dispose(): void {
    this.cache.dispose();
  }
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
