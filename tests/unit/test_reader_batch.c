/*
 * tests/unit/test_reader_batch.c — cg_reader_next_batch against cg_reader_next.
 *
 * What it is for: the batch API hands out the very records cg_reader_next
 * copies out (same order, bytes and counters) across buffer refills, holes,
 * corrupt slots and a cut last record, and never makes a string known before
 * its last chunk has been handed out.
 *
 * What it must never do: depend on the reader's buffer size (files here are
 * several buffers long whatever it is) or leave files behind.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/tracer_testlib.h"
#include "tracer/reader.h"

enum { NRECS = 5000 };

static struct cg_record chunk(uint32_t id, const char *text, uint8_t flags)
{
    struct cg_record r;
    memset(&r, 0, sizeof r);
    size_t len = strlen(text);
    memcpy(&r, text, len);
    r.site = id;
    r.api = (uint16_t)len;
    r.flags = flags;
    r.kind = CG_REC_STRING;
    return r;
}

/* Calls with holes, corrupt kinds and a one-chunk string every 97 slots. */
static struct cg_record *mixed_records(void)
{
    struct cg_record *recs = calloc(NRECS, sizeof *recs);
    ck_assert_ptr_nonnull(recs);
    for (int i = 0; i < NRECS; i++) {
        if (i % 97 == 5) {
            recs[i] = chunk((uint32_t)i, "site", CG_FLAG_LAST_CHUNK);
            continue;
        }
        recs[i].kind = i % 13 == 0 ? CG_REC_NONE : i % 31 == 0 ? 99 : CG_REC_CALL;
        recs[i].handle = (uint64_t)i;
        recs[i].ts_ns = 1000u + (uint64_t)i;
        recs[i].site = (uint32_t)(i - i % 97 + 5);
    }
    return recs;
}

static struct cg_reader *open_over(const char *dir, const struct cg_record *recs, size_t n,
                                   size_t cut)
{
    struct cg_file_header h;
    testlib_valid_header(&h);
    size_t len = CG_HEADER_SIZE + n * sizeof *recs;
    unsigned char *buf = calloc(1, len);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, &h, sizeof h);
    memcpy(buf + CG_HEADER_SIZE, recs, n * sizeof *recs);
    char path[4096], err[256] = "";
    snprintf(path, sizeof path, "%s/batch.cgt", dir);
    ck_assert_int_eq(testlib_write_file(path, buf, len - cut), 0);
    free(buf);
    struct cg_reader *rd = cg_reader_open(path, err, sizeof err);
    ck_assert_msg(rd != NULL, "%s", err);
    return rd;
}

START_TEST(batch_matches_next)
{
    char *dir = testlib_tmpdir();
    struct cg_record *recs = mixed_records();
    struct cg_reader *one = open_over(dir, recs, NRECS, 9 /* cut last record */);
    struct cg_reader *many = open_over(dir, recs, NRECS, 9);
    const struct cg_record *run = NULL;
    size_t n, total = 0, batches = 0;
    struct cg_record want;
    while ((n = cg_reader_next_batch(many, &run)) > 0) {
        batches++;
        for (size_t i = 0; i < n; i++) {
            ck_assert_int_eq(cg_reader_next(one, &want), 1);
            ck_assert_mem_eq(&run[i], &want, sizeof want);
            /* a string chunk only ever ends a run */
            ck_assert(run[i].kind != CG_REC_STRING || i + 1 == n);
        }
        total += n;
    }
    ck_assert_int_eq(cg_reader_next(one, &want), 0);
    ck_assert_uint_gt(batches, 1);
    ck_assert_uint_eq(total, cg_reader_records(one));
    ck_assert_uint_eq(cg_reader_records(many), cg_reader_records(one));
    ck_assert_uint_eq(cg_reader_bad_records(many), cg_reader_bad_records(one));
    ck_assert_uint_gt(cg_reader_bad_records(many), 0);
    ck_assert_str_eq(cg_reader_string(many, 5), "site");
    cg_reader_close(one);
    cg_reader_close(many);
    free(recs);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(batch_keeps_strings_in_order)
{
    char *dir = testlib_tmpdir();
    struct cg_record recs[4];
    memset(recs, 0, sizeof recs);
    recs[0].kind = CG_REC_CALL;
    recs[1] = chunk(7, "first ", 0);
    recs[2] = chunk(7, "half", CG_FLAG_LAST_CHUNK);
    recs[2].result = 6; /* byte offset of the second chunk */
    recs[3].kind = CG_REC_CALL;
    recs[3].site = 7;
    struct cg_reader *rd = open_over(dir, recs, 4, 0);
    const struct cg_record *run = NULL;
    ck_assert_uint_eq(cg_reader_next_batch(rd, &run), 2); /* CALL, first chunk */
    ck_assert_ptr_null(cg_reader_string(rd, 7));
    ck_assert_uint_eq(cg_reader_next_batch(rd, &run), 1); /* the last chunk alone */
    ck_assert_str_eq(cg_reader_string(rd, 7), "first half");
    struct cg_record rec;
    ck_assert_int_eq(cg_reader_next(rd, &rec), 1); /* mixing both APIs */
    ck_assert_uint_eq(rec.site, 7);
    ck_assert_uint_eq(cg_reader_next_batch(rd, &run), 0);
    ck_assert_uint_eq(cg_reader_records(rd), 4);
    cg_reader_rewind(rd);
    ck_assert_uint_eq(cg_reader_next_batch(rd, &run), 2);
    ck_assert_uint_eq(run[0].kind, CG_REC_CALL);
    cg_reader_close(rd);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

/* Bytes this process has read through read/pread so far (/proc/self/io). */
static unsigned long long bytes_read_so_far(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    unsigned long long rchar = 0;
    char line[128];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "rchar: %llu", &rchar) == 1)
            break;
    if (f)
        fclose(f);
    return rchar;
}

