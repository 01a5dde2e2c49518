#!/usr/bin/env bash
# CAS agreement: synth cas against an independent PyTorch training of ref-cnn (bench/torch_cas.py)
# on the same shards, read through webdataset, both scored on the real Fashion-MNIST test set.
# Same hyper-parameters: 4,690 steps of batch 128, Adam 1e-3, cosine schedule, seed 0 (the two
# frameworks initialise and order batches differently, so this is agreement, not identity).
# Usage: SYNTH_PYTHON=.build/python/bin/python bench/cas_agreement.sh DIR [steps=4690]
#        (SYNTH=path/to/synth uses that binary instead of building one)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: bench/cas_agreement.sh DIR [steps]}
steps=${2:-4690}
python=${SYNTH_PYTHON:-.build/python/bin/python}
if [[ -z "${SYNTH:-}" ]]; then
  swift build -c release --product synth >/dev/null
  SYNTH=.build/release/synth
fi
ours=$("$SYNTH" cas --train "shards:$dir" --test fashion-mnist:test --steps "$steps" --json --no-record \
        | "$python" -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')
theirs=$("$python" bench/torch_cas.py --train "$dir" --steps "$steps" \
        | "$python" -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')
echo "synth cas   accuracy $ours"
echo "torch (wds) accuracy $theirs"
awk -v a="$ours" -v b="$theirs" 'BEGIN { d = 100 * (a - b); printf "difference %+.2f points (bar: within 2)\n", d; exit (d > 2 || d < -2) }'
