#!/usr/bin/env bash
# The main job: installs dependencies if missing, builds ntng in release mode and runs the demo:
# a tiny crammed BERT pre-trained for a few RST minutes on the bundled corpus, printing the
# validation loss before and after. Extra arguments go to `ntng demo` (e.g. --set training.budget=1m).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product ntng
.build/release/ntng demo "$@"
