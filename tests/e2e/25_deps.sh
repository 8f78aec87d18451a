#!/bin/sh
# 25_deps.sh — tools/deps.sh, the dependency step of make demo / make test.
#
# With everything present it is silent and exits 0. When a dependency is
# missing and it may not install (CUGUARD_DEPS_INSTALL=no, or not root and
# no password-less sudo) it exits 1 with exactly one line on stderr naming
# what is missing and the exact `apt-get install` line, nothing on stdout.
# Missing checks are simulated with CUGUARD_DEPS_HIDE (the script's test
# seam); nothing is ever installed here. A missing CUDA Toolkit is one line
# naming CUDA=DIR; a bad group is a usage error (exit 2).
. tests/e2e/shim_common.sh
DEPS=tools/deps.sh

# expect WANT_RC WANT_STDERR LABEL HIDE GROUP [CUDA_DIR]: run deps.sh GROUP
# with CUGUARD_DEPS_HIDE=HIDE, never installing.
expect() {
    want_rc=$1 want_err=$2 label=$3
    CUGUARD_DEPS_INSTALL=no CUGUARD_DEPS_HIDE=$4 CUDA=${6:-${CUDA:-/usr/local/cuda}} \
        sh "$DEPS" "$5" >"$WORK/out" 2>"$WORK/err" </dev/null
    rc=$?
    if [ $rc -ne "$want_rc" ] || [ "$(cat "$WORK/err")" != "$want_err" ] || [ -s "$WORK/out" ]
    then
        fail "$label: exit $rc, stderr '$(cat "$WORK/err")', stdout '$(head -c 200 "$WORK/out")';" \
            "expected exit $want_rc, stderr '$want_err', no stdout"
        return
    fi
    echo "ok: $label: exit $rc${want_err:+: $want_err}"
}

line="as root run: apt-get install --no-install-recommends"
expect 0 "" "all present (test)" "" test
expect 0 "" "all present (demo)" "" demo
expect 1 "deps: missing uthash check; $line uthash-dev check" "uthash and check missing" \
    "uthash check" test
expect 0 "" "check is not needed for the demo" check demo
expect 1 "deps: missing libdw numba; $line libdw-dev libelf-dev python3-numba" \
    "libdw and numba missing" "numba libdw" test
expect 1 "deps: missing cc; $line build-essential" "compiler missing" cc demo
expect 1 "deps: missing clangformat cppcheck; $line clang-format cppcheck" "lint tools missing" \
    "cppcheck clangformat" all
expect 1 "deps: the CUDA Toolkit headers are missing ($WORK/none/include/cuda.h): install the CUDA Toolkit (no GPU needed), or give its directory with CUDA=DIR" \
    "no CUDA Toolkit" "" demo "$WORK/none"
expect 2 "usage: tools/deps.sh demo|test|all" "bad group" "" everything

# Not root, no sudo: the same one line, without the test seam that forbids
# installing (an unprivileged user cannot install, whatever the script does).
nobody=65534
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
    echo "skip: unprivileged run (needs root and setpriv)"
elif setpriv --reuid=$nobody --regid=$nobody --clear-groups sudo -n true 2>/dev/null; then
    echo "skip: unprivileged run (user $nobody has password-less sudo)"
else
    # The checkout may sit where that user cannot read (/root): give it a copy.
    chmod 0711 "$WORK"
    mkdir -m 0755 "$WORK/pub"
    cp "$DEPS" "$WORK/pub/deps.sh" && chmod 0644 "$WORK/pub/deps.sh"
    (cd / && setpriv --reuid=$nobody --regid=$nobody --clear-groups env CUGUARD_DEPS_HIDE=uthash \
        sh "$WORK/pub/deps.sh" demo) >"$WORK/out" 2>"$WORK/err" </dev/null
    rc=$?
    want="deps: missing uthash; as root run: apt-get install --no-install-recommends uthash-dev"
    if [ $rc -ne 1 ] || [ "$(cat "$WORK/err")" != "$want" ] || [ -s "$WORK/out" ]; then
        fail "unprivileged: exit $rc, stderr '$(cat "$WORK/err")', stdout '$(head -c 200 "$WORK/out")'"
    else
        echo "ok: unprivileged user $nobody: exit 1: $want"
    fi
fi
finish
