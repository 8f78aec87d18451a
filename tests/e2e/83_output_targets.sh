#!/bin/sh
# 83_output_targets.sh — the files cuguard writes, and the text it prints.
#
# export never follows a planted link at OUT, writes a device node in place
# (it stays a device); dump into a full device exits 2 with a message;
# escape bytes planted in a trace's API-name table never reach report or
# dump output; a trace directory owned by another user and writable by
# others, or a symlinked CUGUARD_DIR, is warned about.
. tests/e2e/shim_common.sh
HOSTILE=$BUILD/workloads/hostile
ulimit -c 0
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$HOSTILE"
LD_LIBRARY_PATH=$FAKE CUGUARD_DIR="$WORK/tr" LD_PRELOAD=$SHIM \
    timeout -k 5 30 "$HOSTILE" resethand >/dev/null 2>&1
trace=$(ls "$WORK"/tr/*.cgt | head -n 1)

"$CUGUARD" dump "$WORK/tr" >/dev/full 2>"$WORK/full.err"
rc=$?
[ "$rc" -eq 2 ] || fail "dump > /dev/full: exit $rc, want 2"
grep -q "could not write" "$WORK/full.err" || fail "dump > /dev/full: no message"

ln -s "$WORK/victim" "$WORK/link.json"
"$CUGUARD" export --perfetto "$WORK/link.json" "$WORK/tr" 2>/dev/null && fail "export followed a link"
[ -e "$WORK/victim" ] && fail "export created the link's target"
[ -L "$WORK/link.json" ] || fail "export replaced the link"
if mknod "$WORK/node" c 1 3 2>/dev/null; then
    "$CUGUARD" export --perfetto "$WORK/node" "$WORK/tr" || fail "export to a device node failed"
    [ -c "$WORK/node" ] || fail "export replaced a device node with a file"
fi
"$CUGUARD" export --perfetto "$WORK/out.json" "$WORK/tr" || fail "plain export failed"
ls -a "$WORK" | grep -q '\.out\.json\.' && fail "export left a temporary file"

cp "$trace" "$WORK/evil.cgt"
$PYTHON - "$WORK/evil.cgt" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.find(b"cuEventCreate\0", 0, 8192)
data[at + 2:at + 6] = b"\x1b[2J"
open(sys.argv[1], "wb").write(data)
PY
"$CUGUARD" report "$WORK/evil.cgt" >"$WORK/evil.report" 2>&1
"$CUGUARD" dump "$WORK/evil.cgt" >"$WORK/evil.dump" 2>&1
for f in evil.report evil.dump; do
    grep -q "$(printf '\033')" "$WORK/$f" && fail "$f carries an escape byte"
done

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
    mkdir -p "$WORK/shared"
    chown nobody "$WORK/shared" && chmod 0777 "$WORK/shared"
    LD_LIBRARY_PATH=$FAKE CUGUARD_DIR="$WORK/shared" LD_PRELOAD=$SHIM \
        timeout -k 5 30 "$HOSTILE" resethand >/dev/null 2>"$WORK/shared.err"
    grep -q "owned by uid .* writable by others" "$WORK/shared.err" ||
        fail "no warning for a directory another user owns: $(cat "$WORK/shared.err")"
fi
ln -s "$WORK/tr" "$WORK/trlink"
LD_LIBRARY_PATH=$FAKE CUGUARD_DIR="$WORK/trlink" LD_PRELOAD=$SHIM \
    timeout -k 5 30 "$HOSTILE" resethand >/dev/null 2>"$WORK/link.err"
grep -q "symbolic link" "$WORK/link.err" || fail "no warning for a symlinked CUGUARD_DIR"
finish
