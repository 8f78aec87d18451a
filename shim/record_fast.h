/*
 * shim/record_fast.h — the inline common path of a traced CALL, POLL or
 * RECORD call.
 *
 * What it is for: the generated wrappers (shim/wrappers.c) of those styles
 * record their usual call inline, with the style known at compile time: no
 * style dispatch, no call into shim/record.c. cg_fast_begin() says whether
 * the call is the usual one: the thread's state belongs to the open trace
 * (one compare against cg_trace_open_generation), no policy, not inside a
 * runtime call or another traced call, and no stack wanted for the api.
 * It then polls the task variable and takes the call site as
 * cg_call_begin() does (inline when nothing changed since the thread's
 * last call), reserves the CALL record and fills it but for ts_ns and kind
 * before the real call: that record is what the crash guard publishes if
 * the driver faults (cg_tls.inside_slot), so the usual call builds no
 * struct cg_call. cg_fast_end() stamps and publishes it after the call, as
 * write_one() in shim/record.c would write it; any other outcome (an
 * error, a NOT_READY poll, a poll while the thread spins) gives the slot
 * back and goes to cg_call_end() as the full path would.
 *
 * What it must never do: record anything cg_call_begin()/cg_call_end()
 * would record differently; publish a record before its real call
 * returned; take a lock, allocate or call out of line on the usual path;
 * be used for a style other than CALL, POLL or RECORD.
 */
#ifndef CUGUARD_SHIM_RECORD_FAST_H
#define CUGUARD_SHIM_RECORD_FAST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cuda.h>

#include "shim/policy.h"
#include "shim/record.h"
#include "shim/site.h"
#include "shim/spin.h"
#include "shim/stack.h"
#include "shim/task.h"
#include "shim/thread.h"
#include "shim/watch_slots.h"
#include "tracer/clock.h"
#include "tracer/writer.h"

/* The styles with a fast path. */
#define CG_STYLE_IS_FAST(style)                                                                    \
    ((style) == CG_STYLE_CALL || (style) == CG_STYLE_POLL || (style) == CG_STYLE_RECORD)

/* tid and site are copied as one 8-byte move (they are adjacent). */
_Static_assert(offsetof(struct cg_record, site) == offsetof(struct cg_record, tid) + 4,
               "tid and site are adjacent");
_Static_assert(offsetof(struct cg_call, site) == offsetof(struct cg_call, tid) + 4,
               "tid and site are adjacent");
_Static_assert(offsetof(struct cg_thread, last_site_id) == offsetof(struct cg_thread, tid) + 4,
               "tid and last_site_id are adjacent");
/* tid and site as the 8 bytes of struct cg_record's tid and site. */
static inline uint64_t cg_tid_site(uint32_t tid, uint32_t site)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (uint64_t)tid | (uint64_t)site << 32;
#else
    return (uint64_t)tid << 32 | site;
#endif
}

static inline void cg_record_set_tid_site(struct cg_record *r, uint32_t tid, uint32_t site)
{
    uint64_t both = cg_tid_site(tid, site);
    memcpy(&r->tid, &both, sizeof both);
}

/* The usual call of api `id` (per_thread constant), with the record
 * fields known before the real call: reserve its CALL record, fill every
 * field but ts_ns and kind, publish it to the crash guard as the call the
 * thread is inside (cg_tls.inside_slot) and return it, with the thread's
 * state and the caller in *t and *caller; NULL: take the full path. The
 * slot is reserved before the real call and stamped after it: trace order
 * is by time (tracer/format.h "Batches"). */
