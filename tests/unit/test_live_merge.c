/*
 * tests/unit/test_live_merge.c — shim/live_merge.c on a trace file written
 * slot by slot, as threads fill their batches (tracer/format.h "Batches").
 *
 * What it is for: that the watchdog's live replay hands each record over
 * once, in the order of "Batches" (not slot order), picks up slots filled
 * after an earlier update, skips a thread's abandoned tail, and waits for a
 * batch whose BATCH record is not written yet.
 *
 * What it must never do: depend on the shim's other parts or on timing.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/live_merge.h"

static uint64_t seen[64];
static unsigned seen_n;

static void collect(const struct cg_record *r)
{
    ck_assert_uint_ne(r->kind, CG_REC_BATCH);
    if (seen_n < 64)
        seen[seen_n++] = r->arg;
}

static int trace_fd(char *path, size_t len)
{
    snprintf(path, len, "/tmp/cg-live-merge-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, CG_HEADER_SIZE + 4 * CG_BATCH_RECORDS * CG_RECORD_SIZE), 0);
    cg_live_merge_reset();
    seen_n = 0;
    return fd;
}

static void put(int fd, uint64_t slot, uint8_t kind, uint32_t tid, uint64_t ts, uint64_t arg)
{
    struct cg_record r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    r.tid = tid;
    r.ts_ns = ts;
    r.arg = arg;
    off_t off = (off_t)(CG_HEADER_SIZE + slot * CG_RECORD_SIZE);
    ck_assert_int_eq(pwrite(fd, &r, sizeof r, off), (ssize_t)sizeof r);
}

static uint64_t update(int fd)
{
    return cg_live_merge_update(fd, 4 * CG_BATCH_RECORDS, collect);
}

static void expect_seen(const uint64_t *want, unsigned n)
{
    ck_assert_uint_eq(seen_n, n);
    for (unsigned i = 0; i < n; i++)
        ck_assert_uint_eq(seen[i], want[i]);
}

static void done(int fd, const char *path)
{
    close(fd);
    unlink(path);
}

START_TEST(replays_in_time_order_not_slot_order)
{
    char path[64];
    int fd = trace_fd(path, sizeof path);
    put(fd, 0, CG_REC_BATCH, 1, 100, 0);
    put(fd, 1, CG_REC_CALL, 1, 110, 1);
    put(fd, 2, CG_REC_CALL, 1, 300, 3);
    put(fd, 64, CG_REC_BATCH, 2, 150, 0);
    put(fd, 65, CG_REC_CALL, 2, 200, 2);
    ck_assert_uint_eq(update(fd), 3);
    static const uint64_t want[] = {1, 2, 3};
    expect_seen(want, 3);
    done(fd, path);
}
END_TEST

START_TEST(slots_filled_later_are_replayed_once)
{
    char path[64];
    int fd = trace_fd(path, sizeof path);
    put(fd, 0, CG_REC_BATCH, 1, 100, 0);
    put(fd, 1, CG_REC_CALL, 1, 110, 1);
    put(fd, 64, CG_REC_BATCH, 2, 150, 0);
    put(fd, 65, CG_REC_CALL, 2, 200, 2);
    ck_assert_uint_eq(update(fd), 2);
    put(fd, 2, CG_REC_CALL, 1, 300, 3); /* thread 1's batch was still open */
    put(fd, 66, CG_REC_CALL, 2, 310, 4);
    ck_assert_uint_eq(update(fd), 2);
    ck_assert_uint_eq(update(fd), 0);
    static const uint64_t want[] = {1, 2, 3, 4};
    expect_seen(want, 4);
    done(fd, path);
}
END_TEST

START_TEST(tail_of_a_thread_that_moved_on_is_skipped)
{
    char path[64];
    int fd = trace_fd(path, sizeof path);
    put(fd, 0, CG_REC_BATCH, 1, 100, 0);
    put(fd, 1, CG_REC_CALL, 1, 110, 1);
    ck_assert_uint_eq(update(fd), 1);
    put(fd, 64, CG_REC_BATCH, 1, 200, 0); /* thread 1 took a new batch */
    put(fd, 65, CG_REC_CALL, 1, 210, 2);
    ck_assert_uint_eq(update(fd), 1);
    put(fd, 5, CG_REC_CALL, 1, 220, 99); /* never written by a real writer: not looked at */
    ck_assert_uint_eq(update(fd), 0);
    static const uint64_t want[] = {1, 2};
    expect_seen(want, 2);
    done(fd, path);
}
END_TEST

START_TEST(waits_for_a_batch_record_not_yet_written)
{
    char path[64];
    int fd = trace_fd(path, sizeof path);
    put(fd, 0, CG_REC_BATCH, 1, 100, 0);
    put(fd, 1, CG_REC_CALL, 1, 110, 1);
    ck_assert_uint_eq(update(fd), 1);
    ck_assert_uint_eq(update(fd), 0); /* batch 64 is not there yet */
    put(fd, 64, CG_REC_BATCH, 2, 150, 0);
    put(fd, 65, CG_REC_CALL, 2, 160, 2);
    ck_assert_uint_eq(update(fd), 1);
    cg_live_merge_reset(); /* a new file: from slot 0 again */
    ck_assert_uint_eq(update(fd), 2);
    static const uint64_t want[] = {1, 2, 1, 2};
    expect_seen(want, 4);
    done(fd, path);
}
END_TEST

static Suite *live_merge_suite(void)
{
    Suite *s = suite_create("live_merge");
    TCase *tc = tcase_create("merge");
    tcase_add_test(tc, replays_in_time_order_not_slot_order);
    tcase_add_test(tc, slots_filled_later_are_replayed_once);
    tcase_add_test(tc, tail_of_a_thread_that_moved_on_is_skipped);
    tcase_add_test(tc, waits_for_a_batch_record_not_yet_written);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(live_merge_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
