/*
 * shim/record.c — the record builders of the api.def styles.
 *
 * What it is for: the implementation of shim/record.h: CALL, ENTER/EXIT,
 * SPIN (via shim/spin.c), STREAM_ID after a stream create and ARGS after
 * cuMemcpyAsync, each filled completely before its kind is published. A
 * teardown (DESTROY, BLOCKING_DESTROY) has its record's slot and time taken
 * before the real call and is published after it (format.h "Order").
 *
 * What it must never do: write a record for a call the shim did not wrap,
 * write two CALL records for one call, or block.
 */
#include "shim/record.h"

#include <cuda.h>
#include <string.h>

#include "shim/api.h"
#include "shim/driver.h"
#include "shim/trace_state.h"
#include "shim/live_errors.h"
#include "shim/record_fast.h"
#include "shim/site.h"
#include "shim/spin.h"
#include "shim/stack.h"
#include "shim/task.h"
#include "shim/watch_slots.h"
#include "tracer/writer.h"

struct cg_runtime_mark cg_runtime_enter(const void *caller)
{
    struct cg_runtime_mark previous = cg_tls.runtime;
    if (cg_tls.runtime.depth == 0)
        cg_tls.runtime.caller = caller;
    cg_tls.runtime.depth++;
    return previous;
}

void cg_runtime_leave(struct cg_runtime_mark previous)
{
    cg_tls.runtime = previous;
}

/* The call's site becomes its stack (shim/stack.h); the innermost frame
 * stays when no stack can be taken now. */
static void take_stack(struct cg_call *c)
{
    uint32_t stack = cg_stack_id(c->thread, c->caller);
    if (stack != 0) {
        c->site = stack;
        c->flags |= CG_FLAG_STACK;
    }
}

/* A failed call is where a finding points: `c` with its stack. */
static const struct cg_call *with_error_stack(const struct cg_call *c, int32_t result,
                                              struct cg_call *copy)
{
    if (result == CUDA_SUCCESS || result == CUDA_ERROR_NOT_READY || CG_RESULT_IS_CRASH(result) ||
        (c->flags & CG_FLAG_STACK) || !cg_stack_enabled())
        return c;
    *copy = *c;
    take_stack(copy);
    return copy;
}

int cg_call_begin(struct cg_call *c, unsigned id, const void *caller)
{
    if (!cg_trace_ready())
        return 0;
    const struct cg_api_info *info = &cg_api_info[id];
    c->api = (uint16_t)id;
    c->style = info->style;
    c->flags = info->per_thread ? CG_FLAG_PTSZ : 0;
    c->thread = cg_thread_self();
    cg_task_poll_thread(c->thread);
    if (cg_tls.runtime.depth > 0) {
        c->flags |= CG_FLAG_VIA_RUNTIME;
        caller = cg_tls.runtime.caller;
    }
    c->site = cg_site_id(c->thread, caller);
    c->tid = c->thread ? c->thread->tid : cg_gettid();
    c->reserved = NULL;
    c->caller = caller;
    if (cg_stack_wanted(id))
        take_stack(c);
    return 1;
}

static void fill_at(struct cg_record *r, const struct cg_call *c, int32_t result, uint64_t handle,
                    uint64_t arg, uint64_t arg2, uint64_t ts_ns)
{
    r->handle = handle;
    r->arg = arg;
    r->arg2 = arg2;
    r->ts_ns = ts_ns;
    cg_record_set_tid_site(r, c->tid, c->site);
    r->result = result;
    r->api = c->api;
    r->flags = c->flags;
}

static void fill(struct cg_record *r, const struct cg_call *c, int32_t result, uint64_t handle,
                 uint64_t arg, uint64_t arg2)
{
    fill_at(r, c, result, handle, arg, arg2, cg_now_ns());
}

void cg_call_enter(const struct cg_call *c, uint64_t handle, uint64_t arg, uint64_t arg2)
{
    struct cg_record *r = cg_writer_reserve(1);
    if (r == NULL)
        return;
    fill(r, c, 0, handle, arg, arg2);
    cg_writer_publish(r, CG_REC_ENTER);
    cg_watch_block(r);
}

