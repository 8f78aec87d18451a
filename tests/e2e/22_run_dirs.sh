#!/bin/sh
# 22_run_dirs.sh — two `cuguard run`s into one --dir stay apart.
#
# The first run is leaky (37 events created, 7 never destroyed), the second
# direct (3 created, all destroyed). `report DIR` reads only the latest run
# and says which on stderr; `report --all DIR` reads both; dump and export
# follow the same rule. Merging the runs silently (the old behaviour) would
# give 40 events and leaks in `report DIR`.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/leaky" "$BUILD/workloads/direct"
D="$WORK/traces"

for w in leaky direct; do
    timeout -k 5 60 "$CUGUARD" run --simulate --no-report --dir "$D" -- "$BUILD/workloads/$w" \
        >/dev/null 2>&1 || fail "$w under cuguard run failed"
done
runs=$(find "$D" -mindepth 1 -maxdepth 1 -type d -name 'run-*' | wc -l)
[ "$runs" -eq 2 ] || fail "$runs run subdirectories in $D, expected 2"
latest=$(readlink "$D/latest")
[ -n "$latest" ] && [ -d "$D/$latest" ] || fail "$D/latest does not point at a run directory"
[ "$(traces "$D/$latest")" -eq 1 ] || fail "the latest run holds $(traces "$D/$latest") traces"

# summary FILE: "PROCESSES CREATED LEAKED ARGV0S" of a JSON report.
summary() {
    "$PYTHON" -c '
import json, os, sys
d = json.load(open(sys.argv[1]))
e = d["summary"]["events"]
names = ",".join(sorted(os.path.basename(p["argv"][0]) for p in d["processes"]))
print(len(d["processes"]), e["created"], e["leaked"], names)' "$1"
}

"$CUGUARD" report --format json "$D" >"$WORK/latest.json" 2>"$WORK/latest.err" ||
    fail "report DIR failed: $(cat "$WORK/latest.err")"
got=$(summary "$WORK/latest.json")
[ "$got" = "1 3 0 direct" ] || fail "report DIR: '$got', expected the latest run only: '1 3 0 direct'"
grep -q "reading the latest run, $latest (2 runs; --all reads every run)" "$WORK/latest.err" ||
    fail "report DIR does not say it read the latest of 2 runs: $(cat "$WORK/latest.err")"
[ "$(wc -l <"$WORK/latest.err")" -eq 1 ] || fail "report DIR: more than one line on stderr"

"$CUGUARD" report --all --format json "$D" >"$WORK/all.json" 2>"$WORK/all.err" ||
    fail "report --all failed: $(cat "$WORK/all.err")"
got=$(summary "$WORK/all.json")
[ "$got" = "2 40 7 direct,leaky" ] || fail "report --all: '$got', expected both runs: '2 40 7 direct,leaky'"
grep -q 'reading the latest run' "$WORK/all.err" && fail "report --all says it read the latest run only"

"$CUGUARD" report "$D" >"$WORK/latest.txt" 2>/dev/null
grep -q 'leak\.event' "$WORK/latest.txt" && fail "text report DIR shows the first run's leaks"
"$CUGUARD" report --all "$D" >"$WORK/all.txt" 2>/dev/null
grep -q 'leak\.event' "$WORK/all.txt" || fail "text report --all lacks the first run's leaks"

n=$("$CUGUARD" dump "$D" 2>/dev/null | grep -c '^== trace ')
[ "$n" -eq 1 ] || fail "dump DIR: $n traces, expected 1"
n=$("$CUGUARD" dump --all "$D" 2>/dev/null | grep -c '^== trace ')
[ "$n" -eq 2 ] || fail "dump --all DIR: $n traces, expected 2"

# pids EXPORT.json: how many traced processes a timeline shows.
pids() {
    "$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
ev = d["traceEvents"] if isinstance(d, dict) else d
print(len({e["pid"] for e in ev if e.get("ph") == "M" and e.get("name") == "process_name"}))' "$1"
}
"$CUGUARD" export --perfetto "$WORK/latest.perfetto.json" "$D" 2>/dev/null || fail "export DIR failed"
"$CUGUARD" export --perfetto "$WORK/all.perfetto.json" --all "$D" 2>/dev/null || fail "export --all failed"
[ "$(pids "$WORK/latest.perfetto.json")" -eq 1 ] || fail "export DIR: $(pids "$WORK/latest.perfetto.json") processes"
[ "$(pids "$WORK/all.perfetto.json")" -eq 2 ] || fail "export --all: $(pids "$WORK/all.perfetto.json") processes"

[ $failures -eq 0 ] && echo "ok: 2 runs in one directory: report/dump/export read the latest, --all reads both"
finish
