#!/bin/sh
# 35_unwritable.sh — an unwritable CUGUARD_DIR: one warning, the program runs untraced.
#
# The trace directory lies under a regular file (so even root cannot create
# it). Each program prints exactly one "cuguard:" line on stderr naming the
# directory, produces the same calls as without cuguard, and exits with the
# same status (0 for direct, 5 for a probe that exits 5 after a call).
. tests/e2e/shim_common.sh
require "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/direct"
: >"$WORK/file"
bad="$WORK/file/traces"

# same NAME COMMAND... : with and without the shim; compare.
same() {
    name=$1
    shift
    LD_LIBRARY_PATH=$FAKE timeout -k 5 60 "$@" >"$WORK/$name.plain" 2>&1
    plain_rc=$?
    CUGUARD_DIR="$bad" LD_PRELOAD="$SHIM" LD_LIBRARY_PATH=$FAKE timeout -k 5 60 "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err"
    rc=$?
    [ $rc -eq $plain_rc ] || fail "$name: exit status $plain_rc without cuguard, $rc with"
    warnings=$(grep -c '^cuguard:' "$WORK/$name.err")
    [ "$warnings" -eq 1 ] || fail "$name: $warnings cuguard lines on stderr, expected 1"
    grep -q "^cuguard: .*$bad" "$WORK/$name.err" || fail "$name: the warning does not name $bad"
    if [ "$(grep -c '^call ' "$WORK/$name.out")" -ne "$(grep -c '^call ' "$WORK/$name.plain")" ]
    then
        fail "$name: the calls differ from a run without cuguard"
    fi
    [ -e "$bad" ] && fail "$name: $bad exists"
    [ $failures -eq 0 ] && echo "ok: $name: exit $rc, one warning: $(head -n 1 "$WORK/$name.err")"
}

same direct "$BUILD/workloads/direct"
same probe-exit-5 "$PYTHON" tests/e2e/shim_probe.py exit 5
finish
