/*
 * shim/runtime.c — runtime API wrappers (docs/design.md, route 4).
 *
 * What it is for: programs linked against the dynamic cudart. Each
 * CG_RUNTIME row of api.def becomes an exported function that marks the
 * calling thread "via runtime", calls the real cudart function and clears
 * the mark; the driver wrappers cudart reaches (through cuGetProcAddress)
 * then record with CG_FLAG_VIA_RUNTIME and the runtime caller's call site.
 * The driver layer stays the single source of truth: nothing is recorded
 * here, so nothing is recorded twice.
 *
 * The real function is the next definition after the shim (RTLD_NEXT); a
 * cudart loaded RTLD_LOCAL (Python extension modules) is not in that scope,
 * so the loaded objects are searched for a libcudart as a fallback.
 *
 * What it must never do: load a cudart, return its own function as the
 * real one, or record.
 */
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "shim/driver.h"
#include "shim/log.h"
#include "shim/record.h"

enum cg_runtime_id {
#define CG_RUNTIME(sym, params, args) CG_RT_##sym,
#include "shim/api.def"
    CG_RUNTIME_COUNT
};

static const char *const runtime_names[CG_RUNTIME_COUNT] = {
#define CG_RUNTIME(sym, params, args) [CG_RT_##sym] = #sym,
#include "shim/api.def"
};

static void *runtime_real[CG_RUNTIME_COUNT];

struct cudart_search {
    const char *name;
    void *self_base;
    void *found;
};

/* dl_iterate_phdr callback: the symbol from the first loaded libcudart
 * other than the shim. */
static int search_cudart(struct dl_phdr_info *info, size_t size, void *data)
{
    struct cudart_search *s = data;
    (void)size;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, "libcudart") == NULL)
        return 0;
    void *h = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
    if (h == NULL)
        return 0;
    cg_dlsym_fn real = cg_real_dlsym();
    void *fn = real ? real(h, s->name) : NULL;
    dlclose(h);
    Dl_info where;
    if (fn != NULL && dladdr(fn, &where) != 0 && where.dli_fbase != s->self_base) {
        s->found = fn;
        return 1;
    }
    return 0;
}

static void *resolve_runtime(unsigned id)
{
    void *fn = __atomic_load_n(&runtime_real[id], __ATOMIC_ACQUIRE);
    if (fn != NULL)
        return fn;
    cg_dlsym_fn real = cg_real_dlsym();
    fn = real ? real(RTLD_NEXT, runtime_names[id]) : NULL;
    if (fn == NULL) {
        Dl_info self;
        struct cudart_search s = {runtime_names[id], NULL, NULL};
        if (dladdr((void *)resolve_runtime, &self) != 0)
            s.self_base = self.dli_fbase;
        dl_iterate_phdr(search_cudart, &s);
        fn = s.found;
    }
    if (fn == NULL)
        cg_warn("%s was called but no CUDA runtime defines it", runtime_names[id]);
    __atomic_store_n(&runtime_real[id], fn, __ATOMIC_RELEASE);
    return fn;
}

#define CG_RUNTIME(sym, params, args)                                                              \
    static cudaError_t CUDARTAPI cg_runtime_##sym params                                           \
    {                                                                                              \
        typedef cudaError_t(CUDARTAPI *real_fn) params;                                            \
        real_fn real = (real_fn)resolve_runtime(CG_RT_##sym);                                      \
        if (real == NULL)                                                                          \
            return cudaErrorInitializationError;                                                   \
        struct cg_runtime_mark previous = cg_runtime_enter(__builtin_return_address(0));           \
        cudaError_t rc = real args;                                                                \
        cg_runtime_leave(previous);                                                                \
        return rc;                                                                                 \
    }                                                                                              \
    __attribute__((visibility("default"))) cudaError_t CUDARTAPI sym params                        \
        __attribute__((alias("cg_runtime_" #sym)));
#include "shim/api.def"
