"""Draft distillation from precomputed teacher labels (tools/train/label_teacher.ts), resumed from a draft
checkpoint.

train.py runs the target in torch inside every draft step, three quarters of the step's time on this CPU;
here each step is only the draft's forward and backward pass, so the same minutes give about four times
the steps. Per position the loss is alpha x the cross-entropy against the target's distribution coarsened
to its top-64 tokens plus one "rest" class (the KL of the coarsened distributions, up to the teacher's
entropy), plus (1 - alpha) x the cross-entropy on the next token. The labels come from fixed 512-token
blocks, so every epoch sees the same contexts; the newest generated set's last --holdout blocks are left
out of training and measure the draft's greedy agreement with the target (its top-1 label) after each
evaluation, skipping each block's first 64 positions. The checkpoint with the best agreement is kept as
best.pt (the metric speculation pays for; held-out perplexity is logged alongside); the starting draft counts,
so best.pt is the --resume checkpoint itself when no evaluation beats it. With --ema DECAY the run also keeps an
exponential moving average of the weights (updated after every step) and measures its agreement at each
evaluation too; when the average beats the best so far, best.pt holds the averaged weights (its phase record
says "weights": "ema") and last.pt always holds the trained ones.

  /usr/bin/python3 tools/train/distill_labelled.py --resume tools/.cache/draft/phase4.pt --out tools/.cache/draft-lab \
    --gen tools/.cache/lab-generated-3 tools/.cache/lab-generated-4 --human tools/.cache/lab-train --minutes 70
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from model import LlamaLM, ModelConfig, full_inputs  # noqa: E402
from train import heldout_loss, learning_rate, load_tokens, make_optimizer  # noqa: E402

SEQ, TOP_K = 512, 64  # label_teacher.ts LABEL_SEQ, LABEL_TOP_K
SKIP = 64  # agreement ignores each block's first positions, whose context is shorter than at inference


def load_labels(prefix: str):
    tokens = np.fromfile(prefix + ".tokens", dtype=np.uint16).reshape(-1, SEQ + 1)
    n = tokens.shape[0]
    ids = np.memmap(prefix + ".idx", dtype=np.uint16, mode="r", shape=(n, SEQ, TOP_K))
    probs = np.memmap(prefix + ".prob", dtype=np.float32, mode="r", shape=(n, SEQ, TOP_K))
    return tokens, ids, probs


def coarse_kl_loss(logits: torch.Tensor, ids: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the student against the teacher's top-k + rest distribution, mean over positions."""
    log_q = F.log_softmax(logits, -1)
    log_q_top = log_q.gather(-1, ids)
    rest_p = (1 - probs.sum(-1)).clamp_min(0)
    rest_q = (1 - log_q_top.exp().sum(-1)).clamp_min(1e-6)
    return -((probs * log_q_top).sum(-1) + rest_p * rest_q.log()).mean(), log_q


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resume", required=True, help="draft checkpoint to continue from (train.py or from_onnx.py)")
    ap.add_argument("--out", required=True, help="folder for last.pt, best.pt and log.jsonl")
    ap.add_argument("--gen", nargs="+", required=True, help="label prefixes of the target's generations")
    ap.add_argument("--human", help="label prefix of a slice of the training split")
    ap.add_argument("--gen-frac", type=float, default=0.8, help="share of steps drawn from --gen")
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--alpha", type=float, default=0.9)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--holdout", type=int, default=48)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2468)
    ap.add_argument("--ema", type=float, default=0.0, help="decay of a moving average of the weights (0: none)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    state = torch.load(args.resume)
    cfg = ModelConfig(**state["config"])
    model = LlamaLM(cfg)
    model.load_state_dict(state["model"])
    opt = make_optimizer(model, args.lr)
    if "optimizer" in state:
        opt.load_state_dict(state["optimizer"])

    generated = [load_labels(p) for p in args.gen]
    tokens_h, ids_h, _ = generated[-1]
    holdout = (torch.from_numpy(tokens_h[-args.holdout:].astype(np.int64)),
               torch.from_numpy(ids_h[-args.holdout:, :, 0].astype(np.int64)))
    generated[-1] = tuple(x[:-args.holdout] for x in generated[-1])
    sizes = torch.tensor([g[0].shape[0] for g in generated], dtype=torch.float)
    human = load_labels(args.human) if args.human else None
    heldout_tokens = load_tokens(os.path.join(os.path.dirname(__file__), "..", ".cache", "heldout.bin"))
    print(f"{model.num_parameters():,} parameters; generated blocks {sizes.int().tolist()}, "
          f"human blocks {human[0].shape[0] if human else 0}", flush=True)

    @torch.no_grad()
    def agreement(net: LlamaLM = model) -> float:
        net.eval()
        hits = total = 0
        for i in range(0, args.holdout, 8):
            x = holdout[0][i:i + 8, :SEQ]
            logits, _ = net(x, *full_inputs(x.shape[0], SEQ))
            hits += (logits.argmax(-1)[:, SKIP:] == holdout[1][i:i + 8, SKIP:]).sum().item()
            total += x.shape[0] * (SEQ - SKIP)
        net.train()
        return hits / total

    # The averaged weights live in a second model, so evaluating them never touches the trained one.
    averaged = None
    if args.ema > 0:
        averaged = LlamaLM(cfg)
        averaged.load_state_dict(model.state_dict())
        averaged.requires_grad_(False)

    def batch():
        if human is None or torch.rand(1, generator=gen).item() < args.gen_frac:
            source = generated[torch.multinomial(sizes, 1, generator=gen).item()]
        else:
            source = human
        rows = sorted(torch.randint(0, source[0].shape[0], (args.batch,), generator=gen).tolist())
        return (torch.from_numpy(source[0][rows].astype(np.int64)),
                torch.from_numpy(np.stack([source[1][r] for r in rows]).astype(np.int64)),
                torch.from_numpy(np.stack([source[2][r] for r in rows])))

    start_step, tokens_seen, prev_elapsed = state["step"], state["tokens"], state.get("elapsed_s", 0.0)
    phases = list(state.get("phases", []))
    # A checkpoint from `distill_online.py drop` names the layer it lost; this phase's record carries it.
    dropped = {"dropped_layer": state["dropped_layer"]} if "dropped_layer" in state else {}
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "log.jsonl"), "a")
    best = agreement()
    print(json.dumps({"step": start_step, "agreement": round(best, 4)}), flush=True)
    start_agreement = best
    torch.save(state, os.path.join(args.out, "best.pt"))
    step, start, budget, warmup = start_step, time.time(), args.minutes * 60, 100
    gen_tokens = int(sizes.sum().item()) * SEQ

    def checkpoint(net: LlamaLM, weights: str, heldout: float) -> dict:
        """The run's state at this step with `net`'s weights (the trained model's or their average)."""
        phase = {"phase": len(phases) + 1, "minutes": args.minutes, "lr": args.lr, "gen_frac": args.gen_frac,
                 "gen_tokens": gen_tokens, "labelled": True, "seed": args.seed,
                 "until_step": step, **dropped, **({"ema": args.ema, "weights": weights} if args.ema > 0 else {})}
        return {"config": cfg.to_dict(), "model": net.state_dict(), "optimizer": opt.state_dict(), "step": step,
                "tokens": tokens_seen, "elapsed_s": prev_elapsed + time.time() - start, "heldout_loss": heldout,
                "seed": args.seed, "args": {**vars(args), "seq": SEQ}, "gen_tokens": gen_tokens,
                "phases": phases + [phase]}

    while True:
        progress = min((time.time() - start) / budget, 1.0)
        if progress >= 1.0:
            break
        lr = learning_rate(args.lr, step - start_step, progress, warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        tokens, ids, probs = batch()
        logits, _ = model(tokens[:, :-1], *full_inputs(tokens.shape[0], SEQ))
        soft, log_q = coarse_kl_loss(logits, ids, probs)
        ce = F.nll_loss(log_q.reshape(-1, log_q.shape[-1]), tokens[:, 1:].reshape(-1))
        loss = args.alpha * soft + (1 - args.alpha) * ce
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if averaged is not None:
            with torch.no_grad():
                for a, p in zip(averaged.parameters(), model.parameters()):
                    a.lerp_(p, 1 - args.ema)
        step += 1
        tokens_seen += tokens.shape[0] * SEQ
        last = time.time() - start >= budget
        if (step - start_step) % args.eval_every == 0 or last:
            agree, val = agreement(), heldout_loss(model, heldout_tokens, SEQ, 40)
            record = {"step": step, "tokens": tokens_seen, "elapsed_s": round(prev_elapsed + time.time() - start, 1), "lr": lr,
                      "train_loss": round(loss.item(), 4), "heldout_loss": round(val, 4), "agreement": round(agree, 4)}
            ema_agree = None
            if averaged is not None:
                ema_agree = agreement(averaged)
                record["ema_agreement"] = round(ema_agree, 4)
            print(json.dumps(record), flush=True)
            log.write(json.dumps(record) + "\n")
            log.flush()

            trained = checkpoint(model, "trained", val)
            torch.save(trained, os.path.join(args.out, "last.pt"))
            if ema_agree is not None and ema_agree > max(best, agree):
                best = ema_agree
                torch.save(checkpoint(averaged, "ema", heldout_loss(averaged, heldout_tokens, SEQ, 40)),
                           os.path.join(args.out, "best.pt"))
            elif agree > best:
                best = agree
                torch.save(trained, os.path.join(args.out, "best.pt"))
    kept = "a checkpoint of this phase" if best > start_agreement else "the starting draft (no evaluation beat it)"
    print(f"done: best agreement {best:.4f} ({kept})", flush=True)


if __name__ == "__main__":
    main()
