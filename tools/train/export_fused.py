"""Re-export a plain SpecLens model folder as a fused graph that onnxruntime's CPU provider runs in
about a sixth of the kernels: com.microsoft GroupQueryAttention (rotary inside, KV in BNSH),
SkipSimplifiedLayerNormalization, packed QKV and gate|up MatMuls, the tied embedding stored once.

The weights are read from the plain export's initializers (no torch checkpoint needed). The Optimum
decoder-with-past interface is kept, so the engine, transformers.js and Optimum tooling load the folder:
  inputs  input_ids [b, s] int64, attention_mask [b, past+s] int64, position_ids [b, s] int64,
          past_key_values.{i}.key/.value [b, kv_heads, past, head_dim] f32
  outputs logits [b, s, vocab] f32, present.{i}.key/.value [b, kv_heads, past+s, head_dim] f32
seqlens_k and total_sequence_length are derived from attention_mask inside the graph.

No input is added (onnxruntime-node cannot feed overridable initializers, and transformers.js feeds only
the Optimum names); two engine-only uses of the existing inputs, neutral for every other caller:
  attention_mask may have one row per input position ([seq, past+seq], batch 1) instead of one per batch
    row: it then masks per query position, which is how the engine verifies a token tree as one sequence
    (tree mask; position_ids carry each node's depth). Masked entries become a -1e9 additive bias on top
    of the kernel's causal mask. seqlens_k is total - 1 for every row (the engine never pads).
  position_ids longer than input_ids (--draft-loop graphs only): after the pass, greedily draft
    len(position_ids) - len(input_ids) further tokens inside the graph (an ONNX Loop: k tokens in one
    onnxruntime call). Extra outputs draft_tokens / draft_probs [1, 1 + steps] hold the argmax after the
    last input position and the tokens drafted after it, with their softmax probabilities, and
    draft_alt_tokens / draft_alt_probs the runner-up at each of those positions (where a tree forks); present.* then
    also holds every drafted token but the last (what feeding them one at a time would leave).
    The extra entries' values are not positions (the loop's positions follow the cache): the first one is a
    stop floor in units of 1e-4. The loop keeps a running estimate of the chance that the target accepts every
    token drafted so far, the product over them of 1 - r^2 / 2 (r: the runner-up's probability over the
    drafted token's, so two equal candidates count as a coin flip), and stops after the token that takes it
    below the floor; 0 drafts them all. draft_tokens is then shorter than 1 + steps.

Graphs without the drafting loop (targets) also return, per logits row, what greedy verification reads of it:
  logits_argmax [b, s] int64 (the first index on ties, as the engine's argmax) and logits_logsumexp [b, s] f32
  (log sum exp over the vocabulary), so the engine never runs a softmax over the vocabulary in JavaScript for
  a greedy step (a token's probability is exp(logit - logsumexp)). Other loaders ignore the extra outputs.
  tools/train/row_stats.py adds them to an existing export without touching its weights.

Usage: /usr/bin/python3 tools/train/export_fused.py --src models/NAME --out /work/artifacts/models/NAME [--draft-loop]
"""
import argparse
import hashlib
import json
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MS = "com.microsoft"
COPY_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json", "training.json"]


def read_plain(path: str, cfg: dict) -> dict:
    """Weights of the plain export by role: MatMuls in node order are q, k, v, o, gate/up, down per layer."""
    model = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    consumers = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    mats = [n for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in inits]
    n_layers = cfg["num_hidden_layers"]
    if len(mats) != 7 * n_layers + 1:
        raise SystemExit(f"{path}: expected {7 * n_layers + 1} weight MatMuls, found {len(mats)} (not a plain SpecLens export?)")
    layers = []
    for i in range(n_layers):
        q, k, v, o, a, b, down = mats[7 * i: 7 * i + 7]
        # SiLU is exported as x * sigmoid(x): the gate is the MatMul whose output feeds a Sigmoid.
        a_is_gate = any(c.op_type == "Sigmoid" for c in consumers.get(a.output[0], []))
        gate, up = (a, b) if a_is_gate else (b, a)
        w = lambda n: inits[n.input[1]]  # noqa: E731
        layers.append({
            "q": w(q), "k": w(k), "v": w(v), "o": w(o), "gate": w(gate), "up": w(up), "down": w(down),
            "ln_in": inits[f"model.layers.{i}.input_layernorm.weight"],
            "ln_post": inits[f"model.layers.{i}.post_attention_layernorm.weight"],
        })
    embed = inits["model.embed_tokens.weight"]
    lm_head = inits[mats[-1].input[1]]
    if not np.array_equal(embed.T, lm_head):
        raise SystemExit(f"{path}: lm_head is not the transposed embedding (untied weights are not supported)")
    return {"layers": layers, "embed": embed, "norm": inits["model.norm.weight"]}


