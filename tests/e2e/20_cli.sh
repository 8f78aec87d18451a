#!/bin/sh
# 20_cli.sh — the `cuguard` command line: every --help answers and names
# each option, a bad option is one message and exit 2, `cuguard run` keeps
# the command's exit status (128+N when killed), forwards SIGTERM, sets the
# environment (absolute CUGUARD_DIR, library prepended to LD_PRELOAD), finds
# the library beside itself or in ../lib, and `cuguard dump` reports a bad
# file in one line with exit 2.
set -u
BUILD=${BUILD:-build}
CG=$(cd "$BUILD" && pwd)/cuguard
LIB=$(cd "$BUILD" && pwd)/libcuguard.so
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

for product in "$CG" "$LIB"; do
    if [ ! -e "$product" ]; then
        echo "missing $product (run make first)"
        exit 1
    fi
done

# expect_status WANT LABEL COMMAND... — run with a time limit, compare status.
expect_status() {
    want=$1 label=$2
    shift 2
    timeout -k 5 30 "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    [ "$rc" -eq "$want" ] || fail "$label: exit $rc, expected $want ($(head -c 300 "$WORK/err"))"
}

# expect_usage_error LABEL COMMAND... — exit 2, one line on stderr, no stdout.
expect_usage_error() {
    label=$1
    shift
    expect_status 2 "$label" "$@"
    lines=$(wc -l <"$WORK/err")
    [ "$lines" -eq 1 ] || fail "$label: $lines lines on stderr, expected 1: $(cat "$WORK/err")"
    [ -s "$WORK/out" ] && fail "$label: wrote to stdout: $(head -c 200 "$WORK/out")"
    grep -q '^cuguard' "$WORK/err" || fail "$label: message does not start with cuguard"
}

# expect_mentions LABEL FILE WORD... — each word appears in the file.
expect_mentions() {
    label=$1 file=$2
    shift 2
    for word in "$@"; do
        grep -q -e "$word" "$file" || fail "$label does not mention $word"
    done
}

# ---- help ----
expect_status 0 "cuguard --help" "$CG" --help
expect_mentions "cuguard --help" "$WORK/out" run report export dump
expect_status 0 "cuguard run --help" "$CG" run --help
expect_mentions "cuguard run --help" "$WORK/out" --dir --policy --task --watchdog --strict \
    --no-report --help CUGUARD_DIR CUGUARD_TASK CUGUARD_POLICY CUGUARD_WATCHDOG \
    CUGUARD_ON_ERROR CUGUARD_LIBCUDA CUGUARD_LOG CUGUARD_QUARANTINE CUGUARD_RECLAIM_AGE \
    CUGUARD_SYNC_QUERY_MS CUGUARD_DUMP_SIGNAL ownership isolate destroy sync-query \
    'env:PYTEST_CURRENT_TEST' 'default 60' cuguard-trace
expect_status 0 "cuguard dump --help" "$CG" dump --help
expect_mentions "cuguard dump --help" "$WORK/out" --help PATH 'Exit status'

# ---- bad options ----
expect_status 2 "no command" "$CG"
expect_usage_error "unknown command" "$CG" bogus
expect_usage_error "run unknown option" "$CG" run --bogus -- true
expect_usage_error "run without --" "$CG" run true
expect_usage_error "run nothing after --" "$CG" run --
expect_usage_error "run no arguments" "$CG" run
expect_usage_error "run bad watchdog" "$CG" run --watchdog 1.5x -- true
expect_usage_error "run negative watchdog" "$CG" run --watchdog -3 -- true
expect_usage_error "run bad policy" "$CG" run --policy ownership,nope -- true
expect_usage_error "run bad task" "$CG" run --task env: -- true
expect_usage_error "run missing value" "$CG" run --dir
expect_usage_error "dump unknown option" "$CG" dump --bogus
expect_usage_error "dump no path" "$CG" dump

# ---- exit status ----
expect_status 0 "run true" "$CG" run --no-report --dir "$WORK/t0" -- true
expect_status 7 "run exit 7" "$CG" run --no-report --dir "$WORK/t1" -- sh -c 'exit 7'
expect_status 137 "run kill -9" "$CG" run --no-report --dir "$WORK/t2" -- sh -c 'kill -9 $$'
expect_status 143 "run kill -TERM" "$CG" run --no-report --dir "$WORK/t3" -- sh -c 'kill -TERM $$'
expect_status 127 "missing command" "$CG" run --no-report -- "$WORK/no-such-command"
grep -q "cannot run '$WORK/no-such-command': No such file or directory" "$WORK/err" ||
    fail "missing command: unclear message: $(cat "$WORK/err")"
[ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "missing command: more than one line: $(cat "$WORK/err")"
# A process that never calls CUDA writes no trace (not even the directory).
[ -e "$WORK/t0" ] && fail "run true created $WORK/t0"

# ---- environment ----
(cd "$WORK" && LD_PRELOAD= timeout 30 "$CG" run --no-report --dir rel --policy isolate \
    --task thread --watchdog 9 --strict -- sh -c 'env' >"$WORK/env" 2>&1)
for want in CUGUARD_POLICY=isolate CUGUARD_TASK=thread \
    CUGUARD_WATCHDOG=9 CUGUARD_ON_ERROR=refuse "LD_PRELOAD=$LIB"; do
    grep -qx "$want" "$WORK/env" || fail "run did not set $want: $(grep -E 'CUGUARD|PRELOAD' "$WORK/env")"
done
# The trace directory of one run: a run subdirectory of --dir (made absolute).
grep -qx "CUGUARD_DIR=$WORK/rel/run-[0-9]\{8\}-[0-9]\{6\}-[0-9]*" "$WORK/env" ||
    fail "run did not set CUGUARD_DIR to a run of $WORK/rel: $(grep CUGUARD_DIR "$WORK/env")"
LD_PRELOAD=/nonexistent/libother.so timeout 30 "$CG" run --no-report --dir "$WORK/t4" -- \
    sh -c 'echo "$LD_PRELOAD"' >"$WORK/preload" 2>/dev/null
grep -qx "$LIB:/nonexistent/libother.so" "$WORK/preload" ||
    fail "existing LD_PRELOAD not kept after the library: $(cat "$WORK/preload")"

# ---- signal forwarding: SIGTERM to cuguard reaches the command ----
"$CG" run --no-report --dir "$WORK/t5" -- sh -c \
    "trap 'exit 42' TERM; touch '$WORK/ready'; while :; do sleep 0.1; done" &
cg_pid=$!
tries=0
while [ ! -e "$WORK/ready" ] && [ $tries -lt 100 ]; do
    sleep 0.1
    tries=$((tries + 1))
done
kill -TERM $cg_pid
( sleep 20 && kill -KILL $cg_pid 2>/dev/null ) &
guard=$!
wait $cg_pid
rc=$?
kill $guard 2>/dev/null
[ $rc -eq 42 ] || fail "SIGTERM not forwarded: exit $rc, expected 42"

# ---- library location ----
mkdir -p "$WORK/alone" "$WORK/prefix/bin" "$WORK/prefix/lib"
cp "$CG" "$WORK/alone/cuguard"
expect_status 2 "run without a library" "$WORK/alone/cuguard" run -- true
grep -q "cannot find libcuguard.so" "$WORK/err" || fail "missing library: unclear message: $(cat "$WORK/err")"
cp "$CG" "$WORK/prefix/bin/cuguard"
cp "$LIB" "$WORK/prefix/lib/libcuguard.so"
LD_PRELOAD= timeout 30 "$WORK/prefix/bin/cuguard" run --no-report -- sh -c 'echo "$LD_PRELOAD"' \
    >"$WORK/preload" 2>/dev/null
grep -qx "$WORK/prefix/lib/libcuguard.so" "$WORK/preload" ||
    fail "installed layout: LD_PRELOAD is $(cat "$WORK/preload")"

# ---- dump of bad input ----
printf 'not a trace at all\n' >"$WORK/bad.cgt"
expect_usage_error "dump bad file" "$CG" dump "$WORK/bad.cgt"
grep -q "^cuguard: $WORK/bad.cgt: not a cuguard trace" "$WORK/err" ||
    fail "dump bad file: message: $(cat "$WORK/err")"
: >"$WORK/empty.cgt"
expect_usage_error "dump empty file" "$CG" dump "$WORK/empty.cgt"
expect_usage_error "dump missing file" "$CG" dump "$WORK/missing.cgt"
mkdir "$WORK/nothing"
expect_usage_error "dump empty directory" "$CG" dump "$WORK/nothing"

if [ $failures -ne 0 ]; then
    echo "20_cli: $failures failures"
    exit 1
fi
echo "20_cli: all checks passed"
