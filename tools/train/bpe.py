"""A small byte-level BPE trainer that writes a Hugging Face tokenizer.json.

The `tokenizers` binding cannot set the vocabulary size, so we train here. The pre-tokenizer is
GPT-2's (HF ByteLevel with use_regex); this module mirrors its regex with Python's `re` (letters are
[^\\W\\d_]), which agrees on the Brown corpus. Training data is only ever *encoded* by the HF
tokenizer itself (tools/train/encode.mjs), so a pre-tokenization corner case can cost merge quality
but never a train/run-time mismatch.

Usage: python3 tools/train/bpe.py --vocab-size 4096 --out models/tokenizer.json
"""
import argparse
import collections
import json
import re

SPECIAL_TOKENS = ["<|endoftext|>"]
GPT2_SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""")


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable unicode characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def word_counts(texts) -> collections.Counter:
    byte_map = bytes_to_unicode()
    counts: collections.Counter = collections.Counter()
    for text in texts:
        for piece in GPT2_SPLIT.findall(text):
            counts["".join(byte_map[b] for b in piece.encode("utf-8"))] += 1
    return counts


def train(texts, vocab_size: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    alphabet = sorted(bytes_to_unicode().values())
    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS + alphabet)}
    counts = word_counts(texts)
    words = [list(w) for w in counts]
    freqs = [counts[w] for w in counts]

    pair_counts: collections.Counter = collections.Counter()
    where: dict[tuple[str, str], set[int]] = collections.defaultdict(set)
    for wi, sym in enumerate(words):
        for pair in zip(sym, sym[1:]):
            pair_counts[pair] += freqs[wi]
            where[pair].add(wi)

    merges: list[tuple[str, str]] = []
    while len(vocab) < vocab_size and pair_counts:
        # Ties broken lexicographically so the result does not depend on dict order.
        best = max(pair_counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if pair_counts[best] < 2:
            break
        merged = best[0] + best[1]
        merges.append(best)
        vocab[merged] = len(vocab)
        for wi in list(where[best]):
            sym = words[wi]
            for pair in zip(sym, sym[1:]):
                pair_counts[pair] -= freqs[wi]
                if pair_counts[pair] <= 0:
                    del pair_counts[pair]
            out, i = [], 0
            while i < len(sym):
                if i + 1 < len(sym) and (sym[i], sym[i + 1]) == best:
                    out.append(merged)
                    i += 2
                else:
                    out.append(sym[i])
                    i += 1
            words[wi] = out
            for pair in zip(out, out[1:]):
                pair_counts[pair] += freqs[wi]
                where[pair].add(wi)
        del where[best]
    return vocab, merges


def tokenizer_json(vocab: dict[str, int], merges: list[tuple[str, str]]) -> dict:
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for t in SPECIAL_TOKENS
        ],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": {**byte_level, "trim_offsets": False},
        "decoder": byte_level,
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
            "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges],
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="tools/.cache/train.jsonl")
    ap.add_argument("--vocab-size", type=int, default=4096)
    ap.add_argument("--out", default="tools/.cache/tokenizer.json")
    args = ap.parse_args()
    with open(args.train) as f:
        texts = [json.loads(line)["text"] for line in f]
    vocab, merges = train(texts, args.vocab_size)
    with open(args.out, "w") as f:
        json.dump(tokenizer_json(vocab, merges), f, ensure_ascii=False)
    print(f"vocab {len(vocab)} ({len(merges)} merges) -> {args.out}")


if __name__ == "__main__":
    main()