class Builder:
    """Nodes and initializers of one graph; names are made unique with a counter."""

    def __init__(self, prefix=""):
        self.nodes, self.inits, self.prefix, self.count = [], [], prefix, 0

    def name(self, base: str) -> str:
        self.count += 1
        return f"{self.prefix}{base}_{self.count}"

    def node(self, op, inputs, n_out=1, domain="", outputs=None, **attrs):
        outs = outputs or [self.name(op) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=self.name(op + "_node"), domain=domain, **attrs))
        return outs if len(outs) > 1 else outs[0]

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name


def weight_matmul(b: Builder, x: str, weight: str, quant: dict | None) -> str:
    """x @ W for a [K, N] weight; MatMulNBits when the weight was quantised (tools/train/quantize.py)."""
    if quant and weight in quant:
        q = quant[weight]
        return b.node("MatMulNBits", [x, q["b"], q["scales"], q["zero_points"]], domain=MS,
                      K=q["K"], N=q["N"], bits=q["bits"], block_size=q["block_size"], accuracy_level=q.get("accuracy_level", 4))
    return b.node("MatMul", [x, weight])


def decoder(b: Builder, cfg: dict, ids: str, pasts: list, seqlens: str, total: str, presents: list | None,
            position_ids: str | None, bias: str | None, quant: dict | None) -> str:
    """Emit the decoder over `ids` [b, s]; returns the logits name. Weights are the W.* initializers."""
    n_layers, eps = cfg["num_hidden_layers"], float(cfg["rms_norm_eps"])
    x = b.node("Gather", ["W.embed", ids])
    normed = b.node("SimplifiedLayerNormalization", [x, "W.0.ln_in"], epsilon=eps, axis=-1, stash_type=1)
    residual = x
    for i in range(n_layers):
        qkv = weight_matmul(b, normed, f"W.{i}.qkv", quant)
        gqa_in = [qkv, "", "", pasts[2 * i], pasts[2 * i + 1], seqlens, total, "W.cos", "W.sin"]
        if position_ids or bias:
            gqa_in += [position_ids or "", bias or ""]
        outs = presents[2 * i: 2 * i + 2] if presents else [b.name("pk"), b.name("pv")]
        attn = b.name("attn")
        b.node("GroupQueryAttention", gqa_in, domain=MS, outputs=[attn, *outs],
               num_heads=cfg["num_attention_heads"], kv_num_heads=cfg["num_key_value_heads"], do_rotary=1,
               rotary_interleaved=0, local_window_size=-1)
        o = weight_matmul(b, attn, f"W.{i}.o", quant)
        normed, _, _, residual = b.node("SkipSimplifiedLayerNormalization", [o, residual, f"W.{i}.ln_post"], n_out=4,
                                        domain=MS, epsilon=eps)
        gu = weight_matmul(b, normed, f"W.{i}.gate_up", quant)
        gate, up = b.node("Split", [gu], n_out=2, axis=-1)
        act = b.node("Mul", [b.node("Mul", [gate, b.node("Sigmoid", [gate])]), up])
        down = weight_matmul(b, act, f"W.{i}.down", quant)
        next_ln = f"W.{i + 1}.ln_in" if i + 1 < n_layers else "W.norm"
        normed, _, _, residual = b.node("SkipSimplifiedLayerNormalization", [down, residual, next_ln], n_out=4,
                                        domain=MS, epsilon=eps)
    # The tied embedding is stored once: onnxruntime folds this Transpose at load time.
    return weight_matmul(b, normed, "W.lm_head", quant) if quant and "W.lm_head" in quant else b.node(
        "MatMul", [normed, b.node("Transpose", ["W.embed"], perm=[1, 0])])


