"""Export a checkpoint to a Hugging Face-layout model folder with an Optimum-style ONNX decoder.

Inputs:  input_ids [batch, seq] int64, attention_mask [batch, past+seq] int64,
         position_ids [batch, seq] int64, past_key_values.{i}.key/.value [batch, kv_heads, past, head_dim] f32
Outputs: logits [batch, seq, vocab] f32, present.{i}.key/.value [batch, kv_heads, past+seq, head_dim] f32

Usage: python3 tools/train/export.py --checkpoint tools/.cache/target/best.pt --name NAME --out models/NAME
"""
import argparse
import hashlib
import json
import os
import shutil
import sys

import onnx
import torch

sys.path.insert(0, os.path.dirname(__file__))
from model import LlamaLM, ModelConfig  # noqa: E402

EOS_ID = 0


class OnnxWrapper(torch.nn.Module):
    def __init__(self, model: LlamaLM):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *flat_past):
        past = [(flat_past[2 * i], flat_past[2 * i + 1]) for i in range(len(flat_past) // 2)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        return (logits, *[t for kv in presents for t in kv])


def hf_config(cfg: ModelConfig, name: str) -> dict:
    return {
        "_name_or_path": name,
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "num_key_value_heads": cfg.num_key_value_heads,
        "head_dim": cfg.head_dim,
        "max_position_embeddings": cfg.max_position_embeddings,
        "rms_norm_eps": cfg.rms_norm_eps,
        "rope_theta": cfg.rope_theta,
        "hidden_act": "silu",
        "tie_word_embeddings": True,
        "attention_bias": False,
        "bos_token_id": EOS_ID,
        "eos_token_id": EOS_ID,
        "torch_dtype": "float32",
    }


def export(checkpoint: str, name: str, out: str, tokenizer: str) -> str:
    ckpt = torch.load(checkpoint)
    cfg = ModelConfig(**ckpt["config"])
    model = LlamaLM(cfg)
    model.load_state_dict(ckpt["model"])
    model.eval()

    os.makedirs(out, exist_ok=True)
    n = cfg.num_hidden_layers
    past_len, seq = 3, 2
    dummy_past = [torch.randn(1, cfg.num_key_value_heads, past_len, cfg.head_dim) for _ in range(2 * n)]
    inputs = (torch.randint(0, cfg.vocab_size, (1, seq)), torch.ones(1, past_len + seq, dtype=torch.long),
              torch.arange(past_len, past_len + seq)[None, :], *dummy_past)
    past_names = [f"past_key_values.{i}.{kv}" for i in range(n) for kv in ("key", "value")]
    present_names = [f"present.{i}.{kv}" for i in range(n) for kv in ("key", "value")]
    dynamic = {"input_ids": {0: "batch_size", 1: "sequence_length"},
               "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
               "position_ids": {0: "batch_size", 1: "sequence_length"},
               "logits": {0: "batch_size", 1: "sequence_length"}}
    dynamic.update({p: {0: "batch_size", 2: "past_sequence_length"} for p in past_names})
    dynamic.update({p: {0: "batch_size", 2: "total_sequence_length"} for p in present_names})
    model_path = os.path.join(out, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(OnnxWrapper(model), inputs, model_path, opset_version=14,
                          input_names=["input_ids", "attention_mask", "position_ids", *past_names],
                          output_names=["logits", *present_names], dynamic_axes=dynamic)
    onnx.checker.check_model(onnx.load(model_path))

    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(hf_config(cfg, name), f, indent=2)
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": EOS_ID, "eos_token_id": EOS_ID, "max_length": cfg.max_position_embeddings,
                   "do_sample": False}, f, indent=2)
    shutil.copyfile(tokenizer, os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|endoftext|>",
                   "eos_token": "<|endoftext|>", "clean_up_tokenization_spaces": False,
                   "model_max_length": cfg.max_position_embeddings}, f, indent=2)
    log_path = os.path.join(os.path.dirname(checkpoint), "log.jsonl")
    with open(log_path) if os.path.exists(log_path) else open(os.devnull) as f:
        log = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(out, "training.json"), "w") as f:
        json.dump({"parameters": model.num_parameters(), "step": ckpt.get("step"), "tokens": ckpt.get("tokens"),
                   "elapsed_s": round(ckpt.get("elapsed_s", 0)), "heldout_loss": ckpt.get("heldout_loss"),
                   "seed": ckpt.get("seed"), "args": ckpt.get("args"), "gen_tokens": ckpt.get("gen_tokens", 0),
                   **({"phases": ckpt["phases"]} if ckpt.get("phases") else {}), "log": log}, f, indent=1)
    with open(model_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(f"{name}: {model.num_parameters():,} parameters -> {model_path} sha256 {digest}")
    return digest


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokenizer", default="tools/.cache/tokenizer.json")
    args = ap.parse_args()
    export(args.checkpoint, args.name, args.out, args.tokenizer)


if __name__ == "__main__":
    main()
