#!/bin/sh
# 45_report_options.sh — `cuguard report` options on synthetic traces
# (build/tests/cg_synth), so they are checked even without the shim:
#   - several traces (and a trace file given directly) merge into one report;
#   - --fail-on error / warning / KIND lists choose exit 1 or 0;
#   - --suppress hides matching findings (by task or site glob) from the text
#     and the JSON and from --fail-on; comments and blank lines are allowed;
#   - hostile strings (quotes, control bytes, broken UTF-8) give valid JSON.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
CG=$BUILD/cuguard
SYNTH=$BUILD/tests/cg_synth
for product in "$CG" "$SYNTH"; do
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
report() { # report ARGS... : sets rc, stdout in $WORK/out
    timeout 60 "$CG" report "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
}

mkdir "$WORK/run"
"$SYNTH" leaky "$WORK/run/a.cgt" && "$SYNTH" foreign "$WORK/run/b.cgt" &&
    "$SYNTH" clean "$WORK/run/c.cgt" && "$SYNTH" quoted "$WORK/q.cgt" || fail "cg_synth"

report --format json "$WORK/run" "$WORK/q.cgt"
"$PYTHON" - "$WORK/out" <<'PY' || fail "merged JSON"
import json, sys
doc = json.load(open(sys.argv[1]))
kinds = sorted(f["kind"] for f in doc["findings"])
ok = (len(doc["processes"]) == 4 and kinds == ["leak.event", "leak.event", "leak.pinned",
                                               "unknown-handle"]
      and doc["summary"]["events"]["created"] == 37 + 1 + 1 + 1)
print(len(doc["processes"]), kinds, doc["summary"]["events"])
sys.exit(0 if ok else 1)
PY

report --fail-on error "$WORK/run"
[ $rc -eq 1 ] || fail "--fail-on error with an unknown-handle: exit $rc"
report --fail-on leak.stream,query-before-record "$WORK/run"
[ $rc -eq 0 ] || fail "--fail-on kinds that did not occur: exit $rc"
report --fail-on leak.stream,leak.pinned "$WORK/run"
[ $rc -eq 1 ] || fail "--fail-on leak.pinned: exit $rc"
report "$WORK/run"
[ $rc -eq 0 ] || fail "no --fail-on: exit $rc"

cat >"$WORK/supp" <<'SUPP'
# known leaks of the leaky test
leak.* tests/test_leaky.py::*

unknown-handle   *     # everything
poller-exited *
SUPP
report --suppress "$WORK/supp" --fail-on warning "$WORK/run"
[ $rc -eq 0 ] || fail "all findings suppressed, --fail-on warning: exit $rc"
grep -q '^SUMMARY: cuguard: 0 errors, 0 warnings (3 suppressed)$' "$WORK/out" ||
    fail "suppressed summary: $(tail -n 1 "$WORK/out")"
printf 'leak.pinned leaky.c:*\n' >"$WORK/supp2"
report --suppress="$WORK/supp2" --format=json "$WORK/run"
"$PYTHON" - "$WORK/out" <<'PY' || fail "suppress by site"
import json, sys
doc = json.load(open(sys.argv[1]))
kinds = sorted(f["kind"] for f in doc["findings"])
print(kinds, doc["summary"]["suppressed"])
sys.exit(0 if kinds == ["leak.event", "unknown-handle"]
         and doc["summary"]["suppressed"] == 1 else 1)
PY

[ $failures -eq 0 ] || exit 1
echo "ok: merge, --fail-on, --suppress, hostile strings"
