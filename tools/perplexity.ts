/** Held-out perplexity and the card's graph description, shared by evaluate-pair.ts and evaluate-variant.ts. */
import type { CausalLM } from "../engine";

export const BLOCK = 512;

/** exp(mean next-token NLL) over `tokens` in BLOCK-token blocks, one full pass each. */
export async function perplexity(model: CausalLM, tokens: number[]): Promise<number> {
  const V = model.vocabSize;
  let nll = 0;
  let count = 0;
  for (let start = 0; start + 1 < tokens.length; start += BLOCK) {
    const block = tokens.slice(start, start + BLOCK + 1);
    const input = block.slice(0, -1);
    const { out, cache } = await model.forward([input], model.emptyCache(), 0);
    cache.dispose();
    for (let pos = 0; pos < input.length; pos++) {
      const o = pos * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, out.logits[o + v]);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(out.logits[o + v] - max);
      nll += Math.log(sum) + max - out.logits[o + block[pos + 1]];
      count++;
    }
  }
  return Math.exp(nll / count);
}

interface CardConfig {
  num_key_value_heads: number;
  head_dim: number;
  vocab_size: number;
  speclens_graph?: { format?: string; draft_loop?: boolean; draft_stop?: boolean; row_stats?: boolean; quantization?: { bits: number; block_size: number; accuracy_level: number; source: string } };
}

/** The card's "Files" paragraph for a plain, fused or quantised export. */
export function graphDescription(c: CardConfig): string {
  const layout = `The graph keeps the Optimum decoder-with-past interface, so onnxruntime, transformers.js and Optimum tooling load
the folder: inputs input_ids, attention_mask, position_ids and past_key_values.{i}.key/.value
[batch, ${c.num_key_value_heads}, past, ${c.head_dim}]; outputs logits [batch, seq, ${c.vocab_size}] and present.{i}.key/.value.`;
  const g = c.speclens_graph;
  if (g?.format !== "fused") {
    return `Hugging Face layout: config.json (model_type llama), generation_config.json, tokenizer.json,
tokenizer_config.json, model.onnx (opset 14, fp32), training.json (the training log).
${layout}`;
  }
  const q = g.quantization;
  const weights = q
    ? `weight-only ${q.bits}-bit quantisation of every projection and the LM head (com.microsoft MatMulNBits, blocks of ${q.block_size} along the input, a scale and a zero point per block, accuracy level ${q.accuracy_level}; the embedding lookup stays fp32), made from ${q.source} by tools/train/quantize.py`
    : "fp32";
  return `Hugging Face layout: config.json (model_type llama; its speclens_graph key tells the engine what the graph
can do), generation_config.json, tokenizer.json, tokenizer_config.json, model.onnx, training.json (the training log).
model.onnx is the fused export of tools/train/export_fused.py (opset 17 plus com.microsoft contrib operators
that onnxruntime's CPU provider runs: GroupQueryAttention with rotary embedding inside, SkipSimplifiedLayerNormalization,
packed QKV and gate|up projections, the tied embedding stored once), ${weights}.
${layout}
Engine-only uses of the same inputs: an attention_mask with one row per input position is a tree mask (a token
tree verified as one sequence)${g.draft_loop ? "; position_ids longer than input_ids draft that many further greedy tokens inside the graph (an ONNX Loop; outputs draft_tokens, draft_probs and the runner-ups' draft_alt_tokens, draft_alt_probs)" : ""}${g.draft_stop ? ", stopping early once the estimated chance that the target accepts every drafted token falls below the floor the first extra position_ids entry carries (x 1e-4; 0 drafts them all)" : ""}.${g.row_stats ? `
Two further outputs, which other loaders ignore: logits_argmax and logits_logsumexp [batch, seq], each logits row's argmax and
log-sum-exp, so the engine verifies a greedy step without a softmax over the vocabulary in JavaScript (tools/train/row_stats.py
adds them to an older export without changing its weights or logits).` : ""}`;
}
