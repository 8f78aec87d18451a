#!/bin/sh
# 26_demo_paste.sh — what `make demo` prints can be pasted.
#
# Runs tests/demo.sh with DEMO_KEEP=DIR, then runs every "$ " command line it
# printed again, as a user pasting it in the repository root would: a
# clean environment (only PATH and HOME), no Makefile variables. Each run
# line gets the exit status the demo reported for it (0 for the correct
# program, 3 for the planted root cause), each report line exits 0 and
# finds what the demo's report found (no error for the first, the
# unknown-handle diagnosis for the second), and the export line writes a
# timeline. DEMO_KEEP=DIR keeps the traces; without it nothing is left in
# TMPDIR.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"
mkdir -p "$WORK/tmp"

BUILD=$BUILD DEMO_KEEP="$WORK/keep" timeout -k 5 120 sh tests/demo.sh >"$WORK/demo" 2>&1 ||
    fail "demo with DEMO_KEEP failed: $(tail -n 5 "$WORK/demo")"
[ "$(traces "$WORK/keep")" -eq 2 ] || fail "DEMO_KEEP: $(traces "$WORK/keep") traces kept, expected 2"
grep -q -- "-- writeback\|^\\\$ cuguard " "$WORK/demo" && fail "the demo prints a command without its path"

# paste LINE: run LINE in the repository root with a clean environment.
paste_line() {
    timeout -k 5 60 env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$WORK" sh -c "$1" \
        >"$WORK/pasted" 2>&1
}

grep '^\$ ' "$WORK/demo" | sed 's/^\$ //' >"$WORK/lines"
[ "$(wc -l <"$WORK/lines")" -eq 4 ] || fail "the demo printed $(wc -l <"$WORK/lines") command lines, expected 4"
n=0
while IFS= read -r line; do
    n=$((n + 1))
    paste_line "$line"
    rc=$?
    case $n:$rc in
    1:0 | 3:3) echo "ok: pasted run line $n: exit $rc, as the demo said" ;;
    2:0) grep -q '0 errors' "$WORK/pasted" && ! grep -q '^error:' "$WORK/pasted" ||
        fail "pasted report of the correct run: $(tail -n 3 "$WORK/pasted")" ;;
    4:0) grep -q '^error: unknown-handle' "$WORK/pasted" ||
        fail "pasted report of the root cause lacks unknown-handle: $(head -n 5 "$WORK/pasted")" ;;
    *) fail "pasted line $n ($line): exit $rc: $(tail -n 3 "$WORK/pasted")" ;;
    esac
done <"$WORK/lines"

export_line=$(sed -n 's/^Timeline: //p' "$WORK/demo" | sed "s|timeline.json|$WORK/timeline.json|")
[ -n "$export_line" ] || fail "the demo prints no export command"
paste_line "$export_line" && [ -s "$WORK/timeline.json" ] || fail "pasted export: $(cat "$WORK/pasted")"
grep -q "DEMO_KEEP=DIR" "$WORK/demo" && fail "with DEMO_KEEP the demo says the traces were removed"

BUILD=$BUILD TMPDIR="$WORK/tmp" timeout -k 5 120 sh tests/demo.sh >"$WORK/demo2" 2>&1 ||
    fail "demo failed: $(tail -n 5 "$WORK/demo2")"
left=$(find "$WORK/tmp" -mindepth 1 | wc -l)
[ "$left" -eq 0 ] || fail "the demo left $left files in TMPDIR"
grep -q "make demo DEMO_KEEP=DIR keeps them" "$WORK/demo2" || fail "the demo does not mention DEMO_KEEP"
finish
