#!/usr/bin/env bash
# ntng compare --slurm on a real single-node Slurm started here: installs Debian's slurm-wlm and munge
# if missing (needs root), starts munged, slurmctld and slurmd on localhost with a minimal
# slurm.conf in a temporary folder, submits a small experiment (a tiny BERT: baseline, layer stacking
# and RHO-loss, 2 seeds, the IL model as its own job; with Open MPI, every cell on 2 MPI ranks), waits
# for the job arrays, builds the report with --report-only, checks that every cell finished, and stops
# the daemons. Exits 0 with "skipped: <why>" when Slurm cannot run on this machine.
#
#   scripts/slurm-check.sh [--binary .build/debug/ntng]
set -euo pipefail
cd "$(dirname "$0")/.."
binary=.build/debug/ntng
[ "${1:-}" = --binary ] && binary="$2"
[ -x "$binary" ] || swift build --product ntng
binary=$(realpath "$binary")
skip() { echo "slurm-check: skipped: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "starting slurmctld, slurmd and munged here needs root"
if ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null \
        || skip "could not install slurm-wlm and munge with apt-get"
fi

work=$(mktemp -d /tmp/ntng-slurm.XXXXXX)
export SLURM_CONF="$work/slurm.conf"
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work"/{state,spool,log}
cat >"$SLURM_CONF" <<CONF
ClusterName=ntng-check
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=26817
SlurmdPort=26818
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$cpus RealMemory=2000 State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

started_munge=0
if ! munge -n >/dev/null 2>&1; then
    [ -e /etc/munge/munge.key ] || mungekey --create >/dev/null 2>&1 || skip "cannot create a munge key"
    mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
    munged --force 2>/dev/null || skip "munged does not start"
    started_munge=1
fi
cleanup() {
    [ -f "$work/slurmd.pid" ] && kill "$(cat "$work/slurmd.pid")" 2>/dev/null || true
    [ -f "$work/slurmctld.pid" ] && kill "$(cat "$work/slurmctld.pid")" 2>/dev/null || true
    [ $started_munge = 1 ] && pkill -x munged 2>/dev/null || true
}
trap cleanup EXIT
slurmctld || skip "slurmctld does not start (see $work/log/slurmctld.log)"
slurmd || skip "slurmd does not start (see $work/log/slurmd.log)"
for _ in $(seq 40); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 0.5; done
sinfo -h -o %T | grep -q idle || skip "the node did not come up: $(tail -n 3 "$work/log/slurmd.log")"
echo "slurm-check: Slurm $(sinfo --version | cut -d' ' -f2) up on $host ($cpus CPUs)"

# The experiment: the tests' tiny BERT on a synthetic corpus.
python3 - "$work" <<'PY'
import random, sys
random.seed(5)
words = "the cat dog sat ran on under a mat log big small red blue quickly slowly and then home park".split()
with open(f"{sys.argv[1]}/corpus.txt", "w") as f:
    for _ in range(300):
        f.write(" ".join(random.choice(words) for _ in range(6 + random.randrange(10))) + ".\n\n")
PY
echo '{"source":"test","training_per_layers":[1,1],"forward_only":0.5,"micro_batch_size":8}' >"$work/cost.json"
cat >"$work/base.yaml" <<YAML
name: tiny
model: {layers: 2, hidden: 32, heads: 2, intermediate: 64, vocabulary_size: 120, max_sequence_length: 16}
data: {corpus: corpus.txt, sequence_length: 16, validation_fraction: 0.1, cache_dir: $work/cache}
training: {budget: 16s, micro_batch_size: 8, batch_size: 32, learning_rate: 3.0e-3, cost_model: cost.json,
           validate_every: 8s, log_every: 1}
YAML
cat >"$work/experiment.yaml" <<YAML
name: slurm-check
base_config: base.yaml
budgets: [16s]
seeds: [0, 1]
common: {data: {reserve_fraction: 0.2}}
methods:
  baseline: {}
  stacking: {stacking: {initial_blocks: 1, fractions: [0.3]}}
  rho-loss: {batch_selection: {method: rho, mega_batch: 2}}
il_budget: 16s
output: $work/out
YAML
ranks=()
if command -v mpirun >/dev/null; then
    ranks=(--ranks-per-cell 2)
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
cd "$work"
"$binary" compare --config experiment.yaml --slurm --time 10:00 --sbatch-flag=--mem=500 "${ranks[@]}"
for _ in $(seq 600); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 1; done
[ -z "$(squeue -h)" ] || { echo "slurm-check: jobs still queued after 10 minutes"; squeue; exit 1; }
"$binary" compare --config experiment.yaml --report-only >"$work/report.txt" 2>&1
if grep -q "Not finished" out/report.md || [ "$(find out -name metrics.jsonl | wc -l)" != 7 ]; then
    echo "slurm-check: FAILED — cells did not finish; job output:"
    tail -n 3 out/slurm/*.out
    exit 1
fi
if [ ${#ranks[@]} -gt 0 ] && ! grep -q "data parallel: 2 processes" out/baseline/16s/seed-0.log; then
    echo "slurm-check: FAILED — the cells did not run on 2 MPI ranks"
    exit 1
fi
grep -E "^\| (baseline|stacking|rho-loss) " out/report.md
echo "slurm-check: ok — 6 cells and the IL model ran as Slurm jobs ${ranks[*]:+on 2 MPI ranks each}; report in $work/out"
