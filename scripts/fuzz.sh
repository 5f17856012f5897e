#!/usr/bin/env bash
# Fuzzes the parsers of outside input (Sources/NoTrainNoGain/Fuzzing/FuzzTargets.swift) with libFuzzer:
#   scripts/fuzz.sh [--seconds N] [target ...]
# Builds ntng-fuzz with -sanitize=fuzzer,address into .build-fuzz, runs each target (default: all)
# for N seconds (default 30) from its seed corpus (Tests/Fuzz/seeds/<target>), and prints the
# executions per target. An input that crashes, hangs (10 s) or exhausts memory (2 GiB) is kept in
# Tests/Fuzz/regressions/<target>/ — the tests replay that folder — and the script exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=30
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
echo "fuzz: building ntng-fuzz with libFuzzer and AddressSanitizer (.build-fuzz)" >&2
swift build -c debug --scratch-path .build-fuzz --product ntng-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >&2
binary=.build-fuzz/debug/ntng-fuzz
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(ls Tests/Fuzz/seeds)
failed=0
for target in "${targets[@]}"; do
    [ -d "Tests/Fuzz/seeds/$target" ] || { echo "fuzz: no target '$target' (see Tests/Fuzz/seeds)" >&2; exit 2; }
    corpus=$(mktemp -d)
    artifacts=$(mktemp -d)
    log=$(mktemp)
    cp -r "Tests/Fuzz/seeds/$target/." "$corpus/"
    # Leaks are not what this looks for (and Foundation leaks reading an empty file): off.
    if ASAN_OPTIONS=detect_leaks=0 NTNG_FUZZ_TARGET=$target "$binary" "$corpus" -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 -detect_leaks=0 \
        -max_len=65536 -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
        executions=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
        echo "fuzz: $target: ${executions:-?} executions in ${seconds}s, nothing found"
    else
        mkdir -p "Tests/Fuzz/regressions/$target"
        cp "$artifacts"/* "Tests/Fuzz/regressions/$target/" 2>/dev/null || true
        echo "fuzz: $target: FAILED — input kept in Tests/Fuzz/regressions/$target/; the fuzzer said:"
        grep -E "ERROR|SUMMARY|Fatal error|==[0-9]+==" "$log" | head -20
        failed=1
    fi
    rm -rf "$corpus" "$artifacts" "$log"
done
exit $failed
