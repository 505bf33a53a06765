#!/usr/bin/env bash
# # The benchmark on a GPU machine without internet access
#
# For a machine that has a GPU, Python and torch, but no way to reach the package registry:
# everything else comes from `.build/gpu-bundle/` ([`bundle.sh`](bundle.sh)), which
# `make gpu-bundle` fills where the registry is reachable. Carry that folder along with the working
# tree, then run
#
#     bash bench/gpu.sh
#
# It runs the steps below, each under its own wall-clock cap ([`steps.sh`](steps.sh)), the caps
# adding up to 8 minutes, and writes each step's results to `$BENCH_RESULTS` (by default `$OUT`
# where that is set, else `.build/gpu-results`) as soon as the step ends:
#
# 1. installing what is missing from the bundle, MNIST and the anchor;
# 2. throughput of the anchor, of ours at its defaults and of ours at batch 64 fp32, each in a
#    step of its own: a step that reaches its cap costs only its own row;
# 3. the anchor and our default experiment in accuracy mode, for a few dozen training seconds;
# 4. `python -m labml_nn.capsule_networks.mnist` at its defaults, from a fresh process, its log
#    copied to the results as it stands when the run ends or is stopped;
# 5. the table, rebuilt from the results folder alone.
#
# It prints the outcome of every step, then the table, last.
#
# `BENCH_TINY=1 bash bench/gpu.sh` runs the same steps on the CPU, with a few steps and images and
# without compilation, to show that the script works end to end (`make gpu-bench-tiny`); a CPU
# shared with other work gets four times each cap. `STEPS_PLAN=1 bash bench/gpu.sh` lists the
# steps and their caps, checked against the budget, without running them. `PYTHON` picks the
# interpreter (default `python3`).

set -euo pipefail
cd "$(dirname "$0")/.."
source bench/steps.sh
source bench/bundle.sh

export PY=${PYTHON:-python3}
export BUNDLE=${BENCH_BUNDLE:-.build/gpu-bundle}
export RESULTS=${BENCH_RESULTS:-${OUT:-.build/gpu-results}}
export TINY=${BENCH_TINY:-0}
# All the caps together, in seconds, and how many times its caps a step gets
BUDGET=480
SCALE=1

# ## What each mode runs
#
# The full run on the GPU; the tiny run on the CPU, in scratch folders of its own so that it also
# installs from the bundle and unpacks MNIST.
if [ "$TINY" = 1 ]; then
    SCRATCH=.build/gpu-tiny
    rm -rf "$SCRATCH"
    export SITE=$SCRATCH/site DATA=$SCRATCH/data ANCHOR=$SCRATCH/anchor DEVICE=cpu
    export TORCH_COMPILE_DISABLE=1
    SCALE=4
    # Ours trains on full batches of 512 by default: one batch, the same at every step
    THROUGHPUT=(--warmup-steps 1 --steps 1 --train-images 512 --test-images 256)
    ANCHOR_ACCURACY=(--epochs 1 --train-images 128 --test-images 256)
    OURS_ACCURACY=(--epochs 1 --train-images 512 --test-images 256)
    EXPERIMENT=(device=cpu train_subset=512 valid_subset=256 epochs=1)
else
    export SITE=.build/gpu-site DATA=data ANCHOR=.build/anchor DEVICE=cuda
    THROUGHPUT=(--warmup-steps 10 --steps 100)
    ANCHOR_ACCURACY=(--epochs 4 --max-seconds 35)
    # The experiment's 30 epochs, so that its one-cycle schedule is the one timed
    OURS_ACCURACY=(--epochs 30 --max-seconds 30)
    EXPERIMENT=(device=cuda)
fi
export PYTHONPATH="$PWD/$SITE${PYTHONPATH:+:$PYTHONPATH}"
steps_begin "$RESULTS" "$BUDGET" "$SCALE"
# Nothing left from an earlier run
rm -rf "$RESULTS"/*.json "$RESULTS"/*.log "$RESULTS/experiment"

# ## Installing
#
# What the bundle holds and this Python lacks ([`bundle.sh`](bundle.sh)), MNIST, and the anchor in
# a folder of its own; the tiny run always installs labml, to show that installing works.
install_all() {
    set -euo pipefail
    if [ "$TINY" = 1 ]; then install_from_bundle labml; else install_from_bundle; fi
    if [ ! -f "$ANCHOR/labml_nn/capsule_networks/mnist.py" ]; then
        local found
        found=$(wheel labml_nn)
        install_wheel "$ANCHOR" "$found"
    fi
}

# ## The benchmark's runs, each saved as JSON in the results
bench() {
    "$PY" -m bench.run --device "$DEVICE" --data "$DATA" --anchor-folder "$ANCHOR" "$@"
}

# ## The experiment itself, from a fresh process
#
# `python -m labml_nn.capsule_networks.mnist` as users run it. It stops itself 5 seconds before
# the step's cap, and its log, which holds every epoch it finished, is copied to the results
# either way; the step's outcome is the run's. labml takes the run's name from `RUN_UUID`, so the
# run's folder is known.
experiment() {
    local uuid status=0
    uuid=gpu-$(date +%s)
    RUN_UUID=$uuid timeout $((STEP_CAP - 5)) "$PY" -m labml_nn.capsule_networks.mnist \
        data_path="$DATA" "$@" || status=$?
    mkdir -p "$RESULTS/experiment"
    local run=logs/capsule_network_mnist/$uuid
    cp "$run/log.jsonl" "$run/configs.yaml" "$RESULTS/experiment/" || return 1
    # The tiny run leaves no run of its own behind, checkpoint and all
    if [ "$TINY" = 1 ]; then rm -rf "$run"; fi
    return "$status"
}

# ## The table, from the results folder alone
table() {
    local status=0
    "$PY" -m bench.run --table "$RESULTS"/*.json || status=$?
    echo
    "$PY" -m bench.experiment_log "$RESULTS/experiment" || status=$?
    return "$status"
}

export -f install_all bench experiment table

step install 25 install_all
step throughput-anchor 30 bench --runners anchor "${THROUGHPUT[@]}" \
    --save "$RESULTS/throughput-anchor.json"
step throughput-ours 70 bench --runners ours --compare default "${THROUGHPUT[@]}" \
    --save "$RESULTS/throughput-ours.json"
step throughput-ours-b64-fp32 70 bench --runners ours --compare same-batch "${THROUGHPUT[@]}" \
    --save "$RESULTS/throughput-ours-b64-fp32.json"
step accuracy-anchor 55 bench --accuracy --runners anchor "${ANCHOR_ACCURACY[@]}" \
    --save "$RESULTS/accuracy-anchor.json"
step accuracy-ours 60 bench --accuracy --runners ours "${OURS_ACCURACY[@]}" \
    --save "$RESULTS/accuracy-ours.json"
step experiment 150 experiment "${EXPERIMENT[@]}"
step table 20 table

echo
steps_report
if [ -f "$RESULTS/table.log" ]; then
    echo
    cat "$RESULTS/table.log"
fi
