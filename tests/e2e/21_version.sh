#!/bin/sh
# 21_version.sh — one version everywhere: `cuguard --version` prints
# "cuguard VERSION" (VERSION from tracer/version.h), the trace header of a
# run carries it (dump's "== trace" line says tool=VERSION), and the JSON
# report names it twice: the cuguard that wrote the report (tool_version)
# and the one that wrote each trace (processes[].tool_version).
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/direct"
version=$(sed -n 's/^#define CUGUARD_VERSION "\(.*\)"$/\1/p' tracer/version.h)
[ -n "$version" ] || { echo "FAIL: no CUGUARD_VERSION in tracer/version.h"; exit 1; }

out=$("$CUGUARD" --version 2>"$WORK/err")
rc=$?
[ $rc -eq 0 ] || fail "--version: exit $rc"
[ "$out" = "cuguard $version" ] || fail "--version printed '$out', expected 'cuguard $version'"
[ -s "$WORK/err" ] && fail "--version wrote to stderr: $(head -c 200 "$WORK/err")"

timeout -k 5 60 "$CUGUARD" run --simulate --no-report --dir "$WORK/t" -- \
    "$BUILD/workloads/direct" >/dev/null 2>&1 || fail "direct under cuguard run failed"

"$CUGUARD" dump "$WORK/t" >"$WORK/dump" 2>/dev/null || fail "dump failed"
headers=$(grep -c '^== trace ' "$WORK/dump")
[ "$headers" -eq 1 ] || fail "dump printed $headers trace headers, expected 1"
grep '^== trace ' "$WORK/dump" | grep -q " tool=$version " ||
    fail "dump header lacks tool=$version: $(grep '^== trace ' "$WORK/dump" | head -c 300)"

"$CUGUARD" report --format json "$WORK/t" >"$WORK/report.json" 2>/dev/null ||
    fail "report --format json failed"
"$PYTHON" - "$WORK/report.json" "$version" <<'PY' || fail "JSON report versions"
import json, sys
doc = json.load(open(sys.argv[1]))
want = sys.argv[2]
bad = []
if doc.get("tool_version") != want:
    bad.append("tool_version=%r" % doc.get("tool_version"))
procs = doc.get("processes", [])
if len(procs) != 1:
    bad.append("%d processes" % len(procs))
for p in procs:
    if p.get("tool_version") != want:
        bad.append("processes[].tool_version=%r" % p.get("tool_version"))
if bad:
    print("expected %s: %s" % (want, ", ".join(bad)))
    sys.exit(1)
PY
[ $failures -eq 0 ] && echo "ok: cuguard $version in --version, the trace header and the JSON report"
finish
