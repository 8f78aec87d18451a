#!/bin/sh
# tests/demo.sh — `make demo`: the seed scenario (docs/design.md) under cuguard, on the
# simulated driver (or the real one with DEMO_REAL_DRIVER=1 on a GPU machine).
#
# Runs build/workloads/writeback twice under `cuguard run`: correct
# (--bug=none), then with the real root cause planted (--bug=foreign-handle):
# the watcher queries the address of another object instead of the event,
# dies with tasks in hand, and the next test waits for a buffer that never
# comes back (cut short by --timeout=8, after the 2 s watchdog has spoken).
# After each run, `cuguard report` reads the trace and says what happened.
#
# Every "$ " line it prints is the exact command it ran (minus its time
# limit), with paths that work when pasted in the repository root; the
# traces live in a temporary directory removed at the end unless
# DEMO_KEEP=DIR names where to keep them (then the printed report commands
# can be pasted afterwards too).
#
# Must never: hang (every run is bounded), or leave traces behind unless
# DEMO_KEEP=DIR names where to keep them.
set -u
BUILD=${BUILD:-build}
FAKE=$BUILD/fakecuda
WORK=${DEMO_KEEP:-$(mktemp -d)}
[ -n "${DEMO_KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK"

for product in "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback" "$BUILD/cuguard" \
    "$BUILD/libcuguard.so"; do
    if [ ! -e "$product" ]; then
        echo "demo: missing $product (run make first)" >&2
        exit 1
    fi
done
SIMULATE=--simulate
[ "${DEMO_REAL_DRIVER:-0}" = 1 ] && SIMULATE=

# scenario NAME TITLE ARGS... — runs writeback under cuguard, then reports.
scenario() {
    name=$1 title=$2
    shift 2
    echo
    echo "=== $title"
    set -- "$BUILD/cuguard" run $SIMULATE --dir "$WORK/$name" --watchdog 2 --no-report -- \
        "$BUILD/workloads/writeback" "$@"
    echo "\$ $*"
    timeout -k 5 60 "$@" >"$WORK/$name.out" 2>&1
    rc=$?
    echo "    what the program printed (lifecycle call lines left out):"
    grep -v '^call \|^spin ' "$WORK/$name.out" | sed 's/^/    | /'
    case $rc in
    0) echo "    exit 0: every test got its data back" ;;
    3) echo "    exit 3: a wait never finished; --timeout cut the hang short" ;;
    124 | 137) echo "    killed after 60 s: the run hung" ;;
    *) echo "    exit $rc" ;;
    esac
    echo
    echo "\$ $BUILD/cuguard report $WORK/$name"
    "$BUILD/cuguard" report "$WORK/$name" | sed 's/^/    /'
}

scenario correct "correct program (--bug=none)" --bug=none
scenario root-cause "the real root cause (--bug=foreign-handle)" --bug=foreign-handle --timeout=8
echo
echo "The first report is clean. The second opens with the diagnosis: the watcher"
echo "thread passed cuEventQuery a handle no create returned, exited with events"
echo "it polled never seen complete, and the process then made no progress."
echo "Timeline: $BUILD/cuguard export --perfetto timeline.json $WORK/root-cause"
echo "(open it in ui.perfetto.dev). The commands above run from $(pwd)."
if [ -n "${DEMO_KEEP:-}" ]; then
    echo "The traces are kept in $WORK."
else
    echo "The traces were removed; make demo DEMO_KEEP=DIR keeps them in DIR."
fi
exit 0
