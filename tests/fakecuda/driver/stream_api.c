/*
 * stream_api.c — the cuStream* entry points (create, destroy, synchronize,
 * query, and the getters) with every exported variant name. Ordering and
 * workers live in stream.c; cuStreamWaitEvent lives in event.c.
 *
 * Must never: dereference a stream handle (always resolve it through the
 * registry), or block in cuStreamDestroy.
 */
#include "tests/fakecuda/driver/fakecuda.h"

#define LOWEST_PRIORITY 0
#define HIGHEST_PRIORITY (-5)

static CUresult stream_create(const char *api, CUstream *phStream, unsigned int flags, int priority)
{
    CUresult rc = fc_enter(api);
    if (rc != CUDA_SUCCESS)
        return rc;
    if (phStream == NULL || (flags & ~(unsigned)CU_STREAM_NON_BLOCKING))
        return CUDA_ERROR_INVALID_VALUE;
    if (priority > LOWEST_PRIORITY)
        priority = LOWEST_PRIORITY;
    if (priority < HIGHEST_PRIORITY)
        priority = HIGHEST_PRIORITY;
    struct fc_context *ctx = NULL;
    fc_lock();
    rc = fc_current_context(&ctx);
    if (rc == CUDA_SUCCESS) {
        struct fc_stream *s = fc_stream_create(ctx, flags, priority);
        if (s != NULL)
            s->handle = fc_handle_open(FC_KIND_STREAM, s);
        if (s != NULL && s->handle == NULL)
            fc_stream_retire(s);
        if (s == NULL || s->handle == NULL)
            rc = CUDA_ERROR_OUT_OF_MEMORY;
        else
            *phStream = s->handle;
    }
    fc_unlock();
    return rc;
}

CUresult cuStreamCreate(CUstream *phStream, unsigned int Flags)
{
    return stream_create("cuStreamCreate", phStream, Flags, LOWEST_PRIORITY);
}

CUresult cuStreamCreateWithPriority(CUstream *phStream, unsigned int flags, int priority)
{
    return stream_create("cuStreamCreateWithPriority", phStream, flags, priority);
}

static CUresult stream_destroy(CUstream handle)
{
    CUresult rc = fc_enter("cuStreamDestroy");
    if (rc != CUDA_SUCCESS)
        return rc;
    fc_lock();
    struct fc_stream *s = fc_handle_find(FC_KIND_STREAM, handle);
    if (s != NULL) {
        fc_handle_close(FC_KIND_STREAM, handle);
        fc_stream_retire(s);
    }
    fc_unlock();
    return s != NULL ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult cuStreamDestroy(CUstream hStream)
{
    return stream_destroy(hStream);
}

CUresult cuStreamDestroy_v2(CUstream hStream)
{
    return stream_destroy(hStream);
}

static CUresult stream_synchronize(CUstream handle, bool per_thread)
{
    CUresult rc = fc_enter("cuStreamSynchronize");
    if (rc != CUDA_SUCCESS)
        return rc;
    struct fc_stream *s = NULL;
    fc_lock();
    rc = fc_stream_resolve(handle, per_thread, &s);
    if (rc == CUDA_SUCCESS)
        fc_stream_wait_idle(s);
    fc_unlock();
    return rc;
}

CUresult cuStreamSynchronize(CUstream hStream)
{
    return stream_synchronize(hStream, false);
}

CUresult cuStreamSynchronize_ptsz(CUstream hStream)
{
    return stream_synchronize(hStream, true);
}

static CUresult stream_query(CUstream handle, bool per_thread)
{
    CUresult rc = fc_enter("cuStreamQuery");
    if (rc != CUDA_SUCCESS)
        return rc;
    struct fc_stream *s = NULL;
    fc_lock();
    rc = fc_stream_resolve(handle, per_thread, &s);
    if (rc == CUDA_SUCCESS && !fc_stream_idle(s))
        rc = CUDA_ERROR_NOT_READY;
    fc_unlock();
    return rc;
}

CUresult cuStreamQuery(CUstream hStream)
{
    return stream_query(hStream, false);
}

CUresult cuStreamQuery_ptsz(CUstream hStream)
{
    return stream_query(hStream, true);
}

/* Resolves handle for a getter; the caller reads s and unlocks. */
static CUresult stream_for_getter(const char *api, CUstream handle, bool per_thread,
                                  const void *out, struct fc_stream **s)
{
    CUresult rc = fc_enter(api);
    if (rc != CUDA_SUCCESS)
        return rc;
    if (out == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    fc_lock();
    rc = fc_stream_resolve(handle, per_thread, s);
    if (rc != CUDA_SUCCESS)
        fc_unlock();
    return rc;
}

static CUresult stream_get_id(CUstream handle, unsigned long long *streamId, bool per_thread)
{
    struct fc_stream *s = NULL;
    CUresult rc = stream_for_getter("cuStreamGetId", handle, per_thread, streamId, &s);
    if (rc != CUDA_SUCCESS)
        return rc;
    *streamId = s->id;
    fc_unlock();
    return CUDA_SUCCESS;
}

CUresult cuStreamGetId(CUstream hStream, unsigned long long *streamId)
{
    return stream_get_id(hStream, streamId, false);
}

CUresult cuStreamGetId_ptsz(CUstream hStream, unsigned long long *streamId)
{
    return stream_get_id(hStream, streamId, true);
}

static CUresult stream_get_flags(CUstream handle, unsigned int *flags, bool per_thread)
{
    struct fc_stream *s = NULL;
    CUresult rc = stream_for_getter("cuStreamGetFlags", handle, per_thread, flags, &s);
    if (rc != CUDA_SUCCESS)
        return rc;
    *flags = s->flags;
    fc_unlock();
    return CUDA_SUCCESS;
}

CUresult cuStreamGetFlags(CUstream hStream, unsigned int *flags)
{
    return stream_get_flags(hStream, flags, false);
}

CUresult cuStreamGetFlags_ptsz(CUstream hStream, unsigned int *flags)
{
    return stream_get_flags(hStream, flags, true);
}

static CUresult stream_get_priority(CUstream handle, int *priority, bool per_thread)
{
    struct fc_stream *s = NULL;
    CUresult rc = stream_for_getter("cuStreamGetPriority", handle, per_thread, priority, &s);
    if (rc != CUDA_SUCCESS)
        return rc;
    *priority = s->priority;
    fc_unlock();
    return CUDA_SUCCESS;
}

CUresult cuStreamGetPriority(CUstream hStream, int *priority)
{
    return stream_get_priority(hStream, priority, false);
}

CUresult cuStreamGetPriority_ptsz(CUstream hStream, int *priority)
{
    return stream_get_priority(hStream, priority, true);
}

static CUresult stream_get_ctx(CUstream handle, CUcontext *pctx, bool per_thread)
{
    struct fc_stream *s = NULL;
    CUresult rc = stream_for_getter("cuStreamGetCtx", handle, per_thread, pctx, &s);
    if (rc != CUDA_SUCCESS)
        return rc;
    *pctx = s->ctx->handle;
    fc_unlock();
    return CUDA_SUCCESS;
}

CUresult cuStreamGetCtx(CUstream hStream, CUcontext *pctx)
{
    return stream_get_ctx(hStream, pctx, false);
}

CUresult cuStreamGetCtx_ptsz(CUstream hStream, CUcontext *pctx)
{
    return stream_get_ctx(hStream, pctx, true);
}
