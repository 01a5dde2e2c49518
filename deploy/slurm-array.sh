#!/usr/bin/env bash
# A synth build split over a Slurm job array of 8 tasks, then merged by a dependent job:
#
#   jid=$(sbatch --parsable deploy/slurm-array.sh)
#   sbatch --dependency=afterok:$jid --wrap "synth merge /shared/data/cag-fmnist && synth verify /shared/data/cag-fmnist"
#
# Task I reads its worker index from SLURM_ARRAY_TASK_ID (the array must run 0..W-1), and writes
# its shards (shard s belongs to worker s mod W) and manifest.part-I-of-W.json into OUT on a
# shared file system. The merge runs once every task has succeeded; the merged dataset is
# byte-identical to a one-process build with the same flags. A requeued or failed task rerun with
# the same command continues where it stopped (--resume keeps its complete shards). Every task
# must see the same model files (by content: their paths may differ): merge refuses parts whose
# build records (model hashes) differ, naming the field. A task whose filter ran out of attempts
# for some class writes its part and fails (exit 1, naming the classes); add --allow-short to the
# build and to the merge to accept a short dataset.
#SBATCH --job-name=synth-build
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=12:00:00
#SBATCH --requeue
#SBATCH --output=synth-build-%A_%a.out
set -euo pipefail

W=8                                  # must match --array=0-(W-1)
OUT=${OUT:-/shared/data/cag-fmnist}
MODELS=${MODELS:-/shared/models}

exec synth build --source cag \
  --classifier "$MODELS/teacher-ref-cnn.safetensors" \
  --reconstructor "$MODELS/mae.safetensors" \
  --filter "$MODELS/filter-resnet-s.safetensors" \
  --classes 10 --per-class 10000 --threshold 0.9 --seed 1 --shard-size 1000 \
  --out "$OUT" --workers "$W" --resume
