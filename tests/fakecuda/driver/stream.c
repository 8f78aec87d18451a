/*
 * stream.c — the stream engine: each stream owns a FIFO of ops run by its
 * own detached worker thread, so completion is truly asynchronous. It also
 * implements the implicit ordering of docs/driver-behaviour.md, "Streams":
 *   - the legacy default stream (one per context) waits, before each op,
 *     for every blocking stream of the context, and every blocking stream
 *     waits for the legacy stream's latest op;
 *   - CU_STREAM_NON_BLOCKING streams do neither;
 *   - the per-thread default stream (one per thread and context) is a
 *     blocking stream, so it is ordered with the legacy stream only.
 * A destroyed stream keeps draining; its worker frees it when empty. A
 * stalled stream (FAKECUDA_STALL_STREAM) has no worker and never runs.
 * Per-thread streams are retired when their thread exits.
 *
 * Must never: run an op before its dependencies completed, free a stream
 * that still has queued work, or keep a process from exiting (workers are
 * detached and hold no lock while they sleep or run user work).
 */
#include "tests/fakecuda/driver/fakecuda.h"

#include <stdlib.h>
#include <time.h>

static unsigned long long next_stream_id = 1;
static unsigned created_streams;
static pthread_key_t thread_exit_key;
static pthread_once_t thread_exit_key_once = PTHREAD_ONCE_INIT;

static bool is_blocking(const struct fc_stream *s)
{
    return (s->flags & CU_STREAM_NON_BLOCKING) == 0;
}

static void sleep_microseconds(unsigned us)
{
    struct timespec delay = {.tv_sec = us / 1000000u, .tv_nsec = (long)(us % 1000000u) * 1000L};
    while (nanosleep(&delay, &delay) != 0) {
    }
}

static void unlink_from_context(struct fc_stream *s)
{
    for (struct fc_stream **link = &s->ctx->streams; *link != NULL; link = &(*link)->next_in_ctx) {
        if (*link == s) {
            *link = s->next_in_ctx;
            return;
        }
    }
}

/* Lock held: frees a retired, drained stream. */
static void stream_free(struct fc_stream *s)
{
    struct fc_context *ctx = s->ctx;
    unlink_from_context(s);
    fc_op_release(s->last_op);
    pthread_cond_destroy(&s->work_ready);
    free(s);
    fc_context_release_if_unused(ctx);
}

/* Lock held: runs the head op with the lock released, then completes it. */
static void run_head_op(struct fc_stream *s, unsigned delay_us)
{
    struct fc_op *op = s->head;
    while (!fc_op_deps_done(op))
        fc_wait_changed();
    fc_unlock();
    if (delay_us > 0)
        sleep_microseconds(delay_us);
    if (op->action != NULL)
        op->action(op);
    fc_lock();
    op->done = true;
    op->done_ms = fc_now_ms();
    fc_op_drop_deps(op);
    s->head = op->next;
    if (s->head == NULL)
        s->tail = NULL;
    op->next = NULL;
    fc_broadcast_changed();
    fc_op_release(op);
}

static void *stream_worker(void *arg)
{
    struct fc_stream *s = arg;
    unsigned delay_us = fc_knob_delay_us();
    fc_lock();
    for (;;) {
        while (s->head == NULL && !s->destroyed)
            fc_wait_on(&s->work_ready);
        if (s->head == NULL)
            break;
        run_head_op(s, delay_us);
    }
    stream_free(s);
    fc_unlock();
    return NULL;
}

static bool start_worker(struct fc_stream *s)
{
    pthread_attr_t attr;
    pthread_t thread;
    if (pthread_attr_init(&attr) != 0)
        return false;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&thread, &attr, stream_worker, s);
    pthread_attr_destroy(&attr);
    return rc == 0;
}

/* Lock held: a new stream in ctx with its worker running (NULL: no memory). */
static struct fc_stream *stream_new(struct fc_context *ctx, enum fc_stream_kind kind,
                                    unsigned flags, int priority)
{
    struct fc_stream *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->ctx = ctx;
    s->kind = kind;
    s->flags = flags;
    s->priority = priority;
    s->id = next_stream_id++;
    s->owner = pthread_self();
    pthread_cond_init(&s->work_ready, NULL);
    if (kind == FC_STREAM_CREATED) {
        created_streams++;
        s->stalled = created_streams == fc_knob_stall_stream();
    }
    if (!s->stalled && !start_worker(s)) {
        pthread_cond_destroy(&s->work_ready);
        free(s);
        return NULL;
    }
    s->next_in_ctx = ctx->streams;
    ctx->streams = s;
    return s;
}

struct fc_stream *fc_stream_create(struct fc_context *ctx, unsigned flags, int priority)
{
    return stream_new(ctx, FC_STREAM_CREATED, flags, priority);
}

struct fc_stream *fc_context_legacy_stream(struct fc_context *ctx)
{
    if (ctx->legacy == NULL)
        ctx->legacy = stream_new(ctx, FC_STREAM_LEGACY, 0, 0);
    return ctx->legacy;
}

