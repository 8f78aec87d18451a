/*
 * bench/gen_trace.c — write a large synthetic trace for the analyzer
 * benchmark.
 *
 * Usage: gen_trace RECORDS OUT.cgt
 * The trace is a steady-state test suite: 8 threads, each looping over
 * create event -> kernel launch -> async copy into a pinned buffer ->
 * record -> a spin of NOT_READY polls -> successful query -> (every 8th
 * cycle) another stream waits on the event, (every 16th) a blocking
 * cuStreamSynchronize (ENTER/EXIT) -> destroy, with a stream (and its
 * cuStreamGetId record) and a pinned buffer recycled every 64 cycles,
 * handle values reused the way a driver reuses them, and a new test (task)
 * every 256 rounds. Every record is one the replay and the happens-before
 * model act on (objects, snapshots, polls, copies, joins, task epochs), and
 * the program is correct: the report must have no error and no warning
 * beyond the objects live when the trace stops. Its header says no policy
 * was on, as the library writes it for a run without CUGUARD_POLICY (so
 * the replay leaves out what only a drain reports). The live set stays small
 * while the trace grows: what the analyzer's memory must not grow with.
 *
 * What it must never do: write anything but OUT, or need the shim.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/trace_builder.h"

#define THREADS 8u

struct ids {
    uint16_t ev_create, record, query, destroy, copy, st_create, st_destroy, alloc, free_host;
    uint16_t launch, st_sync, wait_event;
};

#define TASKS 64
#define ROUNDS_PER_TASK 256u

static struct cg_record make(uint8_t kind, uint32_t tid, uint16_t api, uint64_t handle,
                             uint64_t arg, uint64_t arg2, int32_t result, uint64_t ts)
{
    struct cg_record r = {.handle = handle,
                          .arg = arg,
                          .arg2 = arg2,
                          .ts_ns = ts,
                          .tid = tid,
                          .site = 1,
                          .result = result,
                          .api = api,
                          .kind = kind};
    return r;
}

/* One cycle of thread t; returns the number of records written. */
static uint64_t cycle(struct tb *b, const struct ids *id, uint32_t t, uint64_t n, uint64_t *ts)
{
    uint32_t tid = 1000 + t;
    uint64_t ev = 0xe0000000ull + t * 0x100;
    uint64_t st = 0x50000000ull + t * 0x100, buf = 0x70000000ull + t * 0x100000;
    uint64_t other = 0x50000000ull + ((t + 1) % THREADS) * 0x100; /* a neighbour's stream */
    struct cg_record r[16];
    int k = 0;
    if (n % 64 == 0) {
        r[k++] = make(CG_REC_CALL, tid, id->st_create, st, 1, 0, 0, (*ts)++);
        r[k++] = make(CG_REC_STREAM_ID, tid, 0, st, n * THREADS + t + 1, 0, 0, (*ts)++);
        r[k++] = make(CG_REC_CALL, tid, id->alloc, buf, 65536, 0, 0, (*ts)++);
    }
    r[k++] = make(CG_REC_CALL, tid, id->ev_create, ev, 0, 0, 0, (*ts)++);
    r[k++] = make(CG_REC_CALL, tid, id->launch, st, 0x400000, 0, 0, (*ts)++);
    r[k++] = make(CG_REC_CALL, tid, id->copy, st, buf, 65536, 0, (*ts)++);
    r[k++] = make(CG_REC_CALL, tid, id->record, ev, st, 0, 0, (*ts)++);
    r[k++] = make(CG_REC_SPIN, tid, id->query, ev, 100, *ts + 50, 600, *ts);
    *ts += 100;
    r[k++] = make(CG_REC_CALL, tid, id->query, ev, 0, 0, 0, (*ts)++);
    if (n % 8 == 4 && n % 64 != 0 && n % 64 != 63) /* the neighbour's stream is live */
        r[k++] = make(CG_REC_CALL, tid, id->wait_event, other, ev, 0, 0, (*ts)++);
    if (n % 16 == 15) {
        r[k++] = make(CG_REC_ENTER, tid, id->st_sync, st, 0, 0, 0, (*ts)++);
        r[k++] = make(CG_REC_EXIT, tid, id->st_sync, st, 0, 0, 0, (*ts)++);
    }
    r[k++] = make(CG_REC_CALL, tid, id->destroy, ev, 0, 0, 0, (*ts)++);
    if (n % 64 == 63) {
        r[k++] = make(CG_REC_CALL, tid, id->st_destroy, st, 0, 0, 0, (*ts)++);
        r[k++] = make(CG_REC_CALL, tid, id->free_host, buf, 0, 0, 0, (*ts)++);
    }
    for (int i = 0; i < k; i++)
        tb_append(b, &r[i]);
    return (uint64_t)k;
}

