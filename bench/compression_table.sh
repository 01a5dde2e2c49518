#!/usr/bin/env bash
# The Fashion-MNIST compression table (seed 003 §IV-B, Table I): the real error-versus-size curve
# (ref-cnn, 4,690 steps, real subsets of 1k..60k, same steps and same epochs) and every dataset of
# bench/compression_datasets.txt (or the DIRs given) placed on it, with model bytes against real bytes:
# once trained on the datasets' labels (the hard column, bench/results/fmnist-compression.json) and
# once on their stored probabilities at temperature $SOFT_T, default 4 (the soft column,
# bench/results/fmnist-compression-soft.json; datasets without probs are left out of it).
#
#   bench/compression_table.sh                 # every dataset listed (builds the missing ones)
#   bench/compression_table.sh data/gan ...    # these directories
#
# The real curve is cached in bench/results/fmnist-real-curve.json (12 trainings the first time;
# reused while the settings match), each dataset's CAS in its own manifest, so adding a row costs
# one CAS. SYNTH=path/to/synth uses that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${SYNTH:-}" ]]; then
  swift build -c release --product synth >/dev/null
  SYNTH=.build/release/synth
fi
dirs=()
if (($#)); then
  dirs=("$@")
else
  while IFS='|' read -r dir recipe; do
    dir=$(echo "$dir" | xargs); recipe=$(echo "$recipe" | xargs)
    [[ -z "$dir" || "$dir" == \#* ]] && continue
    if [[ ! -f "$dir/manifest.json" ]]; then
      echo "building $dir: synth $recipe --out $dir" >&2
      # shellcheck disable=SC2086
      "$SYNTH" $recipe --out "$dir" >&2
    fi
    dirs+=("$dir")
  done < bench/compression_datasets.txt
fi
args=(); soft=()
for d in "${dirs[@]}"; do
  args+=(--synthetic "$d")
  # A dataset stores soft labels when its samples' json hold probs: look at the first one (in a
  # subshell without pipefail: head closing the pipe early is not a failure here).
  first=$(ls "$d"/*.tar | head -1)
  if (set +o pipefail; tar -xOf "$first" --wildcards '*.json' 2>/dev/null | head -c 4096 | grep -q '"probs"'); then
    soft+=(--synthetic "$d")
  fi
done
common=(--real fashion-mnist:train --test fashion-mnist:test --sizes 1000,2000,5000,10000,20000,60000
        --curve bench/results/fmnist-real-curve.json --verbose)
"$SYNTH" compress "${args[@]}" "${common[@]}" --out bench/results/fmnist-compression.json
if ((${#soft[@]})); then
  "$SYNTH" compress "${soft[@]}" "${common[@]}" --soft --temperature "${SOFT_T:-4}" --out bench/results/fmnist-compression-soft.json
fi
