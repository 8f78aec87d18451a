/*
 * tests/unit/test_clock.c — the record clock (tracer/clock.h): opening it
 * never sleeps; the first stamps come from clock_gettime and the first one
 * 1 ms after the open switches to the TSC (where the host allows it);
 * stamps never go back across the switch, in one thread or several; a
 * program that stamps nothing is switched by re-anchoring; every thread
 * stamps with the line in use, never with its own copy of an older one,
 * and a new open drops every copy; the conversion is exact near its
 * line's base and far from it.
 *
 * What it must never do: assert on durations (only on order and on the
 * distance to CLOCK_MONOTONIC, far below any scheduling noise's bound).
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tracer/clock.h"

static int sleeps;

int __real_nanosleep(const struct timespec *req, struct timespec *rem);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
    __atomic_add_fetch(&sleeps, 1, __ATOMIC_RELAXED);
    return __real_nanosleep(req, rem);
}

int __real_clock_nanosleep(clockid_t id, int flags, const struct timespec *req,
                           struct timespec *rem);
int __wrap_clock_nanosleep(clockid_t id, int flags, const struct timespec *req,
                           struct timespec *rem)
{
    __atomic_add_fetch(&sleeps, 1, __ATOMIC_RELAXED);
    return __real_clock_nanosleep(id, flags, req, rem);
}

int __real_usleep(useconds_t us);
int __wrap_usleep(useconds_t us)
{
    __atomic_add_fetch(&sleeps, 1, __ATOMIC_RELAXED);
    return __real_usleep(us);
}

static int calibrating(void)
{
    return __atomic_load_n(&cg_trace_clock.calibrating, __ATOMIC_ACQUIRE);
}

static int on_tsc(void)
{
    return __atomic_load_n(&cg_trace_clock.use_tsc, __ATOMIC_ACQUIRE);
}

START_TEST(opening_never_sleeps)
{
    cg_clock_start();
    ck_assert_int_eq(__atomic_load_n(&sleeps, __ATOMIC_RELAXED), 0);
    ck_assert_int_eq(on_tsc(), 0); /* the first stamps: clock_gettime */
    uint64_t t = cg_trace_now(), mono = cg_clock_monotonic_ns();
    ck_assert_uint_le(t, mono);
}
END_TEST

/* Stamps until 5 ms after the switch (or 50 ms when the TSC is not used):
 * the number that went back, and the worst distance to CLOCK_MONOTONIC. */
struct run {
    uint64_t backwards, worst, stamps;
    int switched;
};

static void *stamp_across(void *arg)
{
    struct run *r = arg;
    uint64_t previous = cg_trace_now(), end = cg_clock_monotonic_ns() + 50000000ull;
    uint64_t after_switch = 0;
    for (;;) {
        uint64_t t = cg_trace_now();
        r->backwards += t < previous;
        previous = t;
        r->stamps++;
        if ((r->stamps & 255u) == 0) {
            uint64_t mono = cg_clock_monotonic_ns(), t2 = cg_trace_now();
            uint64_t off = t2 > mono ? t2 - mono : mono - t2;
            r->worst = off > r->worst ? off : r->worst;
            r->backwards += t2 < previous;
            previous = t2;
            if (on_tsc() && after_switch == 0)
                after_switch = mono + 5000000ull;
            if ((after_switch && mono > after_switch) || mono > end)
                break;
        }
    }
    r->switched = on_tsc();
    return NULL;
}

static void assert_run(const struct run *r, int tsc_expected)
{
    ck_assert_uint_eq(r->backwards, 0);
    ck_assert_msg(r->worst < 1000000, "clock %llu ns away from CLOCK_MONOTONIC",
                  (unsigned long long)r->worst);
    if (tsc_expected)
        ck_assert_msg(r->switched, "still on clock_gettime after the calibration");
}

START_TEST(one_thread_never_goes_back_across_the_switch)
{
    cg_clock_start();
    int tsc_expected = calibrating() == CG_CLOCK_WAITING;
    struct run r = {0};
    stamp_across(&r);
    assert_run(&r, tsc_expected);
    ck_assert_int_eq(calibrating(), CG_CLOCK_CALIBRATED);
    ck_assert_int_eq(__atomic_load_n(&sleeps, __ATOMIC_RELAXED), 0);
}
END_TEST

#define THREADS 4

START_TEST(threads_never_go_back_across_the_switch)
{
    cg_clock_start();
    int tsc_expected = calibrating() == CG_CLOCK_WAITING;
    pthread_t t[THREADS];
    struct run r[THREADS] = {{0}};
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, stamp_across, &r[i]), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++)
        assert_run(&r[i], tsc_expected);
}
END_TEST

