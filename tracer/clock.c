/*
 * tracer/clock.c — choosing, calibrating and re-anchoring the record clock.
 *
 * What it is for: the implementation of tracer/clock.h. The TSC is used
 * only where the CPU says it is invariant and the kernel trusts it for its
 * own clock; its rate is measured against CLOCK_MONOTONIC over the first
 * ~1 ms after open (stamps meanwhile come from clock_gettime; the first one
 * past 1 ms takes the second pair and switches), then from the whole run at
 * each re-anchoring, where any remaining error is slewed away over the next
 * second (never stepped back).
 *
 * What it must never do: sleep; make cg_trace_now() lock or call the
 * kernel once on the TSC; let a switch or a re-anchoring produce a time
 * earlier than one already handed out.
 */
#include "tracer/clock.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#define NS_PER_S 1000000000ull
#define CALIBRATION_NS 1000000ull /* 1 ms at open */
#define SLEW_NS NS_PER_S          /* an error is absorbed over the next second */

/* current starts at 1: a thread's copy starts at 0 (none) */
struct cg_clock cg_trace_clock = {.current = 1};
#if defined(__x86_64__)
__thread struct cg_clock_copy cg_clock_copy __attribute__((tls_model("initial-exec")));
#endif

uint64_t cg_clock_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* 1 when `word` appears as a whole word in `text`. */
static int has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(text, word); p != NULL; p = strstr(p + 1, word)) {
        int starts = p == text || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ':';
        int ends = p[n] == '\0' || p[n] == ' ' || p[n] == '\n' || p[n] == '\t';
        if (starts && ends)
            return 1;
    }
    return 0;
}

int cg_clock_tsc_usable(int cpuid_invariant, const char *cpu_flags, const char *clocksource)
{
    if (!cpuid_invariant || cpu_flags == NULL)
        return 0;
    if (!has_word(cpu_flags, "constant_tsc") || !has_word(cpu_flags, "nonstop_tsc"))
        return 0;
    return clocksource != NULL && strncmp(clocksource, "tsc", 3) == 0 &&
           (clocksource[3] == '\0' || clocksource[3] == '\n');
}

/* The first `cap - 1` bytes of a small file, NUL-terminated; "" on error. */
static void read_small_file(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
}

/* The "flags" line of /proc/cpuinfo (first CPU), into buf. */
static void read_cpu_flags(char *buf, size_t cap)
{
    static char text[16384];
    read_small_file("/proc/cpuinfo", text, sizeof text);
    buf[0] = '\0';
    const char *line = strstr(text, "\nflags");
    if (line == NULL)
        return;
    line++;
    size_t n = strcspn(line, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, line, n);
    buf[n] = '\0';
}

#if defined(__x86_64__)
static int cpuid_invariant_tsc(void)
{
    unsigned a, b, c, d;
    if ((unsigned)__get_cpuid_max(0x80000000u, NULL) < 0x80000007u)
        return 0;
    if (!__get_cpuid(0x80000007u, &a, &b, &c, &d))
        return 0;
    return (d >> 8) & 1u;
}

/* A (tsc, CLOCK_MONOTONIC) pair: the TSC read between two clock reads, the
 * tightest of a few tries, the clock taken as the middle of its bracket
 * (*upper: its end, no earlier than the TSC read). */
static void sample_pair_upper(uint64_t *tsc, uint64_t *ns, uint64_t *upper)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 5; i++) {
        uint64_t a = cg_clock_monotonic_ns();
        uint64_t t = cg_clock_read_tsc();
        uint64_t b = cg_clock_monotonic_ns();
        if (b - a < best) {
            best = b - a;
            *tsc = t;
            *ns = a + (b - a) / 2;
            *upper = b;
        }
    }
}

static void sample_pair(uint64_t *tsc, uint64_t *ns)
{
    uint64_t upper;
    sample_pair_upper(tsc, ns, &upper);
}

/* ns per tick times 2^32 between two pairs; 0 when not measurable. */
static uint64_t rate_between(uint64_t tsc0, uint64_t ns0, uint64_t tsc1, uint64_t ns1)
{
    if (tsc1 <= tsc0 || ns1 <= ns0)
        return 0;
    return (uint64_t)(((unsigned __int128)(ns1 - ns0) << 32) / (tsc1 - tsc0));
}

