#!/usr/bin/env bash
# The headline's InfoNCE at paper scale on one GPU, in one device call of at most ~9 minutes.
#
#   OUT=/some/dir bash benchmarks/gpu_headline_paper_scale.sh      (from the repository root)
#
# 1. probe: `--paper-scale` InfoNCE on cs_stat for PROBE_STEPS steps, to measure steps/s;
# 2. grid:  InfoNCE at paper scale (the papers' encoder on raw x, batch 6144, constant lr 1e-4)
#    on the four content/style settings, SEEDS replicates each, for as many steps as BUDGET_S
#    seconds of training allow at the probe's rate (at most the papers' 100k), every cell
#    journalled in $OUT/grid/latent_identifiability.cells.jsonl: a grid cut off by the timeout
#    keeps its finished cells, and `--resume` with the same flags continues it.
# Everything lands under $OUT: steps.tsv (step, exit status, seconds), probe/, grid/ (the
# study's JSON, table and figure when the grid finishes) and the logs. Nothing is installed.
# A CPU dry run of the script itself (tiny batch and encoder):
#   OUT=/tmp/o PROBE_STEPS=4 BUDGET_S=20 SEEDS=1 \
#   EXTRA="--infonce-batch-size 64 --hidden 16 16 --n-fit 200 --n-eval 200 --n-kernel-fit 100" \
#   bash benchmarks/gpu_headline_paper_scale.sh
set -u -o pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:?set OUT to the output folder}
PY=${PYTHON:-$(command -v python || command -v python3)}
PROBE_STEPS=${PROBE_STEPS:-300}
BUDGET_S=${BUDGET_S:-300}  # training seconds of the grid (all its cells together)
SEEDS=${SEEDS:-1}
LIMIT_S=${LIMIT_S:-420}    # wall limit of the grid step (training + evaluation)
EXTRA=${EXTRA:-}
SETTINGS="cs_p1.0 cs_p0.75 cs_stat cs_stat_causal"
export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT"
printf 'step\trc\tseconds\n' > "$OUT/steps.tsv"

STEP_LOG="$OUT/run.log"
# shellcheck source=paper_repro/steps.sh
source paper_repro/steps.sh  # step NAME TIMEOUT_S COMMAND... (shared with paper_repro's check)

step env 60 bash -c "nvidia-smi; $PY -c 'import torch; print(torch.__version__, torch.version.cuda,
torch.cuda.is_available())'; nproc"

# shellcheck disable=SC2086  # EXTRA is a list of flags
step probe 150 "$PY" -m studies.latent_identifiability --paper-scale --settings cs_stat \
    --objectives infonce --n-seeds 1 --steps "$PROBE_STEPS" --n-checkpoints 1 --threads 4 \
    --out "$OUT/probe" $EXTRA

STEPS=$("$PY" - "$OUT/probe/latent_identifiability.json" "$BUDGET_S" "$SEEDS" <<'EOF'
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
rate = runs[0]["train"]["steps"] / runs[0]["train"]["wall_time_s"]  # steps per second
cells = 4 * int(sys.argv[3])
print(max(1, min(100_000, int(rate * float(sys.argv[2]) / cells))))
EOF
) || { echo "no probe result: see $OUT/probe.log"; exit 1; }
echo "grid steps per cell: $STEPS" | tee -a "$OUT/run.log"

# shellcheck disable=SC2086
step grid "$LIMIT_S" "$PY" -m studies.latent_identifiability --paper-scale --settings $SETTINGS \
    --objectives infonce --n-seeds "$SEEDS" --steps "$STEPS" --threads 4 --out "$OUT/grid" $EXTRA
tail -n 20 "$OUT/grid.log"
