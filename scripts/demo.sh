#!/usr/bin/env bash
# The main job: installs run-time dependencies if missing, builds ntng in release mode and runs it.
# For now the demo is the engine benchmark (`ntng bench ops`), printing JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product ntng
.build/release/ntng bench ops "$@"
