#!/usr/bin/env bash
# Data parallelism on this machine (a benchmark, not a test): the demo BERT pre-trained for the same
# RST budget by 1 process × 2 threads and by 2 MPI ranks × 1 thread, in interleaved rounds — each round
# checks that both took the same steps and RST and reached the same validation losses within 1e-5
# (relative; the gradient sums add in another order), and fails otherwise — then the
# gradient allreduce alone for the demo BERT's and the paper BERT's parameter counts. Prints one JSON
# object per run and per allreduce size.
#
#   scripts/dp-bench.sh [--rounds 3] [--budget 30s] [--binary .build/release/ntng]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 budget=30s binary=.build/release/ntng
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --budget) budget="$2"; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
command -v mpirun >/dev/null || { echo "dp-bench: needs mpirun (scripts/install-deps.sh --mpi)" >&2; exit 1; }
[ -x "$binary" ] || swift build -c release --product ntng
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d /tmp/ntng-dp-bench.XXXXXX)
summary() {  # the end line of a run as one JSON object
    python3 - "$1" "$2" <<'PY'
import json, sys
end = [json.loads(l) for l in open(sys.argv[2] + "/metrics.jsonl") if '"event":"end"' in l][-1]
print(json.dumps({"layout": sys.argv[1], "steps": end["step"], "rst_seconds": end["rst_seconds"],
                  "tokens": end["tokens"], "wall_seconds": round(end["wall_seconds"], 2),
                  "tokens_per_second": round(end["tokens"] / end["wall_seconds"], 1),
                  "final_validation_loss": end["final_validation_loss"]}))
PY
}
# Micro-batches of 16: two per step of 32 sequences, one per rank (the demo takes one micro-batch of 32).
common=(--config Resources/configs/demo.yaml --set "training.budget=$budget" --set training.micro_batch_size=16
    --set training.checkpoint_every=1h --overwrite)
for r in $(seq "$rounds"); do
    NTNG_THREADS=2 "$binary" pretrain "${common[@]}" --set "run_directory=$work/one-$r" >"$work/one-$r.log" 2>&1
    summary "1 process x 2 threads" "$work/one-$r"
    NTNG_THREADS=1 mpirun --bind-to none -np 2 "$binary" pretrain "${common[@]}" --set "run_directory=$work/two-$r" \
        >"$work/two-$r.log" 2>&1
    summary "2 ranks x 1 thread" "$work/two-$r"
    # The check: the same steps and RST, validation losses within 1e-5 (relative; the sums' order differs).
    python3 - "$work/one-$r" "$work/two-$r" <<'PY'
import json, sys
one, two = ([json.loads(l) for l in open(d + "/metrics.jsonl")] for d in sys.argv[1:])
end = lambda log: [e for e in log if e["event"] == "end"][-1]
val = lambda log: [e["loss"] for e in log if e["event"] == "validation"]
assert end(one)["step"] == end(two)["step"] and end(one)["rst_seconds"] == end(two)["rst_seconds"], "steps or RST differ"
worst = max(abs(a - b) / max(1, abs(a)) for a, b in zip(val(one), val(two)))
assert len(val(one)) == len(val(two)) and worst <= 1e-5, f"validation losses differ by {worst}"
print(json.dumps({"check": "2 ranks = 1 process", "steps": end(one)["step"], "largest_validation_difference": worst}))
PY
done
floats=$(python3 -c "import json; print(json.loads(open('$work/one-1/metrics.jsonl').readline())['parameters'])")
for n in "$floats" 120000000; do
    mpirun --bind-to none -np 2 "$binary" bench allreduce --floats "$n" --repeats 10 | python3 -c \
        "import json,sys; d=json.load(sys.stdin); print(json.dumps(d))"
done
echo "runs in $work" >&2
