#!/bin/sh
# 37_dlsym_next.sh — the shim's dlsym forwards RTLD_NEXT lookups as the caller's.
#
# dlsym(RTLD_NEXT, name) searches after the object that called it. A second
# preloaded interposer, loaded after libcuguard.so, wraps getpid() and finds
# the real one with dlsym(RTLD_NEXT, "getpid"): through the shim's dlsym it
# must get libc's getpid, not its own (which would recurse forever). Its
# dlsym(RTLD_NEXT, "cudnnCreate") and of a made-up "cu" name must be NULL, as
# without the shim.
. tests/e2e/shim_common.sh
require "$SHIM"
CC=${CC:-cc}
cat >"$WORK/interposer.c" <<'SRC'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static int depth;
pid_t getpid(void)
{
    pid_t (*next)(void) = (pid_t(*)(void))dlsym(RTLD_NEXT, "getpid");
    if (next == NULL || ++depth > 1) {
        fprintf(stderr, "interposer: dlsym(RTLD_NEXT) %s\n", next ? "returned itself" : "failed");
        _exit(3);
    }
    pid_t pid = next();
    depth--;
    return pid;
}
__attribute__((constructor)) static void check_others(void)
{
    if (dlsym(RTLD_NEXT, "cudnnCreate") != NULL || dlsym(RTLD_NEXT, "cuNoSuchFunction") != NULL) {
        fprintf(stderr, "interposer: a name that does not exist was found\n");
        _exit(4);
    }
}
SRC
if ! $CC -shared -fPIC -o "$WORK/interposer.so" "$WORK/interposer.c" -ldl 2>"$WORK/cc.err"; then
    echo "cannot compile the test interposer: $(head -n 1 "$WORK/cc.err")"
    exit 77
fi
cat >"$WORK/main.c" <<'SRC'
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    printf("pid=%d\n", (int)getpid());
    return 0;
}
SRC
$CC -o "$WORK/main" "$WORK/main.c" || { echo "cannot compile the test program"; exit 77; }

LD_PRELOAD="$WORK/interposer.so" timeout -k 5 30 "$WORK/main" >"$WORK/plain.out" 2>&1
[ $? -eq 0 ] || fail "the interposer fails even without the shim: $(cat "$WORK/plain.out")"
CUGUARD_DIR="$WORK/t" LD_PRELOAD="$SHIM $WORK/interposer.so" timeout -k 5 30 "$WORK/main" \
    >"$WORK/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^pid=[0-9]' "$WORK/out"; then
    echo "ok: RTLD_NEXT from a library after the shim finds the next definition"
else
    fail "exit $rc: $(cat "$WORK/out")"
fi
finish
