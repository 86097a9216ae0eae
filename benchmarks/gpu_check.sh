#!/usr/bin/env bash
# The device checks of one GPU session, as one script, all output in one log:
#   1. the environment (GPU, driver, torch, CUDA);
#   2. `benchmarks/bench_trifeature_gpu.py`: trifeature_paper training / feature / probe throughput with AMP
#      and the projected time of the full paper sweep on this device (twice the step limit: it renders the
#      224-px image bank first);
#   3. a short `trifeature_paper` run (CoMM, 2 epochs of 5,000 pairs, probes on 4,000 / 2,000 pairs);
#   4. the run, objective-contract (incl. the `gpu`-marked), augmentation and sweep test files with CUDA
#      present (device "auto" then trains on the GPU).
# Order: what a short device lease most needs first (the first session's tests used its time up).
#
# Usage: bash benchmarks/gpu_check.sh LOG_FILE [STEP_SECONDS]
# Each step has its own time limit (default 150 s), so one stuck step still leaves the others' output.
# Uses the machine's python3 (with torch + CUDA); the package is put on PYTHONPATH, not installed.
set -u
log=${1:?usage: gpu_check.sh LOG_FILE [STEP_SECONDS]}
limit=${2:-150}
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
status=0

step() {  # step NAME LIMIT COMMAND...: run with a time limit, append its output and exit code to the log
    local name=$1 lim=$2
    shift 2
    local t0=$SECONDS
    echo "=== $name: $*" >>"$log"
    timeout "$lim" "$@" >>"$log" 2>&1
    local rc=$?
    echo "=== $name: exit $rc, $((SECONDS - t0)) s" | tee -a "$log"
    [ "$rc" -eq 0 ] || status=1
}

step env 30 bash -c "date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; nproc; \
python3 -c \"import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', \
torch.version.cuda, torch.cuda.get_device_name(0))\""
step bench_gpu $((2 * limit)) python3 benchmarks/bench_trifeature_gpu.py --steps 20
step paper_run "$limit" python3 -m interactions run trifeature_paper --set train.epochs=2 \
    --set train.eval_every=2 --set train.n_train=5000 --set probe.n_train=4000 --set probe.n_test=2000 \
    --out /tmp/paper_run -q
step tests "$limit" python3 -m pytest -q -p no:cacheprovider -rA -n 4 tests/test_run.py \
    tests/objectives/test_contracts.py tests/test_augment.py tests/test_sweep.py
exit $status
