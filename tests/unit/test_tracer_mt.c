/*
 * tests/unit/test_tracer_mt.c — the trace writer under many threads.
 *
 * What it is for: 8 threads × 100,000 records, mixing single reservations,
 * CALL+ARGS pairs and string interning, must give exactly the records
 * written, each intact (self-checking), with every pair adjacent. Built with
 * ThreadSanitizer too (TSAN_SUITES).
 *
 * What it must never do: count on thread scheduling for its verdict.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/tracer_testlib.h"
#include "tracer/reader.h"
#include "tracer/writer.h"

enum { THREADS = 8, PER_THREAD = 100000, SITES = 50, PAIR_EVERY = 7 };

struct worker {
    int index;
    uint32_t site_ids[SITES];
    int failed;
};

static void *write_records(void *arg)
{
    struct worker *w = arg;
    for (uint32_t i = 0; i < SITES; i++) {
        char name[64];
        snprintf(name, sizeof name, "site-%u.py:%u", i, i * 10);
        w->site_ids[i] = cg_writer_intern(name);
    }
    for (uint64_t i = 0; i < PER_THREAD; i++) {
        int pair = i % PAIR_EVERY == 0;
        struct cg_record *r = cg_writer_reserve(pair ? 2 : 1);
        if (!r) {
            w->failed = 1;
            return NULL;
        }
        r->site = w->site_ids[i % SITES];
        testlib_fill_and_publish(r, CG_REC_CALL, (uint64_t)w->index, i, 2);
        if (pair)
            testlib_fill_and_publish(r + 1, CG_REC_ARGS, (uint64_t)w->index, i, 0);
    }
    return NULL;
}

/* Check one record against what its writer thread wrote. Returns NULL when
 * it is right, else what is wrong (plain checks: Check reports every
 * ck_assert through a pipe, far too slow for 800,000 records). */
static const char *check_record(struct cg_reader *rd, const struct cg_record *rec,
                                const struct cg_record *prev, unsigned char *seen)
{
    if (rec->arg2 != testlib_record_hash(rec))
        return "torn record (hash mismatch)";
    if (rec->handle >= THREADS || rec->arg >= PER_THREAD)
        return "record fields out of range";
    if (rec->kind == CG_REC_ARGS) {
        /* Reserved together with its CALL: the very next slot. */
        if (prev->kind != CG_REC_CALL || prev->tid != rec->tid || prev->arg != rec->arg)
            return "ARGS record not right after its CALL";
        return NULL;
    }
    if (rec->kind != CG_REC_CALL)
        return "unexpected record kind";
    char want[64];
    snprintf(want, sizeof want, "site-%u.py:%u", (unsigned)(rec->arg % SITES),
             (unsigned)(rec->arg % SITES) * 10);
    const char *site = cg_reader_string(rd, rec->site);
    if (!site || strcmp(site, want) != 0)
        return "wrong or missing site string";
    uint64_t bit = rec->handle * PER_THREAD + rec->arg;
    if (seen[bit / 8] & (1u << (bit % 8)))
        return "record seen twice";
    seen[bit / 8] |= (unsigned char)(1u << (bit % 8));
    return NULL;
}

START_TEST(eight_threads_exact_count_no_torn_record)
{
    char *dir = testlib_tmpdir();
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        memset(&workers[t], 0, sizeof workers[t]);
        workers[t].index = t;
        ck_assert_int_eq(pthread_create(&threads[t], NULL, write_records, &workers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        ck_assert_int_eq(workers[t].failed, 0);
    }
    for (int t = 1; t < THREADS; t++) /* one id per string, whoever interned it first */
        ck_assert_mem_eq(workers[t].site_ids, workers[0].site_ids, sizeof workers[0].site_ids);
    cg_writer_close();

    char path[4096], err[256];
    ck_assert_int_eq(testlib_find_traces(dir, path, sizeof path), 1);
    struct cg_reader *rd = cg_reader_open(path, err, sizeof err);
    ck_assert_msg(rd != NULL, "%s", err);
    unsigned char *seen = calloc(THREADS * PER_THREAD / 8 + 1, 1);
    struct cg_record rec, prev;
    memset(&prev, 0, sizeof prev);
    uint64_t calls = 0, args = 0, strings = 0;
    while (cg_reader_next(rd, &rec)) {
        if (rec.kind == CG_REC_STRING) {
            strings++;
        } else if (rec.kind != CG_REC_PROCESS_EXIT) {
            const char *wrong = check_record(rd, &rec, &prev, seen);
            if (wrong)
                ck_abort_msg("slot record %llu: %s", (unsigned long long)cg_reader_records(rd),
                             wrong);
            calls += rec.kind == CG_REC_CALL;
            args += rec.kind == CG_REC_ARGS;
        }
        prev = rec;
    }
    ck_assert_uint_eq(calls, (uint64_t)THREADS * PER_THREAD);
    ck_assert_uint_eq(args, (uint64_t)THREADS * ((PER_THREAD + PAIR_EVERY - 1) / PAIR_EVERY));
    ck_assert_uint_eq(strings, SITES); /* each name is short: one chunk, written once */
    ck_assert_uint_eq(cg_reader_bad_records(rd), 0);
    const struct cg_file_header *h = cg_reader_header(rd);
    ck_assert_uint_ge(h->slots_reserved, calls + args + strings + 1);
    free(seen);
    cg_reader_close(rd);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tracer_mt");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, eight_threads_exact_count_no_torn_record);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
