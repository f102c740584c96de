"""Train the target LM (cross-entropy) or distill the draft LM from a trained target.

Training runs to a wall-clock budget: the learning rate follows warm-up plus cosine decay over the
*elapsed fraction of the budget*, so the run anneals and ends on time even when the machine is
shared and steps slow down. Held-out loss is evaluated periodically; the best checkpoint is kept,
and --resume continues from a checkpoint (model and optimizer). Seeds are fixed.

  target: python3 tools/train/train.py --role target --minutes 75
  draft:  python3 tools/train/train.py --role draft --teacher tools/.cache/target/best.pt --minutes 30
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from model import LlamaLM, ModelConfig, full_inputs  # noqa: E402

CONFIGS = {
    "target": ModelConfig(hidden_size=512, intermediate_size=1536, num_hidden_layers=6,
                          num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=512,
                          dropout=0.1),
    "draft": ModelConfig(hidden_size=192, intermediate_size=512, num_hidden_layers=3,
                         num_attention_heads=3, num_key_value_heads=1, max_position_embeddings=512),
}


def load_tokens(path: str) -> torch.Tensor:
    return torch.from_numpy(np.fromfile(path, dtype=np.uint16).astype(np.int64))


def batches(tokens: torch.Tensor, batch: int, seq: int, gen: torch.Generator):
    while True:
        starts = torch.randint(0, len(tokens) - seq - 1, (batch,), generator=gen)
        yield torch.stack([tokens[s:s + seq + 1] for s in starts.tolist()])


def make_optimizer(model: LlamaLM, lr: float) -> torch.optim.AdamW:
    """AdamW with weight decay 0.1 on the matrices and none on the norms' gains."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.95))


