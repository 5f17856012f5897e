#!/usr/bin/env bash
# Kills pre-training with SIGKILL at random moments, resumes it, and checks that the result equals
# an uninterrupted run's, bit for bit: every logged training and validation figure, the step count,
# the RST and the final weights and optimiser state (their SHA-256 in the checkpoint).
#
#   scripts/fault-injection.sh [--kills N] [--binary PATH] [--budget S] [--seed S] [scenario ...]
#
# Scenarios (default: all but checkpoint): baseline; checkpoint (a wider model checkpointed after
# every step, so that kills land in checkpoint writes — use a release binary); stacking (kills across the stacking events); sb (selective
# backprop: its buffer and history in the checkpoint); sophia (Hessian passes and their counter). Each scenario runs once straight, then
# again with N kills (default 5), each after a random 0.05-1.5 s once the run has a checkpoint. A tiny
# model on a generated corpus keeps every run to seconds, even with a debug build (default binary:
# .build/debug/ntng, built if missing); a release binary needs a longer budget (default 60 RST s at
# 2 RST s per step; cadences scale with it) for the kills to land. Prints a line per scenario and a
# total; exits 1 if any result differs.
set -euo pipefail
cd "$(dirname "$0")/.."
kills=5
budget=60
binary=.build/debug/ntng
seed=$RANDOM
scenarios=()
while [ $# -gt 0 ]; do
    case "$1" in
        --kills) kills=$2; shift 2 ;;
        --binary) binary=$2; shift 2 ;;
        --budget) budget=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        *) scenarios+=("$1"); shift ;;
    esac
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(baseline stacking sb sophia)
[ -x "$binary" ] || swift build --product ntng >&2
RANDOM=$seed
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A corpus of 400 sentences over 20 words, a cost table of 1 RST s per micro-batch of 8, a tiny BERT.
words=(the cat dog sat ran on under a mat log big small red blue quickly slowly and then home park)
for d in $(seq 400); do
    n=$((6 + RANDOM % 10)); line=""
    for _ in $(seq $n); do line+="${words[$((RANDOM % 20))]} "; done
    printf '%s.\n\n' "$line" >>"$work/corpus.txt"
done
echo '{"source":"fault injection","training_per_layers":[1,1],"forward_only":0.5,"micro_batch_size":8}' >"$work/cost.json"
cat >"$work/base.yaml" <<YAML
model: {layers: 2, hidden: 32, heads: 2, intermediate: 64, vocabulary_size: 120, max_sequence_length: 16}
data: {corpus: corpus.txt, sequence_length: 16, validation_fraction: 0.1, cache_dir: $work/cache}
training: {budget: ${budget}s, micro_batch_size: 8, batch_size: 16, learning_rate: 3.0e-3, cost_model: cost.json,
           validate_every: $((budget / 6))s, checkpoint_every: $((budget / 15))s, log_every: 1}
YAML

options() {
    case "$1" in
        baseline) echo "" ;;
        checkpoint) echo "--set model.hidden=384 --set model.heads=4 --set model.intermediate=1536 --set training.checkpoint_every=2s" ;;
        stacking) echo "--set stacking.initial_blocks=1 --set stacking.fractions=[0.3,0.6]" ;;
        sb) echo "--set batch_selection.method=sb --set batch_selection.history=64" ;;
        sophia) echo "--set optimizer.name=sophia --set optimizer.hessian_interval=3 --set optimizer.hessian_micro_batches=2" ;;
        *) echo "unknown scenario '$1' (baseline, checkpoint, stacking, sb, sophia)" >&2; exit 2 ;;
    esac
}

# The deterministic figures of a run: training and validation lines without wall-clock fields, the
# end line's step, RST and tokens, and the SHA-256 of the final weights and optimiser state.
figures() {
    grep -E '"event":"(train|validation|end|stacking|nonfinite)"' "$1/metrics.jsonl" |
        sed -E 's/"(tokens_per_second|wall_seconds|time)":[^,}]*,?//g'
    sha256sum "$1/checkpoint/model.safetensors" "$1/checkpoint/optimizer.safetensors" | cut -d' ' -f1
}

total_kills=0; in_checkpoint=0; failed=0
for scenario in "${scenarios[@]}"; do
    # shellcheck disable=SC2046
    "$binary" pretrain --config "$work/base.yaml" $(options "$scenario") --set run_directory="$work/$scenario-straight" \
        >"$work/$scenario-straight.log" 2>&1
    run="$work/$scenario-killed"
    flag=""
    done_kills=0
    while true; do
        # shellcheck disable=SC2046
        "$binary" pretrain --config "$work/base.yaml" $(options "$scenario") --set run_directory="$run" $flag \
            >>"$work/$scenario-killed.log" 2>&1 &
        pid=$!
        if [ $done_kills -lt "$kills" ]; then
            # Only a run with a checkpoint can resume: wait for the first one (or the end).
            while [ ! -d "$run/checkpoint" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
            sleep "$(printf '0.%02d' $((5 + RANDOM % 95)))"
            [ $((RANDOM % 3)) = 0 ] && sleep 0.5
        fi
        [ $done_kills -lt "$kills" ] && { kill -9 "$pid" 2>/dev/null || true; }
        status=0
        wait "$pid" 2>/dev/null || status=$?
        if [ $status = 137 ]; then  # killed (not finished before the signal)
            done_kills=$((done_kills + 1))
            [ -d "$run/checkpoint.tmp" ] && in_checkpoint=$((in_checkpoint + 1))
            flag="--resume"
            continue
        fi
        if [ $status != 0 ]; then
            echo "fault injection: $scenario: the run failed (exit $status); its log ends:"
            tail -5 "$work/$scenario-killed.log"
            failed=1
        fi
        break
    done
    total_kills=$((total_kills + done_kills))
    if [ "$(figures "$work/$scenario-straight")" = "$(figures "$run")" ]; then
        echo "fault injection: $scenario: $done_kills kills, resumed each time; identical to the uninterrupted run"
    else
        echo "fault injection: $scenario: $done_kills kills; DIFFERENT from the uninterrupted run:"
        diff <(figures "$work/$scenario-straight") <(figures "$run") | head -10
        failed=1
    fi
done
echo "fault injection: $total_kills kills in all ($in_checkpoint during a checkpoint write), seed $seed"
exit $failed
