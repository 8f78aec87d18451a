/*
 * shim/callbacks.h — the hand-written wrappers of cuStreamAddCallback.
 *
 * What it is for: declaring the two wrappers the CG_ENTRY rows of
 * shim/api.def name, so that the generated tables can point at them.
 *
 * What it must never do: declare anything but those wrappers.
 */
#ifndef CUGUARD_SHIM_CALLBACKS_H
#define CUGUARD_SHIM_CALLBACKS_H

#include <cuda.h>

CUresult CUDAAPI cg_wrap_cuStreamAddCallback(CUstream hStream, CUstreamCallback callback,
                                             void *userData, unsigned int flags);
CUresult CUDAAPI cg_wrap_cuStreamAddCallback_ptsz(CUstream hStream, CUstreamCallback callback,
                                                  void *userData, unsigned int flags);

#endif