START_TEST(re_anchoring_switches_an_idle_program)
{
    cg_clock_start();
    if (calibrating() != CG_CLOCK_WAITING)
        return; /* no TSC here: nothing to switch */
    uint64_t until = cg_clock_monotonic_ns() + 2000000ull;
    while (cg_clock_monotonic_ns() < until) /* no stamp meanwhile */
        ;
    cg_clock_reanchor();
    ck_assert_int_eq(on_tsc(), 1);
    ck_assert_int_eq(calibrating(), CG_CLOCK_CALIBRATED);
    uint64_t mono = cg_clock_monotonic_ns(), t = cg_trace_now();
    ck_assert_uint_ge(t, mono);
    ck_assert_uint_lt(t - mono, 1000000);
}
END_TEST

START_TEST(conversion_is_exact_near_and_far_from_the_base)
{
    const uint64_t base = 1000000;
    const struct cg_clock_line one_ns = {.base_tsc = base, .base_ns = 5, .mult = 1ull << 32};
    ck_assert_uint_eq(cg_clock_convert(&one_ns, base), 5);
    ck_assert_uint_eq(cg_clock_convert(&one_ns, base + 10), 15);
    ck_assert_uint_eq(cg_clock_convert(&one_ns, base + (1ull << 31)), 5 + (1ull << 31));
    /* past 2^32 ns from the base: the wide conversion, still exact */
    ck_assert_uint_eq(cg_clock_convert(&one_ns, base + (1ull << 40)), 5 + (1ull << 40));
    /* a TSC read before the base counts as the base */
    ck_assert_uint_eq(cg_clock_convert(&one_ns, base - 1), 5);
    /* 2.6 GHz: 0.3846 ns per tick; 10 s of ticks away, the wide one */
    const struct cg_clock_line ghz = {.base_tsc = base, .base_ns = 0, .mult = 1651910498ull};
    uint64_t ten_s = cg_clock_convert(&ghz, base + 26000000000ull);
    ck_assert_uint_ge(ten_s, 9999999000ull);
    ck_assert_uint_le(ten_s, 10000001000ull);
    ck_assert_uint_eq(cg_clock_convert(&ghz, base + 2600), 999);
}
END_TEST

/* Publish a line as re-anchoring does, one that stamps every tick as `ns`
 * (mult 0): a stamp taken with any other line is told apart exactly. */
static void publish_flat_line(uint64_t ns)
{
    struct cg_clock *c = &cg_trace_clock;
    unsigned cur = __atomic_load_n(&c->current, __ATOMIC_ACQUIRE);
    struct cg_clock_line *l = &c->lines[(cur + 1) & 1u];
    __atomic_store_n(&l->base_tsc, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&l->base_ns, ns, __ATOMIC_RELAXED);
    __atomic_store_n(&l->mult, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&c->current, cur + 1, __ATOMIC_RELEASE);
}

#define FLAT_NS 123456789ull

static pthread_barrier_t copied, published;

/* Stamps once (its copy of the line), then again after the main thread
 * published a flat line. */
static void *stamp_twice(void *arg)
{
    uint64_t *second = arg;
    (void)cg_trace_now();
    pthread_barrier_wait(&copied);
    pthread_barrier_wait(&published);
    *second = cg_trace_now();
    return NULL;
}

START_TEST(every_thread_stamps_with_the_line_in_use)
{
    cg_clock_start();
    if (calibrating() != CG_CLOCK_WAITING)
        return; /* no TSC here: no line */
    uint64_t until = cg_clock_monotonic_ns() + 2000000ull;
    while (cg_clock_monotonic_ns() < until)
        ;
    cg_clock_reanchor();
    ck_assert_int_eq(on_tsc(), 1);
    pthread_barrier_init(&copied, NULL, 2);
    pthread_barrier_init(&published, NULL, 2);
    pthread_t other;
    uint64_t other_second = 0;
    ck_assert_int_eq(pthread_create(&other, NULL, stamp_twice, &other_second), 0);
    (void)cg_trace_now(); /* this thread's copy too */
    pthread_barrier_wait(&copied);
    publish_flat_line(FLAT_NS);
    pthread_barrier_wait(&published);
    ck_assert_uint_eq(cg_trace_now(), FLAT_NS);
    pthread_join(other, NULL);
    ck_assert_uint_eq(other_second, FLAT_NS);
    /* A new open: clock_gettime stamps again, no copy of the flat line. */
    cg_clock_start();
    uint64_t mono = cg_clock_monotonic_ns();
    ck_assert_uint_ge(cg_trace_now(), mono);
    pthread_barrier_destroy(&copied);
    pthread_barrier_destroy(&published);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("calibration");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, opening_never_sleeps);
    tcase_add_test(tc, one_thread_never_goes_back_across_the_switch);
    tcase_add_test(tc, threads_never_go_back_across_the_switch);
    tcase_add_test(tc, re_anchoring_switches_an_idle_program);
    tcase_add_test(tc, every_thread_stamps_with_the_line_in_use);
    tcase_add_test(tc, conversion_is_exact_near_and_far_from_the_base);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