/* CALL followed by one more record of `kind2`, reserved together. */
static void write_pair(const struct cg_call *c, int32_t result, uint64_t handle, uint64_t arg,
                       uint64_t arg2, uint8_t kind2, uint64_t handle2, uint64_t arg_2)
{
    struct cg_record *r = cg_writer_reserve(2);
    if (r == NULL)
        return;
    fill(&r[0], c, result, handle, arg, arg2);
    fill(&r[1], c, result, handle2, arg_2, 0);
    cg_writer_publish(&r[0], CG_REC_CALL);
    cg_writer_publish(&r[1], kind2);
    cg_watch_last(&r[0]);
}

static void write_one(const struct cg_call *c, uint8_t kind, int32_t result, uint64_t handle,
                      uint64_t arg, uint64_t arg2)
{
    struct cg_record *r = cg_writer_reserve(1);
    if (r == NULL)
        return;
    fill(r, c, result, handle, arg, arg2);
    cg_writer_publish(r, kind);
    cg_watch_last(r);
}

/* After a successful create: a CONTEXT record when the calling thread's
 * current context (read with the real driver's getters) is not the one it
 * last recorded. arg = device ordinal + 1, 0 when unknown. */
static void note_context(const struct cg_call *c, int32_t result)
{
    cg_ctx_get_current_fn get_current = cg_real_ctx_get_current();
    cg_ctx_get_device_fn get_device = cg_real_ctx_get_device();
    CUcontext ctx = NULL;
    CUdevice device = 0;
    if (result != CUDA_SUCCESS || c->thread == NULL || get_current == NULL ||
        get_current(&ctx) != CUDA_SUCCESS || ctx == NULL ||
        c->thread->context == (uint64_t)(uintptr_t)ctx)
        return;
    uint64_t ordinal = get_device != NULL && get_device(&device) == CUDA_SUCCESS && device >= 0
                           ? (uint64_t)device + 1
                           : 0;
    c->thread->context = (uint64_t)(uintptr_t)ctx;
    struct cg_record *r = cg_writer_reserve(1);
    if (r == NULL)
        return;
    fill(r, c, 0, (uint64_t)(uintptr_t)ctx, ordinal, 0);
    cg_writer_publish(r, CG_REC_CONTEXT);
}

static void end_new_stream(const struct cg_call *c, int32_t result, uint64_t handle, uint64_t arg,
                           uint64_t arg2)
{
    cg_stream_get_id_fn get_id = cg_real_stream_get_id();
    unsigned long long id = 0;
    if (result == CUDA_SUCCESS && handle != 0 && get_id != NULL &&
        get_id((CUstream)(uintptr_t)handle, &id) == CUDA_SUCCESS)
        write_pair(c, result, handle, arg, arg2, CG_REC_STREAM_ID, handle, id);
    else
        write_one(c, CG_REC_CALL, result, handle, arg, arg2);
}

/* A teardown's record: one slot (DESTROY), or ENTER published now plus
 * its EXIT slot (BLOCKING_DESTROY), stamped now, published after the call. */
static void reserve_teardown(struct cg_call *c, uint64_t handle, uint64_t arg, uint64_t arg2)
{
    int blocking = c->style == CG_STYLE_BLOCKING_DESTROY;
    struct cg_record *r = cg_writer_reserve(blocking ? 2 : 1);
    if (r == NULL)
        return;
    uint64_t now = cg_now_ns();
    fill_at(r, c, 0, handle, arg, arg2, now);
    if (blocking) {
        cg_writer_publish(r, CG_REC_ENTER);
        cg_watch_block(r);
        r++;
        fill_at(r, c, 0, handle, arg, arg2, now);
    }
    c->reserved = r;
}

void cg_call_before(struct cg_call *c, uint64_t handle, uint64_t arg, uint64_t arg2)
{
    if (c->style == CG_STYLE_BLOCKING)
        cg_call_enter(c, handle, arg, arg2);
    else if (c->style == CG_STYLE_DESTROY || c->style == CG_STYLE_BLOCKING_DESTROY)
        reserve_teardown(c, handle, arg, arg2);
}

/* Publish the teardown record reserved before the call (or, if that
 * reservation failed, write it now). */
