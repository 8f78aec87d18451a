/*
 * shim/record.h — turn one wrapped call into its trace records.
 *
 * What it is for: the record builders behind the `style` column of
 * shim/api.def. A generated wrapper calls cg_call_begin() (returns 0 when
 * not tracing: the wrapper then just forwards), cg_call_enter() before a
 * blocking call, and cg_call_end() with the result and the record fields
 * (the usual CALL, POLL and RECORD call is recorded inline instead, by
 * shim/record_fast.h, with the same result). The runtime wrappers bracket their cudart call with
 * cg_runtime_enter() / cg_runtime_leave() so the driver records inside carry CG_FLAG_VIA_RUNTIME
 * and the runtime caller's call site.
 *
 * What it must never do: change a call's arguments or result, call the
 * driver (except cuStreamGetId after a stream create), or lock on the hot
 * path.
 */
#ifndef CUGUARD_SHIM_RECORD_H
#define CUGUARD_SHIM_RECORD_H

#include <cuda.h>
#include <stdint.h>

#include "shim/api.h"
#include "shim/thread.h"

/* The styles that record something before the real call (cg_call_before). */
#define CG_STYLE_HAS_BEFORE(style)                                                                 \
    ((style) == CG_STYLE_BLOCKING || (style) == CG_STYLE_DESTROY ||                                \
     (style) == CG_STYLE_BLOCKING_DESTROY)

struct cg_call {
    struct cg_thread *thread; /* NULL: record without per-thread state */
    uint32_t tid;             /* the caller's kernel tid; next to site: one 8-byte copy */
    uint32_t site;
    uint16_t api;
    uint8_t flags; /* enum cg_record_flags */
    uint8_t style; /* enum cg_style */
    /* Set by cg_call_inside(): the call's record fields as known before the
     * call (out handles 0), and the call this thread was inside before. */
    uint64_t handle, arg, arg2;
    const struct cg_call *outer;
    /* Teardown styles: the record reserved (and stamped) before the call,
     * published by cg_call_end() or the fault handler; NULL otherwise. */
    struct cg_record *reserved;
    const void *caller; /* return address into the caller's code (its stack starts there) */
};

/* The traced call the calling thread is inside the real driver function of,
 * or NULL, is cg_tls.inside (shim/thread.h). Read by the fault handler
 * (shim/crash_guard.c) on the same thread. */

/* Around the real call of a traced call: publish "this thread is inside the
 * driver for `c`" (one TLS load, one TLS store), then take it back. The
 * signal fences keep the compiler from moving the stores across the call. */
static inline void cg_call_inside(struct cg_call *c, uint64_t handle, uint64_t arg, uint64_t arg2)
{
    c->handle = handle;
    c->arg = arg;
    c->arg2 = arg2;
    c->outer = cg_tls.inside;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    cg_tls.inside = c;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void cg_call_outside(const struct cg_call *c)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    cg_tls.inside = c->outer;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Start recording a call of api `id` from return address `caller`. Returns
 * 0 when the call is not traced. */
int cg_call_begin(struct cg_call *c, unsigned id, const void *caller);

/* ENTER record of a blocking call (before the real call). */
void cg_call_enter(const struct cg_call *c, uint64_t handle, uint64_t arg, uint64_t arg2);

/* What a call's style records before the real call: ENTER for BLOCKING; the
 * slot and timestamp of a teardown's record (DESTROY, BLOCKING_DESTROY), so
 * that no create of the freed value can precede it in slot or time order
 * (format.h "Order"). Nothing for the other styles. */
void cg_call_before(struct cg_call *c, uint64_t handle, uint64_t arg, uint64_t arg2);

/* The record(s) of the returned call, per its style. */
void cg_call_end(const struct cg_call *c, int32_t result, uint64_t handle, uint64_t arg,
                 uint64_t arg2, uint64_t extra);

/* cg_call_end for a call that returned success or NOT_READY, of style
 * POLL or CALL: the same records, without the dispatch on the style. */
void cg_call_end_poll(const struct cg_call *c, int32_t result, uint64_t handle, uint64_t arg,
                      uint64_t arg2);
void cg_call_end_plain(const struct cg_call *c, int32_t result, uint64_t handle, uint64_t arg,
                       uint64_t arg2);

/* cg_call_end with the style known where the wrapper is compiled (the
 * generated wrappers): the common styles skip the dispatch. */
static inline void cg_call_end_styled(unsigned style, const struct cg_call *c, int32_t result,
                                      uint64_t handle, uint64_t arg, uint64_t arg2, uint64_t extra)
{
    if (style == CG_STYLE_POLL && (result == CUDA_SUCCESS || result == CUDA_ERROR_NOT_READY))
        cg_call_end_poll(c, result, handle, arg, arg2);
    else if (style == CG_STYLE_CALL && result == CUDA_SUCCESS)
        cg_call_end_plain(c, result, handle, arg, arg2);
    else
        cg_call_end(c, result, handle, arg, arg2, extra);
}

/* CALLBACK record (format.h) of a host callback about to run on the calling
 * (driver) thread; nothing when the trace is not open. */
void cg_record_callback(unsigned api, uint64_t stream, uint64_t callback_id, int32_t status);

/* Runtime marking (per thread, cg_tls.runtime). enter returns the previous
 * mark for leave. */
struct cg_runtime_mark cg_runtime_enter(const void *caller);
void cg_runtime_leave(struct cg_runtime_mark previous);

#endif
