"""Online draft distillation on a GPU (dev-time only; never run by CI or at start-up).

On this project's 2-core CPU the draft's training is data- and compute-limited: the target generates
~600 tokens a second, so five phases saw 17M tokens in all. On a GPU the target generates its own greedy
continuations of training-split prompts in batches of thousands, and the draft learns the target's full
next-token distribution (alpha x KL + (1 - alpha) x CE, as train.py) on blocks that are regenerated every
round, each used about --reuse times, so the draft sees hundreds of millions of fresh tokens in minutes.
Optionally a second student trains beside it on the same batches: the draft grown by --grow layers, each
new layer starting as the identity (its output projections zero), so it starts from the draft's function;
or the draft without layer --drop N, which drafts each token ~0.055 ms a layer cheaper on the 2-core host.

Three steps, because the GPU machine receives at most 64 MiB and runs a newer torch:

  # 1. here: the target's weights as fp16 (half the size; logits move ~1e-3), the draft to resume, the token
  #    streams and the held-out generated blocks, into a folder that travels with the command
  /usr/bin/python3 tools/train/distill_online.py pack --teacher tools/.cache/target/best.pt \\
    --resume tools/.cache/draft-lab/best.pt --holdout tools/.cache/lab-generated-5.tokens --out .tmp/gpu
  # 2. there: train to a wall-clock budget; each student's best.npz/best.json (by greedy agreement with the
  #    target on freshly generated evaluation blocks) is rewritten at every evaluation
  python3 tools/train/distill_online.py train --inputs .tmp/gpu --out $OUT --minutes 6 --grow 1
  # 3. here: back to a train.py-format checkpoint for export.py
  /usr/bin/python3 tools/train/distill_online.py unpack --src <returned>/a --out tools/.cache/draft-gpu/best.pt
"""
import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from generate_corpus import EOS_ID, greedy_batch  # noqa: E402
from model import LlamaLM, ModelConfig, full_inputs  # noqa: E402
from train import heldout_loss, kl_ce_loss, learning_rate, load_tokens, make_optimizer  # noqa: E402

SEQ = 512  # block length, as distill_labelled.py
SKIP = 64  # agreement ignores each block's first positions, as distill_labelled.py


def save_weights(path: str, model_state: dict, dtype) -> None:
    np.savez(path, **{k: v.detach().cpu().numpy().astype(dtype) for k, v in model_state.items()})


def load_model(prefix: str, device: str) -> tuple[LlamaLM, dict]:
    """A model from <prefix>.npz (weights, any float dtype) and <prefix>.json (config and training history)."""
    with open(prefix + ".json") as f:
        meta = json.load(f)
    model = LlamaLM(ModelConfig(**meta["config"]))
    with np.load(prefix + ".npz") as w:
        model.load_state_dict({k: torch.from_numpy(w[k].astype(np.float32)) for k in w.files})
    return model.to(device), meta


def grow(model: LlamaLM, extra: int) -> LlamaLM:
    """The same function with `extra` more layers on top: each new layer's attention and MLP outputs start at zero."""
    cfg = ModelConfig(**{**model.cfg.to_dict(), "num_hidden_layers": model.cfg.num_hidden_layers + extra})
    grown = LlamaLM(cfg).to(next(model.parameters()).device)
    missing, unexpected = grown.load_state_dict(model.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("layers.") for k in missing), (missing, unexpected)
    with torch.no_grad():
        for layer in grown.layers[model.cfg.num_hidden_layers:]:
            layer.self_attn.o_proj.weight.zero_()
            layer.down_proj.weight.zero_()
    return grown


