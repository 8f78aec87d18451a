#!/bin/sh
# 54_mt_handle_reuse.sh — issue 12 "handle reuse across threads": 8 threads
# each create/record/query/destroy their own events (build/workloads/mt_events)
# on the simulator, whose freed handle values go straight to the next create.
# The trace must never order a destroy after another thread's create of the
# same value: the report counts exactly the calls the program made, every
# event created is destroyed, and there is no finding at all. Run bare and
# under CUGUARD_POLICY=ownership, whose quarantine releases (really
# destroys) one thread's event while another thread's destroy call is still
# being decided.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-python3}
for product in "$BUILD/cuguard" "$BUILD/libcuguard.so" "$BUILD/fakecuda/libcuda.so.1" \
    "$BUILD/workloads/mt_events"; do
    [ -e "$product" ] || { echo "skip: $product is not built"; exit 77; }
done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for policy in '' ownership; do
CUGUARD_POLICY=$policy LD_LIBRARY_PATH=$PWD/$BUILD/fakecuda timeout -k 5 120 "$BUILD/cuguard" run --no-report \
    --dir "$WORK/trace-$policy" -- "$BUILD/workloads/mt_events" --threads=8 --iterations=3000 \
    >"$WORK/out-$policy" 2>"$WORK/err-$policy" || { echo "FAIL: mt_events exited $?"; cat "$WORK/err-$policy"; exit 1; }
timeout 60 "$BUILD/cuguard" report --format json "$WORK/trace-$policy" >"$WORK/report-$policy.json" ||
    { echo "FAIL: cuguard report exited $?"; exit 1; }
"$PYTHON" - "$WORK/out-$policy" "$WORK/report-$policy.json" "$policy" <<'PY'
import json, re, sys
said = {}
for line in open(sys.argv[1]):
    if line.startswith("totals "):
        said = {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
report = json.load(open(sys.argv[2]))
calls = {}
for api, n in report["summary"]["calls"].items():
    base = re.sub(r"(_v\d+|_ptsz)+$", "", api)
    calls[base] = calls.get(base, 0) + n
bad = []
if not said:
    bad.append("mt_events printed no totals line")
for api, n in said.items():
    if calls.get(api) != n:
        bad.append("%s: program made %d calls, trace has %r" % (api, n, calls.get(api)))
events = report["summary"]["events"]
if events["created"] != said.get("cuEventCreate") or events["destroyed"] != events["created"]:
    bad.append("events created %d destroyed %d, program made %r of each"
               % (events["created"], events["destroyed"], said.get("cuEventCreate")))
for f in report["findings"]:
    bad.append("finding on a correct program: %s (%s) x%s" % (f["kind"], f["severity"], f.get("count")))
for b in bad:
    print("FAIL: " + b)
if bad:
    sys.exit(1)
print("ok: %d events created and destroyed by 8 threads, no finding (policy %s)"
      % (events["created"], sys.argv[3] or "none"))
PY
[ $? -eq 0 ] || exit 1
done
