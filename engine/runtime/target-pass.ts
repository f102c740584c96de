/**
 * The target's verification pass over a step's draft paths. Paths share the committed prefix and,
 * in a tree, their drafted prefixes up to each fork.
 * - Graphs with a tree mask (fused exports) run the paths' trie as one sequence: shared prefixes are
 *   computed once and a tree costs what a chain of the same node count costs. The accepted path's
 *   nodes are then kept from the cache by position.
 * - Other graphs run one batch row per path (padded to equal length), sharing the cached prefix.
 */
import type { RowStats } from "../sampling";
import type { DraftPath } from "../types";
import type { CausalLM } from "./causal-lm";
import type { KvCache } from "./kv-cache";

export interface VerifyPass {
  logits: Float32Array;
  /** The graph's argmax and log Σ exp per logits row (graphs with features.rowStats). */
  stats?: RowStats;
  /** Offset in `logits` of the distribution after path `row`'s first `pos` tokens. */
  offset(row: number, pos: number): number;
  /** Cache length right after the pass (before rollback). */
  lengthAfterPass: number;
  /** The cache holding the committed prefix, `last` and path `row`'s first `accepted` tokens. */
  keep(row: number, accepted: number): KvCache;
}

/**
 * `pending` are the committed tokens not yet in `cache` (at least one: the last committed token; on a
 * request's first step the whole prompt, so the prompt's prefill and the first verification are one
 * pass). Path tokens follow the last pending token; offsets and `keep` count from there.
 */
export async function verifyPass(
  target: CausalLM,
  cache: KvCache,
  pending: readonly number[],
  paths: readonly Pick<DraftPath, "tokens">[],
  padToken: number,
): Promise<VerifyPass> {
  if (pending.length === 0) throw new Error("verifyPass: no pending token");
  if (pending.length > 1 && paths.length > 1) {
    // Several paths (a tree mask or batch rows) would each carry the prompt: prefill it on its own.
    ({ cache } = await target.forward([pending.slice(0, -1)], cache, cache.length));
    pending = pending.slice(-1);
  }
  const vocab = target.vocabSize;
  const cachedBefore = cache.length;
  const positionStart = cachedBefore;
  const last = pending[pending.length - 1];
  if (paths.length > 1 && target.features?.treeMask === true) {
    // Trie of the paths, parent-first: node 0 is `last`; nodeOf[r][d] is path r's node after d tokens.
    const tokens = [last];
    const parents = [-1];
    const children = new Map<string, number>();
    const nodeOf = paths.map((p) => {
      const nodes = [0];
      for (const t of p.tokens) {
        const parent = nodes[nodes.length - 1];
        const key = `${parent}:${t}`;
        let node = children.get(key);
        if (node === undefined) {
          node = tokens.length;
          tokens.push(t);
          parents.push(parent);
          children.set(key, node);
        }
        nodes.push(node);
      }
      return nodes;
    });
    const pass = await target.forwardTree(tokens, parents, cache, positionStart);
    const after = pass.cache;
    return {
      logits: pass.out.logits,
      stats: pass.out.stats,
      offset: (row, pos) => nodeOf[row][pos] * vocab,
      lengthAfterPass: after.length,
      keep: (row, accepted) => after.keepPositions([
        ...Array.from({ length: cachedBefore }, (_, i) => i),
        ...nodeOf[row].slice(0, accepted + 1).map((n) => cachedBefore + n),
      ]),
    };
  }
  const depth = Math.max(0, ...paths.map((p) => p.tokens.length));
  const rows = (paths.length > 0 ? paths : [{ tokens: [] as number[] }]).map((p) =>
    [...pending, ...p.tokens, ...new Array<number>(depth - p.tokens.length).fill(padToken)]);
  const seq = pending.length + depth;
  const pass = await target.forward(rows, cache.repeatRow0(rows.length), positionStart);
  const after = pass.cache;
  return {
    logits: pass.out.logits,
    stats: pass.out.stats,
    offset: (row, pos) => (row * seq + pending.length - 1 + pos) * vocab,
    lengthAfterPass: after.length,
    keep: (row, accepted) => after.selectRow(row, cachedBefore + pending.length + accepted),
  };
}
