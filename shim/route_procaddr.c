/*
 * shim/route_procaddr.c — cuGetProcAddress and cuGetProcAddress_v2.
 *
 * What it is for: route 3 of docs/design.md. The real lookup runs first, with
 * the caller's arguments unchanged; when it succeeded with a function, that
 * pointer is swapped for the shim's wrapper of exactly the variant the
 * driver chose (matched by pointer, else by the driver's version/flags
 * rule). Asking for "cuGetProcAddress" itself yields the shim's own. A
 * variant the driver hands out but does not export is called through the
 * pointer it handed out.
 *
 * What it must never do: alter the result code, symbolStatus, or a NULL
 * result; swap a function the shim does not wrap.
 */
#define __CUDA_API_VERSION_INTERNAL 1 /* declare both cuGetProcAddress variants */
#include <cuda.h>

#include "shim/api.h"
#include "shim/driver.h"
#include "shim/procaddr.h"

static void swap_for_wrapper(const char *symbol, void **pfn, int cuda_version, cuuint64_t flags)
{
    if (pfn == NULL || *pfn == NULL)
        return;
    unsigned id = cg_api_for_procaddr(symbol, *pfn, cuda_version, flags);
    if (id == 0)
        return;
    cg_driver_adopt(id, *pfn);
    *pfn = cg_api_info[id].wrapper;
}

CUresult CUDAAPI cg_wrap_cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion,
                                          cuuint64_t flags)
{
    typedef CUresult(CUDAAPI * real_fn)(const char *, void **, int, cuuint64_t);
    real_fn real = (real_fn)cg_real(CG_ID_cuGetProcAddress);
    if (real == NULL)
        return cg_missing_real(CG_ID_cuGetProcAddress);
    CUresult rc = real(symbol, pfn, cudaVersion, flags);
    if (rc == CUDA_SUCCESS)
        swap_for_wrapper(symbol, pfn, cudaVersion, flags);
    return rc;
}

CUresult CUDAAPI cg_wrap_cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion,
                                             cuuint64_t flags,
                                             CUdriverProcAddressQueryResult *symbolStatus)
{
    typedef CUresult(CUDAAPI * real_fn)(const char *, void **, int, cuuint64_t,
                                        CUdriverProcAddressQueryResult *);
    real_fn real = (real_fn)cg_real(CG_ID_cuGetProcAddress_v2);
    if (real == NULL)
        return cg_missing_real(CG_ID_cuGetProcAddress_v2);
    CUresult rc = real(symbol, pfn, cudaVersion, flags, symbolStatus);
    if (rc == CUDA_SUCCESS)
        swap_for_wrapper(symbol, pfn, cudaVersion, flags);
    return rc;
}

__attribute__((visibility("default"))) CUresult CUDAAPI
cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags)
    __attribute__((alias("cg_wrap_cuGetProcAddress")));

__attribute__((visibility("default"))) CUresult CUDAAPI
cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags,
                    CUdriverProcAddressQueryResult *symbolStatus)
    __attribute__((alias("cg_wrap_cuGetProcAddress_v2")));
