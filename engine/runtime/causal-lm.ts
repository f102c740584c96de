/**
 * A causal LM over onnxruntime-node: the only module that runs ONNX sessions. It reads the layer
 * count from the graph's past_key_values.* inputs and the KV shape from their metadata (config.json
 * only fills in what the graph leaves symbolic), validates every feed against session.inputNames,
 * and maps present.* outputs back into the KvCache it owns.
 */
import * as ort from "onnxruntime-node";
import type { RowStats } from "../sampling";
import { KvCache, type KvShape } from "./kv-cache";
import { readModelFolder, type ModelFolder, type ModelId } from "./model-folder";

export interface RuntimeOptions {
  /** Intra-op threads per session; 0 lets onnxruntime decide. */
  threads?: number;
  /**
   * Whether intra-op workers spin-wait between kernels (onnxruntime's default). Only a session with
   * more than one thread has workers; the engine spins the target's and runs the draft on one thread
   * (engine.ts DEFAULT_SESSIONS has the measurements).
   */
  spinning?: boolean;
  /**
   * With spinning: stop the workers spinning at the end of every run (session.force_spinning_stop), so
   * kernels within a pass dispatch to hot workers but the idle session does not hold cores while the
   * other model runs. Default false: measured 2-3x slower passes on a 2-core host.
   */
  stopSpinningAfterRun?: boolean;
  /**
   * With spinning: how long an idle worker spins before it sleeps (session.intra_op.spin_duration_us;
   * undefined keeps onnxruntime's default). Short enough and the workers still spin across the gaps
   * between one pass's kernels but are asleep by the time the other model runs.
   */
  spinDurationUs?: number;
  /**
   * onnxruntime's memory pattern (enableMemPattern, its default and ours): plans a run's allocations from
   * the previous run of the same input shapes. Decoding changes the KV length on every pass; turning it
   * off made bare target passes on a growing cache cheaper (2.31-2.51 against 2.55-2.98 ms) but not the
   * engine (docs/engine-performance.md, item 10), so it stays on. SPECLENS_MEM_PATTERN=0 turns it off.
   */
  memoryPattern?: boolean;
  /** onnxruntime execution provider, e.g. "cpu" (default) or "cuda" where the binary has it. */
  executionProvider?: string;
  /** Write onnxruntime's per-node profile (JSON) with this file prefix (bench:profile). */
  profilePrefix?: string;
}

/** What a graph can do beyond the Optimum interface, from config.json's speclens_graph (export_fused.py). */
export interface GraphFeatures {
  /** "fused" graphs run GroupQueryAttention, which refuses multi-token steps with a past on batch > 1. */
  format: "plain" | "fused";
  /** attention_mask may carry one row per input position (a tree mask), positions from position_ids. */
  treeMask: boolean;
  /** position_ids longer than input_ids drafts that many further greedy tokens inside the graph. */
  draftLoop: boolean;
  /** The drafting loop stops early at a floor on its acceptance estimate (the first extra position_ids entry). */
  draftStop: boolean;
  /** Outputs logits_argmax and logits_logsumexp: each logits row's argmax and log Σ exp (ForwardResult.stats). */
  rowStats: boolean;
}

export interface DraftLoopResult {
  /** [1 + drafted] the argmax after the last fed token, then each further greedy token (steps of them, fewer when the loop stopped early). */
  tokens: number[];
  /** Their softmax probabilities. */
  probs: number[];
  /** The runner-up token at each of those positions and its probability (empty for graphs without them). */
  alts: number[];
  altProbs: number[];
  /** [1, fed, vocab] logits of the fed positions. */
  logits: Float32Array;
}

/** What decides a session's numerics, recorded with every request (speclens.runtime). */
export interface SessionRuntime {
  onnxruntimeVersion: string;
  executionProvider: string;
  /** Intra-op threads as configured; 0 lets onnxruntime decide. */
  threads: number;
  interOpThreads: number;
  graphOptimizationLevel: string;
  allowSpinning: boolean;
  /** onnxruntime's memory pattern (RuntimeOptions.memoryPattern); absent in records made before it was set. */
  memoryPattern?: boolean;
  /** "plain" or "fused" export (+draft-loop when the graph drafts in one call). */
  graph: string;
}

export interface ForwardResult {
  /** [batch, seq, vocab] */
  logits: Float32Array;
  batch: number;
  seq: number;
  /** Per logits row, its argmax and log Σ exp, from graphs with features.rowStats. */
  stats?: RowStats;
}

const REQUIRED_INPUTS = ["input_ids", "attention_mask"];