/* The open pair; stamps come from clock_gettime until 1 ms past it. */
static void calibration_begin(void)
{
    struct cg_clock *c = &cg_trace_clock;
    sample_pair(&c->open_tsc, &c->open_ns);
    __atomic_store_n(&c->high_ns, c->open_ns, __ATOMIC_RELAXED);
    __atomic_store_n(&c->calibrating, CG_CLOCK_WAITING, __ATOMIC_RELEASE);
}

static void raise_high(uint64_t ns)
{
    uint64_t high = __atomic_load_n(&cg_trace_clock.high_ns, __ATOMIC_RELAXED);
    while (ns > high && !__atomic_compare_exchange_n(&cg_trace_clock.high_ns, &high, ns, 1,
                                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* The second pair, the rate from the two, and the switch: the line starts
 * at or above every clock_gettime stamp handed out (and the end of the
 * pair's bracket), so no thread sees time go back. Once, by one thread. */
static void calibration_finish(void)
{
    struct cg_clock *c = &cg_trace_clock;
    int waiting = CG_CLOCK_WAITING;
    if (!__atomic_compare_exchange_n(&c->calibrating, &waiting, CG_CLOCK_SWITCHING, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return;
    uint64_t t1 = 0, n1 = 0, upper = 0;
    sample_pair_upper(&t1, &n1, &upper);
    uint64_t mult = rate_between(c->open_tsc, c->open_ns, t1, n1);
    if (mult != 0) {
        uint64_t high = __atomic_load_n(&c->high_ns, __ATOMIC_ACQUIRE);
        unsigned cur = __atomic_load_n(&c->current, __ATOMIC_RELAXED) + 1;
        struct cg_clock_line *l = &c->lines[cur & 1u];
        __atomic_store_n(&l->base_tsc, t1, __ATOMIC_RELAXED);
        __atomic_store_n(&l->base_ns, high > upper ? high : upper, __ATOMIC_RELAXED);
        __atomic_store_n(&l->mult, mult, __ATOMIC_RELAXED);
        __atomic_store_n(&c->current, cur, __ATOMIC_RELEASE);
        __atomic_store_n(&c->use_tsc, 1, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&c->calibrating, CG_CLOCK_CALIBRATED, __ATOMIC_RELEASE);
}
#endif

uint64_t cg_clock_calibrating_now(void)
{
    uint64_t ns = cg_clock_monotonic_ns();
#if defined(__x86_64__)
    struct cg_clock *c = &cg_trace_clock;
    raise_high(ns);
    if (ns >= c->open_ns + CALIBRATION_NS &&
        __atomic_load_n(&c->calibrating, __ATOMIC_ACQUIRE) == CG_CLOCK_WAITING)
        calibration_finish();
#endif
    return ns;
}

void cg_clock_start(void)
{
    __atomic_store_n(&cg_trace_clock.use_tsc, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&cg_trace_clock.calibrating, CG_CLOCK_CALIBRATED, __ATOMIC_RELEASE);
    /* after use_tsc: every thread's copy of a line is stale from here */
    __atomic_fetch_add(&cg_trace_clock.current, 1, __ATOMIC_RELEASE);
#if defined(__x86_64__)
    char flags[8192], source[64];
    read_cpu_flags(flags, sizeof flags);
    read_small_file("/sys/devices/system/clocksource/clocksource0/current_clocksource", source,
                    sizeof source);
    if (cg_clock_tsc_usable(cpuid_invariant_tsc(), flags, source))
        calibration_begin();
#endif
}

#if defined(__x86_64__)
uint64_t cg_clock_convert_far(const struct cg_clock_line *l, uint64_t tsc)
{
    uint64_t d = tsc > l->base_tsc ? tsc - l->base_tsc : 0;
    return l->base_ns + (uint64_t)(((unsigned __int128)d * l->mult) >> 32);
}

struct cg_clock_line cg_clock_line_retry(void)
{
    struct cg_clock_line copy;
    while (!cg_clock_line_try(&copy))
        ;
    return copy;
}

uint64_t cg_clock_now_copying(void)
{
    struct cg_clock *c = &cg_trace_clock;
    for (;;) {
        unsigned cur = __atomic_load_n(&c->current, __ATOMIC_ACQUIRE);
        /* use_tsc after `current`: a copy is taken only of a line the TSC
         * was in use with under `cur` (cg_clock_start clears use_tsc, then
         * changes `current`) */
        if (!__atomic_load_n(&c->use_tsc, __ATOMIC_ACQUIRE))
            break;
        struct cg_clock_line copy;
        cg_clock_line_read(cur, &copy);
        if (__atomic_load_n(&c->current, __ATOMIC_RELAXED) != cur)
            continue; /* a re-anchoring raced the copy */
        cg_clock_copy.line = copy;
        cg_clock_copy.current = cur;
        return cg_clock_convert(&copy, cg_clock_read_tsc());
    }
    if (__atomic_load_n(&c->calibrating, __ATOMIC_ACQUIRE))
        return cg_clock_calibrating_now();
    return cg_clock_monotonic_ns();
}
#endif

void cg_clock_reanchor(void)
{
#if defined(__x86_64__)
    struct cg_clock *c = &cg_trace_clock;
    if (__atomic_load_n(&c->calibrating, __ATOMIC_ACQUIRE) == CG_CLOCK_WAITING) {
        (void)cg_clock_calibrating_now(); /* an idle program: switch now */
        return;
    }
    if (!__atomic_load_n(&c->use_tsc, __ATOMIC_ACQUIRE))
        return;
    uint64_t tsc = 0, ns = 0;
    sample_pair(&tsc, &ns);
    unsigned cur = __atomic_load_n(&c->current, __ATOMIC_ACQUIRE);
    struct cg_clock_line old = cg_clock_line_now();
    uint64_t now = cg_clock_convert(&old, tsc); /* continuity: the new line starts here */
    uint64_t rate = rate_between(c->open_tsc, c->open_ns, tsc, ns);
    if (rate == 0)
        return;
    /* Reach CLOCK_MONOTONIC one second from now: faster when behind, slower
     * when ahead (at least half speed, so time never stands still). */
    uint64_t ticks_per_s = (uint64_t)(((unsigned __int128)NS_PER_S << 32) / rate);
    uint64_t target = ns + SLEW_NS;
    uint64_t span = target > now ? target - now : 0;
    if (span < SLEW_NS / 2)
        span = SLEW_NS / 2;
    if (span > 2 * SLEW_NS) { /* far behind (a suspend): step forward */
        now = ns;
        span = SLEW_NS;
    }
    struct cg_clock_line next = {
        .base_tsc = tsc,
        .base_ns = now,
        .mult = ticks_per_s ? (uint64_t)(((unsigned __int128)span << 32) / ticks_per_s) : rate,
    };
    struct cg_clock_line *spare = &c->lines[(cur + 1) & 1u]; /* not in use: readers retry */
    __atomic_store_n(&spare->base_tsc, next.base_tsc, __ATOMIC_RELAXED);
    __atomic_store_n(&spare->base_ns, next.base_ns, __ATOMIC_RELAXED);
    __atomic_store_n(&spare->mult, next.mult, __ATOMIC_RELAXED);
    __atomic_store_n(&c->current, cur + 1, __ATOMIC_RELEASE);
#endif
}

void cg_clock_describe(struct cg_file_header *h)
{
    const struct cg_clock *c = &cg_trace_clock;
    if (!__atomic_load_n(&c->use_tsc, __ATOMIC_ACQUIRE)) {
        h->clock_source = CG_CLOCK_MONOTONIC;
        return;
    }
    struct cg_clock_line l = cg_clock_line_now();
    h->clock_source = CG_CLOCK_TSC;
    h->tsc_open = c->open_tsc;
    h->tsc_open_ns = c->open_ns;
    __atomic_store_n(&h->tsc_anchor, l.base_tsc, __ATOMIC_RELAXED);
    __atomic_store_n(&h->tsc_anchor_ns, l.base_ns, __ATOMIC_RELAXED);
    __atomic_store_n(&h->tsc_mult, l.mult, __ATOMIC_RELAXED);
}
