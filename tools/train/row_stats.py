"""Add the row statistics of export_fused.py (logits_argmax, logits_logsumexp) to an existing export of a
target model, in place: every node, initializer and output the graph has stays as it is, so its logits
are bit for bit what they were; config.json gains speclens_graph.row_stats. Fresh exports
(export_fused.py, quantize.py) have them already.

Usage: /usr/bin/python3 tools/train/row_stats.py --model models/speclens-brown-20m
"""
import argparse
import json
import os
import sys

import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_fused import ROW_STATS_OUTPUTS, Builder, row_stats, write_config_and_report  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="a model folder whose model.onnx has a logits output")
    args = ap.parse_args()
    path = os.path.join(args.model, "model.onnx")
    model = onnx.load(path)
    graph = model.graph
    outputs = [o.name for o in graph.output]
    if "logits" not in outputs:
        raise SystemExit(f"{path}: no logits output")
    if "draft_tokens" in outputs:
        raise SystemExit(f"{path}: a draft graph (its drafting loop reads the logits itself); row statistics are for targets")
    if any(name in outputs for name in ROW_STATS_OUTPUTS):
        raise SystemExit(f"{path}: already has row statistics")
    b = Builder(prefix="row_stats/")
    infos = row_stats(b, "logits")
    graph.node.extend(b.nodes)
    graph.initializer.extend(b.inits)
    graph.output.extend(infos)
    onnx.save(model, path)
    with open(os.path.join(args.model, "config.json")) as f:
        cfg = json.load(f)
    cfg.setdefault("speclens_graph", {})["row_stats"] = True
    write_config_and_report(args.model, cfg, model)


if __name__ == "__main__":
    main()
