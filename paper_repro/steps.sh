# Sourced by the device scripts (paper_repro/gpu_check.sh, benchmarks/gpu_headline_paper_scale.sh)
# after they set OUT and STEP_LOG:
#   step NAME TIMEOUT_S COMMAND...   run COMMAND under a timeout, its output appended to
#   $OUT/NAME.log and its command line to $STEP_LOG; NAME, exit status and seconds go to
#   $OUT/steps.tsv (whose header the sourcing script writes). A failed step does not stop the
#   script.
step() {
    local name=$1 limit=$2
    shift 2
    local t0=$SECONDS
    echo "== $name: $*" | tee -a "$STEP_LOG"
    timeout --kill-after=10 "$limit" "$@" >> "$OUT/$name.log" 2>&1
    local rc=$?
    printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - t0))" | tee -a "$OUT/steps.tsv"
}
