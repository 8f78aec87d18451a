#!/bin/sh
# 47_report_jobs.sh — `cuguard report -j N` replays the traces of a run on N
# threads and reports exactly what the serial run (-j1) reports:
#   - over a set of several processes (three real runs of workloads under
#     the fake driver, synthetic traces whose objects overlap in time, one
#     killed inside a call, two under policies): the text (--verbose), --format json (findings
#     order, run-wide peaks across processes), --gen-suppressions, and
#     --fail-on exit statuses are the same for -j1, -j2, -j4, --jobs=3, -j 8
#     and the default;
#   - unusable traces among good ones give the same warnings under -j;
#   - 270 traces (two batches of 256) give the same report for -j1 and -j4;
#   - -j0, -j abc, --jobs= and a missing value: one line on stderr, exit 2.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
CG=$BUILD/cuguard
SYNTH=$BUILD/tests/cg_synth
for product in "$CG" "$SYNTH" "$BUILD/libcuguard.so" "$BUILD/fakecuda/libcuda.so.1" \
    "$BUILD/workloads/leaky" "$BUILD/workloads/leaky_tasks" "$BUILD/workloads/writeback" \
    "$BUILD/workloads/deferred_destroy"; do
    if [ ! -e "$product" ]; then
        echo "skip: $product is not built"
        exit 77
    fi
done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
# report NAME ARGS... : stdout in $WORK/NAME.out, stderr in $WORK/NAME.err, status in NAME.rc
report() {
    name=$1
    shift
    timeout 120 "$CG" report "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    echo $? >"$WORK/$name.rc"
}
# same_as_serial OUTPUT ARGS... : every -j gives the output and status of -j1
same_as_serial() {
    what=$1
    shift
    report "$what-j1" -j1 "$@"
    for j in "-j2" "-j4" "--jobs=3" "-j 8" ""; do
        # shellcheck disable=SC2086 # $j is one option or none
        report "$what-x" $j "$@"
        for f in out err rc; do
            cmp -s "$WORK/$what-j1.$f" "$WORK/$what-x.$f" ||
                fail "$what: '$j' gives another $f than -j1"
        done
    done
}

# A run of several processes: real traces of three workloads, synthetic ones.
mkdir "$WORK/set"
n=0
for w in leaky leaky leaky_tasks writeback; do
    n=$((n + 1))
    PYTEST_CURRENT_TEST="tests/test_jobs.py::test_$n (call)" LD_LIBRARY_PATH="$BUILD/fakecuda" \
        timeout -k 5 60 "$CG" run --no-report --dir "$WORK/run$n" -- "$BUILD/workloads/$w" \
        >/dev/null 2>"$WORK/run$n.err" || fail "$w under cuguard run: $(tail -n 2 "$WORK/run$n.err")"
    cp "$WORK/run$n"/run-*/*.cgt "$WORK/set/" || fail "no trace of $w"
done
# Two processes under policies: the notes of "what cuguard changed" interleave.
for n in 5 6; do
    CUGUARD_POLICY=ownership,isolate,destroy,sync-query LD_LIBRARY_PATH="$BUILD/fakecuda" \
        timeout -k 5 120 "$CG" run --no-report --dir "$WORK/run$n" -- \
        "$BUILD/workloads/deferred_destroy" --tasks=30 >/dev/null 2>"$WORK/run$n.err" ||
        fail "deferred_destroy under policies: $(tail -n 2 "$WORK/run$n.err")"
    cp "$WORK/run$n"/run-*/*.cgt "$WORK/set/" || fail "no trace of deferred_destroy"
done
for s in leaky foreign blocked quoted clean; do
    "$SYNTH" "$s" "$WORK/set/synth-$s.cgt" || fail "cg_synth $s"
done
"$SYNTH" leaky "$WORK/set/synth-leaky2.cgt" && "$SYNTH" leaky "$WORK/set/synth-leaky3.cgt" ||
    fail "cg_synth leaky"

