/**
 * A causal LM over onnxruntime-node: the only module that runs ONNX sessions. It reads the layer
 * count from the graph's past_key_values.* inputs and the KV shape from their metadata (config.json
 * only fills in what the graph leaves symbolic), validates every feed against session.inputNames,
 * and maps present.* outputs back into the KvCache it owns.
 */
import * as ort from "onnxruntime-node";
import { KvCache, type KvShape } from "./kv-cache";
import { readModelFolder, type ModelFolder, type ModelId } from "./model-folder";

export interface RuntimeOptions {
  /** Intra-op threads per session; 0 lets onnxruntime decide. */
  threads?: number;
  /** onnxruntime execution provider, e.g. "cpu" (default) or "cuda" where the binary has it. */
  executionProvider?: string;
}

/**
 * Intra-op workers spin-wait for work between kernels by default. With two sessions (target and draft)
 * taking turns on the same cores, the idle one's spinners steal the cores from the busy one (measured
 * with 2 threads on 2 cores: a draft-model step took 15.4 ms with spinning, 10.5 ms without), so
 * spinning is off. It costs single-model decoding with several threads some speed (off: 3.4 ms a
 * token with spinning, 4.5 ms without); with one thread, the bench's setting, there are no workers.
 */
const SESSION_EXTRA = { session: { intra_op: { allow_spinning: "0" } } };

/** What decides a session's numerics, recorded with every request (speclens.runtime). */
export interface SessionRuntime {
  onnxruntimeVersion: string;
  executionProvider: string;
  /** Intra-op threads as configured; 0 lets onnxruntime decide. */
  threads: number;
  interOpThreads: number;
  graphOptimizationLevel: string;
  allowSpinning: boolean;
}

export interface ForwardResult {
  /** [batch, seq, vocab] */
  logits: Float32Array;
  batch: number;
  seq: number;
}

const REQUIRED_INPUTS = ["input_ids", "attention_mask"];

export class CausalLM {
  private constructor(
    readonly folder: ModelFolder,
    private readonly session: ort.InferenceSession,
    readonly kvShape: KvShape,
    readonly vocabSize: number,
    private readonly hasPositionIds: boolean,
  ) {}

  static async load(dir: string, options: RuntimeOptions = {}): Promise<CausalLM> {
    const folder = await readModelFolder(dir);
    const sessionOptions = {
      executionProviders: [options.executionProvider ?? "cpu"],
      intraOpNumThreads: options.threads ?? 0,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all" as const,
      extra: SESSION_EXTRA,
    };
    const session = await ort.InferenceSession.create(folder.onnxPath, sessionOptions);
    for (const name of REQUIRED_INPUTS) {
      if (!session.inputNames.includes(name)) throw new Error(`${folder.onnxPath}: graph has no input ${name}`);
    }
    const pastKeys = session.inputNames.filter((n) => /^past_key_values\.\d+\.key$/.test(n));
    if (pastKeys.length === 0) throw new Error(`${folder.onnxPath}: graph has no past_key_values inputs (export with past)`);
    const meta = session.inputMetadata.find((m) => m.name === "past_key_values.0.key");
    const dim = (i: number, fallback: number | undefined): number => {
      const d = meta && meta.isTensor ? meta.shape[i] : undefined;
      if (typeof d === "number") return d;
      if (fallback === undefined) throw new Error(`${folder.onnxPath}: cannot infer KV dimension ${i}`);
      return fallback;
    };
    const c = folder.config;
    const kvShape: KvShape = {
      numLayers: pastKeys.length,
      kvHeads: dim(1, c.num_key_value_heads ?? c.num_attention_heads),
      headDim: dim(3, c.head_dim ?? c.hidden_size / c.num_attention_heads),
    };
    const model = new CausalLM(folder, session, kvShape, c.vocab_size, session.inputNames.includes("position_ids"));
    model.runtime = {
      onnxruntimeVersion: ort.env.versions?.node ?? ort.env.versions?.common ?? "unknown",
      executionProvider: sessionOptions.executionProviders[0],
      threads: sessionOptions.intraOpNumThreads,
      interOpThreads: sessionOptions.interOpNumThreads,
      graphOptimizationLevel: sessionOptions.graphOptimizationLevel,
      allowSpinning: SESSION_EXTRA.session.intra_op.allow_spinning !== "0",
    };
    return model;
  }

  /** The session's runtime identity (set by load). */
  runtime!: SessionRuntime;

  get id(): ModelId {
    return this.folder.id;
  }

  get maxPositions(): number {
    return this.folder.config.max_position_embeddings;
  }

  emptyCache(batch = 1): KvCache {
    return KvCache.empty(this.kvShape, batch);
  }

  /**
   * Run `rows` (equal-length token rows, one per batch row of `cache`) at positions
   * positionStart.. and return the logits and the extended cache. The old cache is disposed.
   */
  async forward(rows: number[][], cache: KvCache, positionStart: number): Promise<{ out: ForwardResult; cache: KvCache }> {
    const batch = rows.length;
    const seq = rows[0].length;
    if (batch !== cache.batch) throw new Error(`forward: ${batch} rows for a cache of batch ${cache.batch}`);
    if (rows.some((r) => r.length !== seq)) throw new Error("forward: rows must have equal length");
    if (positionStart + seq > this.maxPositions) {
      throw new Error(`forward: position ${positionStart + seq} exceeds the model's ${this.maxPositions} positions`);
    }
    const total = cache.length + seq;
    const ids = new BigInt64Array(batch * seq);
    const positions = new BigInt64Array(batch * seq);
    for (let b = 0; b < batch; b++) {
      for (let s = 0; s < seq; s++) {
        ids[b * seq + s] = BigInt(rows[b][s]);
        positions[b * seq + s] = BigInt(positionStart + s);
      }
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, [batch, seq]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(batch * total).fill(1n), [batch, total]),
      ...cache.feeds(),
    };
    if (this.hasPositionIds) feeds.position_ids = new ort.Tensor("int64", positions, [batch, seq]);
    this.validateFeeds(feeds);

    const result = await this.session.run(feeds);
    const presents: ort.Tensor[] = [];
    for (let layer = 0; layer < this.kvShape.numLayers; layer++) {
      presents.push(result[`present.${layer}.key`], result[`present.${layer}.value`]);
    }
    cache.dispose();
    const logits = result.logits;
    return {
      out: { logits: logits.data as Float32Array, batch, seq },
      cache: KvCache.fromPresents(this.kvShape, presents),
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private validateFeeds(feeds: Record<string, ort.Tensor>): void {
    for (const name of this.session.inputNames) {
      if (!(name in feeds)) throw new Error(`${this.folder.id.name}: missing feed ${name}`);
    }
    for (const name of Object.keys(feeds)) {
      if (!this.session.inputNames.includes(name)) throw new Error(`${this.folder.id.name}: unexpected feed ${name}`);
    }
  }
}