def drop(model: LlamaLM, layer: int) -> LlamaLM:
    """The draft without decoder layer `layer`, the others keeping their weights: a cheaper draft per token
    (docs/engine-performance.md item 18: a layer is ~0.055 ms of each drafted token on the 2-core host)."""
    n = model.cfg.num_hidden_layers
    assert n > 1 and 0 <= layer < n, f"--drop {layer}: the draft has layers 0..{n - 1}"
    smaller = LlamaLM(ModelConfig(**{**model.cfg.to_dict(), "num_hidden_layers": n - 1})).to(next(model.parameters()).device)
    state = {}
    for key, value in model.state_dict().items():
        if key.startswith("layers."):
            _, index, rest = key.split(".", 2)
            if int(index) == layer:
                continue
            key = f"layers.{int(index) - (int(index) > layer)}.{rest}"
        state[key] = value
    smaller.load_state_dict(state)
    return smaller


def dropped_record(layer: int, layers_before: int) -> dict:
    """How a phase that started from drop() records it; tools/evaluate-pair.ts names it on the model card."""
    return {"dropped_layer": {"layer": layer, "layers_before": layers_before}}


@torch.no_grad()
def generate(teacher: LlamaLM, train_tokens: torch.Tensor, n: int, gen: torch.Generator, args) -> torch.Tensor:
    """The target's greedy continuations (--new-tokens each) of n training-split prompts of one random length, each
    sequence EOS + prompt + continuation, joined into one stream and cut into blocks of SEQ + 1 tokens: the layout of
    generate_corpus.py's output as label_teacher.ts blocks it, so the contexts are prompts and short continuations,
    as in serving, not the loops a small model's long greedy runs fall into."""
    device = train_tokens.device
    p = int(torch.randint(args.min_prompt, args.max_prompt + 1, (1,), generator=gen))
    starts = torch.randint(0, len(train_tokens) - p, (n,), generator=gen).to(device)
    prompts = train_tokens[starts[:, None] + torch.arange(p, device=device)]
    x = torch.cat([torch.full((n, 1), EOS_ID, device=device), prompts], dim=1)
    stream = greedy_batch(teacher, x, args.new_tokens).reshape(-1)
    blocks = len(stream) // (SEQ + 1)
    return stream[:blocks * (SEQ + 1)].reshape(blocks, SEQ + 1)


@torch.no_grad()
def teacher_logprobs(teacher: LlamaLM, blocks: torch.Tensor) -> torch.Tensor:
    logits, _ = teacher(blocks[:, :-1], *full_inputs(blocks.shape[0], SEQ, blocks.device))
    return F.log_softmax(logits.float(), -1)