/* A header that says `n` records were written, the records, and then a file
 * made 20 GiB long (sparse) with one more valid-looking record far past
 * them: the reader must stop where the header says the records end. */
static void read_sparse_tail(uint32_t end_state)
{
    enum { N = 1000 };
    char *dir = testlib_tmpdir();
    struct cg_file_header h;
    testlib_valid_header(&h);
    h.end_state = end_state;
    h.slots_reserved = N;
    struct cg_record *recs = mixed_records();
    for (int i = 0; i < N; i++)
        recs[i].kind = CG_REC_CALL;
    char path[4096], err[256] = "";
    snprintf(path, sizeof path, "%s/sparse.cgt", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(&h, sizeof h, 1, f), 1);
    ck_assert_int_eq(fseeko(f, CG_HEADER_SIZE, SEEK_SET), 0);
    ck_assert_uint_eq(fwrite(recs, sizeof *recs, N, f), N);
    const off_t far = (off_t)CG_HEADER_SIZE + (off_t)10000000 * CG_RECORD_SIZE;
    ck_assert_int_eq(fseeko(f, far, SEEK_SET), 0);
    ck_assert_uint_eq(fwrite(recs, sizeof *recs, 1, f), 1); /* past the claim */
    ck_assert_int_eq(fflush(f), 0);
    ck_assert_int_eq(ftruncate(fileno(f), (off_t)20 << 30), 0);
    ck_assert_int_eq(fclose(f), 0);
    unsigned long long before = bytes_read_so_far();
    struct cg_reader *rd = cg_reader_open(path, err, sizeof err);
    ck_assert_msg(rd != NULL, "%s", err);
    const struct cg_record *run = NULL;
    size_t total = 0, n;
    while ((n = cg_reader_next_batch(rd, &run)) > 0)
        total += n;
    ck_assert_uint_eq(total, N);
    ck_assert_uint_eq(cg_reader_records(rd), N);
    unsigned long long read_bytes = bytes_read_so_far() - before;
    ck_assert_msg(read_bytes < (64ull << 20), "read %llu bytes of a 20 GiB sparse file",
                  read_bytes);
    cg_reader_close(rd);
    free(recs);
    testlib_rmtree(dir);
    free(dir);
}

START_TEST(reader_stops_where_the_header_says)
{
    read_sparse_tail(CG_END_CLEAN);
    read_sparse_tail(CG_END_CUT_SHORT);
    read_sparse_tail(CG_END_RUNNING); /* killed: the segment after the count at most */
}
END_TEST

