#!/usr/bin/env bash
# paper_repro on one GPU (written for an H200 with 16 CPU cores, no network): about 6-8 minutes.
#
#   OUT=/some/dir bash paper_repro/gpu_check.sh        (from the repository root)
#
# Runs, each step under its own timeout, continuing after a failure, everything under $OUT:
#   env.txt               GPU, torch, CUDA, the Python packages that mitheory imports
#   imagefolder.json      a 20,000 + 2,000 image ImageFolder (make_imagefolder, 375x500 q90)
#   benchmark_h200.{json,txt}  paper_repro.benchmark: synthetic, real loader (16 workers),
#                         loader alone, FLOPs and the fraction of the measured bf16 matmul rate
#   estimate.txt          paper_repro.estimate from that benchmark, 8 GPUs
#   pretrain/             stats.jsonl + config.json of 200 VICReg steps at batch 256
#   linear_eval/          linear_eval.{json,md}: one probe epoch + kNN on that checkpoint
#   pytest.txt            pytest tests/paper_repro -q --runslow (the CUDA tests run there)
#   steps.tsv             step, exit status, seconds
# Nothing is installed: the repository is imported through PYTHONPATH. The dataset and the
# checkpoint (1.4 GB) stay in $WORK, outside $OUT. A CPU dry run of the script itself:
#   OUT=/tmp/o N_TRAIN=64 N_VAL=16 WORKERS=1 BATCH=8 STEPS=4 OVERLAY=paper_repro/configs/tiny.toml \
#   PYTEST=tests/paper_repro/test_estimate.py bash paper_repro/gpu_check.sh
set -u -o pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:?set OUT to the output folder}
WORK=${WORK:-/tmp/paper_repro_gpu_check}
PY=${PYTHON:-$(command -v python || command -v python3)}
N_TRAIN=${N_TRAIN:-20000}
N_VAL=${N_VAL:-2000}
WORKERS=${WORKERS:-16}
BATCH=${BATCH:-256}
STEPS=${STEPS:-60}  # benchmark steps per phase (after 10 warm-up); pretraining runs 200
PYTEST=${PYTEST:-tests/paper_repro}
OV=()
[ -n "${OVERLAY:-}" ] && OV=(--overlay "$OVERLAY")
export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$OUT" "$WORK"
printf 'step\trc\tseconds\n' > "$OUT/steps.tsv"

STEP_LOG="$OUT/gpu_check.log"
# shellcheck source=paper_repro/steps.sh
source paper_repro/steps.sh  # step NAME TIMEOUT_S COMMAND...

step env 60 bash -c "nvidia-smi; $PY -c 'import torch; print(torch.__version__, torch.version.cuda,
torch.cuda.is_available(), torch.cuda.get_device_name(0), torch.cuda.is_bf16_supported())';
$PY -c 'import numpy, scipy, PIL, sklearn, pytest; print(\"numpy\", numpy.__version__,
\"scipy\", scipy.__version__, \"PIL\", PIL.__version__, \"sklearn\", sklearn.__version__)';
$PY -c 'import paper_repro.decode as d; print(\"decoders\", d.available_backends())'; nproc"
cp "$OUT/env.log" "$OUT/env.txt"

DATA="$WORK/imagefolder"
if [ ! -f "$DATA/imagefolder.json" ]; then
    rm -rf "$DATA"
    step imagefolder 150 "$PY" -m paper_repro.make_imagefolder "$DATA" --images "$N_TRAIN" \
        --classes 10 --val-images "$N_VAL" --workers "$WORKERS"
fi
cp "$DATA/imagefolder.json" "$OUT/" 2>/dev/null

# 20,000 / 256 = 78 batches per epoch: warm-up 10 + 60 steps stay inside one epoch
step benchmark 240 "$PY" -m paper_repro.benchmark --config paper_repro/configs/vicreg.toml \
    "${OV[@]}" --data "$DATA" --workers "$WORKERS" --batch-size "$BATCH" --steps "$STEPS" \
    --warmup 10 --out "$OUT/benchmark_h200.json"
cp "$OUT/benchmark.log" "$OUT/benchmark_h200.txt"

if [ -f "$OUT/benchmark_h200.json" ]; then
    step estimate 60 "$PY" -m paper_repro.estimate --benchmark "$OUT/benchmark_h200.json" \
        --gpus 8
else
    step estimate 60 "$PY" -m paper_repro.estimate --gpus 8
fi
cp "$OUT/estimate.log" "$OUT/estimate.txt"

rm -rf "$WORK/pretrain"
step pretrain 200 "$PY" -m paper_repro.pretrain --config paper_repro/configs/vicreg.toml \
    "${OV[@]}" --data.root="\"$DATA\"" --data.workers="$WORKERS" --run.batch_size="$BATCH" \
    --run.max_steps=200 --run.checkpoint_every=0 --run.log_every=20 \
    --run.out_dir="\"$WORK/pretrain\""
mkdir -p "$OUT/pretrain"
cp "$WORK/pretrain/stats.jsonl" "$WORK/pretrain/config.json" "$OUT/pretrain/" 2>/dev/null

if [ -f "$WORK/pretrain/checkpoint.pt" ]; then
    step linear_eval 150 "$PY" -m paper_repro.linear_eval \
        --checkpoint "$WORK/pretrain/checkpoint.pt" --data "$DATA" --out "$OUT/linear_eval" \
        --linear.epochs=1 --linear.batch_size="$BATCH"
fi

step pytest 240 "$PY" -m pytest "$PYTEST" -q --runslow -p no:cacheprovider
cp "$OUT/pytest.log" "$OUT/pytest.txt"
echo "== done in ${SECONDS} s; steps:" && cat "$OUT/steps.tsv"
