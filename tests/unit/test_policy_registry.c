/*
 * tests/unit/test_policy_registry.c — the live-handle registry of the policies.
 *
 * What it is for: the states a handle goes through (absent, live,
 * quarantined, destroyed, reclaimed), the touch and scan the task-aging
 * policies rely on, and many threads creating, looking up and destroying
 * their own handles at once without losing or mixing any (also run under
 * ThreadSanitizer).
 *
 * What it must never do: depend on the stripe count or on hash order.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "shim/registry.h"

START_TEST(states_follow_the_calls)
{
    ck_assert_int_eq(cg_registry_init(), 0);
    cg_registry_clear();
    struct cg_obj_info info;
    ck_assert_int_eq(cg_registry_lookup(0x1000, 0, &info), CG_OBJ_ABSENT);
    cg_registry_created(0x1000, CG_OBJ_EVENT, 3);
    ck_assert_int_eq(cg_registry_lookup(0x1000, 5, &info), CG_OBJ_LIVE);
    ck_assert_int_eq(info.kind, CG_OBJ_EVENT);
    ck_assert_uint_eq(info.last_task, 5); /* touched */
    ck_assert_int_eq(cg_registry_lookup(0x1000, 0, &info), CG_OBJ_LIVE);
    ck_assert_uint_eq(info.last_task, 5); /* a lookup without a task leaves it */
    ck_assert_int_eq(cg_registry_transition(0x1000, CG_OBJ_LIVE, CG_OBJ_QUARANTINED, 4), 0);
    ck_assert_int_eq(cg_registry_transition(0x1000, CG_OBJ_LIVE, CG_OBJ_QUARANTINED, 5), 1);
    ck_assert_int_eq(cg_registry_lookup(0x1000, 9, &info), CG_OBJ_QUARANTINED);
    ck_assert_uint_eq(info.last_task, 5); /* only live objects are touched */
    ck_assert_int_eq(cg_registry_transition(0x1000, CG_OBJ_LIVE, CG_OBJ_DESTROYED, 0), 0);
    ck_assert_int_eq(cg_registry_transition(0x1000, CG_OBJ_QUARANTINED, CG_OBJ_DESTROYED, 0), 1);
    cg_registry_created(0x1000, CG_OBJ_STREAM, 7); /* the driver reused the value */
    ck_assert_int_eq(cg_registry_lookup(0x1000, 0, &info), CG_OBJ_LIVE);
    ck_assert_int_eq(info.kind, CG_OBJ_STREAM);
    ck_assert_int_eq(cg_registry_transition(0x1000, CG_OBJ_LIVE, CG_OBJ_ABSENT, 0), 1);
    ck_assert_int_eq(cg_registry_lookup(0x1000, 0, NULL), CG_OBJ_ABSENT);
}
END_TEST

START_TEST(scan_selects_by_kind_and_task)
{
    cg_registry_init();
    cg_registry_clear();
    for (uint64_t i = 1; i <= 30; i++)
        cg_registry_created(i * 0x40, i % 3 == 0 ? CG_OBJ_STREAM : CG_OBJ_EVENT, i % 5);
    cg_registry_transition(0x40 * 5, CG_OBJ_LIVE, CG_OBJ_RECLAIMED, 0); /* task 0, event */
    struct cg_obj_ref out[64];
    size_t n = cg_registry_scan(0, 0, 0, out, 64);
    ck_assert_uint_eq(n, 5); /* i = 10, 15, 20, 25, 30 (5 is not live) */
    n = cg_registry_scan(CG_OBJ_STREAM, 0, 4, out, 64);
    ck_assert_uint_eq(n, 10);
    for (size_t k = 0; k < n; k++)
        ck_assert_int_eq(out[k].kind, CG_OBJ_STREAM);
    ck_assert_uint_eq(cg_registry_scan(0, 0, 4, out, 3), 3); /* bounded by max */
    ck_assert_uint_eq(cg_registry_count(CG_OBJ_LIVE), 29);
    ck_assert_uint_eq(cg_registry_count(CG_OBJ_RECLAIMED), 1);
}
END_TEST

/* The destroy ownership defers: lookup and quarantine in one step, and
 * only for a LIVE object of the kind asked for. */
START_TEST(lookup_take_changes_only_a_live_object_of_the_kind)
{
    cg_registry_init();
    cg_registry_clear();
    struct cg_obj_info info;
    cg_registry_created(0x100, CG_OBJ_EVENT, 3);
    ck_assert_int_eq(cg_registry_lookup_take(0x100, CG_OBJ_STREAM, CG_OBJ_QUARANTINED, &info),
                     CG_OBJ_LIVE);
    ck_assert_int_eq(info.kind, CG_OBJ_EVENT);
    ck_assert_int_eq(cg_registry_lookup(0x100, 0, NULL), CG_OBJ_LIVE); /* wrong kind: kept */
    ck_assert_int_eq(cg_registry_lookup_take(0x100, CG_OBJ_EVENT, CG_OBJ_QUARANTINED, &info),
                     CG_OBJ_LIVE);
    ck_assert_uint_eq(info.last_task, 3);
    ck_assert_int_eq(cg_registry_lookup(0x100, 0, NULL), CG_OBJ_QUARANTINED);
    ck_assert_int_eq(cg_registry_lookup_take(0x100, CG_OBJ_EVENT, CG_OBJ_QUARANTINED, &info),
                     CG_OBJ_QUARANTINED); /* a second destroy sees it quarantined */
    ck_assert_int_eq(cg_registry_lookup_take(0x200, CG_OBJ_EVENT, CG_OBJ_QUARANTINED, &info),
                     CG_OBJ_ABSENT);
    ck_assert_int_eq(info.kind, 0);
    cg_registry_clear();
}
END_TEST

