#!/bin/sh
# 46_export_proto.sh — `cuguard export --format proto` (Perfetto's protobuf
# trace) and the export filters, on a writeback run (real shim, simulator).
# An independent stdlib decoder (perfetto_proto_check.py) checks packets,
# track descriptors, slices, counters and flows, and that the API slices
# (names, start times) are those of the JSON export; `protoc --decode_raw`
# must parse the file too when protoc is installed. --since/--until keep
# only slices inside the window (in both formats), --pid of another process
# keeps none, and bad filter values exit 2.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
HERE=$(dirname "$0")
for product in "$BUILD/cuguard" "$BUILD/libcuguard.so" "$BUILD/fakecuda/libcuda.so.1" \
    "$BUILD/workloads/writeback"; do
    if [ ! -e "$product" ]; then
        echo "skip: $product is not built"
        exit 77
    fi
done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

LD_LIBRARY_PATH="$BUILD/fakecuda" timeout -k 5 90 "$BUILD/cuguard" run --no-report \
    --dir "$WORK/trace" -- "$BUILD/workloads/writeback" --bug=none --timeout=3 >/dev/null 2>&1
export_to() { timeout 60 "$BUILD/cuguard" export --perfetto "$@" "$WORK/trace" 2>"$WORK/err"; }

export_to "$WORK/all.json" || fail "JSON export exited $?"
export_to "$WORK/all.pftrace" --format proto || fail "proto export exited $?: $(cat "$WORK/err")"
"$PYTHON" "$HERE/perfetto_proto_check.py" "$WORK/all.pftrace" "$WORK/all.json" || exit 1
if command -v protoc >/dev/null 2>&1; then
    protoc --decode_raw <"$WORK/all.pftrace" >"$WORK/raw.txt" || fail "protoc --decode_raw refused it"
    grep -q '"cuEventQuery' "$WORK/raw.txt" || fail "protoc's decoding lacks the API names"
else
    echo "note: protoc not installed; the stdlib decoder alone checked the file"
fi

# The window: the middle of the run, relative to the process's start.
cgt=$(find "$WORK/trace" -name '*.cgt' | head -n 1)
read -r pid start last <<EOF2
$("$PYTHON" - "$cgt" "$WORK/all.json" <<'PY'
import json, struct, sys
hdr = open(sys.argv[1], "rb").read(48)
pid = struct.unpack_from("<I", hdr, 24)[0]
start = struct.unpack_from("<Q", hdr, 32)[0]
ts = [round(e["ts"] * 1000) for e in json.load(open(sys.argv[2]))["traceEvents"]
      if e.get("cat") == "api"]
print(pid, start, max(ts) - start)
PY
)
EOF2
since_ns=$((last / 3))
until_ns=$((2 * last / 3))
since=$(awk -v n="$since_ns" 'BEGIN { printf "%.9f", n / 1e9 }')
until=$(awk -v n="$until_ns" 'BEGIN { printf "%.9f", n / 1e9 }')
export_to "$WORK/win.pftrace" --format proto --since "$since" --until "$until" ||
    fail "windowed proto export exited $?"
"$PYTHON" "$HERE/perfetto_proto_check.py" "$WORK/win.pftrace" "$WORK/all.json" \
    --window "$start" "$since_ns" "$until_ns" || exit 1
export_to "$WORK/win.json" --since "$since" --until "$until" || fail "windowed JSON export"
"$PYTHON" - "$WORK/win.json" "$start" "$since_ns" "$until_ns" "$WORK/all.json" <<'PY' || exit 1
import collections, json, sys
doc = json.load(open(sys.argv[1]))
start, since, until = (int(v) for v in sys.argv[2:5])
api = [round(e["ts"] * 1000) - start for e in doc["traceEvents"] if e.get("cat") == "api"]
everything = [e for e in json.load(open(sys.argv[5]))["traceEvents"] if e.get("cat") == "api"]
assert api and len(api) < len(everything), "the window keeps some API slices, not all"
assert all(since <= t <= until for t in api), "an API slice outside the window"
flows = collections.Counter((e["ph"], e["id"]) for e in doc["traceEvents"] if e.get("ph") in "sf")
assert all(flows[("f", i)] == 1 for (ph, i) in flows if ph == "s"), "a flow start without its end"
assert all(flows[("s", i)] == 1 for (ph, i) in flows if ph == "f"), "a flow end without its start"
PY

other=$((pid + 1))
export_to "$WORK/none.pftrace" --format proto --pid "$other" || fail "--pid export exited $?"
"$PYTHON" "$HERE/perfetto_proto_check.py" "$WORK/none.pftrace" --empty-of-events || exit 1
export_to "$WORK/mine.pftrace" --format=proto --pid="$pid" || fail "--pid=$pid export"
cmp -s "$WORK/mine.pftrace" "$WORK/all.pftrace" || fail "--pid of the only process changed the output"

for bad in "--format xml" "--pid -3" "--since -1" "--until soon" "--since 2 --until 1" "--pid"; do
    # shellcheck disable=SC2086
    timeout 60 "$BUILD/cuguard" export --perfetto "$WORK/bad.out" $bad "$WORK/trace" \
        >/dev/null 2>"$WORK/err"
    rc=$?
    [ $rc -eq 2 ] || fail "export $bad: exit $rc, want 2"
    [ ! -e "$WORK/bad.out" ] || fail "export $bad left an output file"
    [ "$(wc -l <"$WORK/err")" -ge 1 ] || fail "export $bad: no message"
done
# Not a terminal: no progress lines on stderr.
export_to "$WORK/quiet.json"
! grep -q "records replayed" "$WORK/err" || fail "progress written to a non-terminal"
echo "ok: proto export decoded, filters hold"
