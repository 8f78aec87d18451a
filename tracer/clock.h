/*
 * tracer/clock.h — the clock of record timestamps (ts_ns).
 *
 * What it is for: stamping records cheaply. Where the TSC is invariant and
 * the kernel itself keeps time with it (x86-64, CPUID 0x80000007 EDX bit 8,
 * /proc/cpuinfo constant_tsc and nonstop_tsc, clocksource "tsc"), a stamp is
 * one `lfence; rdtsc` converted to CLOCK_MONOTONIC nanoseconds with a
 * multiply and a shift, by the calling thread's copy of the conversion in
 * use (one shared word read per stamp says the copy is still the one in
 * use); elsewhere it is clock_gettime(CLOCK_MONOTONIC). The
 * conversion is calibrated against CLOCK_MONOTONIC without sleeping: from
 * the trace's open, stamps come from clock_gettime until the first one at
 * least 1 ms after the open pair, which then measures the TSC's rate from
 * the two pairs and switches to it, anchored at or above every stamp handed
 * out. It is re-anchored by the shim's background thread (cg_clock_reanchor), always
 * continuously: a later stamp is never smaller than an earlier one. Either
 * way ts_ns keeps its meaning (CLOCK_MONOTONIC ns); the trace header says
 * which clock stamped it and holds the calibration (tracer/format.h).
 *
 * What it must never do: sleep; lock, allocate or make a system call in
 * cg_trace_now() once on the TSC (during the first ~1 ms it is
 * clock_gettime, a vDSO call); step the converted time backwards.
 */
#ifndef CUGUARD_TRACER_CLOCK_H
#define CUGUARD_TRACER_CLOCK_H

#include <stdint.h>

#include "tracer/format.h"

/* One conversion: ns = base_ns + ((tsc - base_tsc) * mult >> 32). */
struct cg_clock_line {
    uint64_t base_tsc;
    uint64_t base_ns;
    uint64_t mult; /* nanoseconds per tick, times 2^32 */
};

struct cg_clock {
    int use_tsc;      /* 0: clock_gettime; 1: the TSC through lines[current & 1] */
    int calibrating;  /* enum cg_clock_calibration */
    unsigned current; /* the line in use; the other one is written by re-anchoring. Changes
                         (by one) at every open, switch and re-anchoring, never goes back */
    struct cg_clock_line lines[2];
    uint64_t open_tsc; /* calibration pair taken at cg_clock_start */
    uint64_t open_ns;
    uint64_t high_ns; /* highest clock_gettime stamp handed out while calibrating */
};

enum cg_clock_calibration {
    CG_CLOCK_CALIBRATED = 0, /* or the TSC is not used */
    CG_CLOCK_WAITING = 1,    /* stamps by clock_gettime until open_ns + 1 ms */
    CG_CLOCK_SWITCHING = 2,  /* one thread is measuring the rate and switching */
};

extern struct cg_clock cg_trace_clock __attribute__((visibility("hidden")));

/* CLOCK_MONOTONIC nanoseconds from clock_gettime. */
uint64_t cg_clock_monotonic_ns(void);

