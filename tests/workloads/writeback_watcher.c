/*
 * writeback_watcher.c — the writeback workload's watcher thread, its queue
 * of pending tasks and wait_all(). The watcher polls each task's event
 * every millisecond; a finished buffer is copied out and returned to the
 * pool, and the batch's shared event is destroyed by its last task. Any
 * error from cuEventQuery ends the watcher like an uncaught exception ends
 * a Python thread: with the remaining tasks still in hand.
 *
 * Must never: block past the deadline in wait_all, or finish a task whose
 * event it did not see complete (except as --bug=reuse-inflight plants).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/workloads/common.h"
#include "tests/workloads/writeback.h"

static const struct options *watcher_options;
static CUcontext watcher_context;
static pthread_t watcher_thread;
static atomic_bool stop_requested;
static atomic_uint pending;
static _Atomic double deadline_at;

static pthread_mutex_t tasks_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct task *queue_head;
static struct task **queue_tail = &queue_head;

void tasks_lock(void)
{
    pthread_mutex_lock(&tasks_mutex);
}

void tasks_unlock(void)
{
    pthread_mutex_unlock(&tasks_mutex);
}

void tasks_append(struct task *task)
{
    task->next = NULL;
    *queue_tail = task;
    queue_tail = &task->next;
    atomic_fetch_add(&pending, 1);
}

void set_deadline(double deadline)
{
    atomic_store(&deadline_at, deadline);
}

void check_deadline(const char *waiting_in)
{
    double deadline = atomic_load(&deadline_at);
    if (deadline > 0 && wl_now() > deadline) {
        unsigned pending_tasks = atomic_load(&pending);
        wl_print("timeout %s pending=%u\n", waiting_in, pending_tasks);
        fprintf(stderr, "writeback: %s still waiting for %u task(s) at the --timeout; giving up\n",
                waiting_in, pending_tasks);
        exit(3);
    }
}

void wait_all(void)
{
    while (atomic_load(&pending) != 0) {
        check_deadline("wait_all");
        wl_sleep_us(100);
    }
}

/* Whether the planted bug is active for a task of test `test`. */
static bool planted(enum bug bug, unsigned test)
{
    return watcher_options->bug == bug && test >= bug_first_test(watcher_options);
}

/* Copies the buffer out, returns it to the pool, releases the batch's share
 * of the event and the task itself. Lock held. */
static void finish_task(struct task *task)
{
    memcpy(task->result, task->slot->host, watcher_options->words * sizeof(uint32_t));
    pool_put(task->slot);
    struct batch *batch = task->batch;
    batch->remaining--;
    bool last = batch->remaining == 0;
    bool destroy_now = planted(BUG_SHARED_DESTROY, task->test) ? batch->event != NULL : last;
    if (destroy_now && watcher_options->bug != BUG_LEAK) {
        logged_event_destroy(batch->event);
        batch->event = NULL; /* the other tasks keep their copy of the handle */
    }
    if (last) {
        free(batch);
    }
    free(task);
    atomic_fetch_sub(&pending, 1);
}

static unsigned count_tasks(void)
{
    unsigned n = 0;
    for (const struct task *t = queue_head; t != NULL; t = t->next) {
        n++;
    }
    return n;
}

/* Why the watcher stops polling task after a NOT_READY result, or NULL. */
static const char *abandon_reason(const struct task *task)
{
    if (planted(BUG_WATCHER_DIES, task->test)) {
        return "dies";
    }
    if (planted(BUG_REUSE_INFLIGHT, task->test)) {
        return "times out";
    }
    return NULL;
}

/* One pass over the queue. Lock held. Returns false when the watcher dies. */
static bool sweep(void)
{
    struct task **link = &queue_head;
    while (*link != NULL) {
        struct task *task = *link;
        CUresult r = cuEventQuery(task->query_handle);
        if (r == CUDA_ERROR_NOT_READY) {
            task->batch->not_ready++;
            const char *reason = abandon_reason(task);
            if (reason == NULL) {
                link = &task->next;
                continue;
            }
            wl_spin("cuEventQuery", task->query_handle, task->batch->not_ready);
            task->batch->not_ready = 0;
            if (strcmp(reason, "dies") == 0) {
                wl_print("watcher: dies (simulated exception) with %u task(s) in hand\n",
                         count_tasks());
                return false;
            }
            wl_print("watcher: task of test %u times out; buffer %p returned unfinished\n",
                     task->test, (void *)task->slot->host);
        } else {
            wl_spin("cuEventQuery", task->query_handle, task->batch->not_ready);
            task->batch->not_ready = 0;
            wl_call("cuEventQuery", task->query_handle, 0, 0, r);
            if (r != CUDA_SUCCESS) {
                wl_print("watcher: cuEventQuery failed with %d; exiting with %u task(s) in hand\n",
                         (int)r, count_tasks());
                return false;
            }
        }
        *link = task->next;
        if (*link == NULL) {
            queue_tail = link;
        }
        finish_task(task);
    }
    return true;
}

static void *watcher_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "watcher");
    if (cuCtxSetCurrent(watcher_context) != CUDA_SUCCESS) {
        wl_print("watcher: cannot make the context current; exiting\n");
        return NULL;
    }
    while (!atomic_load(&stop_requested)) {
        tasks_lock();
        bool alive = sweep();
        tasks_unlock();
        if (!alive) {
            return NULL;
        }
        wl_sleep_us(1000);
    }
    return NULL;
}

bool watcher_start(const struct options *options, CUcontext context)
{
    watcher_options = options;
    watcher_context = context;
    return pthread_create(&watcher_thread, NULL, watcher_main, NULL) == 0;
}

void watcher_stop(void)
{
    atomic_store(&stop_requested, true);
    pthread_join(watcher_thread, NULL);
}