/* Thread exit: retire the per-thread default streams the thread owned. */
static void retire_thread_streams(void *unused)
{
    (void)unused;
    pthread_t self = pthread_self();
    fc_lock();
    for (struct fc_context *ctx = fc_contexts(); ctx != NULL; ctx = ctx->next) {
        for (struct fc_stream *s = ctx->streams; s != NULL; s = s->next_in_ctx) {
            if (s->kind == FC_STREAM_PER_THREAD && !s->destroyed && pthread_equal(s->owner, self))
                fc_stream_retire(s);
        }
    }
    fc_unlock();
}

static void create_thread_exit_key(void)
{
    pthread_key_create(&thread_exit_key, retire_thread_streams);
}

static struct fc_stream *per_thread_stream(struct fc_context *ctx)
{
    pthread_t self = pthread_self();
    for (struct fc_stream *s = ctx->streams; s != NULL; s = s->next_in_ctx) {
        if (s->kind == FC_STREAM_PER_THREAD && !s->destroyed && pthread_equal(s->owner, self))
            return s;
    }
    pthread_once(&thread_exit_key_once, create_thread_exit_key);
    pthread_setspecific(thread_exit_key, &thread_exit_key);
    return stream_new(ctx, FC_STREAM_PER_THREAD, 0, 0);
}

CUresult fc_stream_resolve(CUstream handle, bool per_thread, struct fc_stream **out)
{
    if (handle == NULL || handle == CU_STREAM_LEGACY || handle == CU_STREAM_PER_THREAD) {
        struct fc_context *ctx = NULL;
        CUresult rc = fc_current_context(&ctx);
        if (rc != CUDA_SUCCESS)
            return rc;
        bool use_per_thread = handle == CU_STREAM_PER_THREAD || (handle == NULL && per_thread);
        *out = use_per_thread ? per_thread_stream(ctx) : fc_context_legacy_stream(ctx);
        return *out != NULL ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
    }
    *out = fc_handle_find(FC_KIND_STREAM, handle);
    return *out != NULL ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

/* Lock held: adds the legacy-stream ordering to op; false: no memory. */
static bool add_implicit_deps(struct fc_stream *s, struct fc_op *op)
{
    if (s->kind == FC_STREAM_LEGACY) {
        for (struct fc_stream *t = s->ctx->streams; t != NULL; t = t->next_in_ctx) {
            if (t != s && is_blocking(t) && !fc_op_add_dep(op, t->last_op))
                return false;
        }
        return true;
    }
    if (is_blocking(s) && s->ctx->legacy != NULL)
        return fc_op_add_dep(op, s->ctx->legacy->last_op);
    return true;
}

CUresult fc_stream_submit(struct fc_stream *s, struct fc_op *op)
{
    if (!add_implicit_deps(s, op)) {
        fc_op_release(op);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    if (s->tail != NULL)
        s->tail->next = op;
    else
        s->head = op;
    s->tail = op;
    fc_op_retain(op);
    fc_op_release(s->last_op);
    s->last_op = op;
    pthread_cond_signal(&s->work_ready);
    return CUDA_SUCCESS;
}

static bool op_pending(const struct fc_op *op)
{
    return op != NULL && !op->done;
}

bool fc_stream_idle(struct fc_stream *s)
{
    if (op_pending(s->last_op))
        return false;
    if (s->kind != FC_STREAM_LEGACY)
        return true;
    for (struct fc_stream *t = s->ctx->streams; t != NULL; t = t->next_in_ctx) {
        if (is_blocking(t) && op_pending(t->last_op))
            return false;
    }
    return true;
}

void fc_stream_wait_idle(struct fc_stream *s)
{
    if (s->kind != FC_STREAM_LEGACY) {
        struct fc_op *last = s->last_op;
        if (!op_pending(last))
            return;
        fc_op_retain(last);
        fc_op_wait(last);
        fc_op_release(last);
        return;
    }
    /* The legacy stream: wait as an op on it would, via a marker op. */
    struct fc_op *marker = fc_op_new(NULL);
    if (marker == NULL || fc_op_add_dep(marker, s->last_op) == false) {
        fc_op_release(marker);
        fc_context_synchronize(s->ctx);
        return;
    }
    for (struct fc_stream *t = s->ctx->streams; t != NULL; t = t->next_in_ctx) {
        if (is_blocking(t) && !fc_op_add_dep(marker, t->last_op))
            break;
    }
    for (size_t i = 0; i < marker->dep_count; i++)
        fc_op_wait(marker->deps[i]);
    fc_op_release(marker);
}

void fc_stream_retire(struct fc_stream *s)
{
    s->destroyed = true;
    s->handle = NULL;
    if (s->ctx->legacy == s)
        s->ctx->legacy = NULL;
    pthread_cond_signal(&s->work_ready);
}
