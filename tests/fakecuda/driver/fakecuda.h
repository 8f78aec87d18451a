/*
 * fakecuda.h — internal declarations shared by the simulated CUDA driver
 * (build/fakecuda/libcuda.so.1). Every driver source includes this header
 * first so cuda.h is read with __CUDA_API_VERSION_INTERNAL: the plain, _v2,
 * _ptsz and _ptds names can then all be defined with their real signatures.
 *
 * Locking model: one process-wide mutex (fc_lock) guards every registry,
 * queue and object; one condition variable (fc_changed) is broadcast
 * whenever an operation completes. Functions documented "lock held" must
 * be called with fc_lock held.
 *
 * Must never: be included by code outside tests/fakecuda/driver/, or
 * expose anything but cu* names from the shared library.
 */
#ifndef FAKECUDA_DRIVER_FAKECUDA_H
#define FAKECUDA_DRIVER_FAKECUDA_H

#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_DRIVER_VERSION 13000
#define FC_DEVICE_COUNT 1
#define FC_DEFAULT_TOTAL_MEMORY ((size_t)16 << 30)
#define FC_TOTAL_MEMORY (fc_knob_total_memory())

/* ---- state.c: global lock, initialization, fork handling ---- */
void fc_lock(void);
void fc_unlock(void);
/* Lock held: sleep until some operation completes (or a spurious wake). */
void fc_wait_changed(void);
/* Lock held: sleep on another condition variable that uses fc_lock. */
void fc_wait_on(pthread_cond_t *cond);
/* Lock held: wake everyone sleeping in fc_wait_changed. */
void fc_broadcast_changed(void);
/* Entry check for APIs that need cuInit: injected failure, then init. */
CUresult fc_enter(const char *api);
/* Entry check for APIs that work before cuInit: injected failure only. */
CUresult fc_enter_uninitialized(const char *api);
/* cuInit's work: marks the driver initialized (fails in a forked child). */
CUresult fc_initialize(void);

/* ---- knobs.c: FAKECUDA_* environment, read once ---- */
unsigned fc_knob_delay_us(void);
/* 1-based index of the created stream that never runs (0 = none). */
unsigned fc_knob_stall_stream(void);
/* Device memory size in bytes (FAKECUDA_MEMORY_MB, else 16 GiB). */
size_t fc_knob_total_memory(void);
/* CUDA_SUCCESS, or the CUresult FAKECUDA_FAIL injects into this call. */
CUresult fc_injected_failure(const char *api);

/* ---- errors.c ---- */
/* The name of an error code, or NULL when the code is unknown. */
const char *fc_error_name(CUresult code);
/* Parses "700" or "CUDA_ERROR_ILLEGAL_ADDRESS"; false when neither. */
bool fc_error_parse(const char *text, CUresult *out);

/* ---- handles.c: handle values and registries (lock held) ---- */
enum fc_kind {
    FC_KIND_CONTEXT,
    FC_KIND_STREAM,
    FC_KIND_EVENT,
    FC_KIND_MODULE,
    FC_KIND_FUNCTION,
    FC_KIND_COUNT
};
/* A fresh handle value for object (the most recently closed one first). */
void *fc_handle_open(enum fc_kind kind, void *object);
/* The object a live handle names, or NULL (never dereferences handle). */
void *fc_handle_find(enum fc_kind kind, const void *handle);
/* Retires a handle; its value goes on top of the kind's free list. */
void fc_handle_close(enum fc_kind kind, const void *handle);
/* Retires every handle of kind whose object satisfies match(object, arg);
 * match may free the object when it returns true. */
void fc_handle_close_matching(enum fc_kind kind, bool (*match)(void *object, void *arg), void *arg);