def weights(b: Builder, w: dict, cfg: dict) -> None:
    hd, max_pos = cfg["head_dim"], cfg["max_position_embeddings"]
    b.const("W.embed", w["embed"].astype(np.float32))
    b.const("W.norm", w["norm"].astype(np.float32))
    for i, L in enumerate(w["layers"]):
        b.const(f"W.{i}.ln_in", L["ln_in"])
        b.const(f"W.{i}.ln_post", L["ln_post"])
        b.const(f"W.{i}.qkv", np.concatenate([L["q"], L["k"], L["v"]], axis=1))
        b.const(f"W.{i}.o", L["o"])
        b.const(f"W.{i}.gate_up", np.concatenate([L["gate"], L["up"]], axis=1))
        b.const(f"W.{i}.down", L["down"])
    # Same arithmetic as the torch model: float32 positions times float32 inverse frequencies.
    inv_freq = (1.0 / (float(cfg["rope_theta"]) ** (np.arange(0, hd, 2, dtype=np.float32) / hd))).astype(np.float32)
    freqs = np.arange(max_pos, dtype=np.float32)[:, None] * inv_freq[None, :]
    b.const("W.cos", np.cos(freqs).astype(np.float32))
    b.const("W.sin", np.sin(freqs).astype(np.float32))


def top_two(b: Builder, logits_last: str, outputs: list | None = None) -> tuple:
    """[1, vocab] logits -> (probabilities [1, 2], tokens [1, 2]) of the two most probable tokens, by softmax
    probability, the drafted token first. Ties go to the lower id, as the engine's argmax."""
    probs = b.node("Softmax", [logits_last], axis=-1)
    return b.node("TopK", [probs, b.const(b.name("k2"), np.array([2], np.int64))], n_out=2, axis=-1, outputs=outputs)


def first_column(b: Builder, pair: str, output: str | None = None) -> str:
    """[1, 2] -> [1, 1]: the drafted token of a top_two pair (the loop feeds it next)."""
    return b.node("Slice", [pair, b.const(b.name("c0"), np.array([0], np.int64)), b.const(b.name("c1"), np.array([1], np.int64)),
                            b.const(b.name("ca"), np.array([1], np.int64))], outputs=[output] if output else None)


def acceptance_estimate(b: Builder, top_probs: str, running: str | None, output: str | None = None) -> str:
    """[1, 1] the chance that every drafted token is accepted, estimated as the product over them of
    1 - r^2 / 2 with r = runner-up probability / drafted token's (engine/proposers/draft-stop.ts)."""
    first, second = b.node("Split", [top_probs], n_out=2, axis=-1)
    r = b.node("Div", [second, first])
    factor = b.node("Sub", [b.const(b.name("one_e"), np.array([[1]], np.float32)),
                            b.node("Mul", [b.node("Mul", [r, r]), b.const(b.name("half_e"), np.array([[0.5]], np.float32))])],
                    outputs=[output] if output and running is None else None)
    return factor if running is None else b.node("Mul", [running, factor], outputs=[output] if output else None)


def keep_drafting(b: Builder, estimate: str, floor: str, output: str | None = None, any_batch: bool = False) -> str:
    """The Loop's scalar condition: the estimate has not fallen below the floor. The first pass may run
    batch rows (which never draft): `any_batch` reads row 0 instead of squeezing a [1, 1] estimate."""
    keep = b.node("GreaterOrEqual", [estimate, floor])
    if any_batch:
        return b.node("Gather", [b.node("Reshape", [keep, b.const(b.name("flat_c"), np.array([-1], np.int64))]),
                                 b.const(b.name("row0_c"), np.array(0, np.int64))], outputs=[output] if output else None)
    return b.node("Squeeze", [keep, b.const(b.name("sq_c"), np.array([0, 1], np.int64))], outputs=[output] if output else None)


ROW_STATS_OUTPUTS = ["logits_argmax", "logits_logsumexp"]


