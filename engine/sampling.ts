/**
 * Turning logits into the distribution we sample or verify against. The same transform is applied
 * to the draft's and the target's logits (temperature, then top-k, then top-p), which is what makes
 * speculative sampling lossless with respect to the *processed* target distribution.
 */
export interface SamplingParams {
  /** 0 means greedy (argmax); otherwise logits are divided by it. */
  temperature: number;
  /** Keep the k most likely tokens; 0 disables. */
  topK: number;
  /** Keep the smallest set of tokens whose mass reaches topP; 1 disables. */
  topP: number;
}

export const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1 };

export function argmax(values: ArrayLike<number>, offset = 0, length = values.length - offset): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = values[offset + i];
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/**
 * Softmax of one row of logits ([vocab], starting at `offset`) after temperature, top-k and top-p.
 * With temperature 0 the result is the plain softmax (used for reporting probabilities and for the
 * lossy confidence rule); the greedy decision itself is argmax. `banned` tokens get probability 0.
 */
export function processedProbs(
  logits: Float32Array,
  offset: number,
  vocab: number,
  params: SamplingParams,
  banned: readonly number[] = [],
): Float32Array {
  const scale = params.temperature > 0 ? 1 / params.temperature : 1;
  const probs = new Float32Array(vocab);
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) {
    const v = logits[offset + i] * scale;
    probs[i] = v;
    if (v > max) max = v;
  }
  if (banned.length > 0) {
    for (const t of banned) probs[t] = -Infinity;
    max = -Infinity;
    for (let i = 0; i < vocab; i++) if (probs[i] > max) max = probs[i];
  }
  let sum = 0;
  for (let i = 0; i < vocab; i++) {
    const e = Math.exp(probs[i] - max);
    probs[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < vocab; i++) probs[i] *= inv;
  // The plain softmax of this row: its normaliser is the row's log-sum-exp (logSoftmaxAt reuses it).
  if (scale === 1 && banned.length === 0) rememberLogSumExp(logits, offset, max + Math.log(sum));
  if (params.temperature > 0 && (params.topK > 0 || params.topP < 1)) truncate(probs, params);
  return probs;
}

/**
 * Zero out tokens outside top-k / top-p and renormalise, in place. The cut is found on a natively
 * sorted copy (a comparator sort of the vocabulary per position would cost more than the model);
 * tokens tied with the last kept probability are kept too.
 */
function truncate(probs: Float32Array, params: SamplingParams): void {
  const sorted = Float32Array.from(probs).sort().reverse();
  let cut = params.topK > 0 ? Math.min(params.topK, sorted.length) : sorted.length;
  if (params.topP < 1) {
    let mass = 0;
    for (let i = 0; i < cut; i++) {
      mass += sorted[i];
      if (mass >= params.topP) {
        cut = i + 1;
        break;
      }
    }
  }
  const threshold = sorted[cut - 1];
  let kept = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] < threshold) probs[i] = 0;
    else kept += probs[i];
  }
  for (let i = 0; i < probs.length; i++) probs[i] /= kept;
}

/** Inverse-CDF draw from a normalised distribution with the uniform `u` in [0, 1). */
export function sample(probs: Float32Array, u: number): number {
  let acc = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    acc += probs[i];
    last = i;
    if (u < acc) return i;
  }
  return last;
}

/**
 * log Σ exp per row, remembered per logits buffer: a step computes the softmax of a row (verifying)
 * and then the log-probabilities of the tokens it emits from the same row, and the second need not
 * pay for the vocabulary's exponentials again. Buffers come fresh from each forward pass and are never
 * written to, and the memo goes with its buffer.
 */
const lseMemo = new WeakMap<Float32Array, Map<number, number>>();

function rememberLogSumExp(logits: Float32Array, offset: number, lse: number): void {
  let rows = lseMemo.get(logits);
  if (!rows) lseMemo.set(logits, (rows = new Map()));
  rows.set(offset, lse);
}

/** log Σ exp over one row of logits. */
function logSumExp(logits: Float32Array, offset: number, vocab: number): number {
  const known = lseMemo.get(logits)?.get(offset);
  if (known !== undefined) return known;
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) if (logits[offset + i] > max) max = logits[offset + i];
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i] - max);
  const lse = max + Math.log(sum);
  rememberLogSumExp(logits, offset, lse);
  return lse;
}

/** The log-softmax of `token` in one row of logits. */
export function logSoftmaxAt(logits: Float32Array, offset: number, vocab: number, token: number): number {
  return logits[offset + token] - logSumExp(logits, offset, vocab);
}

/** The `n` most likely tokens of one row of logits with their log-softmax, most likely first. */
export function topLogSoftmax(logits: Float32Array, offset: number, vocab: number, n: number): { id: number; logprob: number }[] {
  const lse = logSumExp(logits, offset, vocab);
  const best: number[] = [];
  for (let i = 0; i < vocab; i++) {
    let pos = best.length;
    while (pos > 0 && logits[offset + best[pos - 1]] < logits[offset + i]) pos--;
    if (pos < n) {
      best.splice(pos, 0, i);
      if (best.length > n) best.pop();
    }
  }
  return best.map((id) => ({ id, logprob: logits[offset + id] - lse }));
}

/**
 * What a graph computed about its own logits rows (export_fused.py, outputs logits_argmax and
 * logits_logsumexp), indexed by row: logits row i starts at offset i * vocab.
 */
export interface RowStats {
  argmax: BigInt64Array;
  logSumExp: Float32Array;
}

/** What verification reads of the target's processed distribution at one position. */
export interface TargetRow {
  /** The most probable token, the lowest id on ties: greedy's choice. */
  argmax(): number;
  /** The processed probability of `token`. */
  prob(token: number): number;
  /** The whole processed distribution (sampled verification reads it). */
  dist(): Float32Array;
}

/** A TargetRow over a distribution already computed. */
export function rowOfDist(dist: Float32Array): TargetRow {
  let best = -1;
  return { argmax: () => (best >= 0 ? best : (best = argmax(dist))), prob: (token) => dist[token], dist: () => dist };
}

/**
 * The target's processed distribution at one row of logits, as verification reads it. A greedy row
 * (temperature 0, nothing banned) of a graph with row statistics never walks the vocabulary here: the
 * argmax and log Σ exp come from the graph and a token's probability is exp(logit - lse), so a greedy
 * step runs no softmax in JavaScript (~65-90 us a row otherwise). Every other row computes
 * processedProbs (verification asks for a row only when it reads it).
 */
export function targetRow(
  logits: Float32Array, offset: number, vocab: number, params: SamplingParams, banned: readonly number[], stats?: RowStats,
): TargetRow {
  if (stats && params.temperature === 0 && banned.length === 0) {
    const index = offset / vocab;
    const lse = stats.logSumExp[index];
    rememberLogSumExp(logits, offset, lse);
    let dist: Float32Array | null = null;
    return {
      argmax: () => Number(stats.argmax[index]),
      prob: (token) => Math.exp(logits[offset + token] - lse),
      dist: () => (dist ??= processedProbs(logits, offset, vocab, params, banned)),
    };
  }
  return rowOfDist(processedProbs(logits, offset, vocab, params, banned));
}
