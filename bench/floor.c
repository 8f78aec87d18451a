/*
 * bench/floor.c — the floor of a traced call on this machine, measured in
 * the same run as the shim: what any crash-safe tracer that stamps calls in
 * causal order must pay per record here, with none of cuguard's logic.
 *
 * Usage: floor THREADS RECORDS DIR
 * Prints one line: "floor THREADS STAMP_NS STORE_NS PAGE_NS_PER_RECORD PAGE_NS"
 *   STAMP_NS  per record: `lfence; rdtsc` (the fenced TSC read cuguard's
 *             clock takes, tracer/clock.h) converted to ns with a multiply
 *             and a shift, plus the record's stores, into pages of a
 *             MAP_SHARED file in DIR prepared before timing (median of 5
 *             runs of RECORDS per thread, mean over threads)
 *   STORE_NS  the same without the clock read (stores and publish only)
 *   PAGE_NS_PER_RECORD, PAGE_NS  the kernel's cost of preparing a fresh
 *             4 KiB page of such a file the cheapest way known, which is
 *             the writer's (tracer/pages.c: zeros written, each page
 *             faulted in for writing), per page and per 48-byte record
 * Off x86-64 the clock is clock_gettime(CLOCK_MONOTONIC).
 *
 * What it must never do: time the file's creation or population with the
 * records (the page cost is measured apart), or write outside DIR.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "tracer/format.h"
#include "tracer/pages.h"

#define MAX_THREADS 8
#define RUNS 5
#define PAGE_BYTES 4096u

static unsigned long records;
static int with_clock;
static pthread_barrier_t start_line;

struct worker {
    pthread_t thread;
    struct cg_record *buf;
    unsigned tid;
    double ns[RUNS];
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t stamp(void)
{
#if defined(__x86_64__)
    uint32_t lo, hi;
    __asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi)::"memory");
    uint64_t tsc = ((uint64_t)hi << 32) | lo;
    return (uint64_t)(((unsigned __int128)tsc * 0x5555555Bu) >> 32); /* a made-up rate */
#else
    return now_ns();
#endif
}

/* The timed loop: reserve (a pointer bump), fill, publish with release. */
__attribute__((noinline)) static void measured_loop(struct worker *w)
{
    struct cg_record *r = w->buf;
    for (unsigned long i = 0; i < records; i++, r++) {
        r->handle = i;
        r->ts_ns = with_clock ? stamp() : i;
        r->tid = w->tid;
        r->site = 7;
        r->api = 3;
        __atomic_store_n(&r->kind, CG_REC_CALL, __ATOMIC_RELEASE);
    }
}

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int run = 0; run < RUNS; run++) {
        pthread_barrier_wait(&start_line);
        uint64_t t0 = now_ns();
        measured_loop(w);
        w->ns[run] = (double)(now_ns() - t0) / (double)records;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A MAP_SHARED file of `bytes` in dir, its pages prepared as the writer
 * prepares a segment's (timed into *page_ns when not NULL); NULL on failure. */
static void *map_prepared_file(const char *dir, size_t bytes, double *page_ns)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/floor-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    unlink(path);
    uint64_t t0 = now_ns();
    void *p = MAP_FAILED;
    if (cg_pages_zero_fill(fd, 0, bytes) == 0)
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED)
        cg_pages_touch(p, bytes, cg_pages_fault_around_writable(fd));
    if (page_ns)
        *page_ns = (double)(now_ns() - t0) / (double)(bytes / PAGE_BYTES);
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

/* Median ns per record over RUNS, mean over threads. */
static double run_records(struct worker *w, unsigned threads, int clock)
{
    with_clock = clock;
    pthread_barrier_init(&start_line, NULL, threads);
    for (unsigned i = 0; i < threads; i++)
        pthread_create(&w[i].thread, NULL, work, &w[i]);
    for (unsigned i = 0; i < threads; i++)
        pthread_join(w[i].thread, NULL);
    pthread_barrier_destroy(&start_line);
    double per_run[RUNS];
    for (int run = 0; run < RUNS; run++) {
        per_run[run] = 0;
        for (unsigned i = 0; i < threads; i++)
            per_run[run] += w[i].ns[run] / threads;
    }
    qsort(per_run, RUNS, sizeof per_run[0], cmp_double);
    return per_run[RUNS / 2];
}

/* ns to prepare one fresh 4 KiB page of a MAP_SHARED file in dir. */
static double page_ns(const char *dir)
{
    size_t bytes = 64u << 20;
    double ns = -1;
    void *p = map_prepared_file(dir, bytes, &ns);
    if (!p)
        return -1;
    munmap(p, bytes);
    return ns;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: floor THREADS RECORDS DIR\n");
        return 2;
    }
    unsigned threads = (unsigned)atoi(argv[1]);
    records = strtoul(argv[2], NULL, 10);
    if (threads < 1 || threads > MAX_THREADS || records == 0) {
        fprintf(stderr, "floor: THREADS 1..%d and RECORDS >= 1\n", MAX_THREADS);
        return 2;
    }
    struct worker w[MAX_THREADS];
    size_t bytes = records * sizeof(struct cg_record);
    for (unsigned i = 0; i < threads; i++) {
        w[i].tid = 100 + i;
        w[i].buf = map_prepared_file(argv[3], bytes, NULL);
        if (!w[i].buf) {
            fprintf(stderr, "floor: cannot map %zu bytes in %s\n", bytes, argv[3]);
            return 1;
        }
    }
    double stores = run_records(w, threads, 0);
    double stamped = run_records(w, threads, 1);
    double page = page_ns(argv[3]);
    for (unsigned i = 0; i < threads; i++)
        munmap(w[i].buf, bytes);
    double per_record = page < 0 ? -1 : page * sizeof(struct cg_record) / PAGE_BYTES;
    printf("floor %u %.1f %.1f %.1f %.0f\n", threads, stamped, stores, per_record, page);
    return 0;
}
