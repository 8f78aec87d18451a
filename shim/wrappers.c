/*
 * shim/wrappers.c — the exported driver wrappers, generated from api.def.
 *
 * What it is for: one function per CG_API row, exported under the driver's
 * own name (route 1, direct binding) and also handed out by the dlsym and
 * cuGetProcAddress routes, so every route lands here exactly once per call.
 * Also the api info and name tables indexed by api id.
 *
 * A wrapper is two or three functions. The exported one is the idle path:
 * when cg_forward_only (shim/lifecycle.h) says nothing is on and the real
 * pointer of exactly its variant is resolved, it tail-calls it (one
 * predictable branch, no frame). Otherwise a CALL, POLL or RECORD row hands
 * the call to its fast twin, which records the usual call inline
 * (shim/record_fast.h) and hands anything else to the full twin; the other
 * rows go to the full twin at once. The full twin resolves the driver
 * lazily (the first call does), hands the call to the policied twin
 * (shim/policy_wrappers.c) when a policy or CUGUARD_ON_ERROR is on,
 * forwards when not tracing, and else records per the row's style around
 * the real call. Both recording twins publish that the thread is inside
 * the driver (shim/crash_guard.h) for the duration of the real call: the
 * full twin its struct cg_call, the fast twin its record.
 *
 * What it must never do: change arguments or results, record twice, or
 * crash when the driver is missing (it returns cg_missing_real()).
 */
#define __CUDA_API_VERSION_INTERNAL 1 /* declare every variant (_v2, legacy, _ptsz) */
#include <cuda.h>
#include <stdint.h>

#include "shim/api.h"
#include "shim/callbacks.h"
#include "shim/driver.h"
#include "shim/lifecycle.h"
#include "shim/policy.h"
#include "shim/policy_wrappers.h"
#include "shim/procaddr.h"
#include "shim/record.h"
#include "shim/record_fast.h"

#define CG_U64(x) ((uint64_t)(uintptr_t)(x))
/* What the call stored through `p`, or 0 when it failed. Uses `rc`. */
#define CG_OUT(p) (rc == CUDA_SUCCESS && (p) != NULL ? CG_U64(*(p)) : 0)

/* The full wrapper: everything but the idle shortcut. Never inlined into
 * the exported one, so that the idle path pays for none of its frame. The
 * program's return address comes in cg_policy_caller (shim/policy.h),
 * stored by the exported wrapper. rc starts as an error so that CG_OUT
 * reads nothing through an out pointer before the call. */
#define CG_API(sym, base, version, per_thread, style, params, args, handle, arg, arg2, extra)      \
    static __attribute__((noinline)) CUresult CUDAAPI cg_full_##sym params                         \
    {                                                                                              \
        typedef CUresult(CUDAAPI *real_fn) params;                                                 \
        real_fn real = (real_fn)cg_real(CG_ID_##sym);                                              \
        CUresult rc = CUDA_ERROR_UNKNOWN;                                                          \
        struct cg_call call;                                                                       \
        if (real == NULL)                                                                          \
            return cg_missing_real(CG_ID_##sym);                                                   \
        if (__builtin_expect(cg_policy_wanted(), 0))                                               \
            return cg_policied_##sym args;                                                         \
        if (!cg_trace_wanted() || !cg_call_begin(&call, CG_ID_##sym, cg_policy_caller))            \
            return real args;                                                                      \
        if (CG_STYLE_HAS_BEFORE(CG_STYLE_##style))                                                 \
            cg_call_before(&call, CG_U64(handle), CG_U64(arg), CG_U64(arg2));                      \
        cg_call_inside(&call, CG_U64(handle), CG_U64(arg), CG_U64(arg2));                          \
        rc = real args;                                                                            \
        cg_call_outside(&call);                                                                    \
        cg_call_end_styled(CG_STYLE_##style, &call, rc, CG_U64(handle), CG_U64(arg), CG_U64(arg2), \
                           CG_U64(extra));                                                         \
        return rc;                                                                                 \
    }                                                                                              \
    static __attribute__((noinline, unused)) CUresult CUDAAPI cg_fast_##sym params                 \
    {                                                                                              \
        typedef CUresult(CUDAAPI *real_fn) params;                                                 \
        real_fn real = (real_fn)__atomic_load_n(&cg_real_table[CG_ID_##sym], __ATOMIC_RELAXED);    \
        CUresult rc = CUDA_ERROR_UNKNOWN; /* CG_OUT reads nothing before the call */               \
        uint64_t in_handle = CG_U64(handle), in_arg = CG_U64(arg), in_arg2 = CG_U64(arg2);         \
        struct cg_thread *thread;                                                                  \
        const void *caller;                                                                        \
        struct cg_record *r;                                                                       \
        if (__builtin_expect(real == NULL, 0) ||                                                   \
            (r = cg_fast_begin(CG_ID_##sym, per_thread, in_handle, in_arg, in_arg2, &thread,       \
                               &caller)) == NULL)                                                  \
            return cg_full_##sym args;                                                             \
        rc = real args;                                                                            \
        cg_fast_end(r, thread, caller, CG_ID_##sym, CG_STYLE_##style, per_thread, rc, in_handle,   \
                    in_arg, in_arg2, CG_U64(handle), CG_U64(arg), CG_U64(arg2), CG_U64(extra));    \
        return rc;                                                                                 \
    }                                                                                              \
    static CUresult CUDAAPI cg_wrap_##sym params                                                   \
    {                                                                                              \
        typedef CUresult(CUDAAPI *real_fn) params;                                                 \
        if (__builtin_expect(__atomic_load_n(&cg_forward_only, __ATOMIC_RELAXED), 1)) {            \
            real_fn real =                                                                         \
                (real_fn)__atomic_load_n(&cg_real_table[CG_ID_##sym], __ATOMIC_RELAXED);           \
            if (__builtin_expect(real != NULL, 1))                                                 \
                return real args;                                                                  \
        }                                                                                          \
        cg_policy_caller = __builtin_return_address(0);                                            \
        if (CG_STYLE_IS_FAST(CG_STYLE_##style))                                                    \
            return cg_fast_##sym args;                                                             \
        return cg_full_##sym args;                                                                 \
    }                                                                                              \
    __attribute__((visibility("default"))) CUresult CUDAAPI sym params                             \
        __attribute__((alias("cg_wrap_" #sym)));
#include "shim/api.def"

const struct cg_api_info cg_api_info[CG_API_COUNT] = {
    [CG_ID_NONE] = {"", "", 0, 0, CG_STYLE_CALL, NULL},
#define CG_API(sym, base, version, per_thread, style, ...)                                         \
    [CG_ID_##sym] = {#sym, #base, version, per_thread, CG_STYLE_##style, (void *)cg_wrap_##sym},
#define CG_ENTRY(sym, base, version, per_thread)                                                   \
    [CG_ID_##sym] = {#sym, #base, version, per_thread, CG_STYLE_ENTRY, (void *)cg_wrap_##sym},
#include "shim/api.def"
};

const char *const cg_api_names[CG_API_COUNT] = {
    [CG_ID_NONE] = "",
#define CG_API(sym, ...) [CG_ID_##sym] = #sym,
#define CG_ENTRY(sym, ...) [CG_ID_##sym] = #sym,
#include "shim/api.def"
};