def human_blocks(tokens: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    starts = torch.randint(0, len(tokens) - SEQ - 1, (n,), generator=gen).to(tokens.device)
    return tokens[starts[:, None] + torch.arange(SEQ + 1, device=tokens.device)]


class Student:
    def __init__(self, name: str, model: LlamaLM, meta: dict, args, out_dir: str):
        self.name, self.model, self.meta, self.args = name, model, meta, args
        self.opt = make_optimizer(model, args.lr)
        self.dir = os.path.join(out_dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.log = open(os.path.join(self.dir, "log.jsonl"), "a")
        self.best = -1.0

    def step(self, blocks: torch.Tensor, t_logp: torch.Tensor, lr: float) -> float:
        for g in self.opt.param_groups:
            g["lr"] = lr
        logits, _ = self.model(blocks[:, :-1], *full_inputs(blocks.shape[0], SEQ, blocks.device))
        loss = kl_ce_loss(logits, t_logp, blocks[:, 1:], self.args.alpha)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        return loss.item()

    @torch.no_grad()
    def agreement(self, blocks: torch.Tensor, top1: torch.Tensor) -> float:
        self.model.eval()
        hits = 0
        for i in range(0, blocks.shape[0], 64):
            x = blocks[i:i + 64, :SEQ]
            logits, _ = self.model(x, *full_inputs(x.shape[0], SEQ, x.device))
            hits += (logits.argmax(-1)[:, SKIP:] == top1[i:i + 64, SKIP:]).sum().item()
        self.model.train()
        return hits / (blocks.shape[0] * (SEQ - SKIP))


def train(args) -> None:
    device = args.device
    torch.manual_seed(args.seed)
    torch.backends.cuda.matmul.allow_tf32 = False  # the target's greedy choices are the labels: keep its fp32 arithmetic
    torch.backends.cudnn.allow_tf32 = False
    gen = torch.Generator().manual_seed(args.seed)
    eval_gen = torch.Generator().manual_seed(args.seed + 1)
    teacher, _ = load_model(os.path.join(args.inputs, "teacher"), device)
    teacher.eval()
    draft, meta = load_model(args.draft or os.path.join(args.inputs, "draft"), device)
    train_tokens = load_tokens(os.path.join(args.inputs, "train.bin")).to(device)
    heldout_tokens = load_tokens(os.path.join(args.inputs, "heldout.bin")).to(device)
    students = [Student("a", draft, meta, args, args.out)]
    if args.grow:
        students.append(Student("b", grow(draft, args.grow), meta, args, args.out))
    elif args.drop is not None:
        students.append(Student("b", drop(draft, args.drop), meta, args, args.out))

    t0 = time.time()
    fresh = torch.cat([generate(teacher, train_tokens, args.eval_batch, eval_gen, args) for _ in range(args.eval_rounds)])
    eval_sets = {"fresh": (fresh, teacher_logprobs(teacher, fresh).argmax(-1))}
    holdout_path = os.path.join(args.inputs, "holdout.bin")
    if os.path.exists(holdout_path):
        holdout = load_tokens(holdout_path).reshape(-1, SEQ + 1).to(device)
        eval_sets["holdout"] = (holdout, teacher_logprobs(teacher, holdout).argmax(-1))
    print(f"evaluation blocks {({k: v[0].shape[0] for k, v in eval_sets.items()})} in {time.time() - t0:.1f}s", flush=True)

    def evaluate(s: Student, step: int, lr: float, loss: float, elapsed: float, tokens: int, gen_tokens: int) -> None:
        agree = {k: round(s.agreement(*v), 4) for k, v in eval_sets.items()}
        record = {"student": s.name, "step": step, "tokens": tokens, "gen_tokens": gen_tokens, "elapsed_s": round(elapsed, 1),
                  "lr": lr, "train_loss": round(loss, 4), "heldout_loss": round(heldout_loss(s.model, heldout_tokens, SEQ, 40), 4),
                  **{f"agreement_{k}": v for k, v in agree.items()}}
        print(json.dumps(record), flush=True)
        s.log.write(json.dumps(record) + "\n")
        s.log.flush()
        if agree["fresh"] > s.best:
            s.best = agree["fresh"]
            phases = list(s.meta.get("phases", [])) + [{
                "phase": len(s.meta.get("phases", [])) + 1, "minutes": args.minutes, "lr": args.lr, "gen_frac": args.gen_frac,
                "gen_tokens": gen_tokens, "online": True, "batch": args.batch, "reuse": args.reuse, "grow": args.grow if s.name == "b" else 0,
                **(dropped_record(args.drop, draft.cfg.num_hidden_layers) if s.name == "b" and args.drop is not None else {}), "seed": args.seed, "until_step": s.meta.get("step", 0) + step}]
            save_weights(os.path.join(s.dir, "best.npz"), s.model.state_dict(), np.float32)
            with open(os.path.join(s.dir, "best.json"), "w") as f:
                json.dump({"config": s.model.cfg.to_dict(), "step": s.meta.get("step", 0) + step,
                           "tokens": s.meta.get("tokens", 0) + tokens, "elapsed_s": s.meta.get("elapsed_s", 0) + elapsed,
                           "heldout_loss": record["heldout_loss"], "seed": args.seed, "args": {**vars(args), "seq": SEQ},
                           "gen_tokens": gen_tokens, "phases": phases, "agreement": agree,
                           "resumed_from": {k: s.meta.get(k, 0) for k in ("step", "tokens", "elapsed_s")}}, f, indent=1)

    for s in students:
        evaluate(s, 0, 0.0, float("nan"), 0.0, 0, 0)
    step, tokens, gen_tokens, gen_s, next_round = 0, 0, 0, 0.0, 0
    start, budget = time.time(), args.minutes * 60
    last_eval, evaluated = start, 0
    pool, lr, losses = None, 0.0, [float("nan")] * len(students)
    while True:
        elapsed = time.time() - start
        progress = min(elapsed / budget, 1.0)
        if progress >= 1.0:
            break
        if step >= next_round:
            g0 = time.time()
            pool = generate(teacher, train_tokens, args.gen_batch, gen, args)
            gen_s += time.time() - g0
            gen_tokens += pool.shape[0] * SEQ
            next_round = step + max(1, round(args.reuse * pool.shape[0] / (args.batch * args.gen_frac)))
        if torch.rand(1, generator=gen).item() < args.gen_frac:
            blocks = pool[torch.randint(0, pool.shape[0], (args.batch,), generator=gen).to(device)]
        else:
            blocks = human_blocks(train_tokens, args.batch, gen)
        t_logp = teacher_logprobs(teacher, blocks)
        lr = learning_rate(args.lr, step, progress, args.warmup)
        losses = [s.step(blocks, t_logp, lr) for s in students]
        step += 1
        tokens += args.batch * SEQ
        if time.time() - last_eval >= args.eval_minutes * 60:
            elapsed = time.time() - start
            print(f"step {step}: {tokens / elapsed:,.0f} training tokens/s, generation {gen_s / elapsed:.0%} of the time", flush=True)
            for s, loss in zip(students, losses):
                evaluate(s, step, lr, loss, elapsed, tokens, gen_tokens)
            last_eval, evaluated = time.time(), step
    if evaluated != step:
        for s, loss in zip(students, losses):
            evaluate(s, step, lr, loss, time.time() - start, tokens, gen_tokens)
    print(f"done: {step} steps, {tokens:,} tokens ({gen_tokens:,} generated), best agreement "
          f"{ {s.name: s.best for s in students} }", flush=True)


def pack(args) -> None:
    os.makedirs(args.out, exist_ok=True)
    teacher = torch.load(args.teacher, map_location="cpu")
    save_weights(os.path.join(args.out, "teacher.npz"), teacher["model"], np.float16)
    with open(os.path.join(args.out, "teacher.json"), "w") as f:
        json.dump({"config": teacher["config"]}, f)
    draft = torch.load(args.resume, map_location="cpu")
    save_weights(os.path.join(args.out, "draft.npz"), draft["model"], np.float32)
    with open(os.path.join(args.out, "draft.json"), "w") as f:
        json.dump({k: draft[k] for k in ("config", "step", "tokens", "elapsed_s", "phases") if k in draft}, f)
    for name in ("train.bin", "heldout.bin"):
        shutil.copy(os.path.join(args.data, name), os.path.join(args.out, name))
    if args.holdout:
        blocks = np.fromfile(args.holdout, dtype=np.uint16).reshape(-1, SEQ + 1)
        blocks[-args.holdout_blocks:].tofile(os.path.join(args.out, "holdout.bin"))
    print(f"{args.out}: {sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out)) / 2**20:.1f} MiB")


def unpack(args) -> None:
    """best.npz/best.json to a train.py-format checkpoint, and the student's log.jsonl beside it with the run's
    position added (the records count from the resumed checkpoint), which export.py copies into training.json."""
    prefix = os.path.join(args.src, "best")
    model, meta = load_model(prefix, "cpu")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    torch.save({"config": meta["config"], "model": model.state_dict(),
                **{k: meta[k] for k in ("step", "tokens", "elapsed_s", "heldout_loss", "seed", "args", "gen_tokens", "phases")}},
               args.out)
    base = meta["resumed_from"]
    with open(os.path.join(args.src, "log.jsonl")) as f, open(os.path.join(os.path.dirname(args.out), "log.jsonl"), "w") as out:
        for line in f:
            r = json.loads(line)
            if r["step"] == 0:
                continue  # the resumed checkpoint itself, already in its own log
            r.update(step=base["step"] + r["step"], tokens=base["tokens"] + r["tokens"],
                     elapsed_s=round(base["elapsed_s"] + r["elapsed_s"], 1))
            out.write(json.dumps(r) + "\n")
    print(f"{args.out}: {model.num_parameters():,} parameters, step {meta['step']}, agreement {meta['agreement']}")


def drop_layer(args) -> None:
    """A train.py-format checkpoint without layer --layer (drop()), its training history kept, for
    distill_labelled.py to train on this CPU (tools/train/retrain.sh step 6g)."""
    ckpt = torch.load(args.src, map_location="cpu")
    model = LlamaLM(ModelConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["model"])
    smaller = drop(model, args.layer)
    ckpt = {k: v for k, v in ckpt.items() if k != "optimizer"}  # the optimizer's state belongs to the 3-layer model
    torch.save({**ckpt, "config": smaller.cfg.to_dict(), "model": smaller.state_dict(),
                **dropped_record(args.layer, model.cfg.num_hidden_layers)}, args.out)
    print(f"{args.out}: {smaller.num_parameters():,} parameters ({model.cfg.num_hidden_layers} -> {smaller.cfg.num_hidden_layers} layers)")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--teacher", required=True)
    p.add_argument("--resume", required=True)
    p.add_argument("--holdout", help="label_teacher.ts .tokens file whose last --holdout-blocks blocks distill_labelled.py held out")
    p.add_argument("--holdout-blocks", type=int, default=48)
    p.add_argument("--data", default="tools/.cache")
    p.add_argument("--out", required=True)
    t = sub.add_parser("train")
    t.add_argument("--inputs", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--minutes", type=float, required=True)
    t.add_argument("--device", default="cuda")
    t.add_argument("--draft", help="prefix of the draft to resume (.npz + .json; default <inputs>/draft, as packed)")
    growth = t.add_mutually_exclusive_group()
    growth.add_argument("--grow", type=int, default=0, help="also train the draft grown by this many layers")
    growth.add_argument("--drop", type=int, help="also train the draft without this layer (0-based)")
    t.add_argument("--batch", type=int, default=64, help="blocks of 512 tokens per step")
    t.add_argument("--gen-batch", type=int, default=4096, help="prompts the target continues per round")
    t.add_argument("--reuse", type=float, default=3.0, help="mean number of times a generated block is trained on")
    t.add_argument("--gen-frac", type=float, default=0.8, help="share of steps on generated blocks (the rest on the training split)")
    t.add_argument("--min-prompt", type=int, default=8)
    t.add_argument("--max-prompt", type=int, default=160)
    t.add_argument("--new-tokens", type=int, default=160, help="continuation length, as generate_corpus.py")
    t.add_argument("--eval-batch", type=int, default=1024, help="prompts per round of evaluation blocks")
    t.add_argument("--eval-rounds", type=int, default=2)
    t.add_argument("--eval-minutes", type=float, default=0.75, help="wall-clock time between evaluations")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--warmup", type=int, default=200)
    t.add_argument("--alpha", type=float, default=0.9)
    t.add_argument("--seed", type=int, default=8642)
    u = sub.add_parser("unpack")
    u.add_argument("--src", required=True)
    u.add_argument("--out", required=True)
    d = sub.add_parser("drop")
    d.add_argument("--src", required=True, help="train.py-format checkpoint")
    d.add_argument("--layer", type=int, required=True, help="the layer to remove (0-based)")
    d.add_argument("--out", required=True)
    args = ap.parse_args()
    {"pack": pack, "train": train, "unpack": unpack, "drop": drop_layer}[args.cmd](args)


if __name__ == "__main__":
    main()
