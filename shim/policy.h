/*
 * shim/policy.h — CUGUARD_POLICY and CUGUARD_ON_ERROR at call time (docs/design.md).
 *
 * What it is for: the one branch the wrappers take when a policy or
 * CUGUARD_ON_ERROR is on. A generated wrapper tests cg_policy_active (set
 * once at load, never changed after) and, when it is set, hands the whole
 * call to its policied twin (shim/policy_wrappers.c), which asks
 * cg_pcall_begin() what to do before the call and tells cg_pcall_end() what
 * came back. With no policy the wrappers never come here.
 *
 * What a policy may decide for one call (struct cg_pcall.verdict):
 *   CALL          call `real` (the variant's own real function, or its
 *                 per-thread twin when isolate redirects legacy-stream work)
 *   ANSWER        return `answer` without reaching the driver (a refused
 *                 stale or foreign handle, a deferred destroy, a use of a
 *                 reclaimed object); with `aborting` set the program is
 *                 aborted once the call is recorded (CUGUARD_ON_ERROR=abort)
 *   CREATE_STREAM create the stream through cuStreamCreateWithPriority with
 *                 CU_STREAM_NON_BLOCKING added (isolate)
 *
 * What it must never do: let a handle the registry does not know as live
 * reach the driver when ownership or ON_ERROR=refuse|abort is on; change a
 * correct program's results (isolate's legacy-stream change aside); cost
 * anything when cg_policy_active is 0.
 */
#ifndef CUGUARD_SHIM_POLICY_H
#define CUGUARD_SHIM_POLICY_H

#include <cuda.h>
#include <stdint.h>

#include "shim/thread.h"

/* Non-zero when any policy or CUGUARD_ON_ERROR other than continue is on. */
extern int cg_policy_active __attribute__((visibility("hidden")));

/* The wrappers' test: one relaxed load of a flag that is set at load. */
static inline int cg_policy_wanted(void)
{
    return __atomic_load_n(&cg_policy_active, __ATOMIC_RELAXED);
}

/* Return address of the program's call, stored by the wrapper for its
 * policied twin (the twin's own caller is the wrapper). */
#define cg_policy_caller (cg_tls.caller)

enum cg_verdict { CG_VERDICT_CALL = 0, CG_VERDICT_ANSWER, CG_VERDICT_CREATE_STREAM };

struct cg_pcall {
    unsigned id;                /* api id of the variant the program called */
    const void *caller;         /* the program's return address */
    void *real;                 /* the function to call (CG_VERDICT_CALL) */
    uint64_t handle, arg, arg2; /* the call's record fields (format.h) before the call */
    void *out;                  /* create calls: where the driver stores the new handle */
    int verdict;                /* enum cg_verdict */
    CUresult answer;            /* CG_VERDICT_ANSWER: what the call returns */
    uint64_t task;              /* policy task serial when the call began */
    uint64_t started_ns;        /* sync-query: when the first query began */
    unsigned retries;           /* sync-query: queries made so far */
    unsigned holds;             /* destroy: reclaimed values this create held back */
    uint64_t evicted;           /* destroy: the held object the latest hold pushed out */
    int aborting;               /* ON_ERROR=abort: the reason to abort for once the call's
                                   record is written (enum cg_policy_reason), 0 = none */
    uint64_t abort_value;       /* ON_ERROR=abort: the value the finding is about */
};

/* Read cg_config (already parsed) and set cg_policy_active. Called at load
 * and by unit suites after cg_shim_load_config(). */
void cg_policy_load(void);

/* Before the call: decide (fills verdict, real, answer), writing the POLICY
 * records of what was decided. `real` is the variant's real function. */
void cg_pcall_begin(struct cg_pcall *pc, unsigned id, void *real, uint64_t handle, uint64_t arg,
                    uint64_t arg2);

/* After a CG_VERDICT_CALL call returned `rc`: 1 when it must be made again
 * (sync-query waiting for completion), else 0. */
int cg_pcall_retry(struct cg_pcall *pc, CUresult rc);

/* CG_VERDICT_CREATE_STREAM: make the stream. */
CUresult cg_pcall_create_stream(struct cg_pcall *pc);

/* After the call: registry bookkeeping. `new_handle` is what a create call
 * stored (0 otherwise or on failure). */
void cg_pcall_end(struct cg_pcall *pc, CUresult rc, uint64_t new_handle);

/* After the call's records are written: carries out CUGUARD_ON_ERROR=abort
 * (the finding and the REFUSED record are in the trace by then). */
void cg_pcall_done(struct cg_pcall *pc);

/* Remember the out pointer of a create call (used while the record fields
 * are evaluated before the call); returns 0. */
uint64_t cg_pcall_note_out(struct cg_pcall *pc, void *out);

#endif
