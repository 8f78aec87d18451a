/*
 * memory.c — device memory (host heap blocks, so copies are plain memcpy;
 * cuMemAllocManaged memory is the same, cuMemGetAddressRange finds a block),
 * page-locked host memory from cuMemAllocHost/cuMemHostAlloc, and ranges
 * registered with cuMemHostRegister, with the error codes a real driver
 * gives (docs/driver-behaviour.md, "Pinned memory"): overlap → 712, unregister of an
 * unknown pointer → 713, of an interior pointer or of cuMemHostAlloc
 * memory → INVALID_VALUE. cuMemFreeHost synchronizes every context first.
 *
 * Must never: free or unregister memory the caller did not get from us,
 * or free pinned memory while work queued before the free may touch it.
 */
#include "tests/fakecuda/driver/fakecuda.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define DEVICE_ALIGNMENT 256
#define HOST_ALIGNMENT 4096
#define VALID_HOST_ALLOC_FLAGS                                                                     \
    (CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_WRITECOMBINED)
#define VALID_HOST_REGISTER_FLAGS                                                                  \
    (CU_MEMHOSTREGISTER_PORTABLE | CU_MEMHOSTREGISTER_DEVICEMAP | CU_MEMHOSTREGISTER_IOMEMORY |    \
     CU_MEMHOSTREGISTER_READ_ONLY)

enum range_kind { RANGE_DEVICE, RANGE_HOST_ALLOC, RANGE_HOST_REGISTERED };

struct memory_range {
    uintptr_t base; /* key */
    size_t size;
    enum range_kind kind;
    unsigned flags;
    UT_hash_handle hh;
};

static struct memory_range *device_ranges;
static struct memory_range *host_ranges;
static size_t device_bytes_in_use;

static struct memory_range *range_containing(struct memory_range *table, uintptr_t start,
                                             size_t size)
{
    struct memory_range *range = NULL;
    struct memory_range *tmp = NULL;
    HASH_ITER(hh, table, range, tmp)
    {
        if (start >= range->base && size <= range->size &&
            start - range->base <= range->size - size)
            return range;
    }
    return NULL;
}

static bool range_overlaps_any(struct memory_range *table, uintptr_t start, size_t size)
{
    struct memory_range *range = NULL;
    struct memory_range *tmp = NULL;
    HASH_ITER(hh, table, range, tmp)
    {
        if (start < range->base + range->size && range->base < start + size)
            return true;
    }
    return false;
}

bool fc_pinned_contains(const void *ptr, size_t size)
{
    return range_containing(host_ranges, (uintptr_t)ptr, size) != NULL;
}

bool fc_device_range_valid(CUdeviceptr ptr, size_t size)
{
    return range_containing(device_ranges, (uintptr_t)ptr, size) != NULL ||
           range_containing(host_ranges, (uintptr_t)ptr, size) != NULL;
}

static struct memory_range *range_add(struct memory_range **table, void *base, size_t size,
                                      enum range_kind kind, unsigned flags)
{
    struct memory_range *range = calloc(1, sizeof *range);
    if (range == NULL)
        return NULL;
    range->base = (uintptr_t)base;
    range->size = size;
    range->kind = kind;
    range->flags = flags;
    HASH_ADD(hh, *table, base, sizeof range->base, range);
    return range;
}

static struct memory_range *range_at(struct memory_range *table, const void *base)
{
    struct memory_range *range = NULL;
    uintptr_t key = (uintptr_t)base;
    HASH_FIND(hh, table, &key, sizeof key, range);
    return range;
}

/* ---- device memory ---- */

