#!/bin/sh
# shellcheck disable=SC2317,SC2120 # the helpers are called by the sourced sections
# tests/gpu/run.sh — build the workloads against the real driver and run them
# on a machine with a GPU (no internet needed), printing one report.
#
# Usage: sh tests/gpu/run.sh            (from the repository root)
#   GPU_ONLY="10 30"   run only the sections whose file names start so
#   GPU_LIMIT=SECONDS  time limit of each command (default 120)
#   GPU_SIMULATE=1     rehearse on the simulator (LD_LIBRARY_PATH=$BUILD/fakecuda)
#
# The report is made of sections: every tests/gpu/sections/NN_name.sh, in name
# order, is sourced by this script and uses the helpers below. To add checks
# (routes under `cuguard run`, numba-cuda, CuPy, PyTorch snippets), drop a new
# numbered file there; nothing in this file needs to change.
#
# Must never: hang (every command runs under `timeout`), need the network, or
# exit non-zero — the summary says what passed; the exit status is always 0.
set -u
cd "$(dirname "$0")/../.." || exit 0
BUILD=${BUILD:-build}
CUDA=${CUDA:-/usr/local/cuda}
GPU_LIMIT=${GPU_LIMIT:-120}
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 python3 | head -n 1)}
GPU_WORK=$(mktemp -d)
trap 'rm -rf "$GPU_WORK"' EXIT
export BUILD CUDA PYTHON GPU_WORK
if [ "${GPU_SIMULATE:-0}" = 1 ]; then
    make --no-print-directory "$BUILD/fakecuda/libcuda.so.1" "$BUILD/fakecuda/libcudart.so.13" \
        >/dev/null 2>&1
    LD_LIBRARY_PATH=$PWD/$BUILD/fakecuda${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
fi

gpu_passed=0 gpu_failed=0 gpu_skipped=0 gpu_failures=""

# section TITLE — starts a titled part of the report.
section() {
    echo
    echo "=================================================================="
    echo "== $1"
    echo "=================================================================="
}

# note TEXT... — an informational line of the report (nothing when empty).
note() {
    [ -n "$*" ] && echo "   $*"
    return 0
}

# bounded LIMIT COMMAND... — runs COMMAND under timeout; output in
# $GPU_WORK/last.out; sets $rc (124/137 = killed at the limit).
bounded() {
    limit=$1
    shift
    timeout -k 10 "$limit" "$@" >"$GPU_WORK/last.out" 2>&1
    rc=$?
}

# tail_output [N] — the last N (default 25) lines of the last command.
tail_output() {
    tail -n "${1:-25}" "$GPU_WORK/last.out" | sed 's/^/      | /'
}

# record NAME pass|fail|skip [WHY] — counts one check and prints its line.
record() {
    case $2 in
    pass) gpu_passed=$((gpu_passed + 1)); echo "PASS  $1" ;;
    skip) gpu_skipped=$((gpu_skipped + 1)); echo "SKIP  $1${3:+: $3}" ;;
    *) gpu_failed=$((gpu_failed + 1)); gpu_failures="$gpu_failures
      $1${3:+: $3}"; echo "FAIL  $1${3:+: $3}" ;;
    esac
}

# check NAME "RC..." COMMAND... — runs COMMAND bounded by GPU_LIMIT and
# records pass when it exits with one of the listed statuses; shows the
# output's end otherwise.
check() {
    name=$1 want=$2
    shift 2
    start=$(date +%s)
    bounded "$GPU_LIMIT" "$@"
    secs=$(($(date +%s) - start))
    case " $want " in
    *" $rc "*) accepted=yes ;;
    *) accepted=no ;;
    esac
    if [ "$accepted" = yes ]; then
        [ "$rc" -ge 128 ] && note "(exit $rc: killed by signal $((rc - 128)))"
        record "$name (${secs}s)" pass
    else
        why="exit $rc, expected $want"
        [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && why="killed after ${GPU_LIMIT}s (hung)"
        record "$name" fail "$why"
        tail_output
    fi
}

# checksum_line — "checksum=.. expected=.." of the last command, if any.
checksum_line() {
    grep '^checksum=' "$GPU_WORK/last.out" | tail -n 1
}

for file in tests/gpu/sections/*.sh; do
    [ -e "$file" ] || continue
    number=$(basename "$file" | cut -d_ -f1)
    if [ -n "${GPU_ONLY:-}" ]; then
        case " $GPU_ONLY " in
        *" $number "*) ;;
        *) continue ;;
        esac
    fi
    # shellcheck source=/dev/null
    . "./$file"
done

section "Summary"
echo "gpu checks: $gpu_passed passed, $gpu_failed failed, $gpu_skipped skipped"
[ -n "$gpu_failures" ] && echo "failed:$gpu_failures"
exit 0
