/*
 * bench/unwinders.c — cost and correctness of four ways to take a native
 * call stack, measured on this host's own (frame-pointer-less) libraries.
 *
 * Usage: unwinders [CALLS]   prints one line per method:
 *   "METHOD NS_PER_STACK FRAMES_SEEN REACHED_MAIN"
 * Methods: fp (walk %rbp), backtrace (glibc, libgcc's unwinder),
 * libunwind (unw_backtrace from libunwind.so.8, dlopen'ed; skipped when
 * absent) and cached-cfi (the shim's shim/unwind.c: libgcc's FDEs, each
 * frame's rule cached). The stack is taken 8 levels below main, through qsort() in libc
 * (built without frame pointers), so a method that cannot see past libc
 * never reaches main: REACHED_MAIN says whether the stack is right.
 *
 * What it must never do: fail the bench when libunwind is missing.
 */
#include <dlfcn.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "shim/unwind.h"

#define DEPTH 8

typedef int (*unwind_fn)(void **, int);

static unwind_fn method;
static void *frames[DEPTH + 8];
static int frames_seen;
static unsigned long calls = 200000;
static void *main_begin, *main_end;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int fp_walk(void **out, int max)
{
    void **fp = __builtin_frame_address(0);
    int n = 0;
    while (fp && n < max) {
        void *ret = fp[1];
        if ((uintptr_t)ret < 4096)
            break;
        out[n++] = ret;
        void **next = (void **)fp[0];
        if (next <= fp || (uintptr_t)next - (uintptr_t)fp > (1u << 20))
            break;
        fp = next;
    }
    return n;
}

static int libc_backtrace(void **out, int max)
{
    return backtrace(out, max);
}

static uint64_t now_ns(void);
static double ns_per_stack;
static int take_pending;

/* Runs inside qsort's callback: the stack goes main -> measure ->
 * through_libc -> qsort (libc) -> compare -> take. */
__attribute__((noinline)) static void take(void)
{
    frames_seen = method(frames, DEPTH + 8);
    void *buf[DEPTH];
    for (unsigned long i = 0; i < 1000; i++)
        method(buf, DEPTH);
    uint64_t t0 = now_ns();
    for (unsigned long i = 0; i < calls; i++)
        method(buf, DEPTH);
    ns_per_stack = (double)(now_ns() - t0) / (double)calls;
}

__attribute__((noinline)) static int compare(const void *a, const void *b)
{
    if (take_pending) {
        take_pending = 0;
        take();
    }
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

__attribute__((noinline)) static void through_libc(void)
{
    int v[2] = {2, 1};
    qsort(v, 2, sizeof v[0], compare);
}

static int reached_main(void)
{
    for (int i = 0; i < frames_seen; i++)
        if (frames[i] >= main_begin && frames[i] < main_end)
            return 1;
    return 0;
}

static void measure(const char *name, unwind_fn fn)
{
    method = fn;
    take_pending = 1;
    through_libc();
    int ok = reached_main();
    double ns = ns_per_stack;
    printf("%-10s %8.0f ns/stack  %2d frames  reached main through libc: %s\n", name, ns,
           frames_seen, ok ? "yes" : "NO");
}

int main(int argc, char **argv)
{
    main_begin = (void *)main;
    main_end = (char *)main + 512;
    if (argc > 1)
        calls = strtoul(argv[1], NULL, 10);
    measure("fp", fp_walk);
    measure("backtrace", libc_backtrace);
    void *lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    unwind_fn unw = lib ? (unwind_fn)dlsym(lib, "unw_backtrace") : NULL;
    if (unw)
        measure("libunwind", unw);
    else
        printf("libunwind  (libunwind.so.8 not installed: skipped)\n");
    cg_unwind_init(dlsym); /* backtrace() above loaded libgcc_s */
    measure("cached-cfi", cg_unwind);
    if (!cg_unwind_last_was_fast())
        printf("cached-cfi fell back to backtrace()\n");
    return 0;
}
