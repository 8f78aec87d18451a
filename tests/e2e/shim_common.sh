# tests/e2e/shim_common.sh — shared by the shim's end-to-end scripts (3N_*.sh).
#
# Sourced, never run: sets BUILD, PYTHON, FAKE, CUGUARD, SHIM and a fresh
# $WORK directory removed at exit, and defines fail/require/finish.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
FAKE=$BUILD/fakecuda
CUGUARD=$BUILD/cuguard
SHIM=$(cd "$BUILD" 2>/dev/null && pwd)/libcuguard.so
CHECK="$PYTHON tests/e2e/routes_check.py"
WORK=$(mktemp -d)
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# require PATH... : exit 1 (a failure, not a skip) when a product is missing.
require() {
    for product in "$@"; do
        if [ ! -e "$product" ]; then
            echo "missing $product (run make first)"
            exit 1
        fi
    done
}

# traces DIR: number of trace files in DIR.
traces() {
    find "$1" -name '*.cgt' 2>/dev/null | wc -l
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures failure(s)"
        exit 1
    fi
    echo "all passed"
    exit 0
}