/* ---- ops.c: units of stream work and their completion (lock held) ---- */
struct fc_op;
typedef void (*fc_op_action)(struct fc_op *op);
struct fc_op {
    int refs;
    bool done;
    double done_ms; /* CLOCK_MONOTONIC time of completion, milliseconds */
    struct fc_op **deps;
    size_t dep_count;
    size_t dep_capacity;
    fc_op_action action; /* NULL for a marker (event record, kernel) */
    void *dst;
    const void *src;
    size_t size;
    void *staging; /* owned copy of pageable source memory, or NULL */
    CUhostFn host_fn;
    void *user_data;
    CUstreamCallback stream_callback; /* cuStreamAddCallback */
    CUstream callback_stream;         /* the stream handle as the caller passed it */
    struct fc_op *next;               /* stream queue link */
};
struct fc_op *fc_op_new(fc_op_action action);
void fc_op_retain(struct fc_op *op);
void fc_op_release(struct fc_op *op);
/* op will not start before dep has completed; false when out of memory. */
bool fc_op_add_dep(struct fc_op *op, struct fc_op *dep);
bool fc_op_deps_done(const struct fc_op *op);
/* Releases op's dependencies (once they are done, so chains never grow). */
void fc_op_drop_deps(struct fc_op *op);
void fc_op_wait(struct fc_op *op);
void fc_op_action_copy(struct fc_op *op);
void fc_op_action_host_fn(struct fc_op *op);
/* Calls op->stream_callback(callback_stream, status, user_data); the status
 * is CUDA_SUCCESS unless FAKECUDA_FAIL names "cuStreamCallbackStatus". */
void fc_op_action_stream_callback(struct fc_op *op);
double fc_now_ms(void);

/* ---- context.c ---- */
struct fc_stream;
struct fc_context {
    CUcontext handle;
    CUdevice device;
    unsigned flags;
    bool primary;
    bool destroyed;
    struct fc_stream *legacy;  /* created lazily */
    struct fc_stream *streams; /* every stream of the context, draining ones too */
    struct fc_context *next;   /* list of every context not yet freed */
};
/* Lock held: the first of every context not yet freed (follow ->next). */
struct fc_context *fc_contexts(void);
/* Lock held: the calling thread's current context, or INVALID_CONTEXT. */
CUresult fc_current_context(struct fc_context **out);
/* Lock held: a live context handle's object, or NULL. */
struct fc_context *fc_context_find(CUcontext handle);
/* Lock held: waits for all work already enqueued in ctx. */
void fc_context_synchronize(struct fc_context *ctx);
/* Lock held: frees ctx once destroyed and without streams. */
void fc_context_release_if_unused(struct fc_context *ctx);

/* ---- stream.c ---- */
enum fc_stream_kind { FC_STREAM_CREATED, FC_STREAM_LEGACY, FC_STREAM_PER_THREAD };
struct fc_stream {
    CUstream handle; /* NULL once destroyed or for implicit streams */
    struct fc_context *ctx;
    enum fc_stream_kind kind;
    unsigned flags;
    int priority;
    unsigned long long id;
    pthread_t owner; /* the thread of a per-thread default stream */
    bool destroyed;
    bool stalled;
    struct fc_op *head;
    struct fc_op *tail;
    struct fc_op *last_op;
    pthread_cond_t work_ready;
    struct fc_stream *next_in_ctx;
};
/*
 * Lock held. Resolves a CUstream argument: 0 means the legacy stream, or
 * the per-thread stream when per_thread (a _ptsz/_ptds entry point);
 * CU_STREAM_LEGACY and CU_STREAM_PER_THREAD are honoured anywhere.
 */
CUresult fc_stream_resolve(CUstream handle, bool per_thread, struct fc_stream **out);
/* Lock held: a created stream in ctx, its worker started (NULL: no memory). */
struct fc_stream *fc_stream_create(struct fc_context *ctx, unsigned flags, int priority);
/* Lock held: queues op, taking over the caller's reference (released on error). */
CUresult fc_stream_submit(struct fc_stream *stream, struct fc_op *op);
/* Lock held: true when everything enqueued on stream so far has run. */
bool fc_stream_idle(struct fc_stream *stream);
/* Lock held: waits for everything enqueued on stream so far. */
void fc_stream_wait_idle(struct fc_stream *stream);
/* Lock held: marks a stream destroyed; its worker drains it, then frees it. */
void fc_stream_retire(struct fc_stream *stream);
/* Lock held: the legacy stream of ctx, created on first use (NULL: no memory). */
struct fc_stream *fc_context_legacy_stream(struct fc_context *ctx);

/* ---- event.c ---- */
/* Lock held: forgets every event of ctx (context destroy). */
void fc_events_forget_context(struct fc_context *ctx);

/* ---- memory.c ---- */
/* Lock held: true when [ptr, ptr+size) lies in pinned (page-locked) memory. */
bool fc_pinned_contains(const void *ptr, size_t size);
/* Lock held: true when [ptr, ptr+size) lies in device or mapped pinned memory. */
bool fc_device_range_valid(CUdeviceptr ptr, size_t size);

#endif
