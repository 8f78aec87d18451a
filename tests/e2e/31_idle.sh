#!/bin/sh
# 31_idle.sh — a preloaded process that never touches CUDA costs nothing.
#
# `cuguard run -- /bin/true` and `cuguard run -- python3 -c pass` write no
# trace file and never map a libcuda, even with the simulator on the library
# path; a shell and a Python process under the shim report their own
# /proc/self/maps without libcuda; with CUGUARD_LOG=debug the shim never says
# it loaded a driver. Preloaded without CUGUARD_DIR ("loaded but idle") a
# CUDA workload runs unchanged and writes nothing anywhere.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/direct"

# idle NAME COMMAND... : under cuguard run with debug logging; no file, no driver.
idle() {
    name=$1
    shift
    dir="$WORK/$name"
    CUGUARD_LOG=debug LD_LIBRARY_PATH=$FAKE timeout -k 5 60 "$CUGUARD" run --no-report \
        --dir "$dir" -- "$@" >"$dir.out" 2>"$dir.err"
    rc=$?
    [ $rc -eq 0 ] || fail "$name exited $rc"
    grep -q 'cuguard: loaded' "$dir.err" || fail "$name: the shim was not loaded (no debug line)"
    if grep -q 'driver resolved' "$dir.err"; then
        fail "$name: the shim loaded a driver"
    fi
    if grep -q 'libcuda' "$dir.out"; then
        fail "$name: libcuda is mapped: $(grep libcuda "$dir.out" | head -n 1)"
    fi
    if [ -e "$dir" ]; then
        fail "$name: the trace directory was created ($(ls "$dir" | head -n 3))"
    else
        echo "ok: $name: no trace, no driver"
    fi
}

idle true /bin/true
idle python-pass "$PYTHON" -c pass
idle shell-maps sh -c 'cat /proc/$$/maps'
idle python-maps "$PYTHON" -c 'import sys; sys.stdout.write(open("/proc/self/maps").read())'

# The maps check can fail: a process that does load the driver shows it.
LD_LIBRARY_PATH=$FAKE "$PYTHON" -c 'import ctypes, sys; ctypes.CDLL("libcuda.so.1");
sys.stdout.write(open("/proc/self/maps").read())' >"$WORK/control.out" 2>&1
grep -q libcuda "$WORK/control.out" || fail "control: a process that loads libcuda does not show it"

# Loaded but idle: same output as without the shim, no file in the cwd.
root=$(pwd)
mkdir "$WORK/cwd"
LD_LIBRARY_PATH=$FAKE "$BUILD/workloads/direct" >"$WORK/plain.out" 2>&1
plain_rc=$?
(cd "$WORK/cwd" && env -u CUGUARD_DIR LD_PRELOAD="$SHIM" LD_LIBRARY_PATH="$root/$FAKE" \
    timeout -k 5 60 "$root/$BUILD/workloads/direct") >"$WORK/idle.out" 2>&1
idle_rc=$?
[ $idle_rc -eq $plain_rc ] || fail "idle shim changed the exit status: $plain_rc -> $idle_rc"
if [ "$(grep -c '^call ' "$WORK/idle.out")" -ne "$(grep -c '^call ' "$WORK/plain.out")" ]; then
    fail "idle shim changed the workload's calls"
fi
grep -q '^cuguard' "$WORK/idle.out" && fail "idle shim printed: $(grep '^cuguard' "$WORK/idle.out")"
n=$(find "$WORK/cwd" -type f | wc -l)
[ "$n" -eq 0 ] && echo "ok: loaded but idle: same run, no file" || fail "idle shim wrote $n files"
finish