def learning_rate(peak: float, steps_done: int, progress: float, warmup: int) -> float:
    """Linear warm-up over the run's first `warmup` steps, then cosine decay to a tenth of `peak` over the
    elapsed share of the wall-clock budget (`progress`, 0..1)."""
    return peak * min(1.0, (steps_done + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def heldout_loss(model: LlamaLM, tokens: torch.Tensor, seq: int, max_blocks: int) -> float:
    model.eval()
    n = min(max_blocks, (len(tokens) - 1) // seq)
    total = 0.0
    for i in range(n):
        block = tokens[i * seq:i * seq + seq + 1][None, :]
        total += model.loss(block).item()
    model.train()
    return total / n


def distill_loss(student: LlamaLM, teacher: LlamaLM, block: torch.Tensor, alpha: float) -> torch.Tensor:
    """alpha * KL(teacher || student) on the full next-token distribution + (1 - alpha) * CE on data.
    Matching the teacher's distribution is what raises greedy agreement, i.e. acceptance."""
    inp, tgt = block[:, :-1], block[:, 1:]
    inputs = full_inputs(*inp.shape)
    with torch.no_grad():
        t_logits, _ = teacher(inp, *inputs)
    s_logits, _ = student(inp, *inputs)
    return kl_ce_loss(s_logits, F.log_softmax(t_logits, -1), tgt, alpha)


def kl_ce_loss(s_logits: torch.Tensor, t_logp: torch.Tensor, tgt: torch.Tensor, alpha: float) -> torch.Tensor:
    """distill_loss's loss from the student's logits and the teacher's log-probabilities, [batch, seq, vocab] each."""
    v = s_logits.shape[-1]
    kl = F.kl_div(F.log_softmax(s_logits, -1).reshape(-1, v), t_logp.reshape(-1, v), log_target=True, reduction="batchmean")
    ce = F.cross_entropy(s_logits.reshape(-1, v), tgt.reshape(-1))
    return alpha * kl + (1 - alpha) * ce


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=sorted(CONFIGS), required=True)
    ap.add_argument("--teacher", help="target checkpoint to distill from (draft role)")
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=512)
    # Sequence-length warm-up: attention at 512 costs nearly twice the step time of 256 on this CPU, so
    # the first part of the budget trains on short blocks (same tokens per step), the rest on full ones.
    ap.add_argument("--short-seq", type=int, default=256)
    ap.add_argument("--short-frac", type=float, default=0.6, help="share of the budget spent on --short-seq")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--alpha", type=float, default=0.9, help="distillation weight (draft role)")
    ap.add_argument("--gen-data", help="token stream of the target's generations (generate_corpus.py), draft role")
    ap.add_argument("--gen-frac", type=float, default=0.5, help="share of draft steps drawn from --gen-data")
    ap.add_argument("--eval-every", type=int, default=60)
    ap.add_argument("--eval-blocks", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--data", default="tools/.cache")
    ap.add_argument("--resume", help="checkpoint to continue from (same role)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    out_dir = os.path.join(args.data, args.role)
    os.makedirs(out_dir, exist_ok=True)
    train_tokens = load_tokens(os.path.join(args.data, "train.bin"))
    heldout_tokens = load_tokens(os.path.join(args.data, "heldout.bin"))

    cfg = CONFIGS[args.role]
    model = LlamaLM(cfg)
    teacher = None
    if args.role == "draft":
        ckpt = torch.load(args.teacher)
        teacher = LlamaLM(ModelConfig(**ckpt["config"]))
        teacher.load_state_dict(ckpt["model"])
        teacher.eval()
    opt = make_optimizer(model, args.lr)
    start_step, tokens_seen, prev_elapsed = 0, 0, 0.0
    phases = []  # one record per run of this script that led to the checkpoint (resumed phases)
    if args.resume:
        state = torch.load(args.resume)
        model.load_state_dict(state["model"])
        if "optimizer" in state:
            opt.load_state_dict(state["optimizer"])
        start_step, tokens_seen, prev_elapsed = state["step"], state["tokens"], state.get("elapsed_s", 0.0)
        phases = list(state.get("phases", []))
        print(f"resumed from {args.resume} at step {start_step}", flush=True)
    # Offset the data seed on resume so the continued run does not replay the same batches.
    gen = torch.Generator().manual_seed(args.seed + start_step)
    sources = [train_tokens]
    if args.gen_data:
        sources.append(load_tokens(args.gen_data))
        print(f"distilling on {len(sources[1]):,} tokens of the target's own generations too", flush=True)
    short_rows = args.batch * args.seq // args.short_seq
    short_data = [batches(t, short_rows, args.short_seq, gen) for t in sources]
    data = [batches(t, args.batch, args.seq, gen) for t in sources]
    log = open(os.path.join(out_dir, "log.jsonl"), "a")
    print(f"{args.role}: {model.num_parameters():,} parameters, {len(train_tokens):,} training tokens", flush=True)

    budget_s = args.minutes * 60
    start = time.time()
    warmup = 100
    best = float("inf")
    step = start_step
    while True:
        progress = min((time.time() - start) / budget_s, 1.0)
        if progress >= 1.0:
            break
        lr = learning_rate(args.lr, step - start_step, progress, warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        source = 1 if len(sources) > 1 and torch.rand(1, generator=gen).item() < args.gen_frac else 0
        block = next((short_data if progress < args.short_frac else data)[source])
        loss = distill_loss(model, teacher, block, args.alpha) if teacher else model.loss(block)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens_seen += block.shape[0] * (block.shape[1] - 1)
        last = time.time() - start >= budget_s
        if step % args.eval_every == 0 or last:
            val = heldout_loss(model, heldout_tokens, args.seq, args.eval_blocks)
            record = {"step": step, "tokens": tokens_seen, "elapsed_s": round(prev_elapsed + time.time() - start, 1),
                      "lr": lr, "train_loss": round(loss.item(), 4), "heldout_loss": round(val, 4)}
            print(json.dumps(record), flush=True)
            log.write(json.dumps(record) + "\n")
            log.flush()
            state = {"config": cfg.to_dict(), "model": model.state_dict(), "optimizer": opt.state_dict(),
                     "step": step, "tokens": tokens_seen,
                     "elapsed_s": prev_elapsed + time.time() - start, "heldout_loss": val, "seed": args.seed, "args": vars(args),
                     "gen_tokens": len(sources[1]) if len(sources) > 1 else 0}
            state["phases"] = phases + [{"phase": len(phases) + 1, "minutes": args.minutes, "lr": args.lr, "gen_frac": args.gen_frac,
                                         "gen_tokens": state["gen_tokens"], "seed": args.seed, "until_step": step}]
            torch.save(state, os.path.join(out_dir, "last.pt"))
            if val < best:
                best = val
                torch.save(state, os.path.join(out_dir, "best.pt"))
    print(f"done: best held-out loss {best:.4f} (ppl {math.exp(best):.1f})", flush=True)


if __name__ == "__main__":
    main()
