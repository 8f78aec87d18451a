/*
 * copy.c — memory copies and fills. Every copy is an op on a stream, so
 * it runs in stream order on the stream's worker; the synchronous forms
 * (cuMemcpyHtoD_v2, ...) queue on the legacy stream (the per-thread one
 * for _ptds) and wait. As on a real GPU, an async copy from pageable
 * (not page-locked) memory is staged at call time and one into pageable
 * memory returns only once the copy is done.
 *
 * Must never: copy to or from a device address outside memory we handed
 * out (CUDA_ERROR_INVALID_VALUE instead), or run a copy out of order.
 */
#include "tests/fakecuda/driver/fakecuda.h"

#include <stdlib.h>
#include <string.h>

enum copy_kind { HOST_TO_DEVICE, DEVICE_TO_HOST, DEVICE_TO_DEVICE, ANY_TO_ANY };

struct copy_request {
    const char *api;
    void *dst;
    const void *src;
    size_t size;
    enum copy_kind kind;
    CUstream stream;
    bool per_thread;
    bool synchronous;
};

static bool is_device_side(const void *ptr, size_t size)
{
    return fc_device_range_valid((CUdeviceptr)(uintptr_t)ptr, size);
}

/* Lock held: whether the device-side ends of the copy are ours. */
static bool copy_addresses_valid(const struct copy_request *req)
{
    if (req->size == 0)
        return true;
    if (req->dst == NULL || req->src == NULL)
        return false;
    switch (req->kind) {
    case HOST_TO_DEVICE:
        return is_device_side(req->dst, req->size);
    case DEVICE_TO_HOST:
        return is_device_side(req->src, req->size);
    case DEVICE_TO_DEVICE:
        return is_device_side(req->dst, req->size) && is_device_side(req->src, req->size);
    case ANY_TO_ANY:
        return true;
    }
    return false;
}

static CUresult submit_copy(const struct copy_request *req)
{
    CUresult rc = fc_enter(req->api);
    if (rc != CUDA_SUCCESS)
        return rc;
    struct fc_stream *stream = NULL;
    fc_lock();
    rc = fc_stream_resolve(req->stream, req->per_thread, &stream);
    if (rc == CUDA_SUCCESS && !copy_addresses_valid(req))
        rc = CUDA_ERROR_INVALID_VALUE;
    struct fc_op *op = rc == CUDA_SUCCESS ? fc_op_new(fc_op_action_copy) : NULL;
    if (rc == CUDA_SUCCESS && op == NULL)
        rc = CUDA_ERROR_OUT_OF_MEMORY;
    if (rc != CUDA_SUCCESS) {
        fc_unlock();
        return rc;
    }
    op->dst = req->dst;
    op->src = req->src;
    op->size = req->size;
    bool pageable_source = !is_device_side(req->src, req->size);
    bool pageable_target = !is_device_side(req->dst, req->size);
    if (!req->synchronous && pageable_source && req->size > 0) {
        op->staging = malloc(req->size);
        if (op->staging != NULL)
            memcpy(op->staging, req->src, req->size);
    }
    bool wait = req->synchronous || (pageable_target && req->size > 0) ||
                (pageable_source && req->size > 0 && op->staging == NULL);
    fc_op_retain(op);
    rc = fc_stream_submit(stream, op);
    if (rc == CUDA_SUCCESS && wait)
        fc_op_wait(op);
    fc_op_release(op);
    fc_unlock();
    return rc;
}

static CUresult copy_async(const char *api, void *dst, const void *src, size_t size,
                           enum copy_kind kind, CUstream stream, bool per_thread)
{
    struct copy_request req = {api, dst, src, size, kind, stream, per_thread, false};
    return submit_copy(&req);
}

static CUresult copy_sync(const char *api, void *dst, const void *src, size_t size,
                          enum copy_kind kind, bool per_thread)
{
    struct copy_request req = {api, dst, src, size, kind, NULL, per_thread, true};
    return submit_copy(&req);
}

static void *device_address(CUdeviceptr ptr)
{
    return (void *)(uintptr_t)ptr;
}