#define THREADS 4
#define PER_THREAD 2000

static void *churn(void *arg)
{
    uint64_t base = (uint64_t)(uintptr_t)arg * 0x10000000ull;
    int *bad = calloc(1, sizeof *bad);
    for (uint64_t i = 1; i <= PER_THREAD; i++) {
        uint64_t h = base + i * 0x10;
        cg_registry_created(h, CG_OBJ_EVENT, i);
        if (cg_registry_lookup(h, i + 1, NULL) != CG_OBJ_LIVE ||
            !cg_registry_transition(h, CG_OBJ_LIVE, CG_OBJ_DESTROYED, i + 1))
            (*bad)++;
    }
    return bad;
}

START_TEST(threads_do_not_mix_their_handles)
{
    cg_registry_init();
    cg_registry_clear();
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, churn, (void *)(i + 1));
    for (int i = 0; i < THREADS; i++) {
        int *bad = NULL;
        pthread_join(t[i], (void **)&bad);
        ck_assert_ptr_nonnull(bad);
        ck_assert_int_eq(*bad, 0);
        free(bad);
    }
    ck_assert_uint_eq(cg_registry_count(CG_OBJ_DESTROYED), THREADS * PER_THREAD);
    ck_assert_uint_eq(cg_registry_count(CG_OBJ_LIVE), 0);
    cg_registry_clear();
}
END_TEST

#define ROUNDS 400
#define OWN 8
#define SHARED 16
#define SHARED_BASE 0x70000000ull

static int scanning; /* 1 while the churners run */

/* Own handles are created, checked and removed (their entries go back to
 * the free list and are reused at once); shared handles are created and
 * destroyed by every thread at the same time. */
static void *reuse_churn(void *arg)
{
    uint64_t base = (uint64_t)(uintptr_t)arg * 0x10000000ull;
    int *bad = calloc(1, sizeof *bad);
    for (uint64_t round = 1; round <= ROUNDS; round++) {
        for (uint64_t j = 1; j <= OWN; j++) {
            uint64_t h = base + j * 0x10;
            struct cg_obj_info info;
            cg_registry_created(h, CG_OBJ_EVENT, round);
            if (cg_registry_lookup(h, 0, &info) != CG_OBJ_LIVE || info.last_task != round ||
                info.kind != CG_OBJ_EVENT ||
                !cg_registry_transition(h, CG_OBJ_LIVE, CG_OBJ_ABSENT, 0))
                (*bad)++;
        }
        uint64_t shared = SHARED_BASE + (round % SHARED) * 0x10;
        struct cg_obj_info info;
        cg_registry_created(shared, CG_OBJ_STREAM, round);
        int state = cg_registry_lookup(shared, round, &info);
        if ((state != CG_OBJ_LIVE && state != CG_OBJ_DESTROYED) || info.kind != CG_OBJ_STREAM)
            (*bad)++;
        cg_registry_transition(shared, CG_OBJ_LIVE, CG_OBJ_DESTROYED, 0);
    }
    return bad;
}

static void *scanner(void *arg)
{
    (void)arg;
    struct cg_obj_ref refs[64];
    long *bad = calloc(1, sizeof *bad);
    while (__atomic_load_n(&scanning, __ATOMIC_ACQUIRE)) {
        size_t n = cg_registry_scan(0, 0, UINT64_MAX, refs, 64);
        for (size_t i = 0; i < n; i++)
            *bad += refs[i].handle == 0 || refs[i].kind == 0;
        (void)cg_registry_count(CG_OBJ_LIVE);
    }
    return bad;
}

/* The stripe locks under contention (run under TSan too): entries reused
 * from the free lists while others are looked up, changed and scanned. */
START_TEST(threads_share_stripes_and_reuse_entries)
{
    cg_registry_init();
    cg_registry_clear();
    __atomic_store_n(&scanning, 1, __ATOMIC_RELEASE);
    pthread_t scan, t[THREADS];
    ck_assert_int_eq(pthread_create(&scan, NULL, scanner, NULL), 0);
    for (uintptr_t i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, reuse_churn, (void *)(i + 1)), 0);
    for (int i = 0; i < THREADS; i++) {
        int *bad = NULL;
        pthread_join(t[i], (void **)&bad);
        ck_assert_ptr_nonnull(bad);
        ck_assert_int_eq(*bad, 0);
        free(bad);
    }
    __atomic_store_n(&scanning, 0, __ATOMIC_RELEASE);
    long *scan_bad = NULL;
    pthread_join(scan, (void **)&scan_bad);
    ck_assert_ptr_nonnull(scan_bad);
    ck_assert_int_eq(*scan_bad, 0);
    free(scan_bad);
    for (uintptr_t i = 1; i <= THREADS; i++)
        for (uint64_t j = 1; j <= OWN; j++)
            ck_assert_int_eq(cg_registry_lookup(i * 0x10000000ull + j * 0x10, 0, NULL),
                             CG_OBJ_ABSENT);
    ck_assert_uint_eq(cg_registry_count(CG_OBJ_LIVE) + cg_registry_count(CG_OBJ_DESTROYED), SHARED);
    cg_registry_clear();
    ck_assert_uint_eq(cg_registry_count(CG_OBJ_DESTROYED), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("policy_registry");
    TCase *tc = tcase_create("registry");
    tcase_add_test(tc, states_follow_the_calls);
    tcase_add_test(tc, scan_selects_by_kind_and_task);
    tcase_add_test(tc, lookup_take_changes_only_a_live_object_of_the_kind);
    tcase_add_test(tc, threads_do_not_mix_their_handles);
    tcase_add_test(tc, threads_share_stripes_and_reuse_entries);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
