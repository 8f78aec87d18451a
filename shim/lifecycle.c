/*
 * shim/lifecycle.c — load, lazy trace open, fork and exit of the shim.
 *
 * What it is for: the implementation of shim/lifecycle.h. The constructor
 * reads CUGUARD_* once (the only getenv calls the shim makes) and, when
 * tracing is wanted, registers the fork handlers. The first wrapped call
 * opens the trace; the destructor closes it.
 *
 * What it must never do: open the trace or load the driver at load time,
 * close a trace another process opened, or let a failure reach the host
 * program (an unwritable directory means one warning and no tracing).
 */
#include "shim/lifecycle.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/api.h"
#include "shim/config.h"
#include "shim/crash_guard.h"
#include "shim/driver.h"
#include "shim/log.h"
#include "shim/stack.h"
#include "shim/policy.h"
#include "shim/task.h"
#include "shim/thread.h"
#include "tracer/writer.h"

int cg_trace_state;
uint32_t cg_trace_generation;
int cg_forward_only;

void cg_forward_refresh(void)
{
    int forward = __atomic_load_n(&cg_driver_state, __ATOMIC_ACQUIRE) == 1 && !cg_policy_wanted() &&
                  !cg_trace_wanted();
    __atomic_store_n(&cg_forward_only, forward, __ATOMIC_RELEASE);
}

static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t opened_by;
static int fork_handlers_registered;

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
        if (state == CG_TRACE_OPEN) {
            cg_task_reset();
            __atomic_fetch_add(&cg_trace_generation, 1, __ATOMIC_RELEASE);
        }
        __atomic_store_n(&cg_trace_state, state, __ATOMIC_RELEASE);
        cg_forward_refresh();
    }
    pthread_mutex_unlock(&open_lock);
    return state == CG_TRACE_OPEN;
}

/* ---- fork: the child writes its own file, opened at its first record ---- */

static void fork_prepare(void)
{
    pthread_mutex_lock(&open_lock);
    cg_task_prepare_fork();
    cg_writer_prepare_fork();
}

static void fork_parent(void)
{
    cg_writer_after_fork_parent();
    cg_task_after_fork();
    pthread_mutex_unlock(&open_lock);
}

static void fork_child(void)
{
    cg_writer_after_fork_child();
    cg_task_after_fork();
    pthread_mutex_unlock(&open_lock);
    if (__atomic_load_n(&cg_trace_state, __ATOMIC_ACQUIRE) == CG_TRACE_OPEN) {
        opened_by = getpid();
        cg_task_reset();
        __atomic_fetch_add(&cg_trace_generation, 1, __ATOMIC_RELEASE);
    }
}

/* ---- load and exit ---- */

static const char *env_lookup(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static void warn_line(const char *line, void *ctx)
{
    (void)ctx;
    cg_warn("%s", line);
}

void cg_shim_load_config(void)
{
    char cwd[PATH_MAX];
    const char *log = getenv("CUGUARD_LOG");
    int level = CG_LOG_WARN;
    cg_parse_log(log, &level); /* warnings must obey the level they come with */
    __atomic_store_n(&cg_log_level, level, __ATOMIC_RELAXED);
    cg_config_parse(&cg_config, env_lookup, NULL, getcwd(cwd, sizeof cwd), warn_line, NULL);
    __atomic_store_n(&cg_log_level, cg_config.log_level, __ATOMIC_RELAXED);
    cg_policy_load();
    int state = cg_config.tracing ? CG_TRACE_PENDING : CG_TRACE_OFF;
    __atomic_store_n(&cg_trace_state, state, __ATOMIC_RELEASE);
    cg_forward_refresh();
    if (cg_config.tracing && !fork_handlers_registered) {
        fork_handlers_registered = pthread_atfork(fork_prepare, fork_parent, fork_child) == 0;
        if (!fork_handlers_registered)
            cg_warn("cannot register fork handlers; fork children write no trace");
    }
    cg_debug("loaded (%s)", cg_config.tracing ? cg_config.dir : "idle: CUGUARD_DIR not set");
}

void cg_shim_finish(void)
{
    if (__atomic_load_n(&cg_trace_state, __ATOMIC_ACQUIRE) != CG_TRACE_OPEN)
        return;
    if (opened_by != getpid())
        return;
    __atomic_store_n(&cg_trace_state, CG_TRACE_FAILED, __ATOMIC_RELEASE);
    cg_forward_refresh();
    cg_writer_close();
}

__attribute__((constructor)) static void shim_load(void)
{
    cg_shim_load_config();
}

__attribute__((destructor)) static void shim_unload(void)
{
    cg_shim_finish();
}