/* --chain S: S streams, each waiting on the previous stream's event
 * (kernel, wait, record), then one synchronize of the last stream that
 * proves them all, and every destroy. */
static int write_chain(uint64_t streams, const char *path)
{
    struct tb *b = tb_open(path, 4243, "./bench-chain");
    if (!b) {
        perror(path);
        return 1;
    }
    tb_thread_start(b, 1000, "chain");
    for (uint64_t k = 0; k < streams; k++) {
        uint64_t st = 0x100000 + k * 16, ev = 0x90000000 + k * 16;
        tb_call(b, 1000, "cuStreamCreate", st, 1, 0);
        tb_call(b, 1000, "cuEventCreate", ev, 0, 0);
        tb_call(b, 1000, "cuLaunchKernel", st, 0x4000, 0);
        if (k)
            tb_record(b, CG_REC_CALL, 1000, "cuStreamWaitEvent", st, ev - 16, 0, 0, 0, 0);
        tb_call(b, 1000, "cuEventRecord", ev, st, 0);
    }
    tb_enter(b, 1000, "cuStreamSynchronize", 0x100000 + (streams - 1) * 16, 0);
    tb_exit(b, 1000, "cuStreamSynchronize", 0x100000 + (streams - 1) * 16, 0, 0);
    for (uint64_t k = 0; k < streams; k++) {
        tb_call(b, 1000, "cuEventDestroy_v2", 0x90000000 + k * 16, 0, 0);
        tb_call(b, 1000, "cuStreamDestroy_v2", 0x100000 + k * 16, 0, 0);
    }
    tb_process_exit(b, 1000);
    if (tb_close(b) != 0) {
        fprintf(stderr, "gen_trace: could not write %s\n", path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--chain") == 0) {
        uint64_t streams = strtoull(argv[2], NULL, 10);
        if (streams == 0) {
            fprintf(stderr, "gen_trace: --chain needs a stream count above 0\n");
            return 2;
        }
        return write_chain(streams, argv[3]);
    }
    if (argc != 3) {
        fprintf(stderr, "usage: gen_trace RECORDS OUT.cgt | gen_trace --chain STREAMS OUT.cgt\n");
        return 2;
    }
    uint64_t want = strtoull(argv[1], NULL, 10);
    struct tb *b = tb_open(argv[2], 4242, "./bench-synthetic");
    if (!b) {
        perror(argv[2]);
        return 1;
    }
    b->hdr.policies = CG_HDR_POLICIES_KNOWN; /* a run without CUGUARD_POLICY, as the shim says it */
    struct ids id = {
        tb_api(b, "cuEventCreate"),        tb_api(b, "cuEventRecord"),
        tb_api(b, "cuEventQuery"),         tb_api(b, "cuEventDestroy_v2"),
        tb_api(b, "cuMemcpyDtoHAsync_v2"), tb_api(b, "cuStreamCreate"),
        tb_api(b, "cuStreamDestroy_v2"),   tb_api(b, "cuMemHostAlloc"),
        tb_api(b, "cuMemFreeHost"),        tb_api(b, "cuLaunchKernel"),
        tb_api(b, "cuStreamSynchronize"),  tb_api(b, "cuStreamWaitEvent"),
    };
    static char names[TASKS][64];
    for (int i = 0; i < TASKS; i++)
        snprintf(names[i], sizeof names[i], "tests/test_solver.py::test_case[%d]", i);
    tb_string(b, 1000, "bench.c:1");
    for (uint32_t t = 0; t < THREADS; t++)
        tb_thread_start(b, 1000 + t, "bench-worker");
    uint64_t ts = b->now_ns, n = 0;
    while (b->records < want) {
        if (n % ROUNDS_PER_TASK == 0) {
            b->now_ns = ts;
            tb_task(b, 1000, names[(n / ROUNDS_PER_TASK) % TASKS], 0);
            ts = b->now_ns;
        }
        for (uint32_t t = 0; t < THREADS && b->records < want; t++)
            cycle(b, &id, t, n, &ts);
        n++;
    }
    b->now_ns = ts;
    tb_process_exit(b, 1000);
    if (tb_close(b) != 0) {
        fprintf(stderr, "gen_trace: could not write %s\n", argv[2]);
        return 1;
    }
    return 0;
}
