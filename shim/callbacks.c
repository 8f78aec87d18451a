/*
 * shim/callbacks.c — cuStreamAddCallback(_ptsz): the callback runs through
 * a trampoline that says when it ran.
 *
 * What it is for: a host callback that ran proves the work enqueued before
 * it completed (docs/driver-behaviour.md), so the model must see it. When tracing, the
 * wrapper hands the driver a trampoline and a small heap box (fn, user
 * data, callback id); the trampoline writes a CALLBACK record (format.h),
 * frees the box and calls the program's function with the original
 * arguments. The enqueue's CALL record (handle = stream, arg = function,
 * arg2 = callback id) is reserved before the real call, so it precedes the
 * CALLBACK even when the driver runs the callback before the enqueue
 * returns. If the real enqueue fails, the box is freed at once.
 *
 * What it must never do: change what the callback receives or when it
 * runs, trampoline when not tracing, or leak a box. Policies do not apply
 * to these two entry points.
 */
#include "shim/callbacks.h"

#include <stdint.h>
#include <stdlib.h>

#include "shim/api.h"
#include "shim/driver.h"
#include "shim/lifecycle.h"
#include "shim/record.h"

#define CG_U64(x) ((uint64_t)(uintptr_t)(x))

typedef CUresult(CUDAAPI *add_callback_fn)(CUstream, CUstreamCallback, void *, unsigned int);

struct callback_box {
    CUstreamCallback fn;
    void *user_data;
    uint64_t id;
    unsigned api;
};

static uint64_t callback_ids;

static void CUDA_CB trampoline(CUstream stream, CUresult status, void *data)
{
    struct callback_box box = *(struct callback_box *)data;
    free(data);
    cg_record_callback(box.api, CG_U64(stream), box.id, (int32_t)status);
    box.fn(stream, status, box.user_data);
}

static CUresult traced_add(unsigned id, add_callback_fn real, const void *caller, CUstream stream,
                           CUstreamCallback fn, void *user_data, unsigned int flags)
{
    struct cg_call call;
    struct callback_box *box = NULL;
    if (fn == NULL || !cg_trace_wanted() || !cg_call_begin(&call, id, caller) ||
        (box = malloc(sizeof *box)) == NULL)
        return real(stream, fn, user_data, flags);
    box->fn = fn;
    box->user_data = user_data;
    box->id = __atomic_add_fetch(&callback_ids, 1, __ATOMIC_RELAXED);
    box->api = id;
    uint64_t callback_id = box->id;
    call.style = CG_STYLE_DESTROY; /* reserved before the call: see above */
    cg_call_before(&call, CG_U64(stream), CG_U64(fn), callback_id);
    cg_call_inside(&call, CG_U64(stream), CG_U64(fn), callback_id);
    CUresult rc = real(stream, trampoline, box, flags);
    cg_call_outside(&call);
    if (rc != CUDA_SUCCESS)
        free(box);
    cg_call_end(&call, rc, CG_U64(stream), CG_U64(fn), callback_id, 0);
    return rc;
}

static CUresult add_callback(unsigned id, const void *caller, CUstream stream, CUstreamCallback fn,
                             void *user_data, unsigned int flags)
{
    add_callback_fn real = (add_callback_fn)cg_real(id);
    if (real == NULL)
        return cg_missing_real(id);
    if (__atomic_load_n(&cg_forward_only, __ATOMIC_RELAXED))
        return real(stream, fn, user_data, flags);
    return traced_add(id, real, caller, stream, fn, user_data, flags);
}

CUresult CUDAAPI cg_wrap_cuStreamAddCallback(CUstream hStream, CUstreamCallback callback,
                                             void *userData, unsigned int flags)
{
    return add_callback(CG_ID_cuStreamAddCallback, __builtin_return_address(0), hStream, callback,
                        userData, flags);
}

CUresult CUDAAPI cg_wrap_cuStreamAddCallback_ptsz(CUstream hStream, CUstreamCallback callback,
                                                  void *userData, unsigned int flags)
{
    return add_callback(CG_ID_cuStreamAddCallback_ptsz, __builtin_return_address(0), hStream,
                        callback, userData, flags);
}

__attribute__((visibility("default"))) CUresult CUDAAPI
cuStreamAddCallback(CUstream hStream, CUstreamCallback callback, void *userData, unsigned int flags)
    __attribute__((alias("cg_wrap_cuStreamAddCallback")));

__attribute__((visibility("default"))) CUresult CUDAAPI cuStreamAddCallback_ptsz(
    CUstream hStream, CUstreamCallback callback, void *userData, unsigned int flags)
    __attribute__((alias("cg_wrap_cuStreamAddCallback_ptsz")));
