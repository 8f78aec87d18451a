#!/bin/sh
# 43_export_perfetto.sh — `cuguard export --perfetto` of a writeback run
# (real shim, simulator): the file parses as JSON and holds a traceEvents
# array with a process per pid, host-thread tracks, stream tracks, counter
# tracks and API slices; every flow id has exactly one start ("s") and one
# end ("f"), the end not before the start. Also: a bad output path exits 2
# and leaves nothing behind.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
for product in "$BUILD/cuguard" "$BUILD/libcuguard.so" "$BUILD/fakecuda/libcuda.so.1" \
    "$BUILD/workloads/writeback"; do
    if [ ! -e "$product" ]; then
        echo "skip: $product is not built"
        exit 77
    fi
done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for mode in none foreign-handle; do
    LD_LIBRARY_PATH="$BUILD/fakecuda" timeout -k 5 90 "$BUILD/cuguard" run --no-report \
        --dir "$WORK/trace-$mode" -- "$BUILD/workloads/writeback" --bug=$mode --timeout=3 \
        >/dev/null 2>&1
    timeout 60 "$BUILD/cuguard" export --perfetto "$WORK/$mode.json" "$WORK/trace-$mode"
    rc=$?
    [ $rc -eq 0 ] || { echo "FAIL: export of $mode exited $rc"; exit 1; }
    "$PYTHON" - "$WORK/$mode.json" "$mode" <<'PY' || exit 1
import collections, json, sys
doc = json.load(open(sys.argv[1]))
mode = sys.argv[2]
events = doc["traceEvents"]
errors = []
if not isinstance(events, list) or not events:
    errors.append("no traceEvents array")
names = [e for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"]
threads = [e for e in names if not e["args"]["name"].startswith("stream")]
streams = [e for e in names if e["args"]["name"].startswith("stream")]
procs = [e for e in events if e.get("ph") == "M" and e.get("name") == "process_name"]
counters = {e["name"] for e in events if e.get("ph") == "C"}
slices = [e for e in events if e.get("ph") == "X" and e.get("cat") == "api"]
if not procs: errors.append("no process track")
if not threads: errors.append("no host-thread track")
if not streams: errors.append("no stream track")
if not {"live events and streams", "pinned bytes"} <= counters:
    errors.append("counters missing: %r" % counters)
if not any(e["name"].startswith("cuEventQuery") for e in slices):
    errors.append("no cuEventQuery slice")
flows = collections.defaultdict(list)
for e in events:
    if e.get("ph") in ("s", "f"):
        flows[e["id"]].append(e)
if not flows: errors.append("no flows")
for fid, ends in flows.items():
    kinds = sorted(e["ph"] for e in ends)
    if kinds != ["f", "s"]:
        errors.append("flow %s has ends %r" % (fid, kinds)); break
    s = [e for e in ends if e["ph"] == "s"][0]
    f = [e for e in ends if e["ph"] == "f"][0]
    if f["ts"] < s["ts"] or f["pid"] != s["pid"]:
        errors.append("flow %s ends before it starts or in another process" % fid); break
for e in events:
    if e.get("ph") in ("X", "i", "C", "s", "f") and not isinstance(e.get("ts"), (int, float)):
        errors.append("event without ts: %r" % e); break
if mode == "foreign-handle" and not any(e.get("ph") == "i" and e["name"] == "unknown-handle"
                                        for e in events):
    errors.append("no unknown-handle marker")
print("%s: %d events, %d threads, %d streams, %d flows" %
      (mode, len(events), len(threads), len(streams), len(flows)))
for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY
done

timeout 60 "$BUILD/cuguard" export --perfetto "$WORK/no/such/dir/out.json" "$WORK/trace-none" \
    2>"$WORK/err"
rc=$?
if [ $rc -ne 2 ] || [ -e "$WORK/no" ]; then
    echo "FAIL: export to a missing directory: exit $rc"
    exit 1
fi
timeout 60 "$BUILD/cuguard" export "$WORK/trace-none" >/dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: export without --perfetto should exit 2"; exit 1; }
echo "ok: timeline parses, has thread/stream/counter tracks, every flow has both ends"
