/*
 * shim/trace_state.c — the tracing state and the lazy open of the trace.
 *
 * What it is for: the implementation of shim/trace_state.h. The first
 * record opens this process's trace file (under a lock taken only until it
 * is open); fork children reopen their own; the lifecycle closes it at exit.
 *
 * What it must never do: call a policy, the driver loader or the lifecycle
 * (they call it); close a trace another process opened; let a failure reach
 * the host program (an unwritable directory means one warning, no tracing).
 */
#include "shim/trace_state.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "shim/api.h"
#include "shim/config.h"
#include "shim/crash_guard.h"
#include "shim/log.h"
#include "shim/stack.h"
#include "shim/task.h"
#include "shim/thread.h"
#include "tracer/writer.h"

int cg_trace_state;
uint32_t cg_trace_generation;
uint32_t cg_trace_open_generation;

static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t opened_by;

const char *cg_trace_dir(void)
{
    return cg_config.dir;
}

static int open_trace_locked(void)
{
    struct cg_writer_config wc = {
        .dir = cg_config.dir,
        .task_mode = cg_config.task_mode,
        .task_var = cg_config.task_mode == CG_TASK_ENV ? cg_config.task_var : NULL,
        .api_names = cg_api_names,
        .api_count = CG_API_COUNT,
        .label = getenv("PYTEST_XDIST_WORKER"), /* gw0, gw1...: the xdist worker (format.h) */
        .policies = CG_HDR_POLICIES_KNOWN | cg_config.policy, /* the same bits (config.h) */
    };
    if (cg_writer_open(&wc) != 0)
        return -1;
    cg_thread_init();
    cg_stack_init(cg_config.stack_depth);
    cg_crash_guard_install();
    opened_by = getpid();
    cg_debug("tracing to %s", cg_writer_path() ? cg_writer_path() : cg_config.dir);
    return 0;
}

int cg_trace_ready_slow(void)
{
    int state = __atomic_load_n(&cg_trace_state, __ATOMIC_ACQUIRE);
    if (__builtin_expect(state == CG_TRACE_OPEN, 1))
        return 1;
    if (state != CG_TRACE_PENDING)
        return 0;
    pthread_mutex_lock(&open_lock);
    state = __atomic_load_n(&cg_trace_state, __ATOMIC_ACQUIRE);
    if (state == CG_TRACE_PENDING) {
        state = open_trace_locked() == 0 ? CG_TRACE_OPEN : CG_TRACE_FAILED;
        uint32_t generation = 0;
        if (state == CG_TRACE_OPEN) {
            cg_task_reset();
            generation = __atomic_add_fetch(&cg_trace_generation, 1, __ATOMIC_RELEASE);
        }
        __atomic_store_n(&cg_trace_state, state, __ATOMIC_RELEASE);
        __atomic_store_n(&cg_trace_open_generation, generation, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&open_lock);
    return state == CG_TRACE_OPEN;
}

void cg_trace_state_set_wanted(int wanted)
{
    __atomic_store_n(&cg_trace_state, wanted ? CG_TRACE_PENDING : CG_TRACE_OFF, __ATOMIC_RELEASE);
}

int cg_trace_close_if_ours(void)
{
    if (__atomic_load_n(&cg_trace_state, __ATOMIC_ACQUIRE) != CG_TRACE_OPEN)
        return 0;
    if (opened_by != getpid())
        return 0;
    __atomic_store_n(&cg_trace_open_generation, 0u, __ATOMIC_RELEASE);
    __atomic_store_n(&cg_trace_state, CG_TRACE_FAILED, __ATOMIC_RELEASE);
    cg_writer_close();
    return 1;
}

/* ---- fork: the child writes its own file, opened at its first record ---- */

void cg_trace_state_prepare_fork(void)
{
    pthread_mutex_lock(&open_lock);
}

void cg_trace_state_after_fork_parent(void)
{
    pthread_mutex_unlock(&open_lock);
}

void cg_trace_state_after_fork_child(void)
{
    pthread_mutex_unlock(&open_lock);
    if (__atomic_load_n(&cg_trace_state, __ATOMIC_ACQUIRE) == CG_TRACE_OPEN) {
        opened_by = getpid();
        cg_task_reset();
        uint32_t generation = __atomic_add_fetch(&cg_trace_generation, 1, __ATOMIC_RELEASE);
        __atomic_store_n(&cg_trace_open_generation, generation, __ATOMIC_RELEASE);
    }
}
