/**
 * The KV cache of one model: per layer a key and a value tensor of shape
 * [batch, kvHeads, length, headDim]. The runtime replaces it with the model's present.* outputs
 * after each forward pass; rollback truncates it, tree verification forks and selects batch rows,
 * and the optional draft window keeps only the first `sink` and the last `recent` positions.
 * Methods that replace tensors dispose the ones they replace.
 */
import * as ort from "onnxruntime-node";

export interface KvShape {
  numLayers: number;
  kvHeads: number;
  headDim: number;
}

export class KvCache {
  private constructor(
    readonly shape: KvShape,
    /** [numLayers * 2] tensors, ordered layer 0 key, layer 0 value, layer 1 key, ... */
    private tensors: ort.Tensor[],
    readonly batch: number,
    readonly length: number,
  ) {}

  static empty(shape: KvShape, batch = 1): KvCache {
    const tensors = Array.from({ length: shape.numLayers * 2 }, () =>
      new ort.Tensor("float32", new Float32Array(0), [batch, shape.kvHeads, 0, shape.headDim]),
    );
    return new KvCache(shape, tensors, batch, 0);
  }

  static fromPresents(shape: KvShape, presents: ort.Tensor[]): KvCache {
    const dims = presents[0].dims;
    return new KvCache(shape, presents, dims[0], dims[2]);
  }

  /** The past_key_values.* feed for the next forward pass. */
  feeds(): Record<string, ort.Tensor> {
    const out: Record<string, ort.Tensor> = {};
    for (let layer = 0; layer < this.shape.numLayers; layer++) {
      out[`past_key_values.${layer}.key`] = this.tensors[2 * layer];
      out[`past_key_values.${layer}.value`] = this.tensors[2 * layer + 1];
    }
    return out;
  }

  /** Bytes held by the cache's tensors. */
  get bytes(): number {
    return this.tensors.length * this.batch * this.shape.kvHeads * this.length * this.shape.headDim * 4;
  }

  /** Keep positions [0, length) of every row: the rollback of rejected draft positions. */
  truncate(length: number): KvCache {
    if (length > this.length) throw new Error(`cannot truncate a cache of ${this.length} to ${length}`);
    if (length === this.length) return this;
    return this.gather(Array.from({ length: this.batch }, (_, r) => r), [[0, length]]);
  }

  /** Keep the first `sink` and the last `recent` positions (a sink plus sliding window). */
  window(sink: number, recent: number): KvCache {
    if (this.length <= sink + recent) return this;
    return this.gather(Array.from({ length: this.batch }, (_, r) => r), [[0, sink], [this.length - recent, this.length]]);
  }

  /** A batch-1 cache holding row `row`, optionally truncated. */
  selectRow(row: number, length = this.length): KvCache {
    if (row === 0 && this.batch === 1) return this.truncate(length);
    return this.gather([row], [[0, length]]);
  }

  /**
   * Keep the given positions (ascending) of a one-row cache: after a tree pass, the committed prefix
   * plus the accepted path's nodes, which need not be contiguous in the tree's order.
   */
  keepPositions(positions: readonly number[]): KvCache {
    if (this.batch !== 1) throw new Error("keepPositions needs a one-row cache");
    const ranges: [number, number][] = [];
    for (const p of positions) {
      if (p < 0 || p >= this.length) throw new Error(`position ${p} outside a cache of ${this.length}`);
      const last = ranges[ranges.length - 1];
      if (last && p < last[1]) throw new Error("keepPositions: positions must ascend");
      if (last && last[1] === p) last[1] = p + 1;
      else ranges.push([p, p + 1]);
    }
    if (ranges.length === 1 && ranges[0][0] === 0) return this.truncate(ranges[0][1]);
    return this.gather([0], ranges);
  }

  /** A cache whose `count` rows are copies of row 0: the shared prefix of tree branches. */
  repeatRow0(count: number): KvCache {
    if (count === 1 && this.batch === 1) return this;
    return this.gather(new Array(count).fill(0), [[0, this.length]]);
  }

  dispose(): void {
    for (const t of this.tensors) t.dispose?.();
    this.tensors = [];
  }

  /** Build a new cache from the given source rows and position ranges; disposes this one. */
  private gather(rows: number[], ranges: [number, number][]): KvCache {
    const { kvHeads, headDim } = this.shape;
    const newLength = ranges.reduce((n, [a, b]) => n + (b - a), 0);
    if (this.batch === 1 && rows.length === 1 && rows[0] === 0) {
      // One row kept from a one-row cache (every rollback of a chain or a tree): compact each buffer in
      // place and keep a view of its start. A kept range only ever moves towards the start (its
      // destination is at most its source, and ends before any later range's source), so copyWithin's
      // memmove semantics are enough, and nothing is allocated. With one KV head and a prefix nothing moves.
      const views = this.tensors.map((t) => {
        const data = t.data as Float32Array;
        let o = 0;
        for (let h = 0; h < kvHeads; h++) {
          const base = h * this.length * headDim;
          for (const [a, b] of ranges) {
            if (base + a * headDim !== o) data.copyWithin(o, base + a * headDim, base + b * headDim);
            o += (b - a) * headDim;
          }
        }
        return new ort.Tensor("float32", data.subarray(0, o), [1, kvHeads, newLength, headDim]);
      });
      this.tensors = [];
      return new KvCache(this.shape, views, 1, newLength);
    }
    const rowStride = kvHeads * this.length * headDim;
    const tensors = this.tensors.map((t) => {
      const src = t.data as Float32Array;
      const dst = new Float32Array(rows.length * kvHeads * newLength * headDim);
      let o = 0;
      for (const row of rows) {
        for (let h = 0; h < kvHeads; h++) {
          const base = row * rowStride + h * this.length * headDim;
          for (const [a, b] of ranges) {
            dst.set(src.subarray(base + a * headDim, base + b * headDim), o);
            o += (b - a) * headDim;
          }
        }
      }
      return new ort.Tensor("float32", dst, [rows.length, kvHeads, newLength, headDim]);
    });
    this.dispose();
    return new KvCache(this.shape, tensors, rows.length, newLength);
  }
}