export class CausalLM {
  private constructor(
    readonly folder: ModelFolder,
    private readonly session: ort.InferenceSession,
    readonly kvShape: KvShape,
    readonly vocabSize: number,
    private readonly hasPositionIds: boolean,
    readonly features: GraphFeatures,
    readonly settings: { threads: number; spinning: boolean; stopSpinningAfterRun: boolean; memoryPattern: boolean; spinDurationUs?: number },
  ) {}

  static async load(dir: string, options: RuntimeOptions = {}): Promise<CausalLM> {
    const folder = await readModelFolder(dir);
    const settings = {
      threads: options.threads ?? 0, spinning: options.spinning ?? false, stopSpinningAfterRun: options.stopSpinningAfterRun ?? false,
      memoryPattern: options.memoryPattern ?? true,
      ...(options.spinDurationUs !== undefined ? { spinDurationUs: options.spinDurationUs } : {}),
    };
    const sessionOptions = {
      executionProviders: [options.executionProvider ?? "cpu"],
      intraOpNumThreads: settings.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all" as const,
      enableMemPattern: settings.memoryPattern,
      logSeverityLevel: 3 as const,
      enableProfiling: options.profilePrefix !== undefined,
      profileFilePrefix: options.profilePrefix,
      extra: {
        session: {
          intra_op: {
            allow_spinning: settings.spinning ? "1" : "0",
            ...(settings.spinning && settings.spinDurationUs !== undefined ? { spin_duration_us: String(settings.spinDurationUs) } : {}),
          },
          ...(settings.spinning && settings.stopSpinningAfterRun ? { force_spinning_stop: "1" } : {}),
        },
      },
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
    const graph = (c as { speclens_graph?: { format?: string; tree_mask?: boolean; draft_loop?: boolean; draft_stop?: boolean } }).speclens_graph;
    const draftLoop = graph?.draft_loop === true && session.outputNames.includes("draft_tokens");
    const features: GraphFeatures = {
      format: graph?.format === "fused" ? "fused" : "plain",
      treeMask: graph?.tree_mask === true,
      draftLoop,
      draftStop: draftLoop && graph?.draft_stop === true,
      rowStats: session.outputNames.includes("logits_argmax") && session.outputNames.includes("logits_logsumexp"),
    };
    const model = new CausalLM(folder, session, kvShape, c.vocab_size, session.inputNames.includes("position_ids"), features, settings);
    model.runtime = {
      onnxruntimeVersion: ort.env.versions?.node ?? ort.env.versions?.common ?? "unknown",
      executionProvider: sessionOptions.executionProviders[0],
      threads: sessionOptions.intraOpNumThreads,
      interOpThreads: sessionOptions.interOpNumThreads,
      graphOptimizationLevel: sessionOptions.graphOptimizationLevel,
      allowSpinning: settings.spinning,
      memoryPattern: settings.memoryPattern,
      graph: features.format + (features.draftLoop ? "+draft-loop" : "") + (features.draftStop ? "+draft-stop" : "") + (features.rowStats ? "+row-stats" : ""),
    };
    return model;
  }

  /** Ends onnxruntime profiling (when loaded with profilePrefix); the profile file is written then. */
  endProfiling(): void {
    this.session.endProfiling();
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
    const mask = new ort.Tensor("int64", new BigInt64Array(batch * total).fill(1n), [batch, total]);
    const { result, cache: next } = await this.run(ids, [batch, seq], mask, positions, cache);
    return { out: { logits: result.logits.data as Float32Array, batch, seq, stats: this.rowStatsOf(result) }, cache: next };
  }

  /**
   * Run a token tree as one sequence (graphs with features.treeMask): tokens[i] sits at depth
   * depths[i] below positionStart and attends to the cache and to its ancestors (parents[i], -1 for a
   * root) and itself. Nodes come parent-first. Returns logits [1, n, vocab]; the cache gains all n
   * positions in this order (keep the accepted path with KvCache.keepPositions).
   */
  async forwardTree(tokens: number[], parents: number[], cache: KvCache, positionStart: number): Promise<{ out: ForwardResult; cache: KvCache }> {
    if (!this.features.treeMask) throw new Error(`${this.folder.id.name}: graph has no tree mask (re-export with tools/train/export_fused.py)`);
    if (cache.batch !== 1) throw new Error("forwardTree: the cache must have one row");
    const seq = tokens.length;
    const past = cache.length;
    const total = past + seq;
    const depths: number[] = [];
    const mask = new BigInt64Array(seq * total);
    for (let i = 0; i < seq; i++) {
      if (parents[i] >= i) throw new Error("forwardTree: nodes must come after their parents");
      depths.push(parents[i] < 0 ? 0 : depths[parents[i]] + 1);
      const row = i * total;
      mask.fill(1n, row, row + past);
      for (let j = i; j >= 0; j = parents[j]) mask[row + past + j] = 1n;
    }
    if (positionStart + Math.max(...depths) + 1 > this.maxPositions) {
      throw new Error(`forwardTree: position ${positionStart + Math.max(...depths) + 1} exceeds the model's ${this.maxPositions} positions`);
    }
    const ids = BigInt64Array.from(tokens, (t) => BigInt(t));
    const positions = BigInt64Array.from(depths, (d) => BigInt(positionStart + d));
    const { result, cache: next } = await this.run(ids, [1, seq], new ort.Tensor("int64", mask, [seq, total]), positions, cache);
    return { out: { logits: result.logits.data as Float32Array, batch: 1, seq, stats: this.rowStatsOf(result) }, cache: next };
  }

  /**
   * Feed `tokens` (one row) and draft `steps` further greedy tokens inside the graph, in one
   * onnxruntime call (graphs with features.draftLoop). The cache gains the fed tokens and every
   * drafted token but the last, exactly as feeding them one by one would leave it. With `stopFloor` > 0,
   * graphs with features.draftStop stop after the token that takes their acceptance estimate below it
   * (see engine/proposers/draft-stop.ts), so fewer than `steps` + 1 tokens may come back; other graphs
   * draft them all.
   */
  async draftGreedy(tokens: number[], cache: KvCache, positionStart: number, steps: number, stopFloor = 0): Promise<{ out: DraftLoopResult; cache: KvCache }> {
    if (!this.features.draftLoop) throw new Error(`${this.folder.id.name}: graph has no drafting loop (re-export with --draft-loop)`);
    if (cache.batch !== 1) throw new Error("draftGreedy: the cache must have one row");
    const seq = tokens.length;
    if (positionStart + seq + steps > this.maxPositions) {
      throw new Error(`draftGreedy: position ${positionStart + seq + steps} exceeds the model's ${this.maxPositions} positions`);
    }
    const total = cache.length + seq;
    const ids = BigInt64Array.from(tokens, (t) => BigInt(t));
    // The fed tokens' positions, then `steps` entries that only ask for drafting (the loop's positions
    // follow the cache); the first of them carries the stop floor in units of 1e-4 (export_fused.py).
    const positions = new BigInt64Array(seq + steps);
    for (let i = 0; i < seq; i++) positions[i] = BigInt(positionStart + i);
    if (steps > 0) positions[seq] = BigInt(Math.round(stopFloor * 10_000));
    const mask = new ort.Tensor("int64", new BigInt64Array(total).fill(1n), [1, total]);
    const { result, cache: next } = await this.run(ids, [1, seq], mask, positions, cache, seq + steps);
    const drafted = result.draft_tokens.data as BigInt64Array;
    return {
      out: {
        tokens: Array.from(drafted, Number),
        probs: Array.from(result.draft_probs.data as Float32Array),
        alts: result.draft_alt_tokens ? Array.from(result.draft_alt_tokens.data as BigInt64Array, Number) : [],
        altProbs: result.draft_alt_probs ? Array.from(result.draft_alt_probs.data as Float32Array) : [],
        logits: result.logits.data as Float32Array,
      },
      cache: next,
    };
  }

  private async run(
    ids: BigInt64Array, dims: [number, number], mask: ort.Tensor, positions: BigInt64Array, cache: KvCache, positionCount = dims[1],
  ): Promise<{ result: ort.InferenceSession.OnnxValueMapType; cache: KvCache }> {
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, dims),
      attention_mask: mask,
      ...cache.feeds(),
    };
    if (this.hasPositionIds) feeds.position_ids = new ort.Tensor("int64", positions, [dims[0], positionCount]);
    this.validateFeeds(feeds);
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await this.session.run(feeds);
    } catch (err) {
      const shapes = `input_ids [${dims.join(", ")}], attention_mask [${mask.dims.join(", ")}], past ${cache.length}`;
      throw new Error(`${this.folder.id.name}: ${(err as Error).message} (${shapes})`, { cause: err });
    }
    const presents: ort.Tensor[] = [];
    for (let layer = 0; layer < this.kvShape.numLayers; layer++) {
      presents.push(result[`present.${layer}.key`] as ort.Tensor, result[`present.${layer}.value`] as ort.Tensor);
    }
    cache.dispose();
    return { result, cache: KvCache.fromPresents(this.kvShape, presents) };
  }

  private rowStatsOf(result: ort.InferenceSession.OnnxValueMapType): RowStats | undefined {
    if (!this.features.rowStats) return undefined;
    return { argmax: result.logits_argmax.data as BigInt64Array, logSumExp: result.logits_logsumexp.data as Float32Array };
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
