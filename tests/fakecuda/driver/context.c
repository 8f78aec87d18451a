/*
 * context.c — contexts: the primary context of the device, contexts made
 * with cuCtxCreate (every exported version), the calling thread's context
 * stack, and context-wide synchronization.
 *
 * The current context is kept per thread as a handle value and resolved
 * through the registry on every use, so a context destroyed by another
 * thread reads as CUDA_ERROR_INVALID_CONTEXT, never as freed memory.
 *
 * Must never: free a context that still has streams draining, or hold
 * fc_lock while a caller-visible wait could block forever without
 * releasing it (waits go through fc_wait_changed).
 */
#include "tests/fakecuda/driver/fakecuda.h"

#include <stdlib.h>

#define CONTEXT_STACK_DEPTH 64

struct primary_state {
    struct fc_context *ctx;
    unsigned retains;
    unsigned flags;
};

static struct fc_context *all_contexts;
static struct primary_state primaries[FC_DEVICE_COUNT];
static __thread CUcontext context_stack[CONTEXT_STACK_DEPTH];
static __thread int context_depth;

struct fc_context *fc_contexts(void)
{
    return all_contexts;
}

struct fc_context *fc_context_find(CUcontext handle)
{
    struct fc_context *ctx = fc_handle_find(FC_KIND_CONTEXT, handle);
    return (ctx != NULL && !ctx->destroyed) ? ctx : NULL;
}

CUresult fc_current_context(struct fc_context **out)
{
    if (context_depth == 0)
        return CUDA_ERROR_INVALID_CONTEXT;
    struct fc_context *ctx = fc_context_find(context_stack[context_depth - 1]);
    if (ctx == NULL)
        return CUDA_ERROR_INVALID_CONTEXT;
    *out = ctx;
    return CUDA_SUCCESS;
}

static struct fc_context *context_new(CUdevice dev, unsigned flags, bool primary)
{
    struct fc_context *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return NULL;
    ctx->handle = fc_handle_open(FC_KIND_CONTEXT, ctx);
    if (ctx->handle == NULL) {
        free(ctx);
        return NULL;
    }
    ctx->device = dev;
    ctx->flags = flags;
    ctx->primary = primary;
    ctx->next = all_contexts;
    all_contexts = ctx;
    return ctx;
}

void fc_context_release_if_unused(struct fc_context *ctx)
{
    if (!ctx->destroyed || ctx->streams != NULL)
        return;
    for (struct fc_context **link = &all_contexts; *link != NULL; link = &(*link)->next) {
        if (*link == ctx) {
            *link = ctx->next;
            break;
        }
    }
    free(ctx);
}

void fc_context_synchronize(struct fc_context *ctx)
{
    size_t count = 0;
    for (struct fc_stream *s = ctx->streams; s != NULL; s = s->next_in_ctx)
        count++;
    struct fc_op **pending = calloc(count ? count : 1, sizeof *pending);
    size_t taken = 0;
    for (struct fc_stream *s = ctx->streams; s != NULL && pending != NULL; s = s->next_in_ctx) {
        if (s->last_op != NULL && !s->last_op->done) {
            fc_op_retain(s->last_op);
            pending[taken++] = s->last_op;
        }
    }
    for (size_t i = 0; i < taken; i++) {
        fc_op_wait(pending[i]);
        fc_op_release(pending[i]);
    }
    free(pending);
}

/* Lock held: retires a context's streams and events (destroy or reset). */
static void context_drop_objects(struct fc_context *ctx)
{
    for (struct fc_stream *s = ctx->streams; s != NULL; s = s->next_in_ctx) {
        if (s->handle != NULL)
            fc_handle_close(FC_KIND_STREAM, s->handle);
        if (!s->destroyed)
            fc_stream_retire(s);
    }
    ctx->legacy = NULL;
    fc_events_forget_context(ctx);
}

static bool valid_device(CUdevice dev)
{
    return dev >= 0 && dev < FC_DEVICE_COUNT;
}

/* ---- primary context ---- */

CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
{
    CUresult rc = fc_enter("cuDevicePrimaryCtxRetain");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (pctx == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    if (!valid_device(dev))
        return CUDA_ERROR_INVALID_DEVICE;
    fc_lock();
    struct primary_state *primary = &primaries[dev];
    if (primary->ctx == NULL)
        primary->ctx = context_new(dev, primary->flags, true);
    if (primary->ctx != NULL) {
        primary->retains++;
        *pctx = primary->ctx->handle;
    }
    rc = primary->ctx != NULL ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
    fc_unlock();
    return rc;
}

static CUresult primary_release(CUdevice dev)
{
    CUresult rc = fc_enter("cuDevicePrimaryCtxRelease");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (!valid_device(dev))
        return CUDA_ERROR_INVALID_DEVICE;
    fc_lock();
    if (primaries[dev].retains == 0)
        rc = CUDA_ERROR_INVALID_CONTEXT;
    else
        primaries[dev].retains--;
    fc_unlock();
    return rc;
}

CUresult cuDevicePrimaryCtxRelease(CUdevice dev)
{
    return primary_release(dev);
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)
{
    return primary_release(dev);
}

static CUresult primary_reset(CUdevice dev)
{
    CUresult rc = fc_enter("cuDevicePrimaryCtxReset");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (!valid_device(dev))
        return CUDA_ERROR_INVALID_DEVICE;
    fc_lock();
    struct fc_context *ctx = primaries[dev].ctx;
    if (ctx != NULL) {
        fc_context_synchronize(ctx);
        context_drop_objects(ctx);
    }
    primaries[dev].retains = 0;
    fc_unlock();
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxReset(CUdevice dev)
{
    return primary_reset(dev);
}

CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev)
{
    return primary_reset(dev);
}

CUresult cuDevicePrimaryCtxGetState(CUdevice dev, unsigned int *flags, int *active)
{
    CUresult rc = fc_enter("cuDevicePrimaryCtxGetState");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (flags == NULL || active == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    if (!valid_device(dev))
        return CUDA_ERROR_INVALID_DEVICE;
    fc_lock();
    *flags = primaries[dev].flags;
    *active = primaries[dev].retains > 0;
    fc_unlock();
    return CUDA_SUCCESS;
}

static CUresult primary_set_flags(CUdevice dev, unsigned int flags)
{
    CUresult rc = fc_enter("cuDevicePrimaryCtxSetFlags");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (!valid_device(dev))
        return CUDA_ERROR_INVALID_DEVICE;
    if (flags & ~(unsigned)CU_CTX_FLAGS_MASK)
        return CUDA_ERROR_INVALID_VALUE;
    fc_lock();
    primaries[dev].flags = flags;
    if (primaries[dev].ctx != NULL)
        primaries[dev].ctx->flags = flags;
    fc_unlock();
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxSetFlags(CUdevice dev, unsigned int flags)
{
    return primary_set_flags(dev, flags);
}

CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice dev, unsigned int flags)
{
    return primary_set_flags(dev, flags);
}

/* ---- explicit contexts ---- */

static CUresult context_create(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
    CUresult rc = fc_enter("cuCtxCreate");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (pctx == NULL || (flags & ~(unsigned)CU_CTX_FLAGS_MASK))
        return CUDA_ERROR_INVALID_VALUE;
    if (!valid_device(dev))
        return CUDA_ERROR_INVALID_DEVICE;
    if (context_depth == CONTEXT_STACK_DEPTH)
        return CUDA_ERROR_OUT_OF_MEMORY;
    fc_lock();
    struct fc_context *ctx = context_new(dev, flags, false);
    if (ctx != NULL) {
        context_stack[context_depth++] = ctx->handle;
        *pctx = ctx->handle;
    }
    fc_unlock();
    return ctx != NULL ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult cuCtxCreate(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
    return context_create(pctx, flags, dev);
}

CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
    return context_create(pctx, flags, dev);
}

CUresult cuCtxCreate_v3(CUcontext *pctx, CUexecAffinityParam *paramsArray, int numParams,
                        unsigned int flags, CUdevice dev)
{
    if (numParams < 0 || (numParams > 0 && paramsArray == NULL))
        return CUDA_ERROR_INVALID_VALUE;
    return context_create(pctx, flags, dev);
}

CUresult cuCtxCreate_v4(CUcontext *pctx, CUctxCreateParams *ctxCreateParams, unsigned int flags,
                        CUdevice dev)
{
    (void)ctxCreateParams; /* affinity and CIG parameters have no effect here */
    return context_create(pctx, flags, dev);
}

static void forget_in_calling_thread(CUcontext handle)
{
    if (context_depth > 0 && context_stack[context_depth - 1] == handle)
        context_depth--;
}

static CUresult context_destroy(CUcontext handle)
{
    CUresult rc = fc_enter("cuCtxDestroy");
    if (rc != CUDA_SUCCESS)
        return rc;
    fc_lock();
    struct fc_context *ctx = fc_context_find(handle);
    if (ctx == NULL || ctx->primary) {
        fc_unlock();
        return ctx == NULL && handle == NULL ? CUDA_ERROR_INVALID_VALUE
                                             : CUDA_ERROR_INVALID_CONTEXT;
    }
    fc_context_synchronize(ctx);
    /* Set only now: a worker finishing during the wait must not free ctx. */
    ctx->destroyed = true;
    context_drop_objects(ctx);
    fc_handle_close(FC_KIND_CONTEXT, handle);
    fc_context_release_if_unused(ctx);
    fc_unlock();
    forget_in_calling_thread(handle);
    return CUDA_SUCCESS;
}

CUresult cuCtxDestroy(CUcontext ctx)
{
    return context_destroy(ctx);
}

CUresult cuCtxDestroy_v2(CUcontext ctx)
{
    return context_destroy(ctx);
}

CUresult cuCtxSetCurrent(CUcontext handle)
{
    CUresult rc = fc_enter("cuCtxSetCurrent");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (handle == NULL) {
        if (context_depth > 0)
            context_depth--;
        return CUDA_SUCCESS;
    }
    fc_lock();
    bool known = fc_context_find(handle) != NULL;
    fc_unlock();
    if (!known)
        return CUDA_ERROR_INVALID_CONTEXT;
    if (context_depth == 0)
        context_depth = 1;
    context_stack[context_depth - 1] = handle;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetCurrent(CUcontext *pctx)
{
    CUresult rc = fc_enter("cuCtxGetCurrent");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (pctx == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    *pctx = context_depth > 0 ? context_stack[context_depth - 1] : NULL;
    return CUDA_SUCCESS;
}

static CUresult context_push(CUcontext handle)
{
    CUresult rc = fc_enter("cuCtxPushCurrent");
    if (rc != CUDA_SUCCESS)
        return rc;
    fc_lock();
    bool known = fc_context_find(handle) != NULL;
    fc_unlock();
    if (!known)
        return handle == NULL ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_INVALID_CONTEXT;
    if (context_depth == CONTEXT_STACK_DEPTH)
        return CUDA_ERROR_OUT_OF_MEMORY;
    context_stack[context_depth++] = handle;
    return CUDA_SUCCESS;
}

CUresult cuCtxPushCurrent(CUcontext ctx)
{
    return context_push(ctx);
}

CUresult cuCtxPushCurrent_v2(CUcontext ctx)
{
    return context_push(ctx);
}

static CUresult context_pop(CUcontext *pctx)
{
    CUresult rc = fc_enter("cuCtxPopCurrent");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (context_depth == 0)
        return CUDA_ERROR_INVALID_CONTEXT;
    CUcontext top = context_stack[--context_depth];
    if (pctx != NULL)
        *pctx = top;
    return CUDA_SUCCESS;
}

CUresult cuCtxPopCurrent(CUcontext *pctx)
{
    return context_pop(pctx);
}

CUresult cuCtxPopCurrent_v2(CUcontext *pctx)
{
    return context_pop(pctx);
}

/* Lock held: ctx named by handle, or the current one when handle is NULL. */
static CUresult context_or_current(CUcontext handle, struct fc_context **out)
{
    if (handle == NULL)
        return fc_current_context(out);
    *out = fc_context_find(handle);
    return *out != NULL ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

static CUresult context_device(CUdevice *device, CUcontext handle)
{
    CUresult rc = fc_enter("cuCtxGetDevice");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (device == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    struct fc_context *ctx = NULL;
    fc_lock();
    rc = context_or_current(handle, &ctx);
    if (rc == CUDA_SUCCESS)
        *device = ctx->device;
    fc_unlock();
    return rc;
}

CUresult cuCtxGetDevice(CUdevice *device)
{
    return context_device(device, NULL);
}

CUresult cuCtxGetDevice_v2(CUdevice *device, CUcontext ctx)
{
    return context_device(device, ctx);
}

static CUresult context_synchronize(CUcontext handle)
{
    CUresult rc = fc_enter("cuCtxSynchronize");
    if (rc != CUDA_SUCCESS)
        return rc;
    struct fc_context *ctx = NULL;
    fc_lock();
    rc = context_or_current(handle, &ctx);
    if (rc == CUDA_SUCCESS)
        fc_context_synchronize(ctx);
    fc_unlock();
    return rc;
}

CUresult cuCtxSynchronize(void)
{
    return context_synchronize(NULL);
}

CUresult cuCtxSynchronize_v2(CUcontext ctx)
{
    return context_synchronize(ctx);
}

CUresult cuCtxGetApiVersion(CUcontext handle, unsigned int *version)
{
    CUresult rc = fc_enter("cuCtxGetApiVersion");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (version == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    struct fc_context *ctx = NULL;
    fc_lock();
    rc = context_or_current(handle, &ctx);
    fc_unlock();
    if (rc == CUDA_SUCCESS)
        *version = 3020; /* what real drivers report for every modern context */
    return rc;
}

CUresult cuCtxGetFlags(unsigned int *flags)
{
    CUresult rc = fc_enter("cuCtxGetFlags");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (flags == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    struct fc_context *ctx = NULL;
    fc_lock();
    rc = fc_current_context(&ctx);
    if (rc == CUDA_SUCCESS)
        *flags = ctx->flags;
    fc_unlock();
    return rc;
}

CUresult cuCtxGetStreamPriorityRange(int *leastPriority, int *greatestPriority)
{
    CUresult rc = fc_enter("cuCtxGetStreamPriorityRange");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (leastPriority != NULL)
        *leastPriority = 0;
    if (greatestPriority != NULL)
        *greatestPriority = -5;
    return CUDA_SUCCESS;
}
