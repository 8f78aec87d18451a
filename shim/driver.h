/*
 * shim/driver.h — the real CUDA driver and the real dlsym, found in ONE place.
 *
 * What it is for: every pointer the shim forwards to. The driver is
 * CUGUARD_LIBCUDA (else libcuda.so.1), opened lazily on the first call that
 * needs it; an already loaded copy is reused (RTLD_NOLOAD first). Each api.def
 * row gets the real pointer of exactly its variant.
 *
 * What it must never do: load a driver at process start, link -lcuda, call
 * the exported (interposed) dlsym, or crash when no driver exists.
 */
#ifndef CUGUARD_SHIM_DRIVER_H
#define CUGUARD_SHIM_DRIVER_H

#include <cuda.h>

#include "shim/api.h"

/* Driver state: 0 not resolved yet, 1 resolved, 2 no driver (final). */
extern int cg_driver_state __attribute__((visibility("hidden")));
/* Real pointer per api id (NULL when the driver lacks that variant). */
extern void *cg_real_table[CG_API_COUNT] __attribute__((visibility("hidden")));

/* Resolve the driver. With `may_load` 0 only an already loaded driver is
 * used (nothing is loaded). Returns cg_driver_state afterwards. */
int cg_driver_resolve(int may_load);

/* The real function of api `id`, loading the driver if needed; NULL when the
 * driver or the variant is missing. */
static inline void *cg_real(unsigned id)
{
    if (__builtin_expect(__atomic_load_n(&cg_driver_state, __ATOMIC_ACQUIRE) == 0, 0))
        cg_driver_resolve(1);
    return __atomic_load_n(&cg_real_table[id], __ATOMIC_RELAXED);
}

/* `fn` is what the driver's cuGetProcAddress returned for api `id`: it
 * becomes the real function of `id` when the driver does not export that
 * variant by name (a driver may hand out entry points it does not export). */
void cg_driver_adopt(unsigned id, void *fn);

/* What a wrapper returns when its real function is missing: what the
 * program would have got without cuguard, as close as can be. */
CUresult cg_missing_real(unsigned id);

/* Real cuStreamGetId, or NULL when the driver has none (before 12.0). */
typedef CUresult (*cg_stream_get_id_fn)(CUstream, unsigned long long *);
cg_stream_get_id_fn cg_real_stream_get_id(void);

/* Real cuCtxGetCurrent and (2000) cuCtxGetDevice, or NULL: the shim reads
 * the calling thread's context with them, never changing it. */
typedef CUresult (*cg_ctx_get_current_fn)(CUcontext *);
typedef CUresult (*cg_ctx_get_device_fn)(CUdevice *);
cg_ctx_get_current_fn cg_real_ctx_get_current(void);
cg_ctx_get_device_fn cg_real_ctx_get_device(void);

/* The libc dlsym (dlvsym GLIBC_2.34, then GLIBC_2.2.5), never the shim's. */
typedef void *(*cg_dlsym_fn)(void *, const char *);
cg_dlsym_fn cg_real_dlsym(void);

/* Reinitialise the driver lock in a fork child: registered with
 * pthread_atfork by the first cg_driver_resolve() that takes the lock,
 * whatever the tracing and policy settings (a child of a thread that was
 * loading the driver must not wait for it forever). */
void cg_driver_after_fork_child(void);

#endif
