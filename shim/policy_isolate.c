/*
 * shim/policy_isolate.c — the isolate policy: streams do not leak across tasks.
 *
 * What it is for: three changes (docs/design.md).
 *   - Work sent to the legacy default stream (handle 0 through a plain entry
 *     point) goes to the calling thread's per-thread default stream: the
 *     call is made through the per-thread twin of the same entry point
 *     (cuEventRecord -> cuEventRecord_ptsz, same arguments), written as
 *     CG_POLICY_REDIRECTED. An explicit CU_STREAM_LEGACY is left alone.
 *   - Streams are created CU_STREAM_NON_BLOCKING (through
 *     cuStreamCreateWithPriority, priority kept), written as
 *     CG_POLICY_NON_BLOCKING.
 *   - When the task changes, each live stream the finished task used that
 *     still has work is synchronized before the new task's call proceeds,
 *     written as CG_POLICY_DRAINED_STREAM with the time it took.
 *
 * What it must never do: redirect a call whose per-thread twin the driver
 * lacks, change a stream's priority, or drain while holding a registry lock.
 */
#include <stdlib.h>
#include <string.h>

#include "shim/api.h"
#include "shim/driver.h"
#include "shim/log.h"
#include "shim/policy_internal.h"
#include "tracer/writer.h"

typedef CUresult(CUDAAPI *stream_fn)(CUstream);
typedef CUresult(CUDAAPI *create_fn)(CUstream *, unsigned int, int);

/* Api id of the per-thread twin ("<name>_ptsz") of each api, 0 if none;
 * filled at load (cg_isolate_init), so a redirect compares no names. */
static uint16_t twins[CG_API_COUNT];

static unsigned twin_by_name(unsigned id)
{
    char name[128];
    if (cg_api_info[id].per_thread || strlen(cg_api_info[id].name) + 6 > sizeof name)
        return 0;
    strcpy(name, cg_api_info[id].name);
    strcat(name, "_ptsz");
    return cg_api_by_name(name);
}

void cg_isolate_init(void)
{
    for (unsigned id = 1; id < CG_API_COUNT; id++)
        twins[id] = (uint16_t)twin_by_name(id);
}

static uint64_t stream_of(const struct cg_pcall *pc, const struct cg_role *role)
{
    return role->stream_in == 1 ? pc->handle : pc->arg;
}

void cg_isolate_begin(struct cg_pcall *pc)
{
    const struct cg_role *role = &cg_roles[pc->id];
    if (role->op == CG_OP_CREATE && role->handle_kind == CG_OBJ_STREAM) {
        if ((pc->arg & CU_STREAM_NON_BLOCKING) == 0 && pc->out != NULL &&
            cg_real(CG_ID_cuStreamCreateWithPriority) != NULL)
            pc->verdict = CG_VERDICT_CREATE_STREAM;
        return;
    }
    if (role->stream_in == 0 || stream_of(pc, role) != 0)
        return;
    unsigned twin = twins[pc->id];
    void *real = twin != 0 ? cg_real(twin) : NULL;
    if (real == NULL)
        return;
    pc->real = real;
    cg_policy_record(pc, CG_POLICY_REDIRECTED, 0, twin, 0);
}

CUresult cg_pcall_create_stream(struct cg_pcall *pc)
{
    create_fn create = (create_fn)cg_real(CG_ID_cuStreamCreateWithPriority);
    CUstream *out = pc->out;
    CUresult rc;
    do
        rc = create(out, (unsigned)pc->arg | CU_STREAM_NON_BLOCKING, (int)pc->arg2);
    while (cg_policy_on.destroy && cg_destroy_hold_reused(pc, rc));
    cg_policy_record(pc, CG_POLICY_NON_BLOCKING, rc == CUDA_SUCCESS ? (uint64_t)(uintptr_t)*out : 0,
                     pc->arg, rc);
    return rc;
}

static void drain(uint64_t stream)
{
    stream_fn query = (stream_fn)cg_real(CG_ID_cuStreamQuery);
    stream_fn sync = (stream_fn)cg_real(CG_ID_cuStreamSynchronize);
    CUstream s = (CUstream)(uintptr_t)stream;
    if (query == NULL || sync == NULL || query(s) != CUDA_ERROR_NOT_READY)
        return;
    uint64_t t0 = cg_now_ns();
    CUresult rc = sync(s);
    cg_policy_record(NULL, CG_POLICY_DRAINED_STREAM, stream, cg_now_ns() - t0, rc);
    cg_debug("isolate: drained stream %#llx left busy by the finished task (%d)",
             (unsigned long long)stream, (int)rc);
}

void cg_isolate_task_changed(uint64_t finished_task)
{
    size_t cap = cg_registry_count(CG_OBJ_LIVE) + 16;
    struct cg_obj_ref *list = malloc(cap * sizeof *list);
    size_t n =
        list != NULL ? cg_registry_scan(CG_OBJ_STREAM, finished_task, finished_task, list, cap) : 0;
    for (size_t i = 0; i < n; i++)
        drain(list[i].handle);
    free(list);
}
