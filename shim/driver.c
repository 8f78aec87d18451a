/*
 * shim/driver.c — open the real driver and resolve every real pointer.
 *
 * What it is for: the implementation of shim/driver.h. The driver handle is
 * obtained once (RTLD_NOLOAD first so a driver the program already loaded is
 * the one we call; then RTLD_NOW|RTLD_LOCAL so we add nothing to the
 * program's global namespace), then each api.def row is looked up by its
 * exact exported name with the real dlsym.
 *
 * What it must never do: run at load time, be called with the loader in an
 * unknown state from the hot path more than once, or fall back silently: a
 * CUGUARD_LIBCUDA that cannot be opened gets one warning.
 */
#include "shim/driver.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "shim/config.h"
#include "shim/log.h"

int cg_driver_state;
void *cg_real_table[CG_API_COUNT];

/* Read by the dlsym trampoline (shim/route_dlsym.c) and by cg_real_dlsym(). */
__attribute__((visibility("hidden"))) void *cg_real_dlsym_ptr;

static pthread_mutex_t driver_lock = PTHREAD_MUTEX_INITIALIZER;
static void *driver_handle;
static cg_stream_get_id_fn stream_get_id;
static cg_ctx_get_current_fn ctx_get_current;
static cg_ctx_get_device_fn ctx_get_device;
static int missing_warned;

cg_dlsym_fn cg_real_dlsym(void)
{
    void *fn = __atomic_load_n(&cg_real_dlsym_ptr, __ATOMIC_ACQUIRE);
    if (fn != NULL)
        return (cg_dlsym_fn)fn;
    fn = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    if (fn == NULL)
        fn = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
    __atomic_store_n(&cg_real_dlsym_ptr, fn, __ATOMIC_RELEASE);
    return (cg_dlsym_fn)fn;
}

static void *open_driver(const char *name, int may_load)
{
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    if (h == NULL && may_load)
        h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    return h;
}

static void *find_driver(int may_load)
{
    if (cg_config.libcuda_from_env) {
        void *h = open_driver(cg_config.libcuda, may_load);
        if (h != NULL || !may_load)
            return h;
        const char *err = dlerror();
        cg_warn("CUGUARD_LIBCUDA=\"%s\" cannot be opened (%s); using %s", cg_config.libcuda,
                err ? err : "unknown error", CG_DEFAULT_LIBCUDA);
    }
    return open_driver(CG_DEFAULT_LIBCUDA, may_load);
}

static void resolve_pointers(void *handle)
{
    cg_dlsym_fn real_dlsym = cg_real_dlsym();
    for (unsigned id = 1; id < CG_API_COUNT; id++) {
        void *fn = real_dlsym ? real_dlsym(handle, cg_api_info[id].name) : NULL;
        __atomic_store_n(&cg_real_table[id], fn, __ATOMIC_RELAXED);
        if (fn == NULL)
            cg_debug("driver has no %s", cg_api_info[id].name);
    }
    stream_get_id = real_dlsym ? (cg_stream_get_id_fn)real_dlsym(handle, "cuStreamGetId") : NULL;
    ctx_get_current =
        real_dlsym ? (cg_ctx_get_current_fn)real_dlsym(handle, "cuCtxGetCurrent") : NULL;
    ctx_get_device = real_dlsym ? (cg_ctx_get_device_fn)real_dlsym(handle, "cuCtxGetDevice") : NULL;
}

static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;

static void register_fork_handler(void)
{
    if (pthread_atfork(NULL, NULL, cg_driver_after_fork_child) != 0)
        cg_warn("cannot register a fork handler; a fork child may wait for the driver lock");
}

int cg_driver_resolve(int may_load)
{
    int state = __atomic_load_n(&cg_driver_state, __ATOMIC_ACQUIRE);
    if (state != 0)
        return state;
    pthread_once(&fork_handler_once, register_fork_handler); /* before any thread locks */
    pthread_mutex_lock(&driver_lock);
    state = __atomic_load_n(&cg_driver_state, __ATOMIC_ACQUIRE);
    if (state == 0) {
        void *h = find_driver(may_load);
        if (h != NULL) {
            driver_handle = h;
            resolve_pointers(h);
            state = 1;
            cg_debug("driver resolved (%s)", cg_config.libcuda);
        } else if (may_load) {
            state = 2;
        }
        __atomic_store_n(&cg_driver_state, state, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&driver_lock);
    return state;
}

void cg_driver_adopt(unsigned id, void *fn)
{
    void *expected = NULL;
    if (id == 0 || id >= CG_API_COUNT || fn == NULL)
        return;
    if (__atomic_compare_exchange_n(&cg_real_table[id], &expected, fn, 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED))
        cg_debug("%s: using the pointer cuGetProcAddress returned", cg_api_info[id].name);
}

CUresult cg_missing_real(unsigned id)
{
    int state = __atomic_load_n(&cg_driver_state, __ATOMIC_ACQUIRE);
    if (!__atomic_exchange_n(&missing_warned, 1, __ATOMIC_RELAXED)) {
        if (state == 2)
            cg_warn("no CUDA driver could be loaded (%s%s); CUDA calls fail with "
                    "CUDA_ERROR_NOT_INITIALIZED",
                    cg_config.libcuda_from_env ? cg_config.libcuda : "",
                    cg_config.libcuda_from_env ? ", then " CG_DEFAULT_LIBCUDA : CG_DEFAULT_LIBCUDA);
        else
            cg_warn("the CUDA driver has no %s; calling it fails with CUDA_ERROR_NOT_FOUND",
                    cg_api_info[id].name);
    }
    return state == 2 ? CUDA_ERROR_NOT_INITIALIZED : CUDA_ERROR_NOT_FOUND;
}

cg_stream_get_id_fn cg_real_stream_get_id(void)
{
    if (__atomic_load_n(&cg_driver_state, __ATOMIC_ACQUIRE) != 1)
        return NULL;
    return stream_get_id;
}

cg_ctx_get_current_fn cg_real_ctx_get_current(void)
{
    if (__atomic_load_n(&cg_driver_state, __ATOMIC_ACQUIRE) != 1)
        return NULL;
    return ctx_get_current;
}

cg_ctx_get_device_fn cg_real_ctx_get_device(void)
{
    if (__atomic_load_n(&cg_driver_state, __ATOMIC_ACQUIRE) != 1)
        return NULL;
    return ctx_get_device;
}

void cg_driver_after_fork_child(void)
{
    pthread_mutex_init(&driver_lock, NULL);
}
