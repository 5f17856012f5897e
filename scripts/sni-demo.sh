#!/usr/bin/env bash
# The T5 leg on a CPU: pre-trains the T5 demo model (Resources/configs/demo-t5.yaml, 3 RST minutes;
# skipped when runs/demo-t5 already holds a finished run), then fine-tunes it on a subset of
# Super-NaturalInstructions and scores ROUGE-L per category (Resources/evaluation/sni-cpu.yaml),
# once from the pre-trained weights and once from a random initialisation of the same shape.
#   scripts/sni-demo.sh [--sni-dir <SNI checkout>] [more ntng evaluate options]
# The SNI data defaults to ../shared/data/super-natural-instructions.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product ntng
ntng=.build/release/ntng
run=runs/demo-t5
if ! grep -q '"event":"end"' "$run/metrics.jsonl" 2>/dev/null; then
    if [ -f "$run/checkpoint/state.json" ]; then
        $ntng pretrain --config Resources/configs/demo-t5.yaml --resume
    else
        $ntng pretrain --config Resources/configs/demo-t5.yaml
    fi
fi
for init in "" "--random-init"; do
    $ntng evaluate --run "$run" --suite sni --sni-config Resources/evaluation/sni-cpu.yaml $init "$@"
done