def row_stats(b: Builder, logits: str) -> list:
    """logits [b, s, vocab] -> outputs logits_argmax [b, s] int64 and logits_logsumexp [b, s] f32; returns their
    value infos. The log-sum-exp is spelled out (max, Exp, ReduceSum, Log): onnxruntime's CPU ReduceLogSumExp
    measured ~20 us a 4096-token row against ~3 us for this form (and ~65-90 us for a softmax in JavaScript)."""
    axis = b.const(b.name("rs_axis"), np.array([-1], np.int64))
    peak = b.node("ReduceMax", [logits], axes=[-1], keepdims=1)
    total = b.node("ReduceSum", [b.node("Exp", [b.node("Sub", [logits, peak])]), axis], keepdims=1)
    b.node("Squeeze", [b.node("Add", [b.node("Log", [total]), peak]), axis], outputs=["logits_logsumexp"])
    b.node("ArgMax", [logits], outputs=["logits_argmax"], axis=-1, keepdims=0, select_last_index=0)
    return [helper.make_tensor_value_info("logits_argmax", TensorProto.INT64, ["batch_size", "sequence_length"]),
            helper.make_tensor_value_info("logits_logsumexp", TensorProto.FLOAT, ["batch_size", "sequence_length"])]


def last_position(b: Builder, logits: str) -> str:
    """[1, s, vocab] -> [1, vocab] at the last position."""
    sl = b.node("Slice", [logits, b.const(b.name("s0"), np.array([-1], np.int64)), b.const(b.name("s1"), np.array([2**62], np.int64)),
                          b.const(b.name("ax"), np.array([1], np.int64))])
    return b.node("Squeeze", [sl, b.const(b.name("sq"), np.array([1], np.int64))])


def loop_body(cfg: dict, quant: dict | None) -> onnx.GraphProto:
    """One greedy draft step: feed the carried token, pick the next; KV and the acceptance estimate carried
    through. Reads the outer graph's draft_stop_floor, loop_base_seqlens and loop_base_total. Kept to the
    decoder's kernels plus a dozen small ones: every kernel here runs once per drafted token."""
    b = Builder("loop/")
    n, kvh, hd, vocab = cfg["num_hidden_layers"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["vocab_size"]
    kv_in = [f"loop_past.{i}.{kv}" for i in range(n) for kv in ("key", "value")]
    kv_out = [f"loop_present.{i}.{kv}" for i in range(n) for kv in ("key", "value")]
    # Iteration i feeds one token after the first pass's total + i positions.
    i32 = b.node("Cast", ["loop_iter"], to=TensorProto.INT32)
    seqlens = b.node("Add", ["loop_base_seqlens", i32])
    total = b.node("Add", ["loop_base_total", i32])
    logits = decoder(b, cfg, "loop_token", kv_in, seqlens, total, kv_out, None, None, quant)
    flat = b.node("Reshape", [logits, b.const("loop/shape1v", np.array([1, vocab], np.int64))])
    top_two(b, flat, outputs=["loop_scan_probs", "loop_scan_tokens"])
    first_column(b, "loop_scan_tokens", "loop_token_out")
    acceptance_estimate(b, "loop_scan_probs", "loop_estimate", "loop_estimate_out")
    keep_drafting(b, "loop_estimate_out", "draft_stop_floor", "loop_cond_out")
    kv_t = lambda name, dim: helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, kvh, dim, hd])  # noqa: E731
    inputs = [helper.make_tensor_value_info("loop_iter", TensorProto.INT64, []),
              helper.make_tensor_value_info("loop_cond", TensorProto.BOOL, []),
              helper.make_tensor_value_info("loop_token", TensorProto.INT64, [1, 1]),
              helper.make_tensor_value_info("loop_estimate", TensorProto.FLOAT, [1, 1]),
              *[kv_t(name, "past") for name in kv_in]]
    outputs = [helper.make_tensor_value_info("loop_cond_out", TensorProto.BOOL, []),
               helper.make_tensor_value_info("loop_token_out", TensorProto.INT64, [1, 1]),
               helper.make_tensor_value_info("loop_estimate_out", TensorProto.FLOAT, [1, 1]),
               *[kv_t(name, "total") for name in kv_out],
               helper.make_tensor_value_info("loop_scan_tokens", TensorProto.INT64, [1, 2]),
               helper.make_tensor_value_info("loop_scan_probs", TensorProto.FLOAT, [1, 2])]
    return helper.make_graph(b.nodes, "draft_step", inputs, outputs, initializer=b.inits)