static inline __attribute__((always_inline)) struct cg_record *
cg_fast_begin(unsigned id, int per_thread, uint64_t handle, uint64_t arg, uint64_t arg2,
              struct cg_thread **thread, const void **caller_out)
{
    struct cg_thread *t = cg_tls.thread;
    const void *caller = cg_tls.caller;
    if (__builtin_expect(t == NULL || t->generation != __atomic_load_n(&cg_trace_open_generation,
                                                                       __ATOMIC_ACQUIRE),
                         0))
        return NULL;
    if (__builtin_expect(cg_policy_wanted() || cg_tls.runtime.depth != 0 || cg_stack_wanted(id) ||
                             ((uintptr_t)cg_tls.inside | (uintptr_t)cg_tls.inside_slot) != 0,
                         0))
        return NULL; /* a policy, a runtime call, a stack, or inside another traced call */
    if (__builtin_expect(!cg_task_unchanged(t), 0))
        cg_task_poll_slow(t);
    uint64_t tid_site; /* tid and last_site_id, as one 8-byte move */
    if (__builtin_expect(t->last_site_addr == (uintptr_t)caller, 1))
        memcpy(&tid_site, &t->tid, 8);
    else
        tid_site = cg_tid_site(t->tid, cg_site_id_slow(t, caller));
    struct cg_record *r;
    if (__builtin_expect(cg_writer_batch_fits(1), 1))
        r = cg_writer_take(1);
    else if ((r = cg_writer_reserve_batch(1)) == NULL)
        return NULL;
    /* The slot is zero-filled (tracer/writer.h): a field known to be 0 where
     * the wrapper is compiled (arg 0, success, no flag) is not stored. */
    r->handle = handle;
    if (!__builtin_constant_p(arg) || arg != 0)
        r->arg = arg;
    if (!__builtin_constant_p(arg2) || arg2 != 0)
        r->arg2 = arg2;
    memcpy(&r->tid, &tid_site, 8);
    r->api = (uint16_t)id;
    if (per_thread)
        r->flags = CG_FLAG_PTSZ;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    cg_tls.inside_slot = r;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    *thread = t;
    *caller_out = caller;
    return r;
}

/* A fast call that did not end as the usual one (an error, a NOT_READY
 * poll, a poll ending a spin): `r` from cg_fast_begin() is given back and
 * the call goes to cg_call_end() as the full path would hand it. */
void cg_fast_end_slow(struct cg_record *r, struct cg_thread *t, const void *caller, unsigned id,
                      unsigned style, int per_thread, int32_t result, uint64_t handle, uint64_t arg,
                      uint64_t arg2, uint64_t extra);

/* After the real call of a fast call: success of CALL/RECORD, or of POLL
 * while the thread is not spinning, stamps and publishes `r` here (fields
 * the call stored through an out pointer, CG_OUT, stored now: in_* are the
 * values cg_fast_begin() wrote); anything else goes to cg_fast_end_slow(). */
static inline __attribute__((always_inline)) void
cg_fast_end(struct cg_record *r, struct cg_thread *t, const void *caller, unsigned id,
            unsigned style, int per_thread, int32_t result, uint64_t in_handle, uint64_t in_arg,
            uint64_t in_arg2, uint64_t handle, uint64_t arg, uint64_t arg2, uint64_t extra)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    cg_tls.inside_slot = NULL;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (__builtin_expect(result != CUDA_SUCCESS || (style == CG_STYLE_POLL && t->spins_open != 0),
                         0)) {
        cg_fast_end_slow(r, t, caller, id, style, per_thread, result, handle, arg, arg2, extra);
        return;
    }
    if (style == CG_STYLE_RECORD)
        __atomic_fetch_add(&cg_record_epoch.value, 1, __ATOMIC_RELEASE);
    /* Equal where the field is an argument (the compiler drops the test). */
    if (handle != in_handle)
        r->handle = handle;
    if (arg != in_arg)
        r->arg = arg;
    if (arg2 != in_arg2)
        r->arg2 = arg2;
    r->ts_ns = cg_trace_now(); /* cg_now_ns(), inlined */
    (void)result;              /* CUDA_SUCCESS: the zero already there */
    cg_writer_publish(r, CG_REC_CALL);
    cg_watch_last(r);
}

#endif