/* ---- asynchronous copies ---- */

CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t ByteCount, CUstream hStream)
{
    return copy_async("cuMemcpyAsync", device_address(dst), device_address(src), ByteCount,
                      ANY_TO_ANY, hStream, false);
}

CUresult cuMemcpyAsync_ptsz(CUdeviceptr dst, CUdeviceptr src, size_t ByteCount, CUstream hStream)
{
    return copy_async("cuMemcpyAsync", device_address(dst), device_address(src), ByteCount,
                      ANY_TO_ANY, hStream, true);
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount,
                              CUstream hStream)
{
    return copy_async("cuMemcpyHtoDAsync", device_address(dstDevice), srcHost, ByteCount,
                      HOST_TO_DEVICE, hStream, false);
}

CUresult cuMemcpyHtoDAsync_v2_ptsz(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount,
                                   CUstream hStream)
{
    return copy_async("cuMemcpyHtoDAsync", device_address(dstDevice), srcHost, ByteCount,
                      HOST_TO_DEVICE, hStream, true);
}

CUresult cuMemcpyHtoDAsync(CUdeviceptr_v1 dstDevice, const void *srcHost, unsigned int ByteCount,
                           CUstream hStream)
{
    return copy_async("cuMemcpyHtoDAsync", device_address(dstDevice), srcHost, ByteCount,
                      HOST_TO_DEVICE, hStream, false);
}

CUresult cuMemcpyDtoHAsync_v2(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount,
                              CUstream hStream)
{
    return copy_async("cuMemcpyDtoHAsync", dstHost, device_address(srcDevice), ByteCount,
                      DEVICE_TO_HOST, hStream, false);
}

CUresult cuMemcpyDtoHAsync_v2_ptsz(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount,
                                   CUstream hStream)
{
    return copy_async("cuMemcpyDtoHAsync", dstHost, device_address(srcDevice), ByteCount,
                      DEVICE_TO_HOST, hStream, true);
}

CUresult cuMemcpyDtoHAsync(void *dstHost, CUdeviceptr_v1 srcDevice, unsigned int ByteCount,
                           CUstream hStream)
{
    return copy_async("cuMemcpyDtoHAsync", dstHost, device_address(srcDevice), ByteCount,
                      DEVICE_TO_HOST, hStream, false);
}

CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount,
                              CUstream hStream)
{
    return copy_async("cuMemcpyDtoDAsync", device_address(dstDevice), device_address(srcDevice),
                      ByteCount, DEVICE_TO_DEVICE, hStream, false);
}

CUresult cuMemcpyDtoDAsync_v2_ptsz(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount,
                                   CUstream hStream)
{
    return copy_async("cuMemcpyDtoDAsync", device_address(dstDevice), device_address(srcDevice),
                      ByteCount, DEVICE_TO_DEVICE, hStream, true);
}

CUresult cuMemcpyDtoDAsync(CUdeviceptr_v1 dstDevice, CUdeviceptr_v1 srcDevice,
                           unsigned int ByteCount, CUstream hStream)
{
    return copy_async("cuMemcpyDtoDAsync", device_address(dstDevice), device_address(srcDevice),
                      ByteCount, DEVICE_TO_DEVICE, hStream, false);
}

/* ---- synchronous copies ---- */

CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t ByteCount)
{
    return copy_sync("cuMemcpy", device_address(dst), device_address(src), ByteCount, ANY_TO_ANY,
                     false);
}

CUresult cuMemcpy_ptds(CUdeviceptr dst, CUdeviceptr src, size_t ByteCount)
{
    return copy_sync("cuMemcpy", device_address(dst), device_address(src), ByteCount, ANY_TO_ANY,
                     true);
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount)
{
    return copy_sync("cuMemcpyHtoD", device_address(dstDevice), srcHost, ByteCount, HOST_TO_DEVICE,
                     false);
}

CUresult cuMemcpyHtoD_v2_ptds(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount)
{
    return copy_sync("cuMemcpyHtoD", device_address(dstDevice), srcHost, ByteCount, HOST_TO_DEVICE,
                     true);
}