static CUresult device_alloc(CUdeviceptr *dptr, size_t bytesize)
{
    CUresult rc = fc_enter("cuMemAlloc");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (dptr == NULL || bytesize == 0)
        return CUDA_ERROR_INVALID_VALUE;
    struct fc_context *ctx = NULL;
    void *block = NULL;
    fc_lock();
    rc = fc_current_context(&ctx);
    if (rc == CUDA_SUCCESS && bytesize > FC_TOTAL_MEMORY - device_bytes_in_use)
        rc = CUDA_ERROR_OUT_OF_MEMORY;
    if (rc == CUDA_SUCCESS && posix_memalign(&block, DEVICE_ALIGNMENT, bytesize) != 0)
        rc = CUDA_ERROR_OUT_OF_MEMORY;
    if (rc == CUDA_SUCCESS && range_add(&device_ranges, block, bytesize, RANGE_DEVICE, 0) == NULL) {
        free(block);
        rc = CUDA_ERROR_OUT_OF_MEMORY;
    }
    if (rc == CUDA_SUCCESS) {
        device_bytes_in_use += bytesize;
        *dptr = (CUdeviceptr)(uintptr_t)block;
    }
    fc_unlock();
    return rc;
}

CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize)
{
    return device_alloc(dptr, bytesize);
}

