"""Recover a training checkpoint from a shipped model folder (the fused export's weights).

The shipped folders hold only model.onnx; the torch checkpoints of the training run live in the
git-ignored tools/.cache/ of whoever trained them. This reads the fused graph's W.* initializers
(tools/train/export_fused.py: packed q|k|v and gate|up MatMul weights, stored [in, out]) back into
the torch module of model.py, so a model can be fine-tuned further (e.g. more distillation of the
draft) or re-exported: `export.py` then `export_fused.py` of the recovered checkpoint give back every
weight initializer of the folder's model.onnx bit for bit (the rotary cos/sin tables are recomputed by
numpy and may differ in the last bit from another machine's).

  python3 tools/train/from_onnx.py --model models/speclens-brown-20m --out tools/.cache/target/best.pt
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from model import LlamaLM, ModelConfig  # noqa: E402


def model_config(hf: dict) -> ModelConfig:
    cfg = ModelConfig(vocab_size=hf["vocab_size"], hidden_size=hf["hidden_size"], intermediate_size=hf["intermediate_size"],
                      num_hidden_layers=hf["num_hidden_layers"], num_attention_heads=hf["num_attention_heads"],
                      num_key_value_heads=hf["num_key_value_heads"], max_position_embeddings=hf["max_position_embeddings"],
                      rope_theta=hf["rope_theta"], rms_norm_eps=hf["rms_norm_eps"])
    if cfg.head_dim != hf["head_dim"]:
        raise SystemExit(f"head_dim {hf['head_dim']} is not hidden_size / num_attention_heads")
    return cfg


def recover(folder: str) -> tuple[ModelConfig, dict]:
    with open(os.path.join(folder, "config.json")) as f:
        hf = json.load(f)
    if hf.get("speclens_graph", {}).get("format") != "fused":
        raise SystemExit(f"{folder}: not a fused SpecLens export (config.json speclens_graph.format)")
    cfg = model_config(hf)
    graph = onnx.load(os.path.join(folder, "model.onnx")).graph
    w = {i.name: numpy_helper.to_array(i) for i in graph.initializer if i.name.startswith("W.")}
    t = lambda a: torch.from_numpy(np.array(a, copy=True))  # noqa: E731
    q_out, kv_out = cfg.num_attention_heads * cfg.head_dim, cfg.num_key_value_heads * cfg.head_dim
    state = {"embed_tokens.weight": t(w["W.embed"]), "norm.weight": t(w["W.norm"])}
    for i in range(cfg.num_hidden_layers):
        qkv, gate_up = w[f"W.{i}.qkv"], w[f"W.{i}.gate_up"]
        q, k, v = np.split(qkv, [q_out, q_out + kv_out], axis=1)
        gate, up = np.split(gate_up, [cfg.intermediate_size], axis=1)
        p = f"layers.{i}."
        state.update({
            p + "input_layernorm.weight": t(w[f"W.{i}.ln_in"]),
            p + "post_attention_layernorm.weight": t(w[f"W.{i}.ln_post"]),
            # ONNX MatMul weights are [in, out]; torch Linear weights are [out, in].
            p + "self_attn.q_proj.weight": t(q.T), p + "self_attn.k_proj.weight": t(k.T),
            p + "self_attn.v_proj.weight": t(v.T), p + "self_attn.o_proj.weight": t(w[f"W.{i}.o"].T),
            p + "gate_proj.weight": t(gate.T), p + "up_proj.weight": t(up.T), p + "down_proj.weight": t(w[f"W.{i}.down"].T),
        })
    return cfg, state


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="a shipped fused model folder")
    ap.add_argument("--out", required=True, help="checkpoint path (.pt), train.py / export.py format")
    args = ap.parse_args()
    cfg, state = recover(args.model)
    model = LlamaLM(cfg)
    model.load_state_dict(state)  # strict: every parameter recovered, nothing left over
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    # The folder's training.json (when present) carries the run's position, so a resumed phase continues
    # the step count and the phase history instead of starting them again.
    history = {}
    training_path = os.path.join(args.model, "training.json")
    if os.path.exists(training_path):
        with open(training_path) as f:
            training = json.load(f)
        history = {k: training[k] for k in ("step", "tokens", "elapsed_s", "phases") if training.get(k) is not None}
    torch.save({"config": cfg.to_dict(), "model": model.state_dict(), "step": 0, "tokens": 0, "elapsed_s": 0.0,
                **history, "recovered_from": args.model}, args.out)
    print(f"{args.out}: {model.num_parameters():,} parameters from {args.model}")


if __name__ == "__main__":
    main()
