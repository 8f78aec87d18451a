/*
 * shim/route_dlsym.c — the shim's dlsym (docs/design.md, route 2).
 *
 * What it is for: programs that dlopen libcuda and dlsym each function
 * (ctypes, older cudart, cudart's one dlsym of cuGetProcAddress_v2). For a
 * name in api.def (exact match) whose real lookup yields the driver's own
 * function, the caller gets the shim's wrapper instead. Everything else is
 * forwarded untouched to libc's dlsym (dlvsym GLIBC_2.34, else 2.2.5).
 *
 * Forwarding must preserve the caller: dlsym(RTLD_NEXT, ...) searches after
 * the object that called it, which glibc finds from the return address. So
 * on x86-64 the exported dlsym is a small trampoline that asks
 * cg_dlsym_decide() and, when it does not decide, jumps (not calls) to the
 * real dlsym with the caller's arguments and return address intact. Other
 * architectures use a C forwarder, where RTLD_NEXT is resolved relative to
 * the shim (correct for every object loaded after it).
 *
 * What it must never do: swap a symbol that is not the driver's (an
 * interposer's or a mock's own cuEventRecord stays theirs), return a
 * wrapper when the driver is not loaded (a lookup that failed without
 * cuguard fails with it), load anything, or be compiled into a unit suite
 * (it would intercept the sanitizer runtime's own dlsym calls).
 */
#include <dlfcn.h>
#include <stddef.h>

#include "shim/api.h"
#include "shim/driver.h"

/* Also used by the trampoline: must not be interposable. */
__attribute__((visibility("hidden"))) void *cg_dlsym_decide(void *handle, const char *name,
                                                            int *decided);

static int is_own_wrapper(const void *fn, unsigned id)
{
    return fn == cg_api_info[id].wrapper;
}

/* Decide for a wrapped name whose real lookup gave `found`. */
static void *decide_wrapped(cg_dlsym_fn real, void *handle, const char *name, unsigned id,
                            int *decided)
{
    void *found = real(handle, name);
    *decided = 1;
    if (found == NULL)
        return NULL; /* the real dlsym set dlerror */
    if (is_own_wrapper(found, id)) {
        /* RTLD_DEFAULT (or the global scope) reached the shim's export: it
         * stands for the driver only if a driver definition follows it. */
        return real(RTLD_NEXT, name) != NULL ? found : NULL;
    }
    if (cg_driver_resolve(0) == 1 && cg_real(id) == found)
        return cg_api_info[id].wrapper;
    return found; /* somebody else's function of that name: theirs */
}

void *cg_dlsym_decide(void *handle, const char *name, int *decided)
{
    cg_dlsym_fn real = cg_real_dlsym();
    *decided = 0;
    if (real == NULL) {
        *decided = 1;
        return NULL;
    }
    if (name == NULL || name[0] != 'c' || name[1] != 'u')
        return NULL;
    unsigned id = cg_api_by_name(name);
    if (id == 0)
        return NULL;
    if (handle == RTLD_NEXT) {
        /* The shim is the caller of `real` here: searching after the shim
         * finds the driver exactly when the caller's own search would. */
        void *found = real(RTLD_NEXT, name);
        *decided = 1;
        if (found != NULL && cg_driver_resolve(0) == 1 && cg_real(id) == found)
            return cg_api_info[id].wrapper;
        return found;
    }
    return decide_wrapped(real, handle, name, id, decided);
}

#if defined(__x86_64__)
/* dlsym(handle, name): save the arguments, ask cg_dlsym_decide(); if it
 * decided, return its answer, else jump to the real dlsym as if called
 * directly by our caller. */
__asm__(".text\n"
        ".globl dlsym\n"
        ".type dlsym, @function\n"
        "dlsym:\n"
        ".cfi_startproc\n"
#if defined(__CET__)
        "    endbr64\n"
#endif
        "    pushq %rdi\n"
        ".cfi_adjust_cfa_offset 8\n"
        "    pushq %rsi\n"
        ".cfi_adjust_cfa_offset 8\n"
        "    subq $24, %rsp\n"
        ".cfi_adjust_cfa_offset 24\n"
        "    movl $0, (%rsp)\n"
        "    movq %rsp, %rdx\n"
        "    call cg_dlsym_decide\n"
        "    movl (%rsp), %ecx\n"
        "    addq $24, %rsp\n"
        ".cfi_adjust_cfa_offset -24\n"
        "    popq %rsi\n"
        ".cfi_adjust_cfa_offset -8\n"
        "    popq %rdi\n"
        ".cfi_adjust_cfa_offset -8\n"
        "    testl %ecx, %ecx\n"
        "    jnz 1f\n"
        "    jmp *cg_real_dlsym_ptr(%rip)\n"
        "1:  ret\n"
        ".cfi_endproc\n"
        ".size dlsym, .-dlsym\n");
#else
__attribute__((visibility("default"))) void *dlsym(void *handle, const char *name)
{
    int decided = 0;
    void *result = cg_dlsym_decide(handle, name, &decided);
    if (decided)
        return result;
    cg_dlsym_fn real = cg_real_dlsym();
    return real ? real(handle, name) : NULL;
}
#endif
