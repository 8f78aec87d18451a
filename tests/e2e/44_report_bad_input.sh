#!/bin/sh
# 44_report_bad_input.sh — every kind of bad input to `cuguard report` and
# `export`, run on the ASan+UBSan build (build/asan/cuguard): an empty
# directory, a missing path, an unreadable file, a zero-byte file, random
# bytes, wrong magic, wrong version, a truncated header, a file cut inside a
# record, absurd header counts and record fields, a FIFO named *.cgt, hostile
# strings; bad options. Each gives exit 2 or one warning line per bad file
# with the valid traces still reported — never a signal, a sanitizer report
# or a hang.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
CG=$BUILD/asan/cuguard
SYNTH=$BUILD/tests/cg_synth
for product in "$CG" "$SYNTH"; do
    if [ ! -e "$product" ]; then
        echo "skip: $product is not built (make test-build)"
        exit 77
    fi
done
WORK=$(mktemp -d)
trap 'chmod -R u+rwx "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=98
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# check LABEL WANT_RC CMD... : exit status WANT_RC, no sanitizer report.
check() {
    label=$1 want=$2
    shift 2
    timeout -k 5 60 "$@" >"$WORK/$label.out" 2>"$WORK/$label.err"
    rc=$?
    if [ $rc -ne "$want" ]; then
        fail "$label: exit $rc, want $want"
        tail -n 5 "$WORK/$label.err" | sed 's/^/    /'
    elif grep -q -e 'Sanitizer' -e 'runtime error' "$WORK/$label.err"; then
        fail "$label: sanitizer report"
        head -n 20 "$WORK/$label.err" | sed 's/^/    /'
    fi
}

mkdir "$WORK/nothing" "$WORK/good" "$WORK/mixed"
"$SYNTH" leaky "$WORK/good/good.cgt" || fail "cg_synth leaky"
cp "$WORK/good/good.cgt" "$WORK/mixed/0-good.cgt"
for bad in empty random bad-magic bad-version truncated-header truncated-record absurd quoted; do
    mkdir "$WORK/$bad"
    "$SYNTH" "$bad" "$WORK/$bad/t.cgt" || fail "cg_synth $bad"
    "$SYNTH" "$bad" "$WORK/mixed/$bad.cgt"
done

# Alone: a file that cannot be opened as a trace exits 2 with one line.
for bad in empty random bad-magic bad-version truncated-header; do
    check "alone-$bad" 2 "$CG" report "$WORK/$bad"
    lines=$(grep -c . "$WORK/alone-$bad.err")
    grep -q "t.cgt: " "$WORK/alone-$bad.err" || fail "alone-$bad: no line naming the file"
    [ "$lines" -eq 2 ] || fail "alone-$bad: $lines lines on stderr, want the file's line + 'no readable trace'"
done
# Files that open but are damaged inside are reported as far as they go.
for bad in truncated-record absurd quoted; do
    check "alone-$bad" 0 "$CG" report "$WORK/$bad"
    check "alone-$bad-json" 0 "$CG" report --format json "$WORK/$bad"
    "$PYTHON" -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/alone-$bad-json.out" ||
        fail "alone-$bad: JSON report does not parse"
    check "alone-$bad-export" 0 "$CG" export --perfetto "$WORK/$bad.json" "$WORK/$bad"
    "$PYTHON" -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/$bad.json" ||
        fail "alone-$bad: timeline does not parse"
done

# Mixed with a valid trace: one warning per bad file, the valid one reported.
mkfifo "$WORK/mixed/fifo.cgt"
ln -s /nonexistent/trace.cgt "$WORK/mixed/dangling.cgt"
check mixed 0 "$CG" report --format json "$WORK/mixed"
for bad in empty random bad-magic bad-version truncated-header fifo dangling; do
    [ "$(grep -c "/$bad.cgt: " "$WORK/mixed.err")" -eq 1 ] || fail "mixed: no single line for $bad.cgt"
done
"$PYTHON" - "$WORK/mixed.out" <<'PY' || fail "mixed: valid trace not reported"
import json, sys
doc = json.load(open(sys.argv[1]))
sys.exit(0 if any(f["kind"] == "leak.event" and f["count"] == 7 for f in doc["findings"]) else 1)
PY

# An unreadable file (root can still read it; then it is simply reported).
mkdir "$WORK/unreadable"
"$SYNTH" clean "$WORK/unreadable/t.cgt"
chmod 000 "$WORK/unreadable/t.cgt"
timeout 60 "$CG" report "$WORK/unreadable" >/dev/null 2>"$WORK/unreadable.err"
rc=$?
if [ $rc -ne 0 ] && ! { [ $rc -eq 2 ] && grep -q 'Permission denied' "$WORK/unreadable.err"; }; then
    fail "unreadable file: exit $rc"
fi

# Paths and options.
check empty-dir 2 "$CG" report "$WORK/nothing"
grep -q 'no trace files' "$WORK/empty-dir.err" || fail "empty-dir: no explanation"
check missing 2 "$CG" report "$WORK/nonexistent"
check no-paths 2 "$CG" report
check bad-format 2 "$CG" report --format xml "$WORK/good"
check bad-fail-on 2 "$CG" report --fail-on leak.evnt "$WORK/good"
check no-suppress-file 2 "$CG" report --suppress "$WORK/none.supp" "$WORK/good"
printf 'leak.event\n' >"$WORK/bad.supp"
check bad-suppress-file 2 "$CG" report --suppress "$WORK/bad.supp" "$WORK/good"
grep -q 'bad.supp:1:' "$WORK/bad-suppress-file.err" || fail "bad suppression line not named"
check unknown-option 2 "$CG" report --frobnicate "$WORK/good"
check help 0 "$CG" report --help
check export-help 0 "$CG" export --help
check export-no-out 2 "$CG" export "$WORK/good"
check export-bad 2 "$CG" export --perfetto "$WORK/x.json" "$WORK/random"
[ -e "$WORK/x.json" ] && fail "export of unusable input left a file"

[ $failures -eq 0 ] || exit 1
echo "ok: bad input gives exit 2 or per-file warnings, ASan/UBSan clean"