#if defined(__x86_64__)
static inline __attribute__((always_inline)) uint64_t cg_clock_read_tsc(void)
{
    uint32_t lo, hi;
    /* lfence: the stamp is taken after every earlier load completed (a
     * create is stamped after the real call's result is seen). */
    __asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

/* The conversion at any distance from the line's base (a TSC read before
 * base_tsc counts as base_tsc), out of line. */
uint64_t cg_clock_convert_far(const struct cg_clock_line *l, uint64_t tsc);

static inline __attribute__((always_inline)) uint64_t
cg_clock_convert(const struct cg_clock_line *l, uint64_t tsc)
{
    /* Within ~4 s after base_tsc (ticks times ns-per-tick below 2^32 ns),
     * the product fits 64 bits: one multiply and a shift. Farther, or
     * before base_tsc (d wraps around), the wide conversion. */
    uint64_t product;
    if (__builtin_expect(!__builtin_mul_overflow(tsc - l->base_tsc, l->mult, &product), 1))
        return l->base_ns + (product >> 32);
    return cg_clock_convert_far(l, tsc);
}

/* The line in use, read as a sequence lock: `current` is read again after
 * the fields (cg_clock_line_read: the line `seq` names), and a line being
 * rewritten (only the one not in use is) is read again. */
static inline __attribute__((always_inline)) void cg_clock_line_read(unsigned seq,
                                                                     struct cg_clock_line *copy)
{
    /* The line as one array of words (fields in order): one base register
     * and index for the three loads. */
    const uint64_t *l = &cg_trace_clock.lines[0].base_tsc + (seq & 1u) * 3u;
    _Static_assert(sizeof(struct cg_clock_line) == 3 * sizeof(uint64_t), "three words");
    /* acquire: the second read of `current` stays after these */
    copy->base_tsc = __atomic_load_n(&l[0], __ATOMIC_ACQUIRE);
    copy->base_ns = __atomic_load_n(&l[1], __ATOMIC_ACQUIRE);
    copy->mult = __atomic_load_n(&l[2], __ATOMIC_ACQUIRE);
}
static inline __attribute__((always_inline)) int cg_clock_line_try(struct cg_clock_line *copy)
{
    unsigned seq = __atomic_load_n(&cg_trace_clock.current, __ATOMIC_ACQUIRE);
    cg_clock_line_read(seq, copy);
    return __atomic_load_n(&cg_trace_clock.current, __ATOMIC_RELAXED) == seq;
}
/* The retry loop, out of line (a re-anchoring raced the read): the inline
 * read has no loop for the compiler to hoist addresses out of. */
struct cg_clock_line cg_clock_line_retry(void);
static inline __attribute__((always_inline)) struct cg_clock_line cg_clock_line_now(void)
{
    struct cg_clock_line copy;
    if (__builtin_expect(cg_clock_line_try(&copy), 1))
        return copy;
    return cg_clock_line_retry();
}
#endif

/* A clock_gettime stamp while calibrating; the first one 1 ms after the
 * open pair switches to the TSC. */
uint64_t cg_clock_calibrating_now(void);

#if defined(__x86_64__)
/* The calling thread's copy of the line in use, and the `current` it was
 * copied under (0: none; `current` starts at 1 and only grows). A
 * stamp whose copy is still current reads one shared word; the copy is
 * taken again out of line (cg_clock_now_copying) when `current` moved. */
struct cg_clock_copy {
    struct cg_clock_line line;
    unsigned current;
};
extern __thread struct cg_clock_copy cg_clock_copy
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* cg_trace_now() when the thread's copy is not current: copies the line in
 * use (when the TSC is used) and stamps with it, else stamps as the clock
 * in use does. */
uint64_t cg_clock_now_copying(void);
#endif

/* The time to stamp a record with (CLOCK_MONOTONIC nanoseconds). */
static inline __attribute__((always_inline)) uint64_t cg_trace_now(void)
{
#if defined(__x86_64__)
    /* Equal only while the TSC is used and the line copied is the one in
     * use: every open, switch and re-anchoring changes `current`. */
    if (__builtin_expect(
            cg_clock_copy.current == __atomic_load_n(&cg_trace_clock.current, __ATOMIC_ACQUIRE), 1))
        return cg_clock_convert(&cg_clock_copy.line, cg_clock_read_tsc());
    return cg_clock_now_copying();
#else
    return cg_clock_monotonic_ns();
#endif
}

/* Choose the clock; never sleeps. With the TSC, calibration completes at
 * the first stamp (or re-anchoring) 1 ms later. */
void cg_clock_start(void);

/* Align the conversion with CLOCK_MONOTONIC again (the background thread,
 * about once a second); completes a calibration still waiting. Never steps
 * backwards. No-op without the TSC. */
void cg_clock_reanchor(void);

/* Which clock, and the calibration, for the trace header. */
void cg_clock_describe(struct cg_file_header *h);

/* The decision, as a pure function for tests: 1 when the TSC may be used
 * given CPUID's invariant-TSC bit, the "flags" line of /proc/cpuinfo and
 * the kernel's current clocksource name (NULL = unknown). */
int cg_clock_tsc_usable(int cpuid_invariant, const char *cpu_flags, const char *clocksource);

#endif
