#!/usr/bin/env bash
# The test command: installs run-time dependencies if missing (Open MPI too, for the data-parallel
# tests), builds ntng (those tests start it under mpirun), then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
NTNG_SKIP_MKL="${NTNG_SKIP_MKL:-1}" scripts/install-deps.sh --mpi
swift build --product ntng
swift test "$@"
