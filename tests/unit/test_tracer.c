/*
 * tests/unit/test_tracer.c — the trace writer and reader, single-threaded.
 *
 * What it is for: round trip of every record kind and of interned strings,
 * the header, file and directory modes, an unwritable directory, fork, a
 * writer killed with SIGKILL, and every kind of corrupt input the reader
 * must refuse or skip without crashing (this suite also runs under ASan).
 *
 * What it must never do: depend on another test's files (each test uses its
 * own temporary directory; Check runs each test in its own process, which
 * the writer's process-global state needs).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/tracer_testlib.h"
#include "tracer/clock.h"
#include "tracer/pages.h"
#include "tracer/reader.h"
#include "tracer/writer.h"

static struct cg_reader *open_only_trace(const char *dir)
{
    char path[4096], err[256] = "";
    ck_assert_int_eq(testlib_find_traces(dir, path, sizeof path), 1);
    struct cg_reader *r = cg_reader_open(path, err, sizeof err);
    ck_assert_msg(r != NULL, "reader refused %s: %s", path, err);
    return r;
}

/* ---- round trips ---- */

START_TEST(every_record_kind_round_trips)
{
    char *dir = testlib_tmpdir();
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    ck_assert_int_eq(cg_writer_active(), 1);
    uint32_t site = cg_writer_intern("solver.py:42");
    ck_assert_uint_ne(site, 0);

    struct cg_record written[CG_REC_KIND_MAX + 1];
    int n = 0;
    for (uint8_t kind = 1; kind <= CG_REC_KIND_MAX; kind++) {
        if (kind == CG_REC_STRING || kind == CG_REC_PROCESS_EXIT)
            continue;
        struct cg_record *r = cg_writer_reserve(1);
        ck_assert_ptr_nonnull(r);
        r->handle = 0x7f0000001000ull + kind;
        r->arg = 3ull * kind;
        r->arg2 = ~(uint64_t)kind;
        r->ts_ns = cg_now_ns();
        r->tid = cg_gettid();
        r->site = site;
        r->result = -(int32_t)kind;
        r->api = (uint16_t)(kind % testlib_api_count);
        r->flags = (uint8_t)(kind & 0xf);
        cg_writer_publish(r, kind);
        written[n] = *r;
        written[n++].kind = kind;
    }
    cg_writer_close();
    ck_assert_int_eq(cg_writer_active(), 0);
    ck_assert_ptr_null(cg_writer_reserve(1));

    struct cg_reader *rd = open_only_trace(dir);
    struct cg_record rec;
    int seen = 0, strings = 0, exits = 0;
    while (cg_reader_next(rd, &rec)) {
        if (rec.kind == CG_REC_STRING) {
            strings++;
            continue;
        }
        if (rec.kind == CG_REC_PROCESS_EXIT) {
            exits++;
            continue;
        }
        ck_assert_int_lt(seen, n);
        ck_assert_mem_eq(&rec, &written[seen], sizeof rec);
        seen++;
    }
    ck_assert_int_eq(seen, n);
    ck_assert_int_eq(strings, 1);
    ck_assert_int_eq(exits, 1);
    ck_assert_str_eq(cg_reader_string(rd, site), "solver.py:42");
    ck_assert_uint_eq(cg_reader_bad_records(rd), 0);
    cg_reader_close(rd);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(strings_round_trip)
{
    char *dir = testlib_tmpdir();
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);

    char exact[CG_STRING_CHUNK * 3 + 1];
    memset(exact, 'x', sizeof exact - 1);
    exact[sizeof exact - 1] = '\0';
    static char huge[10000];
    for (size_t i = 0; i < sizeof huge - 1; i++)
        huge[i] = (char)('a' + i % 26);
    uint32_t empty = cg_writer_intern("");
    uint32_t chunk_multiple = cg_writer_intern(exact);
    uint32_t long_id = cg_writer_intern(huge);
    enum { MANY = 2000 };
    static uint32_t many[MANY];
    for (int i = 0; i < MANY; i++) {
        char s[64];
        snprintf(s, sizeof s, "tests/test_mod.py::test_%d (call)", i);
        many[i] = cg_writer_intern(s);
    }
    ck_assert_uint_ne(empty, 0);
    ck_assert_uint_ne(chunk_multiple, empty);
    ck_assert_uint_eq(cg_writer_intern(exact), chunk_multiple); /* same string, same id */
    ck_assert_uint_eq(cg_writer_intern("tests/test_mod.py::test_7 (call)"), many[7]);
    cg_writer_close();

    struct cg_reader *rd = open_only_trace(dir);
    struct cg_record rec;
    while (cg_reader_next(rd, &rec))
        ;
    ck_assert_str_eq(cg_reader_string(rd, empty), "");
    ck_assert_str_eq(cg_reader_string(rd, chunk_multiple), exact);
    const char *back = cg_reader_string(rd, long_id);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(strlen(back), 4096); /* the writer keeps 4096 bytes */
    ck_assert_int_eq(strncmp(back, huge, 4096), 0);
    for (int i = 0; i < MANY; i++) {
        char s[64];
        snprintf(s, sizeof s, "tests/test_mod.py::test_%d (call)", i);
        ck_assert_str_eq(cg_reader_string(rd, many[i]), s);
    }
    ck_assert_ptr_null(cg_reader_string(rd, 0));
    ck_assert_ptr_null(cg_reader_string(rd, 999999));
    ck_assert_uint_eq(cg_reader_bad_string_chunks(rd), 0);
    cg_reader_close(rd);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(header_describes_the_process)
{
    char *dir = testlib_tmpdir();
    struct cg_writer_config cfg = testlib_config(dir);
    cfg.label = "gw12";
    uint64_t before = cg_now_ns();
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    cg_writer_close();

    struct cg_reader *rd = open_only_trace(dir);
    const struct cg_file_header *h = cg_reader_header(rd);
    ck_assert_uint_eq(h->pid, (uint32_t)getpid());
    ck_assert_uint_eq(h->ppid, (uint32_t)getppid());
    ck_assert_uint_eq(h->end_state, CG_END_CLEAN);
    ck_assert_uint_ge(h->start_mono_ns, before);
    ck_assert_uint_ge(h->end_mono_ns, h->start_mono_ns);
    ck_assert_uint_eq(h->slots_reserved, CG_BATCH_RECORDS); /* PROCESS_EXIT's batch */
    ck_assert_uint_eq(h->batch_records, CG_BATCH_RECORDS);
    ck_assert_str_eq(h->task_var, "PYTEST_CURRENT_TEST");
    ck_assert_str_eq(h->label, "gw12");
    ck_assert_uint_eq(cg_reader_api_count(rd), testlib_api_count);
    for (uint32_t i = 0; i < testlib_api_count; i++)
        ck_assert_str_eq(cg_reader_api_name(rd, (uint16_t)i), testlib_api_names[i]);
    ck_assert_str_eq(cg_reader_api_name(rd, 500), "?");
    char host[CG_HOST_MAX] = "";
    gethostname(host, sizeof host - 1);
    ck_assert_str_eq(h->host, host);
    char argv[256];
    cg_reader_argv(rd, argv, sizeof argv);
    ck_assert_ptr_nonnull(strstr(argv, "test_tracer"));
    ck_assert_uint_ge(h->argc, 1);
    /* The name is <host>-<pid>-<start>.cgt. */
    char prefix[256];
    snprintf(prefix, sizeof prefix, "-%d-", (int)getpid());
    ck_assert_ptr_nonnull(strstr(cg_reader_path(rd), prefix));
    cg_reader_close(rd);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- files, directories, failures ---- */

START_TEST(file_is_0600_and_created_dirs_0700)
{
    umask(022);
    char *base = testlib_tmpdir();
    char dir[4096], mid[4096];
    snprintf(mid, sizeof mid, "%s/a", base);
    snprintf(dir, sizeof dir, "%s/a/b/c", base);
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    cg_writer_close();
    char path[4096];
    ck_assert_int_eq(testlib_find_traces(dir, path, sizeof path), 1);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    ck_assert_int_eq(stat(mid, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    testlib_rmtree(base);
    free(base);
}
END_TEST

START_TEST(existing_files_are_never_touched)
{
    char *dir = testlib_tmpdir();
    char other[4096];
    snprintf(other, sizeof other, "%s/other-1-1.cgt", dir);
    ck_assert_int_eq(testlib_write_file(other, "keep me", 7), 0);
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    cg_writer_close();
    ck_assert_int_eq(testlib_find_traces(dir, NULL, 0), 2);
    char buf[16] = "";
    FILE *f = fopen(other, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(buf, 1, sizeof buf, f), 7);
    fclose(f);
    ck_assert_str_eq(buf, "keep me");
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

/* Run cg_writer_open with stderr captured into `out`. */
static int open_capturing_stderr(const char *dir, char *out, size_t len)
{
    char log[] = "/tmp/cuguard-unit-stderr-XXXXXX";
    int fd = mkstemp(log);
    ck_assert_int_ge(fd, 0);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    struct cg_writer_config cfg = testlib_config(dir);
    int rc = cg_writer_open(&cfg);
    dup2(saved, STDERR_FILENO);
    close(saved);
    ssize_t n = pread(fd, out, len - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(log);
    return rc;
}

START_TEST(unwritable_dir_warns_once_and_runs_untraced)
{
    /* A path below a regular file cannot be created, even by root. */
    char *base = testlib_tmpdir();
    char file[4096], dir[4096];
    snprintf(file, sizeof file, "%s/file", base);
    snprintf(dir, sizeof dir, "%s/file/sub", base);
    ck_assert_int_eq(testlib_write_file(file, "", 0), 0);
    char out[1024];
    ck_assert_int_eq(open_capturing_stderr(dir, out, sizeof out), -1);
    ck_assert_int_eq(cg_writer_active(), 0);
    ck_assert_ptr_null(cg_writer_reserve(1));
    ck_assert_uint_eq(cg_writer_intern("x"), 0);
    cg_writer_publish(NULL, CG_REC_CALL); /* harmless */
    cg_writer_close();
    ck_assert_msg(strstr(out, "cuguard: cannot write trace in ") != NULL, "got: %s", out);
    ck_assert_ptr_nonnull(strstr(out, dir));
    ck_assert_ptr_nonnull(strstr(out, "running untraced"));
    char *newline = strchr(out, '\n');
    ck_assert_ptr_nonnull(newline);
    ck_assert_str_eq(newline + 1, ""); /* exactly one line */

    /* /proc cannot hold a trace either. */
    ck_assert_int_eq(open_capturing_stderr("/proc/cuguard-test", out, sizeof out), -1);
    ck_assert_ptr_nonnull(strstr(out, "running untraced"));
    ck_assert_int_eq(cg_writer_active(), 0);
    testlib_rmtree(base);
    free(base);
}
END_TEST

START_TEST(reserve_rejects_bad_counts)
{
    char *dir = testlib_tmpdir();
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    ck_assert_ptr_null(cg_writer_reserve(0));
    ck_assert_ptr_null(cg_writer_reserve(5));
    struct cg_record *four = cg_writer_reserve(4);
    ck_assert_ptr_nonnull(four);
    for (int i = 0; i < 4; i++)
        testlib_fill_and_publish(&four[i], CG_REC_CALL, 0x10, (uint64_t)i, 1);
    cg_writer_close();
    struct cg_reader *rd = open_only_trace(dir);
    struct cg_record rec;
    int i = 0;
    while (cg_reader_next(rd, &rec) && rec.kind == CG_REC_CALL) {
        ck_assert_uint_eq(rec.arg, (uint64_t)i++);
        ck_assert_uint_eq(rec.arg2, testlib_record_hash(&rec));
    }
    ck_assert_int_eq(i, 4);
    cg_reader_close(rd);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- fork and SIGKILL ---- */

static int count_records_with_arg(const char *path, uint64_t arg, uint32_t *pid)
{
    char err[256];
    struct cg_reader *rd = cg_reader_open(path, err, sizeof err);
    ck_assert_msg(rd != NULL, "%s: %s", path, err);
    *pid = cg_reader_header(rd)->pid;
    int n = 0;
    struct cg_record rec;
    while (cg_reader_next(rd, &rec))
        n += rec.kind == CG_REC_CALL && rec.arg == arg;
    cg_reader_close(rd);
    return n;
}

START_TEST(fork_child_writes_its_own_file)
{
    char *dir = testlib_tmpdir();
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    testlib_fill_and_publish(cg_writer_reserve(1), CG_REC_CALL, 1, 0xAAAA, 1);
    cg_writer_prepare_fork();
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        cg_writer_after_fork_child();
        int ok = cg_writer_active();
        struct cg_record *r = cg_writer_reserve(1);
        if (r)
            testlib_fill_and_publish(r, CG_REC_CALL, 2, 0xC41D, 1);
        cg_writer_close();
        _exit(ok && r ? 0 : 1);
    }
    cg_writer_after_fork_parent();
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    testlib_fill_and_publish(cg_writer_reserve(1), CG_REC_CALL, 3, 0xBBBB, 1);
    cg_writer_close();

    ck_assert_int_eq(testlib_find_traces(dir, NULL, 0), 2);
    char path[4096];
    struct dirent *de;
    DIR *d = opendir(dir);
    int parent_files = 0, child_files = 0;
    while ((de = readdir(d)) != NULL) {
        if (!strstr(de->d_name, ".cgt"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        uint32_t pid;
        int child_recs = count_records_with_arg(path, 0xC41D, &pid);
        int parent_recs =
            count_records_with_arg(path, 0xAAAA, &pid) + count_records_with_arg(path, 0xBBBB, &pid);
        if (pid == (uint32_t)getpid()) {
            parent_files++;
            ck_assert_int_eq(parent_recs, 2);
            ck_assert_int_eq(child_recs, 0);
        } else {
            child_files++;
            ck_assert_uint_eq(pid, (uint32_t)child);
            ck_assert_int_eq(child_recs, 1);
            ck_assert_int_eq(parent_recs, 0);
        }
    }
    closedir(d);
    ck_assert_int_eq(parent_files, 1);
    ck_assert_int_eq(child_files, 1);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(fork_child_without_records_leaves_no_file)
{
    char *dir = testlib_tmpdir();
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    pid_t child = fork();
    if (child == 0) {
        cg_writer_after_fork_child();
        _exit(cg_writer_active() ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    cg_writer_close();
    ck_assert_int_eq(testlib_find_traces(dir, NULL, 0), 1);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

/* Child: write self-checking records forever, reporting each one's number
 * through the pipe after it is published. */
static void write_and_report_forever(const char *dir, int report_fd)
{
    struct cg_writer_config cfg = testlib_config(dir);
    if (cg_writer_open(&cfg) != 0)
        _exit(3);
    uint32_t site = cg_writer_intern("killed.py:1");
    for (uint64_t i = 0;; i++) {
        struct cg_record *r = cg_writer_reserve(i % 3 == 0 ? 2 : 1);
        if (!r)
            _exit(4);
        r->site = site;
        testlib_fill_and_publish(r, CG_REC_CALL, 0x5000, i, 2);
        if (i % 3 == 0)
            testlib_fill_and_publish(r + 1, CG_REC_ARGS, 0x5000, i, 0);
        if (write(report_fd, &i, sizeof i) != sizeof i)
            _exit(5);
    }
}

/* Fork a child running `body(dir, write end of a pipe)` (it never
 * returns); the parent gets the read end in *from_child. */
static pid_t fork_writer(const char *dir, void (*body)(const char *, int), int *from_child)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        close(fds[0]);
        body(dir, fds[1]);
        _exit(7);
    }
    close(fds[1]);
    *from_child = fds[0];
    return child;
}

START_TEST(sigkill_keeps_every_reported_record)
{
    char *dir = testlib_tmpdir();
    int from_child;
    pid_t child = fork_writer(dir, write_and_report_forever, &from_child);
    /* Past the first segment boundary, then kill mid-run. */
    const uint64_t kill_after = CG_SEGMENT_RECORDS + 20000;
    /* Plain checks in the loops: Check reports each ck_assert through a pipe. */
    uint64_t reported = 0, value, out_of_order = 0;
    while (reported < kill_after && read(from_child, &value, sizeof value) == sizeof value)
        out_of_order += value != reported++;
    kill(child, SIGKILL);
    while (read(from_child, &value, sizeof value) == sizeof value)
        out_of_order += value != reported++;
    ck_assert_uint_eq(out_of_order, 0);
    close(from_child);
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ck_assert_uint_ge(reported, kill_after);

    struct cg_reader *rd = open_only_trace(dir);
    ck_assert_uint_eq(cg_reader_header(rd)->end_state, CG_END_RUNNING);
    uint64_t next = 0, args = 0, torn = 0, misplaced = 0, bad_site = 0;
    struct cg_record rec;
    while (cg_reader_next(rd, &rec)) {
        if (rec.kind == CG_REC_STRING)
            continue;
        torn += rec.arg2 != testlib_record_hash(&rec);
        if (rec.kind == CG_REC_ARGS) {
            misplaced += rec.arg != next - 1;
            args++;
            continue;
        }
        misplaced += rec.kind != CG_REC_CALL || rec.arg != next; /* in order, none missing */
        const char *site = cg_reader_string(rd, rec.site);
        bad_site += !site || strcmp(site, "killed.py:1") != 0;
        next++;
    }
    ck_assert_uint_eq(torn, 0);
    ck_assert_uint_eq(misplaced, 0);
    ck_assert_uint_eq(bad_site, 0);
    ck_assert_uint_ge(next, reported);
    ck_assert_uint_ge(args, reported / 3);
    ck_assert_uint_eq(cg_reader_bad_records(rd), 0);
    cg_reader_close(rd);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- corrupt input ---- */

/* Expect cg_reader_open to refuse `data` with a message containing `why`. */
static void expect_refused(const void *data, size_t len, const char *why)
{
    char *dir = testlib_tmpdir();
    char path[4096], err[256] = "";
    snprintf(path, sizeof path, "%s/bad.cgt", dir);
    ck_assert_int_eq(testlib_write_file(path, data, len), 0);
    struct cg_reader *rd = cg_reader_open(path, err, sizeof err);
    ck_assert_msg(rd == NULL, "accepted a file that should fail with '%s'", why);
    ck_assert_msg(strstr(err, why) != NULL, "message '%s' lacks '%s'", err, why);
    ck_assert_ptr_null(strchr(err, '\n'));
    testlib_rmtree(dir);
    free(dir);
}

START_TEST(reader_refuses_bad_headers)
{
    struct cg_file_header h;
    expect_refused("", 0, "empty file");
    expect_refused("CUGU", 4, "bad magic");
    testlib_valid_header(&h);
    expect_refused(&h, 100, "truncated header");
    memcpy(h.magic, "CUGUARX", 8);
    expect_refused(&h, sizeof h, "bad magic");
    testlib_valid_header(&h);
    h.version = 99;
    expect_refused(&h, sizeof h, "version 99");
    testlib_valid_header(&h);
    h.record_size = 0xffffffffu;
    expect_refused(&h, sizeof h, "record_size");
    testlib_valid_header(&h);
    h.header_size = 16;
    expect_refused(&h, sizeof h, "header_size");
    testlib_valid_header(&h);
    h.segment_records = 0;
    expect_refused(&h, sizeof h, "segment_records");
    testlib_valid_header(&h);
    h.task_mode = 77;
    expect_refused(&h, sizeof h, "task_mode");

    static unsigned char noise[CG_HEADER_SIZE * 3];
    srand(1234);
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)rand();
    expect_refused(noise, sizeof noise, "bad magic");

    char err[256] = "";
    ck_assert_ptr_null(cg_reader_open("/nonexistent/cuguard.cgt", err, sizeof err));
    ck_assert_str_eq(err, "No such file or directory");
    ck_assert_ptr_null(cg_reader_open("/tmp", err, sizeof err));
    ck_assert_str_eq(err, "not a regular file");
}
END_TEST

START_TEST(reader_refuses_fifo_without_hanging)
{
    char *dir = testlib_tmpdir();
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/fifo.cgt", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_ptr_null(cg_reader_open(path, err, sizeof err));
    ck_assert_str_eq(err, "not a regular file");
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

/* Header + `n` records written to a file; returns an open reader. */
static struct cg_reader *reader_over(const char *dir, struct cg_file_header *h,
                                     const struct cg_record *recs, size_t n, size_t cut)
{
    size_t len = CG_HEADER_SIZE + n * sizeof *recs;
    unsigned char *buf = calloc(1, len);
    memcpy(buf, h, sizeof *h);
    memcpy(buf + CG_HEADER_SIZE, recs, n * sizeof *recs);
    char path[4096], err[256] = "";
    snprintf(path, sizeof path, "%s/hand.cgt", dir);
    ck_assert_int_eq(testlib_write_file(path, buf, len - cut), 0);
    free(buf);
    struct cg_reader *rd = cg_reader_open(path, err, sizeof err);
    ck_assert_msg(rd != NULL, "%s", err);
    return rd;
}

static struct cg_record string_chunk(uint32_t id, int32_t offset, const char *text, uint16_t len,
                                     uint8_t flags)
{
    struct cg_record r;
    memset(&r, 0, sizeof r);
    size_t copy = strlen(text);
    memcpy(&r, text, copy > CG_STRING_CHUNK ? CG_STRING_CHUNK : copy);
    r.site = id;
    r.result = offset;
    r.api = len;
    r.flags = flags;
    r.kind = CG_REC_STRING;
    return r;
}

START_TEST(reader_skips_bad_records_and_strings)
{
    char *dir = testlib_tmpdir();
    struct cg_file_header h;
    testlib_valid_header(&h);
    memset(h.host, 'h', sizeof h.host);           /* not NUL-terminated */
    memset(h.argv, 'a', sizeof h.argv);           /* not NUL-terminated */
    memset(h.api_names, 'n', sizeof h.api_names); /* one unterminated name */
    h.api_count = 1000000;                        /* more than the table holds */
    h.host[3] = '\n';                             /* a control character */
    struct cg_record recs[16];
    memset(recs, 0, sizeof recs);
    int n = 0;
    recs[n++] = string_chunk(1, 0, "hello ", 6, 0);
    recs[n++] = string_chunk(1, 0, "HELLO ", 6, 0); /* duplicate offset */
    recs[n++] = string_chunk(1, 6, "world", 5, CG_FLAG_LAST_CHUNK);
    recs[n++] = string_chunk(1, 0, "again", 5, CG_FLAG_LAST_CHUNK); /* after completion */
    recs[n++] = string_chunk(2, 64, "gap", 3, CG_FLAG_LAST_CHUNK);  /* out of order */
    recs[n++] = string_chunk(3, 0, "abc", 200, CG_FLAG_LAST_CHUNK); /* chunk too long */
    recs[n++] = string_chunk(4, 0, "no end", 6, 0);                 /* never finished */
    recs[n++] = string_chunk(5, -5, "neg", 3, CG_FLAG_LAST_CHUNK);  /* negative offset */
    recs[n++] = string_chunk(6, 0, "ctl\x01\x1b[31m", 9, CG_FLAG_LAST_CHUNK);
    recs[n].kind = 200; /* unknown kind */
    recs[n++].handle = 1;
    recs[n].kind = CG_REC_CALL;
    recs[n++].api = 60000; /* api id out of range */
    recs[n++].kind = 0;    /* unfinished slot */
    recs[n].kind = CG_REC_CALL;
    recs[n++].arg = 77;
    struct cg_reader *rd = reader_over(dir, &h, recs, (size_t)n, 20 /* partial last record */);
    const struct cg_file_header *got = cg_reader_header(rd);
    ck_assert_uint_eq(strlen(got->host), sizeof got->host - 1);
    ck_assert_ptr_null(strchr(got->host, '\n'));
    ck_assert_uint_eq(cg_reader_api_count(rd), 1); /* cut at the table's end */
    ck_assert_uint_eq(strlen(cg_reader_api_name(rd, 0)), CG_API_NAMES_MAX - 1);
    char argv[64];
    cg_reader_argv(rd, argv, sizeof argv);
    ck_assert_uint_eq(strlen(argv), sizeof argv - 1);

    struct cg_record rec;
    int calls = 0, total = 0;
    while (cg_reader_next(rd, &rec)) {
        total++;
        if (rec.kind == CG_REC_CALL) {
            calls++;
            ck_assert_str_eq(cg_reader_api_name(rd, rec.api), "?");
        }
    }
    ck_assert_int_eq(calls, 1);     /* the last record was cut in half */
    ck_assert_int_eq(total, 9 + 1); /* 9 string chunks, 1 call */
    ck_assert_uint_eq(cg_reader_bad_records(rd), 1);
    ck_assert_uint_eq(cg_reader_bad_string_chunks(rd), 5);
    ck_assert_str_eq(cg_reader_string(rd, 1), "hello world");
    ck_assert_ptr_null(cg_reader_string(rd, 2));
    ck_assert_ptr_null(cg_reader_string(rd, 3));
    ck_assert_ptr_null(cg_reader_string(rd, 4));
    ck_assert_ptr_null(cg_reader_string(rd, 5));
    ck_assert_str_eq(cg_reader_string(rd, 6), "ctl??[31m");

    cg_reader_rewind(rd);
    ck_assert_uint_eq(cg_reader_records(rd), 0);
    total = 0;
    while (cg_reader_next(rd, &rec))
        total++;
    ck_assert_int_eq(total, 10);
    ck_assert_str_eq(cg_reader_string(rd, 1), "hello world");
    cg_reader_close(rd);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(reader_bounds_string_length)
{
    char *dir = testlib_tmpdir();
    struct cg_file_header h;
    testlib_valid_header(&h);
    enum { CHUNKS = 65536 / CG_STRING_CHUNK + 8 };
    struct cg_record *recs = calloc(CHUNKS, sizeof *recs);
    for (int i = 0; i < CHUNKS; i++)
        recs[i] = string_chunk(9, i * (int)CG_STRING_CHUNK, "0123456789abcdef0123456789abcdef",
                               CG_STRING_CHUNK, i + 1 == CHUNKS ? CG_FLAG_LAST_CHUNK : 0);
    struct cg_reader *rd = reader_over(dir, &h, recs, CHUNKS, 0);
    struct cg_record rec;
    while (cg_reader_next(rd, &rec))
        ;
    ck_assert_ptr_null(cg_reader_string(rd, 9)); /* over 64 KiB: dropped */
    ck_assert_uint_eq(cg_reader_bad_string_chunks(rd), 8);
    cg_reader_close(rd);
    free(recs);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(reader_survives_random_records)
{
    char *dir = testlib_tmpdir();
    struct cg_file_header h;
    testlib_valid_header(&h);
    enum { N = 20000 };
    struct cg_record *recs = malloc(N * sizeof *recs);
    srand(99);
    unsigned char *bytes = (unsigned char *)recs;
    for (size_t i = 0; i < N * sizeof *recs; i++)
        bytes[i] = (unsigned char)rand();
    for (int i = 0; i < N; i += 2) /* half of them claim to be strings */
        recs[i].kind = CG_REC_STRING;
    uint64_t want_valid = 0, want_bad = 0;
    for (int i = 0; i < N - 1; i++) { /* the last record is cut */
        want_valid += recs[i].kind != 0 && recs[i].kind <= CG_REC_KIND_MAX;
        want_bad += recs[i].kind > CG_REC_KIND_MAX;
    }
    struct cg_reader *rd = reader_over(dir, &h, recs, N, 7);
    struct cg_record rec;
    uint64_t valid = 0;
    uint64_t bad_kind = 0;
    while (cg_reader_next(rd, &rec)) {
        valid++;
        bad_kind += rec.kind > CG_REC_KIND_MAX;
        (void)cg_reader_api_name(rd, rec.api);
        (void)cg_reader_string(rd, rec.site);
    }
    ck_assert_uint_eq(bad_kind, 0);
    ck_assert_uint_eq(valid, want_valid);
    ck_assert_uint_eq(cg_reader_records(rd), want_valid);
    ck_assert_uint_eq(cg_reader_bad_records(rd), want_bad);
    cg_reader_close(rd);
    free(recs);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- segments and the record clock (format version 3) ---- */

static long long file_size(const char *dir)
{
    char path[4096];
    struct stat st;
    if (testlib_find_traces(dir, path, sizeof path) != 1 || stat(path, &st) != 0)
        return -1;
    return (long long)st.st_size;
}

static void write_numbered(uint64_t first, uint64_t count)
{
    for (uint64_t i = first; i < first + count; i++) {
        struct cg_record *r = cg_writer_reserve(1);
        ck_assert_ptr_nonnull(r);
        testlib_fill_and_publish(r, CG_REC_CALL, 0x1000, i, 2);
    }
}

/* Every record numbered 0..count-1 is read back once, in order, intact. */
static void expect_numbered(const char *dir, uint64_t count)
{
    struct cg_reader *rd = open_only_trace(dir);
    struct cg_record rec;
    uint64_t next = 0, wrong = 0;
    while (cg_reader_next(rd, &rec)) {
        if (rec.kind != CG_REC_CALL)
            continue;
        wrong += rec.arg != next++ || rec.arg2 != testlib_record_hash(&rec);
    }
    ck_assert_uint_eq(wrong, 0);
    ck_assert_uint_eq(next, count);
    cg_reader_close(rd);
}

START_TEST(small_process_leaves_a_small_file)
{
    char *dir = testlib_tmpdir();
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    /* While running: the header and the first segment only. */
    ck_assert_int_eq(file_size(dir),
                     (long long)(CG_HEADER_SIZE + CG_FIRST_SEGMENT_RECORDS * CG_RECORD_SIZE));
    ck_assert_uint_ne(cg_writer_intern("small.py:1"), 0);
    write_numbered(0, 300); /* a 200-call process writes about this many records */
    cg_writer_close();
    /* At a clean exit the file ends at the last reserved slot. */
    struct cg_reader *rd = open_only_trace(dir);
    uint64_t slots = cg_reader_header(rd)->slots_reserved;
    ck_assert_uint_eq(cg_reader_header(rd)->first_segment_records, CG_FIRST_SEGMENT_RECORDS);
    cg_reader_close(rd);
    ck_assert_int_eq(file_size(dir), (long long)(CG_HEADER_SIZE + slots * CG_RECORD_SIZE));
    ck_assert_int_le(file_size(dir), 64 * 1024);
    expect_numbered(dir, 300);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

static int wakes;

static void wake_counter(void)
{
    wakes++;
}

START_TEST(background_prepares_the_next_segment)
{
    char *dir = testlib_tmpdir();
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    cg_writer_set_prepare_wake(wake_counter);
    const long long first_end = CG_HEADER_SIZE + CG_FIRST_SEGMENT_RECORDS * CG_RECORD_SIZE;
    /* A batch holds CG_BATCH_RECORDS - 1 records after its BATCH record. */
    const uint64_t per = CG_BATCH_RECORDS - 1, half_batches = CG_FIRST_SEGMENT_RECORDS / 2 / 64;
    write_numbered(0, (half_batches - 1) * per);
    cg_writer_background(); /* not half full: nothing to prepare */
    ck_assert_int_eq(file_size(dir), first_end);
    ck_assert_int_eq(wakes, 0);
    write_numbered((half_batches - 1) * per, 2 * per);
    ck_assert_int_eq(wakes, 1); /* asked once, half-way */
    ck_assert_int_eq(file_size(dir), first_end);
    cg_writer_background(); /* segment 1 (twice as large) is mapped ahead of need */
    ck_assert_int_eq(file_size(dir), first_end + 2 * CG_FIRST_SEGMENT_RECORDS * CG_RECORD_SIZE);
    /* Across two segment boundaries, the rest mapped by this thread. */
    const uint64_t total = 5 * CG_FIRST_SEGMENT_RECORDS;
    write_numbered((half_batches + 1) * per, total - (half_batches + 1) * per);
    ck_assert_int_ge(wakes, 2);
    cg_writer_set_prepare_wake(NULL);
    cg_writer_close();
    expect_numbered(dir, total);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* A directory on tmpfs where there is one: its pages are 4 KiB folios, so
 * a page nobody faulted in costs its own fault (a file system with large
 * folios maps a whole folio at the first). Else testlib_tmpdir(). */
static char *tmpfs_dir(void)
{
    char tmpl[] = "/dev/shm/cuguard-unit-XXXXXX";
    return mkdtemp(tmpl) ? strdup(tmpl) : testlib_tmpdir();
}

START_TEST(records_in_a_prepared_segment_take_no_page_fault)
{
    char *dir = tmpfs_dir();
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    cg_writer_set_prepare_wake(wake_counter);
    const uint64_t per = CG_BATCH_RECORDS - 1;
    const uint64_t first = (CG_FIRST_SEGMENT_RECORDS / CG_BATCH_RECORDS) * per;
    write_numbered(0, first / 2 + per);
    cg_writer_background(); /* segment 1 made ahead of need, as the watchdog thread does */
    write_numbered(first / 2 + per, first - (first / 2 + per));
    /* Segment 1: 2 x 1024 records, 24 pages. Made but not faulted in, its
     * stores would fault once a page (24). */
    const uint64_t second = (2 * CG_FIRST_SEGMENT_RECORDS / CG_BATCH_RECORDS) * per;
    long before = minor_faults();
    write_numbered(first, second);
    long faults = minor_faults() - before;
#ifndef __SANITIZE_ADDRESS__ /* ASan's shadow and allocator fault on their own (~120 here) */
    ck_assert_msg(faults <= 8, "%ld page faults writing a prepared segment", faults);
#else
    (void)faults;
#endif
    cg_writer_set_prepare_wake(NULL);
    cg_writer_close();
    expect_numbered(dir, first + second);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(zero_fill_writes_zeros_over_its_range_and_nothing_else)
{
    char *dir = testlib_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/junk", dir);
    /* Past one pwritev (16 x 64 KiB) and not a whole block at either end. */
    const size_t size = 3u << 20, off = 4097, len = (1u << 20) + 65536 * 3 + 12345;
    unsigned char *junk = malloc(size), *back = malloc(size);
    ck_assert_ptr_nonnull(junk);
    ck_assert_ptr_nonnull(back);
    memset(junk, 0xa5, size);
    ck_assert_int_eq(testlib_write_file(path, junk, size), 0);
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(cg_pages_zero_fill(fd, off, len), 0);
    ck_assert_int_eq(pread(fd, back, size, 0), (ssize_t)size);
    size_t wrong = 0;
    for (size_t i = 0; i < size; i++)
        wrong += back[i] != (i >= off && i < off + len ? 0 : 0xa5);
    ck_assert_uint_eq(wrong, 0);
    /* Past the end: the file grows to exactly the range's end. */
    ck_assert_int_eq(cg_pages_zero_fill(fd, size, 100), 0);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_int_eq(st.st_size, (off_t)size + 100);
    close(fd);
    free(junk);
    free(back);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

/* In a child with RLIMIT_FSIZE room for the header and the first segment
 * only: writes 3 segments' worth, the second cannot be made. Exits 0 when
 * the first segment's records were taken and some later ones refused. */
static void write_past_file_size_limit(const char *dir, int err_fd)
{
    struct rlimit lim = {CG_HEADER_SIZE + CG_FIRST_SEGMENT_RECORDS * CG_RECORD_SIZE + 4096,
                         RLIM_INFINITY};
    signal(SIGXFSZ, SIG_DFL); /* its default action ends the process */
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0 || dup2(err_fd, STDERR_FILENO) < 0)
        _exit(4);
    struct cg_writer_config cfg = testlib_config(dir);
    if (cg_writer_open(&cfg) != 0)
        _exit(5);
    uint64_t taken = 0, refused = 0;
    for (uint64_t i = 0; i < 3 * CG_FIRST_SEGMENT_RECORDS; i++) {
        struct cg_record *r = cg_writer_reserve(1);
        if (r == NULL) {
            refused++;
            continue;
        }
        testlib_fill_and_publish(r, CG_REC_CALL, 0x1000, taken++, 2);
    }
    cg_writer_close();
    _exit(taken >= CG_FIRST_SEGMENT_RECORDS / 2 && refused > 0 ? 0 : 6);
}

START_TEST(a_file_size_limit_stops_tracing_and_the_program_goes_on)
{
    char *dir = testlib_tmpdir();
    int from_child;
    pid_t child = fork_writer(dir, write_past_file_size_limit, &from_child);
    char out[2048];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof out - 1 && (n = read(from_child, out + got, sizeof out - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(from_child);
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    /* Not SIGXFSZ: the writer stops before a write the limit would refuse. */
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x, stderr: %s",
                  (unsigned)status, out);
    ck_assert_msg(strstr(out, "cuguard: cannot extend trace ") != NULL, "got: %s", out);
    ck_assert_ptr_nonnull(strstr(out, "tracing stopped"));
    char *newline = strchr(out, '\n');
    ck_assert_ptr_nonnull(newline);
    ck_assert_str_eq(newline + 1, ""); /* exactly one line */
    struct cg_reader *rd = open_only_trace(dir);
    ck_assert_uint_eq(cg_reader_header(rd)->end_state, CG_END_CUT_SHORT);
    ck_assert_ptr_nonnull(strstr(cg_reader_header(rd)->cut_short_reason, "cannot extend trace"));
    cg_reader_close(rd);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(tsc_is_used_only_where_it_is_invariant)
{
    const char *flags = "flags\t\t: fpu tsc constant_tsc rep_good nopl nonstop_tsc cpuid";
    ck_assert_int_eq(cg_clock_tsc_usable(1, flags, "tsc\n"), 1);
    ck_assert_int_eq(cg_clock_tsc_usable(0, flags, "tsc\n"), 0);       /* CPUID says no */
    ck_assert_int_eq(cg_clock_tsc_usable(1, flags, "kvm-clock\n"), 0); /* kernel distrusts it */
    ck_assert_int_eq(cg_clock_tsc_usable(1, flags, "tsc-early\n"), 0);
    ck_assert_int_eq(cg_clock_tsc_usable(1, flags, NULL), 0);
    ck_assert_int_eq(cg_clock_tsc_usable(1, "flags : tsc constant_tsc", "tsc"), 0);
    ck_assert_int_eq(cg_clock_tsc_usable(1, "flags : tsc xconstant_tsc nonstop_tsc", "tsc"), 0);
    ck_assert_int_eq(cg_clock_tsc_usable(1, NULL, "tsc"), 0);
}
END_TEST

START_TEST(record_clock_follows_clock_monotonic)
{
    char *dir = testlib_tmpdir();
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    uint64_t previous = cg_now_ns(), backwards = 0, worst = 0;
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 10000; i++) {
            uint64_t t = cg_now_ns();
            backwards += t < previous;
            previous = t;
        }
        if (round % 5 == 4)
            cg_writer_background(); /* re-anchors the TSC line */
        uint64_t mono = cg_clock_monotonic_ns(), t = cg_now_ns();
        uint64_t off = t > mono ? t - mono : mono - t;
        worst = off > worst ? off : worst;
        struct timespec pause = {0, 2000000};
        nanosleep(&pause, NULL);
    }
    cg_writer_close();
    ck_assert_uint_eq(backwards, 0);
    ck_assert_msg(worst < 1000000, "record clock %llu ns away from CLOCK_MONOTONIC",
                  (unsigned long long)worst);
    struct cg_reader *rd = open_only_trace(dir);
    const struct cg_file_header *h = cg_reader_header(rd);
    ck_assert_uint_le(h->clock_source, CG_CLOCK_TSC);
    if (h->clock_source == CG_CLOCK_TSC)
        ck_assert_uint_ne(h->tsc_mult, 0);
    cg_reader_close(rd);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- version 4: batches (format.h "Batches") ---- */

static struct cg_record rec_at(uint8_t kind, uint32_t tid, uint64_t ts, uint64_t arg)
{
    struct cg_record r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    r.tid = tid;
    r.ts_ns = ts;
    r.arg = arg;
    return r;
}

/* Slot order 1 4 2 ARGS 3 5 7 6; order time 1 2 ARGS 3 4 5 6 7: thread 1's
 * record 6 is stamped before its batch (its order time is the batch's),
 * ARGS stays after its CALL, and equal times go by tid. */
static void hand_batched_records(struct cg_record *recs)
{
    recs[0] = rec_at(CG_REC_BATCH, 1, 100, CG_BATCH_RECORDS);
    recs[1] = rec_at(CG_REC_CALL, 1, 110, 1);
    recs[2] = rec_at(CG_REC_CALL, 1, 400, 4);
    recs[64] = rec_at(CG_REC_BATCH, 2, 150, CG_BATCH_RECORDS);
    recs[65] = rec_at(CG_REC_CALL, 2, 200, 2);
    recs[66] = rec_at(CG_REC_ARGS, 2, 900, 100);
    recs[67] = rec_at(CG_REC_CALL, 2, 300, 3);
    recs[68] = rec_at(CG_REC_CALL, 2, 440, 5);
    recs[69] = rec_at(CG_REC_CALL, 2, 450, 7);
    recs[128] = rec_at(CG_REC_BATCH, 1, 450, CG_BATCH_RECORDS);
    recs[129] = rec_at(CG_REC_CALL, 1, 420, 6);
}

START_TEST(reader_merges_batches_by_time)
{
    char *dir = testlib_tmpdir();
    struct cg_file_header h;
    testlib_valid_header(&h);
    h.batch_records = CG_BATCH_RECORDS;
    h.end_state = CG_END_CLEAN;
    h.slots_reserved = 3 * CG_BATCH_RECORDS;
    struct cg_record recs[3 * CG_BATCH_RECORDS];
    memset(recs, 0, sizeof recs);
    hand_batched_records(recs);
    struct cg_reader *rd = reader_over(dir, &h, recs, 3 * CG_BATCH_RECORDS, 0);
    static const uint64_t want[] = {1, 2, 100, 3, 4, 5, 6, 7};
    struct cg_record r;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        ck_assert_int_eq(cg_reader_next(rd, &r), 1);
        ck_assert_uint_eq(r.arg, want[i]);
    }
    ck_assert_int_eq(cg_reader_next(rd, &r), 0); /* zero tails and BATCH records skipped */
    ck_assert_uint_eq(cg_reader_records(rd), 8);
    ck_assert_uint_eq(cg_reader_bad_records(rd), 0);
    cg_reader_rewind(rd);
    const struct cg_record *run;
    size_t n, got = 0;
    while ((n = cg_reader_next_batch(rd, &run)) > 0) { /* runs end where the thread changes */
        for (size_t i = 0; i < n; i++, got++) {
            ck_assert_uint_lt(got, 8);
            ck_assert_uint_eq(run[i].arg, want[got]);
        }
    }
    ck_assert_uint_eq(got, 8);
    cg_reader_close(rd);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

static void *write_one_record(void *arg)
{
    struct cg_record *r = cg_writer_reserve(1);
    ck_assert_ptr_nonnull(r);
    testlib_fill_and_publish(r, CG_REC_CALL, 0, (uint64_t)(uintptr_t)arg, 1);
    return NULL;
}

/* Another thread's record lies after this thread's batch in the file but
 * was written before this thread's second record: it is read between them. */
START_TEST(writer_batches_are_read_in_time_order)
{
    char *dir = testlib_tmpdir();
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    write_one_record((void *)1);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, write_one_record, (void *)2), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    write_one_record((void *)3);
    cg_writer_close();
    struct cg_reader *rd = open_only_trace(dir);
    ck_assert_uint_eq(cg_reader_header(rd)->batch_records, CG_BATCH_RECORDS);
    struct cg_record r;
    uint64_t want = 1;
    while (cg_reader_next(rd, &r)) {
        if (r.kind == CG_REC_CALL)
            ck_assert_uint_eq(r.arg, want++);
        ck_assert_uint_ne(r.kind, CG_REC_BATCH);
    }
    ck_assert_uint_eq(want, 4);
    cg_reader_close(rd);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *tracer_suite(void)
{
    Suite *s = suite_create("tracer");
    TCase *rt = tcase_create("round-trip");
    tcase_set_timeout(rt, 60);
    tcase_add_test(rt, every_record_kind_round_trips);
    tcase_add_test(rt, strings_round_trip);
    tcase_add_test(rt, header_describes_the_process);
    tcase_add_test(rt, reserve_rejects_bad_counts);
    tcase_add_test(rt, reader_merges_batches_by_time);
    tcase_add_test(rt, writer_batches_are_read_in_time_order);
    suite_add_tcase(s, rt);
    TCase *files = tcase_create("files");
    tcase_set_timeout(files, 60);
    tcase_add_test(files, file_is_0600_and_created_dirs_0700);
    tcase_add_test(files, existing_files_are_never_touched);
    tcase_add_test(files, unwritable_dir_warns_once_and_runs_untraced);
    tcase_add_test(files, fork_child_writes_its_own_file);
    tcase_add_test(files, fork_child_without_records_leaves_no_file);
    tcase_add_test(files, sigkill_keeps_every_reported_record);
    suite_add_tcase(s, files);
    TCase *bad = tcase_create("corrupt");
    tcase_set_timeout(bad, 60);
    tcase_add_test(bad, reader_refuses_bad_headers);
    tcase_add_test(bad, reader_refuses_fifo_without_hanging);
    tcase_add_test(bad, reader_skips_bad_records_and_strings);
    tcase_add_test(bad, reader_bounds_string_length);
    tcase_add_test(bad, reader_survives_random_records);
    suite_add_tcase(s, bad);
    TCase *growth = tcase_create("segments and clock");
    tcase_set_timeout(growth, 60);
    tcase_add_test(growth, small_process_leaves_a_small_file);
    tcase_add_test(growth, background_prepares_the_next_segment);
    tcase_add_test(growth, zero_fill_writes_zeros_over_its_range_and_nothing_else);
    tcase_add_test(growth, records_in_a_prepared_segment_take_no_page_fault);
    tcase_add_test(growth, a_file_size_limit_stops_tracing_and_the_program_goes_on);
    tcase_add_test(growth, tsc_is_used_only_where_it_is_invariant);
    tcase_add_test(growth, record_clock_follows_clock_monotonic);
    suite_add_tcase(s, growth);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tracer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