same_as_serial text --verbose "$WORK/set"
same_as_serial json --format json "$WORK/set"
same_as_serial supp --gen-suppressions "$WORK/set"
same_as_serial fail-error --fail-on error "$WORK/set"
same_as_serial fail-stream --fail-on leak.stream "$WORK/set"
[ "$(cat "$WORK/fail-error-j1.rc")" = 1 ] || fail "--fail-on error: exit $(cat "$WORK/fail-error-j1.rc")"
[ "$(cat "$WORK/fail-stream-j1.rc")" = 0 ] || fail "--fail-on leak.stream: exit $(cat "$WORK/fail-stream-j1.rc")"
# The synthetic leaky traces overlap in time: the run-wide pinned peak is
# more than one process's (5 MiB), in the serial run and under -j.
"$PYTHON" - "$WORK/json-j1.out" <<'PY' || fail "JSON of the set"
import json, sys
doc = json.load(open(sys.argv[1]))
peak = doc["summary"]["pinned"]["peak_bytes"]
reclaimed = doc["interventions"]["reclaimed"]
print(len(doc["processes"]), "processes, pinned peak", peak, "reclaimed", reclaimed)
sys.exit(0 if len(doc["processes"]) == 13 and peak > 5 * 1024 * 1024 and reclaimed else 1)
PY

# The notes of both policy processes are in the text (compared above).
[ "$(grep -c 'used an object cuguard had reclaimed' "$WORK/text-j1.out")" -gt 1 ] ||
    fail "no intervention notes in the text report"

# Unusable traces among good ones: the same warnings, in the same order.
mkdir "$WORK/bad"
for s in random bad-magic truncated-record empty leaky foreign absurd; do
    "$SYNTH" "$s" "$WORK/bad/$s.cgt" || fail "cg_synth $s"
done
same_as_serial bad --format json "$WORK/bad"
grep -q 'bad-magic.cgt' "$WORK/bad-j1.err" || fail "no warning for bad-magic: $(cat "$WORK/bad-j1.err")"

# 270 traces: more than one batch.
mkdir "$WORK/many"
i=0
while [ $i -lt 270 ]; do
    case $((i % 3)) in
    0) s=leaky ;;
    1) s=foreign ;;
    *) s=clean ;;
    esac
    "$SYNTH" "$s" "$WORK/many/t$i.cgt" || fail "cg_synth $s"
    i=$((i + 1))
done
report many-j1 -j1 --format json "$WORK/many"
report many-j4 -j4 --format json "$WORK/many"
cmp -s "$WORK/many-j1.out" "$WORK/many-j4.out" || fail "270 traces: -j4 report differs from -j1"
"$PYTHON" -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))["processes"]) != 270)' \
    "$WORK/many-j4.out" || fail "270 traces: not 270 processes"

# Bad values: one line on stderr, nothing on stdout, exit 2.
for bad in "-j0" "-j abc" "--jobs=" "--jobs=-1" "-j 1025" "-j"; do
    # shellcheck disable=SC2086 # one option, maybe with its value
    timeout 30 "$CG" report $bad "$WORK/set" >"$WORK/bad.out" 2>"$WORK/bad.err"
    rc=$?
    [ $rc -eq 2 ] || fail "'$bad': exit $rc, want 2"
    [ "$(wc -l <"$WORK/bad.err")" -eq 1 ] || fail "'$bad': not one line: $(cat "$WORK/bad.err")"
    [ -s "$WORK/bad.out" ] && fail "'$bad': wrote to stdout"
done
grep -q "jobs" "$WORK/bad.err" || fail "the error does not name -j/--jobs: $(cat "$WORK/bad.err")"
"$CG" report --help | grep -q -- "-j, --jobs N" || fail "report --help does not list -j"

[ $failures -eq 0 ] && echo "ok: report -j gives the serial report" || exit 1