/* Version 4: thread 1 fills its first batch (slot 0) late, after thread 2
 * has filled LAG slots of batches (it was descheduled with its batch open):
 * its records come out after all of thread 2's, however far behind in the
 * file they lie (farther than the reader's window and ring). */
enum { LAG = 200000 };

static void put(struct cg_record *r, uint8_t kind, uint32_t tid, uint64_t ts, uint64_t handle)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->tid = tid;
    r->ts_ns = ts;
    r->handle = handle;
    r->arg = kind == CG_REC_BATCH ? CG_BATCH_RECORDS : 0;
}

static struct cg_record *lagging_records(size_t *n)
{
    *n = LAG + 2 * CG_BATCH_RECORDS;
    struct cg_record *recs = calloc(*n, sizeof *recs);
    ck_assert_ptr_nonnull(recs);
    for (size_t s = 0; s < *n; s++) {
        int late = s < CG_BATCH_RECORDS || s >= LAG + CG_BATCH_RECORDS;
        uint64_t ts = late ? 1000000000u + s : 200u + s;
        uint8_t kind = s % CG_BATCH_RECORDS == 0 ? CG_REC_BATCH : CG_REC_CALL;
        put(&recs[s], kind, late ? 1 : 2, s < CG_BATCH_RECORDS && kind == CG_REC_BATCH ? 100 : ts,
            s);
    }
    return recs;
}

static struct cg_reader *open_v4(const char *dir, const struct cg_record *recs, size_t n)
{
    struct cg_file_header h;
    testlib_valid_header(&h);
    h.batch_records = CG_BATCH_RECORDS;
    h.end_state = CG_END_CLEAN;
    h.slots_reserved = n;
    size_t len = CG_HEADER_SIZE + n * sizeof *recs;
    unsigned char *buf = calloc(1, len);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, &h, sizeof h);
    memcpy(buf + CG_HEADER_SIZE, recs, n * sizeof *recs);
    char path[4096], err[256] = "";
    snprintf(path, sizeof path, "%s/lag.cgt", dir);
    ck_assert_int_eq(testlib_write_file(path, buf, len), 0);
    free(buf);
    struct cg_reader *rd = cg_reader_open(path, err, sizeof err);
    ck_assert_msg(rd != NULL, "%s", err);
    return rd;
}

/* The slot of the i-th record in trace order: thread 2's, then thread 1's. */
static uint64_t lagging_slot(size_t i)
{
    size_t t2 = LAG - LAG / CG_BATCH_RECORDS; /* thread 2's records */
    if (i >= t2) {
        size_t j = i - t2; /* thread 1: slots 1..63, then its second batch */
        return j < CG_BATCH_RECORDS - 1 ? j + 1 : LAG + CG_BATCH_RECORDS + (j - 62);
    }
    return CG_BATCH_RECORDS + i / (CG_BATCH_RECORDS - 1) * CG_BATCH_RECORDS +
           i % (CG_BATCH_RECORDS - 1) + 1;
}

START_TEST(merge_keeps_a_lagging_thread_in_order)
{
    char *dir = testlib_tmpdir();
    size_t n;
    struct cg_record *recs = lagging_records(&n);
    struct cg_reader *rd = open_v4(dir, recs, n);
    size_t want = n - n / CG_BATCH_RECORDS, got = 0;
    struct cg_record r;
    while (cg_reader_next(rd, &r)) {
        ck_assert_uint_eq(r.handle, lagging_slot(got));
        got++;
    }
    ck_assert_uint_eq(got, want);
    cg_reader_rewind(rd);
    const struct cg_record *run;
    size_t k;
    got = 0;
    while ((k = cg_reader_next_batch(rd, &run)) > 0)
        for (size_t i = 0; i < k; i++, got++)
            ck_assert_uint_eq(run[i].handle, lagging_slot(got));
    ck_assert_uint_eq(got, want);
    cg_reader_close(rd);
    free(recs);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *reader_batch_suite(void)
{
    Suite *s = suite_create("reader_batch");
    TCase *tc = tcase_create("batch");
    tcase_add_test(tc, batch_matches_next);
    tcase_add_test(tc, batch_keeps_strings_in_order);
    tcase_add_test(tc, reader_stops_where_the_header_says);
    tcase_add_test(tc, merge_keeps_a_lagging_thread_in_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reader_batch_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
