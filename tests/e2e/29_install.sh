#!/bin/sh
# 29_install.sh — `make install` and `make uninstall` (docs/install.md).
#
# Installs into a staging directory (DESTDIR) under a PREFIX that is not
# /usr/local and checks: exactly the documented files are there; the
# installed cuguard answers --version, finds the installed library (what
# it puts in LD_PRELOAD) and, with --simulate, the installed simulated
# driver, so a traced run works from the installed copy alone; the man page
# holds every command's options. `make uninstall` with the same variables
# leaves no file behind.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$BUILD/workloads/direct"
command -v make >/dev/null || { echo "skip: no make"; exit 77; }
STAGE=$WORK/stage
P=/opt/cuguard-test
root=$STAGE$P

make -s BUILD="$BUILD" DESTDIR="$STAGE" PREFIX=$P install >"$WORK/install.log" 2>&1 ||
    { echo "FAIL: make install: $(tail -n 5 "$WORK/install.log")"; exit 1; }

want="bin/cuguard
lib/cuguard/fakecuda/libcuda.so
lib/cuguard/fakecuda/libcuda.so.1
lib/cuguard/fakecuda/libcudart.so
lib/cuguard/fakecuda/libcudart.so.13
lib/cuguard/python/cuguard.py
lib/libcuguard.so
share/doc/cuguard/README.md
$(for d in docs/*.md; do echo "share/doc/cuguard/${d#docs/}"; done)
share/man/man1/cuguard.1"
got=$(cd "$root" && find . \( -type f -o -type l \) | sed 's|^\./||' | LC_ALL=C sort)
want=$(echo "$want" | LC_ALL=C sort)
[ "$got" = "$want" ] || fail "installed files differ from the documented list: $(echo "$got" | tr '\n' ' ')"

[ "$("$root/bin/cuguard" --version)" = "$("$CUGUARD" --version)" ] || fail "installed --version differs"
preload=$(LD_PRELOAD= timeout 30 "$root/bin/cuguard" run --no-report --dir "$WORK/t0" -- \
    sh -c 'echo "$LD_PRELOAD"' 2>/dev/null)
[ "$preload" = "$root/lib/libcuguard.so" ] || fail "installed cuguard preloads '$preload'"
pypath=$(PYTHONPATH= timeout 30 "$root/bin/cuguard" run --no-report --dir "$WORK/t0" -- \
    sh -c 'echo "$PYTHONPATH"' 2>/dev/null)
[ "$pypath" = "$root/lib/cuguard/python" ] || fail "installed cuguard puts '$pypath' on PYTHONPATH, not its plugin's directory"
LD_LIBRARY_PATH= timeout -k 5 60 "$root/bin/cuguard" run --simulate --no-report --dir "$WORK/t" -- \
    "$BUILD/workloads/direct" >"$WORK/run.out" 2>&1 || fail "installed run --simulate: $(tail -n 3 "$WORK/run.out")"
[ "$(traces "$WORK/t")" -eq 1 ] || fail "installed run --simulate wrote $(traces "$WORK/t") traces"
"$root/bin/cuguard" dump "$WORK/t" 2>/dev/null | grep -q ' call cuEventCreate' ||
    fail "installed run --simulate: no cuEventCreate traced"

man=$root/share/man/man1/cuguard.1
head -n 1 "$man" | grep -q '^\.TH CUGUARD 1' || fail "man page: no .TH CUGUARD 1 line"
for opt in --require-trace --simulate --fail-on --all --strings --perfetto --version; do
    grep -q -- "$(echo "$opt" | sed 's/-/\\\\-/g')\|$opt" "$man" || fail "man page lacks $opt"
done

make -s BUILD="$BUILD" DESTDIR="$STAGE" PREFIX=$P uninstall >"$WORK/uninstall.log" 2>&1 ||
    fail "make uninstall: $(tail -n 5 "$WORK/uninstall.log")"
left=$(find "$STAGE" \( -type f -o -type l \) | wc -l)
[ "$left" -eq 0 ] || fail "make uninstall left $left files: $(find "$STAGE" -type f -o -type l | head -3)"
[ $failures -eq 0 ] && echo "ok: make install to DESTDIR/PREFIX, installed copy traces on its own, uninstall removes it"
finish
