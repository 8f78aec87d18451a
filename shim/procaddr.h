/*
 * shim/procaddr.h — the cuGetProcAddress route (docs/design.md, route 3).
 *
 * What it is for: declaring the shim's own cuGetProcAddress and
 * cuGetProcAddress_v2 (the CG_ENTRY rows of api.def) so the generated tables
 * can point at them.
 *
 * What it must never do: declare anything else.
 */
#ifndef CUGUARD_SHIM_PROCADDR_H
#define CUGUARD_SHIM_PROCADDR_H

#include <cuda.h>

CUresult CUDAAPI cg_wrap_cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion,
                                          cuuint64_t flags);
CUresult CUDAAPI cg_wrap_cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion,
                                             cuuint64_t flags,
                                             CUdriverProcAddressQueryResult *symbolStatus);

#endif