CUresult cuMemcpyHtoD(CUdeviceptr_v1 dstDevice, const void *srcHost, unsigned int ByteCount)
{
    return copy_sync("cuMemcpyHtoD", device_address(dstDevice), srcHost, ByteCount, HOST_TO_DEVICE,
                     false);
}

CUresult cuMemcpyDtoH_v2(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount)
{
    return copy_sync("cuMemcpyDtoH", dstHost, device_address(srcDevice), ByteCount, DEVICE_TO_HOST,
                     false);
}

CUresult cuMemcpyDtoH_v2_ptds(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount)
{
    return copy_sync("cuMemcpyDtoH", dstHost, device_address(srcDevice), ByteCount, DEVICE_TO_HOST,
                     true);
}

CUresult cuMemcpyDtoH(void *dstHost, CUdeviceptr_v1 srcDevice, unsigned int ByteCount)
{
    return copy_sync("cuMemcpyDtoH", dstHost, device_address(srcDevice), ByteCount, DEVICE_TO_HOST,
                     false);
}

CUresult cuMemcpyDtoD_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount)
{
    return copy_sync("cuMemcpyDtoD", device_address(dstDevice), device_address(srcDevice),
                     ByteCount, DEVICE_TO_DEVICE, false);
}

CUresult cuMemcpyDtoD_v2_ptds(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount)
{
    return copy_sync("cuMemcpyDtoD", device_address(dstDevice), device_address(srcDevice),
                     ByteCount, DEVICE_TO_DEVICE, true);
}

CUresult cuMemcpyDtoD(CUdeviceptr_v1 dstDevice, CUdeviceptr_v1 srcDevice, unsigned int ByteCount)
{
    return copy_sync("cuMemcpyDtoD", device_address(dstDevice), device_address(srcDevice),
                     ByteCount, DEVICE_TO_DEVICE, false);
}

/* ---- fills ---- */

static void fill_action(struct fc_op *op)
{
    memset(op->dst, (int)(uintptr_t)op->user_data, op->size);
}

static CUresult fill_bytes(CUdeviceptr dst, unsigned char value, size_t count, CUstream stream,
                           bool per_thread, bool synchronous)
{
    CUresult rc = fc_enter("cuMemsetD8");
    if (rc != CUDA_SUCCESS)
        return rc;
    struct fc_stream *s = NULL;
    fc_lock();
    rc = fc_stream_resolve(stream, per_thread, &s);
    if (rc == CUDA_SUCCESS && count > 0 && !fc_device_range_valid(dst, count))
        rc = CUDA_ERROR_INVALID_VALUE;
    struct fc_op *op = rc == CUDA_SUCCESS ? fc_op_new(fill_action) : NULL;
    if (rc == CUDA_SUCCESS && op == NULL)
        rc = CUDA_ERROR_OUT_OF_MEMORY;
    if (rc == CUDA_SUCCESS) {
        op->dst = device_address(dst);
        op->size = count;
        op->user_data = (void *)(uintptr_t)value;
        fc_op_retain(op);
        rc = fc_stream_submit(s, op);
        if (rc == CUDA_SUCCESS && synchronous)
            fc_op_wait(op);
        fc_op_release(op);
    }
    fc_unlock();
    return rc;
}

CUresult cuMemsetD8_v2(CUdeviceptr dstDevice, unsigned char uc, size_t N)
{
    return fill_bytes(dstDevice, uc, N, NULL, false, true);
}

CUresult cuMemsetD8_v2_ptds(CUdeviceptr dstDevice, unsigned char uc, size_t N)
{
    return fill_bytes(dstDevice, uc, N, NULL, true, true);
}

CUresult cuMemsetD8Async(CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream)
{
    return fill_bytes(dstDevice, uc, N, hStream, false, false);
}

CUresult cuMemsetD8Async_ptsz(CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream)
{
    return fill_bytes(dstDevice, uc, N, hStream, true, false);
}
