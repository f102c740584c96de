"""Sequence-level distillation data: the target's own greedy continuations of training-split prompts.

Speculative decoding asks the draft to predict the target on the target's *own* output, which drifts
away from human text (a small LM's greedy text is more repetitive and more formulaic than the corpus).
Training the draft on those contexts, with the target's full distribution at every position as the
soft label (train.py --gen-data), raises greedy agreement where it counts. Prompts come only from the
training split, so the held-out documents stay unseen.

Output: a flat uint16 token stream (prompt + continuation per sequence, sequences joined by EOS), the
same format as train.bin.

  python3 tools/train/generate_corpus.py --teacher tools/.cache/target/best.pt --minutes 20
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from model import LlamaLM, ModelConfig, full_inputs  # noqa: E402
from train import load_tokens  # noqa: E402

EOS_ID = 0


@torch.no_grad()
def greedy_batch(model: LlamaLM, prompts: torch.Tensor, new_tokens: int) -> torch.Tensor:
    """Greedy continuations of equal-length prompts [batch, prompt_len] with the KV cache, on the prompts' device."""
    b, p = prompts.shape
    device = prompts.device
    logits, past = model(prompts, *full_inputs(b, p, device))
    out = [prompts]
    token = logits[:, -1].argmax(-1, keepdim=True)
    for i in range(new_tokens):
        out.append(token)
        if i == new_tokens - 1:
            break
        length = p + i + 1
        logits, past = model(token, torch.ones(b, length, dtype=torch.long, device=device),
                             torch.full((b, 1), length - 1, device=device), past)
        token = logits[:, -1].argmax(-1, keepdim=True)
    return torch.cat(out, dim=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--min-prompt", type=int, default=8)
    ap.add_argument("--max-prompt", type=int, default=160)
    ap.add_argument("--new-tokens", type=int, default=160)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=4321)
    ap.add_argument("--data", default="tools/.cache")
    ap.add_argument("--out", default="tools/.cache/generated.bin")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    ckpt = torch.load(args.teacher)
    model = LlamaLM(ModelConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["model"])
    model.eval()
    train_tokens = load_tokens(os.path.join(args.data, "train.bin"))

    chunks: list[np.ndarray] = []
    total, start = 0, time.time()
    while time.time() - start < args.minutes * 60:
        p = int(torch.randint(args.min_prompt, args.max_prompt + 1, (1,), generator=gen))
        starts = torch.randint(0, len(train_tokens) - p, (args.batch,), generator=gen)
        prompts = torch.stack([train_tokens[s:s + p] for s in starts.tolist()])
        seqs = greedy_batch(model, prompts, args.new_tokens)
        for row in seqs.numpy():
            chunks.append(np.concatenate([[EOS_ID], row]).astype(np.uint16))
            total += len(row) - p
        print(f"{total:,} generated tokens, {total / (time.time() - start):.0f} tok/s", flush=True)
    np.concatenate(chunks).tofile(args.out)
    print(f"wrote {args.out}: {len(chunks)} sequences, {sum(len(c) for c in chunks):,} tokens", flush=True)


if __name__ == "__main__":
    main()