def build(w: dict, cfg: dict, draft_loop: bool, quant: dict | None = None) -> onnx.ModelProto:
    b = Builder()
    weights(b, w, cfg)
    if quant:
        # Quantised weights replace their float initializers (the embedding stays float for Gather).
        b.inits = [i for i in b.inits if i.name not in quant or i.name == "W.embed"]
        for q in quant.values():
            for key in ("b", "scales", "zero_points"):
                b.inits.append(numpy_helper.from_array(q[key + "_array"], q[key]))
    n, kvh, hd, vocab = cfg["num_hidden_layers"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["vocab_size"]
    past = [f"past_key_values.{i}.{kv}" for i in range(n) for kv in ("key", "value")]
    present = [f"present.{i}.{kv}" for i in range(n) for kv in ("key", "value")]
    first_present = [f"first_present.{i}.{kv}" for i in range(n) for kv in ("key", "value")] if draft_loop else present

    shape_ids = b.node("Shape", ["input_ids"])
    shape_mask = b.node("Shape", ["attention_mask"])
    batch = b.node("Gather", [shape_ids, b.const("idx0", np.array([0], np.int64))])
    seq = b.node("Gather", [shape_ids, b.const("idx1", np.array([1], np.int64))])
    rows = b.node("Gather", [shape_mask, b.const("idx0b", np.array([0], np.int64))])
    total64 = b.node("Gather", [shape_mask, b.const("idx1b", np.array([1], np.int64))])
    total = b.node("Cast", [b.node("Squeeze", [total64, b.const("sq0", np.array([0], np.int64))])], to=TensorProto.INT32)
    # Every row holds total positions (the engine never pads): seqlens_k = total - 1 per batch row.
    seqlens = b.node("Expand", [b.node("Sub", [total, b.const("one32", np.array(1, np.int32))]),
                                b.node("Cast", [batch], to=TensorProto.INT64)])
    # attention_mask [batch, total] (Optimum) or, from the engine for a token tree, [seq, total] with batch 1:
    # one mask row per input position. Either way it becomes an additive bias [batch, 1, seq, total]
    # (0 where attended, -1e9 where masked) on top of the kernel's causal mask.
    neg = b.node("Mul", [b.node("Sub", [b.node("Cast", ["attention_mask"], to=TensorProto.FLOAT), b.const("onef", np.array(1, np.float32))]),
                         b.const("big", np.array(1e9, np.float32))])
    per_batch = b.node("Div", [rows, batch])
    bias4 = b.node("Reshape", [neg, b.node("Concat", [batch, b.const("one_i", np.array([1], np.int64)), per_batch, total64], axis=0)])
    bias = b.node("Expand", [bias4, b.node("Concat", [batch, b.const("one_j", np.array([1], np.int64)), seq, total64], axis=0)])
    positions = "position_ids"
    draft_steps = None
    if draft_loop:
        # position_ids longer than input_ids asks for greedy drafting of that many further tokens.
        positions = b.node("Slice", ["position_ids", b.const("zero_s", np.array([0], np.int64)), seq, b.const("ax1s", np.array([1], np.int64))])
        n_pos = b.node("Gather", [b.node("Shape", ["position_ids"]), b.const("idx1p", np.array([1], np.int64))])
        draft_steps = b.node("Squeeze", [b.node("Sub", [n_pos, seq]), b.const("sq0b", np.array([0], np.int64))])
        # The first extra entry is the stop floor (x 1e-4); none when no drafting was asked for.
        extra = b.node("Reshape", [b.node("Slice", ["position_ids", seq, b.node("Add", [seq, b.const("one_p", np.array([1], np.int64))]),
                                                    b.const("ax1f", np.array([1], np.int64))]), b.const("flat_f", np.array([-1], np.int64))])
        floor_units = b.node("Gather", [b.node("Concat", [extra, b.const("zero_f", np.array([0], np.int64))], axis=0),
                                        b.const("idx0f", np.array([0], np.int64))])
        b.node("Mul", [b.node("Cast", [floor_units], to=TensorProto.FLOAT), b.const("unit_f", np.array([1e-4], np.float32))],
               outputs=["draft_stop_floor"])
    logits = decoder(b, cfg, "input_ids", past, seqlens, total, first_present, positions, bias, quant)
    b.node("Identity", [logits], outputs=["logits"])

    extra_outputs = []
    if draft_loop:
        head_probs, head_tokens = top_two(b, last_position(b, "logits"))
        estimate = acceptance_estimate(b, head_probs, None)
        b.node("Reshape", [total, b.const("shape1_t", np.array([1], np.int64))], outputs=["loop_base_seqlens"])
        b.node("Add", [total, b.const("one32_t", np.array(1, np.int32))], outputs=["loop_base_total"])
        scans = [b.name("scan_tokens"), b.name("scan_probs")]
        b.node("Loop", [draft_steps, keep_drafting(b, estimate, "draft_stop_floor", any_batch=True), first_column(b, head_tokens), estimate, *first_present],
               outputs=[b.name("last_token"), b.name("last_estimate"), *present, *scans], body=loop_body(cfg, quant))
        # [1 + drafted, 2] pairs -> [2, 1 + drafted] -> the drafted tokens' row and the runner-ups' row.
        for head, scan, names, dtype in ((head_tokens, scans[0], ["draft_tokens", "draft_alt_tokens"], TensorProto.INT64),
                                         (head_probs, scans[1], ["draft_probs", "draft_alt_probs"], TensorProto.FLOAT)):
            pairs = b.node("Concat", [head, b.node("Reshape", [scan, b.const(b.name("pairs"), np.array([-1, 2], np.int64))])], axis=0)
            b.node("Split", [b.node("Transpose", [pairs], perm=[1, 0])], outputs=names, axis=0)
            extra_outputs += [helper.make_tensor_value_info(name, dtype, [1, "draft_count"]) for name in names]
    else:
        extra_outputs += row_stats(b, "logits")

    kv = lambda name, dim: helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch_size", kvh, dim, hd])  # noqa: E731
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", "total_sequence_length"]),
              helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch_size", "position_length"]),
              *[kv(p, "past_sequence_length") for p in past]]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", "sequence_length", vocab]),
               *[kv(p, "total_sequence_length") for p in present], *extra_outputs]
    graph = helper.make_graph(b.nodes, "speclens_fused", inputs, outputs, initializer=b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS, 1)],
                              producer_name="speclens-export-fused")
    model.ir_version = 8
    return model


