/*
 * bench/batch_trace.c — cost of taking trace slots: the writer's per-thread
 * batches (tracer/writer.h) beside one shared atomic add per record.
 *
 * Usage: batch_trace MODE THREADS RECORDS DIR
 *   MODE     batch  | shared (the version 3 scheme: one lock xadd on the
 *            shared slot counter per record, into a MAP_SHARED file in DIR;
 *            the thread whose slot starts a 3 MiB chunk prepares it the
 *            way the writer's thread that maps a segment does, tracer/pages.c
 *            (no background thread in either mode): both pay the same
 *            first-touch cost)
 *   THREADS  1..8, RECORDS per thread; DIR gets the batch mode's trace
 * Prints "MODE THREADS NS_PER_RECORD": each record is reserved, filled
 * (ts, tid, three fields) and published with release order. Under
 * callgrind the timed part is the function `measured_loop`.
 *
 * What it must never do: time the file's opening or the threads' start
 * (threads wait at a barrier and each times itself).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tracer/pages.h"
#include "tracer/writer.h"

#define MAX_THREADS 8

static int batch_mode;
static unsigned long records;
static pthread_barrier_t start_line;
static struct cg_writer_slot_counter shared_counter;
static struct cg_record *shared_buf;
static int shared_fd = -1, shared_fault_around;
static uint64_t shared_bytes;
/* The baseline's buffer: a MAP_SHARED file, as a trace is, its chunks
 * prepared as they are reached. */
static struct cg_record *shared_file(const char *dir, size_t bytes)
{
    char path[4096];
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/shared.bin", dir);
    shared_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (shared_fd < 0 || ftruncate(shared_fd, (off_t)bytes) != 0)
        return NULL;
    shared_fault_around = cg_pages_fault_around_writable(shared_fd);
    shared_bytes = bytes;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, shared_fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct cg_record *shared_reserve(void)
{
    uint64_t slot = atomic_fetch_add_explicit(&shared_counter.value, 1, memory_order_relaxed);
    if (__builtin_expect(slot % CG_SEGMENT_RECORDS == 0, 0)) {
        uint64_t off = slot * CG_RECORD_SIZE, bytes = (uint64_t)CG_SEGMENT_RECORDS * CG_RECORD_SIZE;
        if (bytes > shared_bytes - off) /* the last chunk: the buffer's end */
            bytes = shared_bytes - off;
        (void)cg_pages_zero_fill(shared_fd, off, bytes);
        cg_pages_touch((char *)&shared_buf[slot], bytes, shared_fault_around);
    }
    return &shared_buf[slot];
}

__attribute__((noinline)) void measured_loop(unsigned long n, uint32_t tid)
{
    for (unsigned long i = 0; i < n; i++) {
        struct cg_record *r = batch_mode ? cg_writer_reserve(1) : shared_reserve();
        if (r == NULL)
            return;
        r->handle = i;
        r->arg = i;
        r->ts_ns = cg_now_ns();
        r->tid = tid;
        r->api = 1;
        cg_writer_publish(r, CG_REC_CALL);
    }
}

static void *worker(void *arg)
{
    double *ns = arg;
    uint32_t tid = cg_gettid();
    pthread_barrier_wait(&start_line);
    uint64_t t0 = wall_ns();
    measured_loop(records, tid);
    *ns = (double)(wall_ns() - t0) / (double)records;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: batch_trace batch|shared THREADS RECORDS DIR\n");
        return 2;
    }
    batch_mode = strcmp(argv[1], "batch") == 0;
    unsigned threads = (unsigned)atoi(argv[2]);
    records = strtoul(argv[3], NULL, 10);
    if (threads < 1 || threads > MAX_THREADS || records == 0)
        return 2;
    static const char *const names[] = {"", "cuEventQuery"};
    struct cg_writer_config cfg = {.dir = argv[4], .api_names = names, .api_count = 2};
    if (batch_mode && cg_writer_open(&cfg) != 0)
        return 1;
    size_t bytes = (size_t)threads * records * sizeof(struct cg_record);
    shared_buf = batch_mode ? NULL : shared_file(argv[4], bytes);
    if (!batch_mode && shared_buf == NULL)
        return 1;

    pthread_barrier_init(&start_line, NULL, threads);
    pthread_t t[MAX_THREADS];
    double ns[MAX_THREADS], sum = 0;
    for (unsigned i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, worker, &ns[i]);
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        sum += ns[i];
    }
    if (batch_mode)
        cg_writer_close();
    printf("%s %u %.1f\n", argv[1], threads, sum / threads);
    return 0;
}
