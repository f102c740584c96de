import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { KvCache } from "@/engine/runtime/kv-cache";

/*
 * KvCache's rollback, tree keep and window paths on a one-row cache compact each buffer in place; every
 * kept value must land where a fresh copy would put it, for several KV heads and scattered positions.
 */
const shape = { numLayers: 2, kvHeads: 3, headDim: 4 };
const value = (tensor: number, head: number, pos: number, d: number): number => tensor * 10_000 + head * 1_000 + pos * 10 + d;

function cache(length: number, batch = 1): KvCache {
  const tensors = Array.from({ length: shape.numLayers * 2 }, (_, t) => {
    const data = new Float32Array(batch * shape.kvHeads * length * shape.headDim);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < shape.kvHeads; h++) {
        for (let p = 0; p < length; p++) {
          for (let d = 0; d < shape.headDim; d++) data[((b * shape.kvHeads + h) * length + p) * shape.headDim + d] = value(t + b * 100, h, p, d);
        }
      }
    }
    return new ort.Tensor("float32", data, [batch, shape.kvHeads, length, shape.headDim]);
  });
  return KvCache.fromPresents(shape, tensors);
}

function expectPositions(c: KvCache, positions: number[], row = 0): void {
  expect(c.batch).toBe(1);
  expect(c.length).toBe(positions.length);
  Object.values(c.feeds()).forEach((tensor, t) => {
    expect(tensor.dims).toEqual([1, shape.kvHeads, positions.length, shape.headDim]);
    const data = tensor.data as Float32Array;
    expect(data.length).toBe(shape.kvHeads * positions.length * shape.headDim);
    const expected: number[] = [];
    for (let h = 0; h < shape.kvHeads; h++) for (const p of positions) for (let d = 0; d < shape.headDim; d++) expected.push(value(t + row * 100, h, p, d));
    expect(Array.from(data)).toEqual(expected);
  });
}

describe("KvCache", () => {
  it("truncates a one-row cache to a prefix of every head", () => {
    expectPositions(cache(9).truncate(6), [0, 1, 2, 3, 4, 5]);
  });

  it("keeps a tree's scattered positions in order", () => {
    expectPositions(cache(10).keepPositions([0, 1, 2, 4, 7, 9]), [0, 1, 2, 4, 7, 9]);
  });

  it("keeps a sink and a recent window", () => {
    expectPositions(cache(12).window(2, 3), [0, 1, 9, 10, 11]);
  });

  it("selects and truncates one row of a batch", () => {
    expectPositions(cache(7, 3).selectRow(2, 5), [0, 1, 2, 3, 4], 2);
  });
});
