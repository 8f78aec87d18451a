/*
 * shim/record_fast.h — the inline common path of a traced CALL, POLL or
 * RECORD call.
 *
 * What it is for: the generated wrappers (shim/wrappers.c) of those styles
 * record their usual call inline, with the style known at compile time: no
 * style dispatch, no call into shim/record.c. cg_fast_begin() says whether
 * the call is the usual one: the thread's state belongs to the open trace
 * (one compare against cg_trace_open_generation), no policy, not inside a
 * runtime call and no stack wanted for the api. It then polls the task
 * variable and takes the call site as cg_call_begin() does (inline when
 * nothing changed since the thread's last call) and fills the struct
 * cg_call exactly as cg_call_begin() would, so that the crash guard
 * and cg_call_end() (which the fast path hands every result but success,
 * and every poll while the thread is spinning) see the same call.
 * cg_fast_write() writes the one CALL record as write_one() in
 * shim/record.c does.
 *
 * What it must never do: record anything cg_call_begin()/cg_call_end()
 * would record differently; take a lock, allocate or call out of line on
 * the usual path; be used for a style other than CALL, POLL or RECORD.
 */
#ifndef CUGUARD_SHIM_RECORD_FAST_H
#define CUGUARD_SHIM_RECORD_FAST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
static inline void cg_record_set_tid_site(struct cg_record *r, uint32_t tid, uint32_t site)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t both = (uint64_t)tid | (uint64_t)site << 32;
    memcpy(&r->tid, &both, sizeof both);
#else
    r->tid = tid;
    r->site = site;
#endif
}

/* The usual call of api `id` (style and per_thread constants): fill `c` as
 * cg_call_begin() would and return 1; else 0 (take the full path). */
static inline __attribute__((always_inline)) int cg_fast_begin(struct cg_call *c, unsigned id,
                                                               unsigned style, int per_thread)
{
    struct cg_thread *t = cg_tls.thread;
    const void *caller = cg_tls.caller;
    if (__builtin_expect(t == NULL || t->generation != __atomic_load_n(&cg_trace_open_generation,
                                                                       __ATOMIC_ACQUIRE),
                         0))
        return 0;
    if (__builtin_expect(cg_policy_wanted() || cg_tls.runtime.depth != 0 || cg_stack_wanted(id), 0))
        return 0;
    if (__builtin_expect(!cg_task_unchanged(t), 0))
        cg_task_poll_slow(t);
    if (__builtin_expect(t->last_site_addr == (uintptr_t)caller, 1)) {
        memcpy(&c->tid, &t->tid, 8); /* tid and last_site_id */
    } else {
        c->tid = t->tid;
        c->site = cg_site_id_slow(t, caller);
    }
    c->thread = t;
    c->api = (uint16_t)id;
    c->flags = per_thread ? CG_FLAG_PTSZ : 0;
    c->style = (uint8_t)style;
    c->reserved = NULL;
    c->caller = caller;
    return 1;
}

/* The CALL record of a successful fast call (write_one in shim/record.c). */
static inline __attribute__((always_inline)) void cg_fast_write(const struct cg_call *c,
                                                                unsigned id, int per_thread,
                                                                int32_t result, uint64_t handle,
                                                                uint64_t arg, uint64_t arg2)
{
    if (__builtin_expect(!cg_writer_batch_fits(1), 0)) {
        cg_call_end_plain(c, result, handle, arg, arg2); /* a new batch: write_one() */
        return;
    }
    struct cg_record *r = cg_writer_take(1);
    /* The slot is zero-filled (tracer/writer.h): a field known to be 0 where
     * the wrapper is compiled (arg 0, success, no flag) is not stored. */
    r->handle = handle;
    if (!__builtin_constant_p(arg) || arg != 0)
        r->arg = arg;
    if (!__builtin_constant_p(arg2) || arg2 != 0)
        r->arg2 = arg2;
    r->ts_ns = cg_trace_now();   /* cg_now_ns(), inlined */
    memcpy(&r->tid, &c->tid, 8); /* tid and site */
    (void)result;                /* CUDA_SUCCESS: the zero already there */
    r->api = (uint16_t)id;
    if (per_thread)
        r->flags = CG_FLAG_PTSZ;
    cg_writer_publish(r, CG_REC_CALL);
    cg_watch_last(r);
}

/* After the real call of a fast call: success of CALL/RECORD, or of POLL
 * while the thread is not spinning, is written here; anything else goes
 * to cg_call_end(). */
static inline __attribute__((always_inline)) void
cg_fast_end(const struct cg_call *c, unsigned id, unsigned style, int per_thread, int32_t result,
            uint64_t handle, uint64_t arg, uint64_t arg2, uint64_t extra)
{
    if (__builtin_expect(
            result != CUDA_SUCCESS || (style == CG_STYLE_POLL && c->thread->spins_open != 0), 0)) {
        cg_call_end(c, result, handle, arg, arg2, extra);
        return;
    }
    if (style == CG_STYLE_RECORD)
        __atomic_fetch_add(&cg_record_epoch.value, 1, __ATOMIC_RELEASE);
    cg_fast_write(c, id, per_thread, result, handle, arg, arg2);
}

#endif
