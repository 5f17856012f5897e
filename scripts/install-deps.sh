#!/usr/bin/env bash
# Installs what NoTrainNoGain needs, only where it is missing:
#  - OpenBLAS (Debian/Ubuntu package libopenblas-dev), the default BLAS provider;
#  - zlib headers (zlib1g-dev), to build the reader of C4-style .json.gz shards;
#  - on Intel CPUs, Intel MKL from its PyPI wheel, unpacked to ~/.cache/ntng/mkl/lib (1.4-1.5x faster
#    GEMMs there; set NTNG_SKIP_MKL=1 to skip). The engine picks the provider itself at run time;
#  - with --mpi, Open MPI (openmpi-bin: mpirun and libmpi.so.40), for data-parallel runs and their
#    tests; optional: ntng loads it at run time only under mpirun, and the tests skip without it.
set -euo pipefail
want_mpi=0
[ "${1:-}" = --mpi ] && want_mpi=1

say() { echo "install-deps: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else say "need root for: $*"; return 1; fi; }

# A shared library the dynamic loader knows. grep reads ldconfig's whole output (no -q): with -q it
# stops at the first match, ldconfig dies of SIGPIPE and, under pipefail, a present library looked
# missing. ldconfig lives in /sbin, which a user's PATH may lack.
has_library() {
    local ldconfig
    ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
    "$ldconfig" -p 2>/dev/null | grep -F "$1" >/dev/null || compgen -G "/usr/lib/*/$1" >/dev/null
}

missing=()
has_library libopenblas.so.0 || missing+=(libopenblas-dev)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
        say "could not install ${missing[*]} with apt-get (no package registry reachable, or no root);"
        say "install them yourself (Debian/Ubuntu: apt-get install ${missing[*]}) and run this again"
        exit 1
    fi
else
    say "OpenBLAS and zlib present"
fi

if [ $want_mpi = 1 ] && ! { command -v mpirun >/dev/null && has_library libmpi.so.40; }; then
    say "installing Open MPI (openmpi-bin)"
    if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends openmpi-bin >/dev/null; }; then
        say "could not install openmpi-bin; the data-parallel tests will be skipped"
    fi
fi

mkl_dir="${XDG_CACHE_HOME:-$HOME/.cache}/ntng/mkl/lib"
if grep -q GenuineIntel /proc/cpuinfo 2>/dev/null && [ "${NTNG_SKIP_MKL:-0}" != 1 ] && [ ! -e "$mkl_dir/libmkl_rt.so.3" ]; then
    if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
        say "Intel CPU: fetching Intel MKL (PyPI wheel 'mkl', ~220 MB) into $mkl_dir"
        tmp=$(mktemp -d)
        if python3 -m pip download -q --no-deps "mkl==2026.2.0" -d "$tmp" 2>/dev/null; then
            mkdir -p "$mkl_dir"
            python3 - "$tmp" "$mkl_dir" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "mkl-*.whl"))[0]
keep = ("libmkl_rt", "libmkl_core", "libmkl_sequential", "libmkl_gnu_thread", "libmkl_intel_lp64",
        "libmkl_def", "libmkl_mc3", "libmkl_avx2", "libmkl_avx512", "libmkl_avx10", "libmkl_vml_")
with zipfile.ZipFile(wheel) as z:
    for n in z.namelist():
        base = os.path.basename(n)
        if "/lib/" in n and base.startswith(keep):
            with open(os.path.join(sys.argv[2], base), "wb") as f:
                f.write(z.read(n))
        elif base == "LICENSE.txt":
            with open(os.path.join(sys.argv[2], "MKL-LICENSE.txt"), "wb") as f:
                f.write(z.read(n))
PY
            say "MKL ready"
        else
            say "could not download MKL; OpenBLAS will be used"
        fi
        rm -rf "$tmp"
    else
        say "no pip: skipping MKL; OpenBLAS will be used"
    fi
fi
