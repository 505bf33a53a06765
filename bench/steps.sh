# # Steps under wall-clock caps, for a GPU machine lent for minutes
#
# A script for a GPU machine (`bench/gpu.sh`) is a list of steps, each with its own wall-clock
# cap in seconds. Sourced by such a script, this file gives it:
#
#     steps_begin RESULTS BUDGET [SCALE]  # results folder, seconds all the caps may add up to
#     step NAME CAP COMMAND...            # COMMAND (a program or exported function), capped
#     steps_report                        # one line per step: cap, seconds taken, outcome
#
# The script holds to its budget by construction: a step whose cap would take the caps past the
# budget is refused (and recorded as such) without running, and no step runs past the deadline
# that `steps_begin` set, whatever the caps say. Each step's output goes to `RESULTS/NAME.log`
# and its outcome is appended to `RESULTS/steps.tsv` the moment it ends, so a script killed
# halfway keeps what it had. A step that fails or reaches its cap is recorded as `failed` or
# `capped`, and the next step runs. COMMAND finds its own cap in `$STEP_CAP`, to stop itself a
# little sooner and keep what it made.
#
# `SCALE` multiplies every cap and the budget's deadline, for a rehearsal on a slower machine;
# the caps are held to the budget unscaled, as on the real one. With `STEPS_PLAN=1` the steps
# are checked against the budget and recorded as `planned`, and none runs.

# The seconds between the polite stop at the cap (SIGTERM, which a Python process can clean up
# after) and the forced one (SIGKILL)
STEP_GRACE=5

steps_begin() {
    STEPS_RESULTS=$1
    STEPS_BUDGET=$2
    STEPS_SCALE=${3:-1}
    STEPS_DEADLINE=$(($(date +%s) + STEPS_BUDGET * STEPS_SCALE))
    # The caps of the steps so far
    STEPS_PLANNED=0
    mkdir -p "$STEPS_RESULTS"
    printf 'step\tcap_s\tseconds\toutcome\n' > "$STEPS_RESULTS/steps.tsv"
}

# `step NAME CAP COMMAND...`; returns 0 whatever the outcome, which is in steps.tsv.
step() {
    local name=$1 cap=$2
    shift 2
    local log="$STEPS_RESULTS/$name.log" outcome status=0
    # The cap, cut short where the deadline comes sooner
    local left=$((STEPS_DEADLINE - $(date +%s))) scaled=$((cap * STEPS_SCALE))
    local limit=$((scaled < left ? scaled : left))
    if [ "$cap" -le "$STEP_GRACE" ]; then
        _step_record "$name" "$cap" 0.0 "refused: a cap must be more than $STEP_GRACE s"
        return 0
    fi
    if [ $((STEPS_PLANNED + cap)) -gt "$STEPS_BUDGET" ]; then
        _step_record "$name" "$cap" 0.0 "refused: with it the caps would add up to" \
            "$((STEPS_PLANNED + cap)) s, over the budget of $STEPS_BUDGET s"
        return 0
    fi
    STEPS_PLANNED=$((STEPS_PLANNED + cap))
    if [ "${STEPS_PLAN:-0}" = 1 ]; then
        _step_record "$name" "$cap" 0.0 planned
        return 0
    fi
    if [ "$limit" -le "$STEP_GRACE" ]; then
        _step_record "$name" "$cap" 0.0 "skipped: ${left} s left before the deadline"
        return 0
    fi
    echo "step $name (cap $cap s): $*" >&2
    local start
    start=$(date +%s%N)
    # `timeout` stops the command's whole process group; `bash -c` lets COMMAND be an exported
    # shell function as well as a program
    STEP_CAP=$((limit - STEP_GRACE)) timeout --kill-after="$STEP_GRACE" "$((limit - STEP_GRACE))" \
        bash -c '"$@"' "$name" "$@" > "$log" 2>&1 < /dev/null || status=$?
    case $status in
        0) outcome=ok ;;
        124 | 137) outcome="capped at $((limit - STEP_GRACE)) s" ;;
        *) outcome="failed (exit $status)" ;;
    esac
    local milliseconds=$((($(date +%s%N) - start) / 1000000))
    _step_record "$name" "$cap" "$((milliseconds / 1000)).$((milliseconds % 1000 / 100))" "$outcome"
    # A failure shows the end of its log; the whole log is in the results folder
    [ "$status" = 0 ] || tail -n 15 "$log" | sed "s/^/  $name: /" >&2
}

# One line of steps.tsv: name, cap, seconds taken, outcome.
_step_record() {
    local name=$1 cap=$2 seconds=$3
    shift 3
    printf '%s\t%s\t%s\t%s\n' "$name" "$cap" "$seconds" "$*" >> "$STEPS_RESULTS/steps.tsv"
    printf 'step %s: %s\n' "$name" "$*" >&2
}

# The outcome of every step, as a table.
steps_report() {
    awk -F '\t' '{ printf "%-24s %6s %8s  %s\n", $1, $2, $3, $4 }' "$STEPS_RESULTS/steps.tsv"
}