static void end_teardown(const struct cg_call *c, uint8_t kind, int32_t result, uint64_t handle,
                         uint64_t arg, uint64_t arg2)
{
    struct cg_record *r = c->reserved;
    if (r == NULL) {
        write_one(c, kind, result, handle, arg, arg2);
        return;
    }
    r->handle = handle;
    r->arg = arg;
    r->arg2 = arg2;
    r->result = result;
    cg_writer_publish(r, kind);
    cg_watch_last(r);
}

void cg_call_end(const struct cg_call *c, int32_t result, uint64_t handle, uint64_t arg,
                 uint64_t arg2, uint64_t extra)
{
    struct cg_call copy;
    if (__builtin_expect(result != CUDA_SUCCESS && result != CUDA_ERROR_NOT_READY, 0) &&
        !CG_RESULT_IS_CRASH(result))
        cg_live_error_note();
    c = with_error_stack(c, result, &copy);
    switch (c->style) {
    case CG_STYLE_DESTROY:
        end_teardown(c, CG_REC_CALL, result, handle, arg, arg2);
        break;
    case CG_STYLE_BLOCKING_DESTROY:
        cg_watch_unblock();
        end_teardown(c, CG_REC_EXIT, result, handle, arg, arg2);
        break;
    case CG_STYLE_RECORD:
        __atomic_fetch_add(&cg_record_epoch.value, 1, __ATOMIC_RELEASE);
        write_one(c, CG_REC_CALL, result, handle, arg, arg2);
        break;
    case CG_STYLE_POLL:
        if (result == CUDA_ERROR_NOT_READY) {
            cg_spin_not_ready(c->thread, c->api, c->flags, c->site, handle);
            break;
        }
        cg_spin_end(c->thread, c->api, handle);
        write_one(c, CG_REC_CALL, result, handle, arg, arg2);
        break;
    case CG_STYLE_BLOCKING:
        cg_watch_unblock();
        write_one(c, CG_REC_EXIT, result, handle, arg, arg2);
        break;
    case CG_STYLE_NEW_STREAM:
        end_new_stream(c, result, handle, arg, arg2);
        note_context(c, result);
        break;
    case CG_STYLE_CREATE:
        write_one(c, CG_REC_CALL, result, handle, arg, arg2);
        note_context(c, result);
        break;
    case CG_STYLE_WITH_ARGS:
        write_pair(c, result, handle, arg, arg2, CG_REC_ARGS, extra, 0);
        break;
    default:
        write_one(c, CG_REC_CALL, result, handle, arg, arg2);
        break;
    }
}

void cg_call_end_poll(const struct cg_call *c, int32_t result, uint64_t handle, uint64_t arg,
                      uint64_t arg2)
{
    if (result == CUDA_ERROR_NOT_READY) {
        cg_spin_not_ready(c->thread, c->api, c->flags, c->site, handle);
        return;
    }
    cg_spin_end(c->thread, c->api, handle);
    write_one(c, CG_REC_CALL, result, handle, arg, arg2);
}

void cg_call_end_plain(const struct cg_call *c, int32_t result, uint64_t handle, uint64_t arg,
                       uint64_t arg2)
{
    write_one(c, CG_REC_CALL, result, handle, arg, arg2);
}

void cg_fast_end_slow(struct cg_record *r, struct cg_thread *t, const void *caller, unsigned id,
                      unsigned style, int per_thread, int32_t result, uint64_t handle, uint64_t arg,
                      uint64_t arg2, uint64_t extra)
{
    struct cg_call c = {
        .thread = t,
        .tid = r->tid,
        .site = r->site,
        .api = (uint16_t)id,
        .flags = per_thread ? CG_FLAG_PTSZ : 0,
        .style = (uint8_t)style,
        .handle = r->handle,
        .arg = r->arg,
        .arg2 = r->arg2,
        .caller = caller,
    };
    cg_writer_unreserve(r);
    cg_call_end(&c, result, handle, arg, arg2, extra);
}

void cg_record_callback(unsigned api, uint64_t stream, uint64_t callback_id, int32_t status)
{
    struct cg_call c;
    if (!cg_trace_wanted() || !cg_call_begin(&c, api, NULL))
        return;
    struct cg_record *r = cg_writer_reserve(1);
    if (r == NULL)
        return;
    fill(r, &c, 0, stream, callback_id, (uint64_t)(int64_t)status);
    r->site = 0;
    cg_writer_publish(r, CG_REC_CALLBACK);
}
