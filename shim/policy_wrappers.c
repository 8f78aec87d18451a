/*
 * shim/policy_wrappers.c — the policied twins of the wrappers, from api.def.
 *
 * What it is for: the body a wrapper runs when a policy or ON_ERROR is on.
 * The row's record fields are evaluated once before the call (create calls
 * have no handle yet: CG_OUT only notes the out pointer then) and handed to
 * cg_pcall_begin(), which decides; the call is then made (or answered)
 * and recorded exactly as shim/wrappers.c records it, with the POLICY
 * records of the decision just before its CALL record; cg_pcall_end() sees
 * the result, and cg_pcall_done() runs once every record of the call is
 * written (CUGUARD_ON_ERROR=abort aborts there, never before). A
 * teardown's record is reserved even before the decision (its POLICY
 * records then follow it): a deferred destroy puts the object in the
 * quarantine, from which another thread may release it and the driver hand
 * its value to a create, all before this call returns.
 *
 * What it must never do: record a call twice, change arguments except as
 * a verdict says, or run when cg_policy_active is 0.
 */
#define __CUDA_API_VERSION_INTERNAL 1 /* declare every variant (_v2, legacy, _ptsz) */
#include <cuda.h>
#include <stdint.h>

#include "shim/api.h"
#include "shim/driver.h"
#include "shim/trace_state.h"
#include "shim/policy.h"
#include "shim/policy_wrappers.h"
#include "shim/record.h"

#define CG_U64(x) ((uint64_t)(uintptr_t)(x))
/* Before the call (`before` set): note the out pointer, 0. After it: what
 * the call stored through `p`, or 0 when it failed. */
#define CG_OUT(p)                                                                                  \
    (before ? cg_pcall_note_out(&pc, (void *)(p))                                                  \
            : (rc == CUDA_SUCCESS && (p) != NULL ? CG_U64(*(p)) : 0))

#define CG_API(sym, base, version, per_thread, style, params, args, handle, arg, arg2, extra)      \
    CUresult CUDAAPI cg_policied_##sym params                                                      \
    {                                                                                              \
        typedef CUresult(CUDAAPI *real_fn) params;                                                 \
        struct cg_pcall pc = {.out = NULL};                                                        \
        CUresult rc = CUDA_SUCCESS;                                                                \
        int before = 1; /* read by CG_OUT */                                                       \
        struct cg_call call;                                                                       \
        uint64_t in_handle = CG_U64(handle), in_arg = CG_U64(arg), in_arg2 = CG_U64(arg2);         \
        int early =                                                                                \
            CG_STYLE_##style == CG_STYLE_DESTROY || CG_STYLE_##style == CG_STYLE_BLOCKING_DESTROY; \
        int traced =                                                                               \
            early && cg_trace_wanted() && cg_call_begin(&call, CG_ID_##sym, cg_policy_caller);     \
        if (CG_STYLE_HAS_BEFORE(CG_STYLE_##style) && traced)                                       \
            cg_call_before(&call, in_handle, in_arg, in_arg2);                                     \
        cg_pcall_begin(&pc, CG_ID_##sym, cg_real(CG_ID_##sym), in_handle, in_arg, in_arg2);        \
        if (!early) {                                                                              \
            traced = cg_trace_wanted() && cg_call_begin(&call, CG_ID_##sym, pc.caller);            \
            if (CG_STYLE_HAS_BEFORE(CG_STYLE_##style) && traced)                                   \
                cg_call_before(&call, in_handle, in_arg, in_arg2);                                 \
        }                                                                                          \
        before = 0;                                                                                \
        (void)before;                                                                              \
        if (pc.verdict == CG_VERDICT_ANSWER) {                                                     \
            rc = pc.answer;                                                                        \
        } else if (pc.verdict == CG_VERDICT_CREATE_STREAM) {                                       \
            rc = cg_pcall_create_stream(&pc);                                                      \
        } else {                                                                                   \
            if (traced)                                                                            \
                cg_call_inside(&call, in_handle, in_arg, in_arg2);                                 \
            do                                                                                     \
                rc = ((real_fn)pc.real)args;                                                       \
            while (cg_pcall_retry(&pc, rc));                                                       \
            if (traced)                                                                            \
                cg_call_outside(&call);                                                            \
        }                                                                                          \
        cg_pcall_end(&pc, rc, CG_U64(handle));                                                     \
        if (traced)                                                                                \
            cg_call_end_styled(CG_STYLE_##style, &call, rc, CG_U64(handle), CG_U64(arg),           \
                               CG_U64(arg2), CG_U64(extra));                                       \
        cg_pcall_done(&pc);                                                                        \
        return rc;                                                                                 \
    }
#include "shim/api.def"
