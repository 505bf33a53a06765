#!/usr/bin/env bash
# # The paper's evidence on a GPU machine without internet access
#
# The second script for a GPU machine, after [`gpu.sh`](gpu.sh), with the same bundle
# (`make gpu-bundle`, [`bundle.sh`](bundle.sh)) and the same steps under wall-clock caps
# ([`steps.sh`](steps.sh)), the caps adding up to at most 8 minutes:
#
#     bash bench/evidence_gpu.sh
#
# 1. installing what is missing from the bundle, and MNIST;
# 2. the CapsNet, then the baseline, on MultiMNIST, each for the same training time;
# 3. the CapsNet, then the baseline, on the affine experiment, each for the same training time
#    or until it reaches the paper's MNIST accuracy, 99.2% on the translated test digits,
#    whichever comes first, then tested on the regeneration of affNIST's test set;
# 4. the table against the paper's numbers ([`evidence_table.py`](evidence_table.py)), rebuilt
#    from the results folder alone, printed last.
#
# Each run is `python -m labml_nn.capsule_networks.<experiment>` as users run it, from a fresh
# process, with `time_budget` seconds of training: after the epoch that passes them, it runs its
# final tests and stops. The budget is far below the paper's training (60 million MultiMNIST
# pairs), so the table measures how far each model gets in the same short time, not the paper's
# results. The learning rate is Adam's $10^{-3}$, constant, as the paper's without its decay: the
# one-cycle schedule is planned over a number of epochs, which a time budget doesn't know. Nothing
# is compiled: the compiler's first minute would come out of the budget. Each
# run's `log.jsonl` and `configs.yaml` go to `$BENCH_RESULTS/<experiment>-<model>/` (by default
# `$OUT` where that is set, else `.build/evidence-results`), whatever the run's outcome.
#
# `BENCH_TINY=1 bash bench/evidence_gpu.sh` runs the same steps on the CPU, on a few digits,
# to show that the script works end to end (`make gpu-evidence-tiny`); `STEPS_PLAN=1` lists the
# steps and their caps without running them. `PYTHON` picks the interpreter (default `python3`).

set -euo pipefail
cd "$(dirname "$0")/.."
source bench/steps.sh
source bench/bundle.sh

export PY=${PYTHON:-python3}
export BUNDLE=${BENCH_BUNDLE:-.build/gpu-bundle}
export RESULTS=${BENCH_RESULTS:-${OUT:-.build/evidence-results}}
export TINY=${BENCH_TINY:-0}
# All the caps together, in seconds, and how many times its caps a step gets
BUDGET=480
SCALE=1

# ## What each mode runs
#
# On the GPU, each model trains for 45 s on MultiMNIST and on the affine experiment, tested
# after each epoch on the first 20,000 MultiMNIST test pairs (to $\pm 0.3$ points at $5\%$) or
# on all 10,000 translated test digits, and at the end on all 10,000 affine ones. The tiny run
# trains one epoch on 64 digits, on the CPU, in scratch folders of its own so that it also
# installs from the bundle and unpacks MNIST.
if [ "$TINY" = 1 ]; then
    SCRATCH=.build/evidence-tiny
    rm -rf "$SCRATCH"
    export SITE=$SCRATCH/site DATA=$SCRATCH/data
    export TORCH_COMPILE_DISABLE=1
    SCALE=4
    SETTINGS="device=cpu epochs=1 train_subset=64 batch_size=32 compile=off"
    MULTI_MNIST="valid_subset=32"
    AFFINE="valid_subset=32 affine_subset=32"
else
    export SITE=.build/gpu-site DATA=data
    SETTINGS="device=cuda epochs=100 time_budget=45 schedule=constant learning_rate=1e-3"
    SETTINGS="$SETTINGS compile=off"
    MULTI_MNIST="valid_subset=20000"
    AFFINE="stop_accuracy=0.992"
fi
export SETTINGS MULTI_MNIST AFFINE
export PYTHONPATH="$PWD/$SITE${PYTHONPATH:+:$PYTHONPATH}"
steps_begin "$RESULTS" "$BUDGET" "$SCALE"
# Nothing left from an earlier run
rm -rf "$RESULTS"/*-capsnet "$RESULTS"/*-baseline "$RESULTS"/*.log

# ## Installing
#
# What the bundle holds and this Python lacks, and MNIST; the tiny run always installs labml,
# to show that installing works.
install_all() {
    set -euo pipefail
    if [ "$TINY" = 1 ]; then install_from_bundle labml; else install_from_bundle; fi
}

# ## One run: `evidence EXPERIMENT MODEL`
#
# It stops itself 5 seconds before the step's cap, and its log, which holds every epoch it
# finished, is copied to the results either way; the step's outcome is the run's. labml takes
# the run's name from `RUN_UUID`, so the run's folder is known.
evidence() {
    local experiment=$1 model=$2 uuid status=0 settings
    uuid=evidence-$model-$(date +%s)
    if [ "$experiment" = multi_mnist ]; then settings=$MULTI_MNIST; else settings=$AFFINE; fi
    # shellcheck disable=SC2086
    RUN_UUID=$uuid timeout $((STEP_CAP - 5)) "$PY" -m "labml_nn.capsule_networks.$experiment" \
        data_path="$DATA" model="$model" $SETTINGS $settings || status=$?
    local run=logs/capsule_network_$experiment/$uuid
    mkdir -p "$RESULTS/$experiment-$model"
    cp "$run/log.jsonl" "$run/configs.yaml" "$RESULTS/$experiment-$model/" || return 1
    # The tiny run leaves no run of its own behind, checkpoint and all
    if [ "$TINY" = 1 ]; then rm -rf "$run"; fi
    return "$status"
}

# ## The table, from the results folder alone
table() {
    "$PY" -m bench.evidence_table "$RESULTS"
}

export -f install_all evidence table

step install 25 install_all
step multi_mnist-capsnet 100 evidence multi_mnist capsnet
step multi_mnist-baseline 100 evidence multi_mnist baseline
step affine-capsnet 100 evidence affine capsnet
step affine-baseline 100 evidence affine baseline
step table 15 table

echo
steps_report
if [ -f "$RESULTS/table.log" ]; then
    echo
    cat "$RESULTS/table.log"
fi
