/*
 * shim/fork.c — the shim's fork(): CG_REC_FORK in the parent.
 *
 * What it is for: a fork is a record in the parent's trace carrying the
 * child's pid (pthread_atfork handlers cannot know it). The child's side
 * (its own trace file) is the atfork child handler in shim/lifecycle.c.
 *
 * What it must never do: change fork's result or errno, or record in the
 * child. Not compiled into unit suites (Check forks through it otherwise).
 */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "shim/driver.h"
#include "shim/trace_state.h"
#include "tracer/writer.h"

typedef pid_t (*fork_fn)(void);

static void record_fork(pid_t child)
{
    struct cg_record *r = cg_writer_reserve(1);
    if (r == NULL)
        return;
    memset(r, 0, sizeof *r);
    r->arg = (uint64_t)child;
    r->ts_ns = cg_now_ns();
    r->tid = cg_gettid();
    cg_writer_publish(r, CG_REC_FORK);
}

__attribute__((visibility("default"))) pid_t fork(void)
{
    static fork_fn real_fork;
    fork_fn real = __atomic_load_n(&real_fork, __ATOMIC_ACQUIRE);
    if (real == NULL) {
        cg_dlsym_fn real_dlsym = cg_real_dlsym();
        real = real_dlsym ? (fork_fn)real_dlsym(RTLD_NEXT, "fork") : NULL;
        if (real == NULL) {
            errno = ENOSYS;
            return -1;
        }
        __atomic_store_n(&real_fork, real, __ATOMIC_RELEASE);
    }
    pid_t pid = real();
    if (pid > 0 && __atomic_load_n(&cg_trace_state, __ATOMIC_ACQUIRE) == CG_TRACE_OPEN) {
        int saved = errno;
        record_fork(pid);
        errno = saved;
    }
    return pid;
}