def graph_config(draft_loop: bool, **extra) -> dict:
    """config.json's speclens_graph for a graph of build(): what the engine may use beyond the Optimum interface
    (other loaders ignore the key). `extra` entries (e.g. quantization) come before the feature flag."""
    return {"format": "fused", "tree_mask": True, "draft_loop": bool(draft_loop), **extra,
            ("draft_stop" if draft_loop else "row_stats"): True}


def save_model(model: onnx.ModelProto, src: str, out: str) -> None:
    """Write `out`/model.onnx and copy the source folder's tokenizer and generation files beside it
    (config.json is the caller's: write_config_and_report)."""
    os.makedirs(out, exist_ok=True)
    onnx.save(model, os.path.join(out, "model.onnx"))
    for name in COPY_FILES:
        if name != "config.json" and os.path.exists(os.path.join(src, name)):
            shutil.copyfile(os.path.join(src, name), os.path.join(out, name))


def write_config_and_report(folder: str, cfg: dict, model: onnx.ModelProto) -> None:
    """Write the folder's config.json and print its model.onnx's node count, size and sha256."""
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    path = os.path.join(folder, "model.onnx")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(f"{path}: {len(model.graph.node)} nodes, {os.path.getsize(path) / 1e6:.1f} MB, sha256 {digest}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="plain model folder (model.onnx from tools/train/export.py)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--draft-loop", action="store_true", help="add the in-graph greedy drafting loop (draft models)")
    args = ap.parse_args()
    with open(os.path.join(args.src, "config.json")) as f:
        cfg = json.load(f)
    w = read_plain(os.path.join(args.src, "model.onnx"), cfg)
    model = build(w, cfg, args.draft_loop)
    save_model(model, args.src, args.out)
    cfg["speclens_graph"] = graph_config(args.draft_loop)
    write_config_and_report(args.out, cfg, model)


if __name__ == "__main__":
    main()