static CUresult device_free(CUdeviceptr dptr)
{
    CUresult rc = fc_enter("cuMemFree");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (dptr == 0)
        return CUDA_SUCCESS;
    fc_lock();
    struct memory_range *range = range_at(device_ranges, (void *)(uintptr_t)dptr);
    if (range != NULL) {
        HASH_DEL(device_ranges, range);
        device_bytes_in_use -= range->size;
        /* Like a real cuMemFree, wait for work that may still use it. */
        for (struct fc_context *ctx = fc_contexts(); ctx != NULL; ctx = ctx->next)
            fc_context_synchronize(ctx);
    }
    fc_unlock();
    if (range == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    free((void *)range->base);
    free(range);
    return CUDA_SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr dptr)
{
    return device_free(dptr);
}

/* The 32-bit legacy entry points work when the address happens to fit. */
CUresult cuMemAlloc(CUdeviceptr_v1 *dptr, unsigned int bytesize)
{
    CUdeviceptr wide = 0;
    if (dptr == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult rc = device_alloc(&wide, bytesize);
    if (rc == CUDA_SUCCESS && wide > 0xFFFFFFFFu) {
        device_free(wide);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    if (rc == CUDA_SUCCESS)
        *dptr = (CUdeviceptr_v1)wide;
    return rc;
}

CUresult cuMemFree(CUdeviceptr_v1 dptr)
{
    return device_free(dptr);
}

/* Managed memory is host memory here too; cuMemFree frees it. The flags
 * must be exactly one of CU_MEM_ATTACH_GLOBAL / CU_MEM_ATTACH_HOST. */
CUresult cuMemAllocManaged(CUdeviceptr *dptr, size_t bytesize, unsigned int flags)
{
    if (flags != CU_MEM_ATTACH_GLOBAL && flags != CU_MEM_ATTACH_HOST) {
        CUresult rc = fc_enter("cuMemAllocManaged");
        return rc != CUDA_SUCCESS ? rc : CUDA_ERROR_INVALID_VALUE;
    }
    return device_alloc(dptr, bytesize);
}

/* Base and size of the allocation (device, managed, or mapped pinned host
 * memory under unified addressing) containing dptr; either out may be NULL. */
static CUresult address_range(CUdeviceptr *pbase, size_t *psize, CUdeviceptr dptr)
{
    CUresult rc = fc_enter("cuMemGetAddressRange");
    if (rc != CUDA_SUCCESS)
        return rc;
    fc_lock();
    struct memory_range *range = range_containing(device_ranges, (uintptr_t)dptr, 1);
    if (range == NULL)
        range = range_containing(host_ranges, (uintptr_t)dptr, 1);
    if (range != NULL && pbase != NULL)
        *pbase = (CUdeviceptr)range->base;
    if (range != NULL && psize != NULL)
        *psize = range->size;
    fc_unlock();
    return range != NULL ? CUDA_SUCCESS : CUDA_ERROR_NOT_FOUND;
}

CUresult cuMemGetAddressRange_v2(CUdeviceptr *pbase, size_t *psize, CUdeviceptr dptr)
{
    return address_range(pbase, psize, dptr);
}

CUresult cuMemGetAddressRange(CUdeviceptr_v1 *pbase, unsigned int *psize, CUdeviceptr_v1 dptr)
{
    CUdeviceptr base = 0;
    size_t size = 0;
    CUresult rc = address_range(&base, &size, dptr);
    if (rc == CUDA_SUCCESS && (base > 0xFFFFFFFFu || size > 0xFFFFFFFFu))
        return CUDA_ERROR_INVALID_VALUE;
    if (rc == CUDA_SUCCESS && pbase != NULL)
        *pbase = (CUdeviceptr_v1)base;
    if (rc == CUDA_SUCCESS && psize != NULL)
        *psize = (unsigned int)size;
    return rc;
}

static CUresult memory_info(size_t *free_bytes, size_t *total_bytes)
{
    CUresult rc = fc_enter("cuMemGetInfo");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (free_bytes == NULL || total_bytes == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    struct fc_context *ctx = NULL;
    fc_lock();
    rc = fc_current_context(&ctx);
    *free_bytes = FC_TOTAL_MEMORY - device_bytes_in_use;
    *total_bytes = FC_TOTAL_MEMORY;
    fc_unlock();
    return rc;
}

CUresult cuMemGetInfo_v2(size_t *free, size_t *total)
{
    return memory_info(free, total);
}

CUresult cuMemGetInfo(unsigned int *free, unsigned int *total)
{
    size_t free_bytes = 0;
    size_t total_bytes = 0;
    if (free == NULL || total == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult rc = memory_info(&free_bytes, &total_bytes);
    if (rc == CUDA_SUCCESS) {
        *free = free_bytes > 0xFFFFFFFFu ? 0xFFFFFFFFu : (unsigned int)free_bytes;
        *total = total_bytes > 0xFFFFFFFFu ? 0xFFFFFFFFu : (unsigned int)total_bytes;
    }
    return rc;
}

/* ---- page-locked host memory ---- */

static CUresult host_alloc(const char *api, void **pp, size_t bytesize, unsigned int flags)
{
    CUresult rc = fc_enter(api);
    if (rc != CUDA_SUCCESS)
        return rc;
    if (pp == NULL || bytesize == 0 || (flags & ~(unsigned)VALID_HOST_ALLOC_FLAGS))
        return CUDA_ERROR_INVALID_VALUE;
    struct fc_context *ctx = NULL;
    void *block = NULL;
    fc_lock();
    rc = fc_current_context(&ctx);
    if (rc == CUDA_SUCCESS && posix_memalign(&block, HOST_ALIGNMENT, bytesize) != 0)
        rc = CUDA_ERROR_OUT_OF_MEMORY;
    if (rc == CUDA_SUCCESS &&
        range_add(&host_ranges, block, bytesize, RANGE_HOST_ALLOC, flags) == NULL) {
        free(block);
        rc = CUDA_ERROR_OUT_OF_MEMORY;
    }
    if (rc == CUDA_SUCCESS)
        *pp = block;
    fc_unlock();
    return rc;
}

CUresult cuMemAllocHost_v2(void **pp, size_t bytesize)
{
    return host_alloc("cuMemAllocHost", pp, bytesize, 0);
}

CUresult cuMemAllocHost(void **pp, unsigned int bytesize)
{
    return host_alloc("cuMemAllocHost", pp, bytesize, 0);
}

CUresult cuMemHostAlloc(void **pp, size_t bytesize, unsigned int Flags)
{
    return host_alloc("cuMemHostAlloc", pp, bytesize, Flags);
}

CUresult cuMemFreeHost(void *p)
{
    CUresult rc = fc_enter("cuMemFreeHost");
    if (rc != CUDA_SUCCESS)
        return rc;
    fc_lock();
    struct memory_range *range = range_at(host_ranges, p);
    if (range == NULL || range->kind != RANGE_HOST_ALLOC) {
        fc_unlock();
        return CUDA_ERROR_INVALID_VALUE;
    }
    /* Forget it first so a racing free of the same pointer fails cleanly. */
    HASH_DEL(host_ranges, range);
    for (struct fc_context *ctx = fc_contexts(); ctx != NULL; ctx = ctx->next)
        fc_context_synchronize(ctx);
    fc_unlock();
    free((void *)range->base);
    free(range);
    return CUDA_SUCCESS;
}

static CUresult host_register(void *p, size_t bytesize, unsigned int flags)
{
    CUresult rc = fc_enter("cuMemHostRegister");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (p == NULL || bytesize == 0 || (flags & ~(unsigned)VALID_HOST_REGISTER_FLAGS))
        return CUDA_ERROR_INVALID_VALUE;
    struct fc_context *ctx = NULL;
    fc_lock();
    rc = fc_current_context(&ctx);
    if (rc == CUDA_SUCCESS && range_overlaps_any(host_ranges, (uintptr_t)p, bytesize))
        rc = CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED;
    if (rc == CUDA_SUCCESS &&
        range_add(&host_ranges, p, bytesize, RANGE_HOST_REGISTERED, flags) == NULL)
        rc = CUDA_ERROR_OUT_OF_MEMORY;
    fc_unlock();
    return rc;
}

CUresult cuMemHostRegister_v2(void *p, size_t bytesize, unsigned int Flags)
{
    return host_register(p, bytesize, Flags);
}

CUresult cuMemHostRegister(void *p, size_t bytesize, unsigned int Flags)
{
    return host_register(p, bytesize, Flags);
}

CUresult cuMemHostUnregister(void *p)
{
    CUresult rc = fc_enter("cuMemHostUnregister");
    if (rc != CUDA_SUCCESS)
        return rc;
    fc_lock();
    struct memory_range *range = range_at(host_ranges, p);
    if (range != NULL && range->kind == RANGE_HOST_REGISTERED) {
        HASH_DEL(host_ranges, range);
        free(range);
    } else if (range != NULL || range_containing(host_ranges, (uintptr_t)p, 1) != NULL) {
        rc = CUDA_ERROR_INVALID_VALUE; /* cuMemHostAlloc memory, or an interior pointer */
    } else {
        rc = CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED;
    }
    fc_unlock();
    return rc;
}

static CUresult host_device_pointer(CUdeviceptr *pdptr, void *p, unsigned int Flags)
{
    CUresult rc = fc_enter("cuMemHostGetDevicePointer");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (pdptr == NULL || Flags != 0)
        return CUDA_ERROR_INVALID_VALUE;
    fc_lock();
    bool pinned = fc_pinned_contains(p, 1);
    fc_unlock();
    if (!pinned)
        return CUDA_ERROR_INVALID_VALUE;
    *pdptr = (CUdeviceptr)(uintptr_t)p; /* unified addressing: same address */
    return CUDA_SUCCESS;
}

CUresult cuMemHostGetDevicePointer_v2(CUdeviceptr *pdptr, void *p, unsigned int Flags)
{
    return host_device_pointer(pdptr, p, Flags);
}

CUresult cuMemHostGetDevicePointer(CUdeviceptr_v1 *pdptr, void *p, unsigned int Flags)
{
    CUdeviceptr wide = 0;
    if (pdptr == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult rc = host_device_pointer(&wide, p, Flags);
    if (rc == CUDA_SUCCESS && wide > 0xFFFFFFFFu)
        return CUDA_ERROR_INVALID_VALUE;
    if (rc == CUDA_SUCCESS)
        *pdptr = (CUdeviceptr_v1)wide;
    return rc;
}

CUresult cuMemHostGetFlags(unsigned int *pFlags, void *p)
{
    CUresult rc = fc_enter("cuMemHostGetFlags");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (pFlags == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    fc_lock();
    struct memory_range *range = range_containing(host_ranges, (uintptr_t)p, 1);
    if (range != NULL)
        *pFlags = range->flags;
    fc_unlock();
    return range != NULL ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
