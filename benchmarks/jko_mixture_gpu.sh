#!/bin/bash
# Runs the JKO-ICNN mixture benchmark's settings (configs/jko/mixture_gpu.yaml) for several
# dimension:seed pairs at once on one GPU, one resumable `molgen jko` process per pair.
# Small-batch JKO updates leave a GPU mostly idle, so concurrent runs cost little each.
# A pair whose run finished is skipped and a killed one resumes, so the script can be run
# again after an interruption (set MOLGEN_TIME_LIMIT=SECONDS to stop every run after that).
#
#   bash benchmarks/jko_mixture_gpu.sh OUT_DIR D:S [D:S ...]
#   bash benchmarks/jko_mixture_gpu.sh runs/jko_mixture_gpu 8:2 8:3 8:4 10:2 12:1
#
# Each run writes OUT_DIR/dD_sS/ (metrics.json, config.yaml, steps.jsonl, plots/) and
# OUT_DIR/dD_sS.log; python -m benchmarks.jko_mixture_seeds tabulates them.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: bash benchmarks/jko_mixture_gpu.sh OUT_DIR D:S [D:S ...]" >&2
  exit 2
fi
out=$1
shift
mkdir -p "$out"
for pair in "$@"; do
  if [[ ! $pair =~ ^[0-9]+:[0-9]+$ ]]; then
    echo "jko_mixture_gpu.sh: $pair is not DIM:SEED" >&2
    exit 2
  fi
done
for pair in "$@"; do
  dim=${pair%%:*}
  seed=${pair##*:}
  run=$out/d${dim}_s${seed}
  [ -f "$run/metrics.json" ] && continue
  resume=()
  [ -f "$run/checkpoints/flow.pt" ] && resume=(--resume)
  timeout -s INT "${MOLGEN_TIME_LIMIT:-0}" molgen jko configs/jko/mixture_gpu.yaml \
    --dim "$dim" --seed "$seed" --out "$run" --quiet "${resume[@]}" > "$run.log" 2>&1 &
done
wait
