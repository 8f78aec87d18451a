/*
 * writeback.h — the seed scenario (docs/design.md) in C: a producer copies results
 * device→host into pooled pinned buffers, records one event per batch that
 * all the batch's buffers share, and hands each buffer to a watcher thread
 * that polls the event, copies finished buffers out and returns them to the
 * pool; wait_all() spins until nothing is pending. Several "tests" run in a
 * row, each under a PYTEST_CURRENT_TEST task marker.
 *
 * --bug=MODE plants one suspect of the seed scenario (or the real root cause); the
 * comment on enum bug says what each one does.
 *
 * Must never: hang when --timeout is given, or report a checksum it did not
 * compute from the data that actually came back.
 */
#ifndef WORKLOADS_WRITEBACK_H
#define WORKLOADS_WRITEBACK_H

#include <cuda.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum bug {
    BUG_NONE,           /* correct program */
    BUG_LEAK,           /* events, streams and pinned buffers never released */
    BUG_SHARED_DESTROY, /* the watcher destroys a batch's shared event when its first
                           buffer completes; the batch's other buffers query it after */
    BUG_FOREIGN_HANDLE, /* the real root cause: the watcher queries the address of another
                           object instead of the event, gets an error and dies */
    BUG_WATCHER_DIES,   /* the watcher thread dies (an unrelated exception) mid-poll */
    BUG_REUSE_INFLIGHT, /* a per-task timeout gives up on a buffer whose copy is still in
                           flight, returns it to the pool, and the next batch reuses it */
    BUG_STALE_STREAM,   /* one stream kept across tests, each test leaving work on it */
    BUG_HANG,           /* a host function that never returns is enqueued on the stream */
};

struct options {
    enum bug bug;
    unsigned tests, batches, per_batch, buffers, words, work_us;
    unsigned timeout_s; /* 0 = wait forever */
};

/* The test (1-based) from which a bug that stops the run is planted. */
unsigned bug_first_test(const struct options *options);

/* ---- writeback_pool.c: the pinned buffer pool ---- */
struct slot {
    uint32_t *host; /* options.words words of pinned memory */
    struct slot *next_free;
};
/* Allocates options->buffers pinned buffers with cuMemHostAlloc. */
bool pool_create(const struct options *options);
/* A free buffer; waits for one. Exits with status 3 past the deadline. */
struct slot *pool_take(void);
void pool_put(struct slot *slot);
/* cuMemFreeHost of every buffer (which synchronizes the context). */
void pool_destroy(void);

/* ---- writeback_watcher.c: pending tasks, the watcher, wait_all ---- */
struct batch {
    CUevent event;           /* recorded after the batch's copies */
    unsigned remaining;      /* tasks of the batch not yet finished */
    unsigned long not_ready; /* NOT_READY polls of event not yet reported */
};
struct task {
    struct slot *slot;
    struct batch *batch;
    CUevent query_handle; /* what the watcher passes to cuEventQuery */
    uint32_t *result;     /* where the buffer's words go when finished */
    unsigned test;
    struct task *next;
};
/* Starts the watcher thread (it makes context current in itself). */
bool watcher_start(const struct options *options, CUcontext context);
/* Asks the watcher to stop and joins it (at once if it already died). */
void watcher_stop(void);
/* The queue lock: held while a batch is recorded and its tasks appended. */
void tasks_lock(void);
void tasks_unlock(void);
/* Lock held: appends task to the watcher's queue and counts it pending. */
void tasks_append(struct task *task);
/* Spins until no task is pending. Exits with status 3 past the deadline. */
void wait_all(void);
/* Seconds since the epoch of wl_now() after which waits give up (0 = never). */
void set_deadline(double deadline);
/* Exits with status 3 and a message when the deadline has passed. */
void check_deadline(const char *waiting_in);

/* ---- writeback_calls.c: logged driver calls ---- */
CUresult logged_event_create(CUevent *event);
CUresult logged_event_record(CUevent event, CUstream stream);
CUresult logged_event_destroy(CUevent event);
CUresult logged_copy_to_host(void *host, CUdeviceptr device, size_t bytes, CUstream stream);
CUresult logged_copy_to_device(CUdeviceptr device, const void *host, size_t bytes, CUstream stream);
CUresult logged_host_func(CUstream stream, CUhostFn fn, void *data);
CUresult logged_stream_create(CUstream *stream);
CUresult logged_stream_synchronize(CUstream stream);
CUresult logged_stream_destroy(CUstream stream);
CUresult logged_host_alloc(void **pointer, size_t bytes);
CUresult logged_free_host(void *pointer);

#endif
