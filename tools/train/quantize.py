"""Weight-only int8 (or int4) variant of a SpecLens model: the fused graph of export_fused.py with every
projection and the LM head as com.microsoft MatMulNBits (block-wise asymmetric quantisation along the
input dimension, one float scale and one uint8 zero point per block). The embedding lookup stays float.
A separate model folder with its own model_id: offered next to the fp32 model, never swapped in.

Usage: /usr/bin/python3 tools/train/quantize.py --src models/speclens-brown-20m \
         --out /work/artifacts/models/speclens-brown-20m-int8 [--bits 8 --block-size 32 --accuracy-level 4]
The card (README.md) is written by `npx tsx tools/evaluate-variant.ts --variant OUT`.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from export_fused import build, graph_config, read_plain, save_model, write_config_and_report  # noqa: E402


def quantize_weight(w: np.ndarray, name: str, bits: int, block: int, accuracy_level: int) -> dict:
    """w: [K, N] (x @ w). MatMulNBits stores B as [N, k_blocks, block * bits / 8] uint8."""
    k, n = w.shape
    k_blocks = (k + block - 1) // block
    wt = np.zeros((n, k_blocks * block), np.float32)
    wt[:, :k] = w.T
    blocks = wt.reshape(n, k_blocks, block)
    qmax = 2 ** bits - 1
    lo = np.minimum(blocks.min(axis=2), 0.0)
    hi = np.maximum(blocks.max(axis=2), 0.0)
    scale = (hi - lo) / qmax
    scale[scale == 0] = 1.0
    zp = np.clip(np.round(-lo / scale), 0, qmax).astype(np.uint8)
    q = np.clip(np.round(blocks / scale[:, :, None]) + zp[:, :, None], 0, qmax).astype(np.uint8)
    if bits == 4:
        packed = (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8)
        zp_flat = zp.reshape(n, k_blocks)
        if k_blocks % 2:
            zp_flat = np.concatenate([zp_flat, np.zeros((n, 1), np.uint8)], axis=1)
        zp_packed = (zp_flat[:, 0::2] | (zp_flat[:, 1::2] << 4)).astype(np.uint8).reshape(-1)
    else:
        packed, zp_packed = q, zp.reshape(-1)
    return {
        "K": k, "N": n, "bits": bits, "block_size": block, "accuracy_level": accuracy_level,
        "b": f"{name}.q", "scales": f"{name}.scales", "zero_points": f"{name}.zp",
        "b_array": packed, "scales_array": scale.astype(np.float32).reshape(-1), "zero_points_array": zp_packed,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="plain model folder (tools/train/export.py)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", help="model name in config.json (default: the output folder's name)")
    ap.add_argument("--bits", type=int, default=8, choices=[4, 8])
    ap.add_argument("--block-size", type=int, default=32)
    ap.add_argument("--accuracy-level", type=int, default=4, help="4: int8 compute (MLAS), 0: float compute")
    ap.add_argument("--draft-loop", action="store_true")
    args = ap.parse_args()
    with open(os.path.join(args.src, "config.json")) as f:
        cfg = json.load(f)
    w = read_plain(os.path.join(args.src, "model.onnx"), cfg)
    quant = {}
    for i, L in enumerate(w["layers"]):
        for key, mat in (("qkv", np.concatenate([L["q"], L["k"], L["v"]], axis=1)), ("o", L["o"]),
                         ("gate_up", np.concatenate([L["gate"], L["up"]], axis=1)), ("down", L["down"])):
            quant[f"W.{i}.{key}"] = quantize_weight(mat, f"W.{i}.{key}", args.bits, args.block_size, args.accuracy_level)
    quant["W.lm_head"] = quantize_weight(w["embed"].T, "W.lm_head", args.bits, args.block_size, args.accuracy_level)
    model = build(w, cfg, args.draft_loop, quant)
    save_model(model, args.src, args.out)
    source = cfg.get("_name_or_path") or os.path.basename(os.path.normpath(args.src))
    name = args.name or os.path.basename(os.path.normpath(args.out))
    cfg["_name_or_path"] = name
    cfg["speclens_graph"] = graph_config(args.draft_loop, quantization={
        "method": "MatMulNBits", "bits": args.bits, "block_size": args.block_size, "accuracy_level": args.accuracy_level, "source": source})
    write_config_and_report(args.out, cfg, model)


if __name__ == "__main__":
    main()
