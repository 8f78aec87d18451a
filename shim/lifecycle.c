/*
 * shim/lifecycle.c — load, fork and exit of the shim.
 *
 * What it is for: the implementation of shim/lifecycle.h. The constructor
 * reads CUGUARD_* once (the only getenv calls the shim makes, besides the
 * xdist worker label read when the trace opens), loads the policies, sets
 * the tracing state and, when tracing is wanted, registers the fork
 * handlers, and grows the descriptor table while the process is still
 * single-threaded. The first record opens the trace (shim/trace_state.c); the
 * destructor closes it.
 *
 * What it must never do: open the trace or load the driver at load time,
 * or let a failure reach the host program.
 */
#include "shim/lifecycle.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/config.h"
#include "shim/log.h"
#include "shim/policy.h"
#include "shim/task.h"
#include "tracer/writer.h"

static int fork_handlers_registered;
int cg_forward_only;

void cg_forward_refresh(void)
{
    int forward = !cg_policy_wanted() && !cg_trace_wanted();
    __atomic_store_n(&cg_forward_only, forward, __ATOMIC_RELEASE);
}

/* ---- fork: the child writes its own file, opened at its first record ---- */

static void fork_prepare(void)
{
    cg_trace_state_prepare_fork();
    cg_task_prepare_fork();
    cg_writer_prepare_fork();
}

static void fork_parent(void)
{
    cg_writer_after_fork_parent();
    cg_task_after_fork();
    cg_trace_state_after_fork_parent();
}

static void fork_child(void)
{
    cg_writer_after_fork_child();
    cg_task_after_fork();
    cg_trace_state_after_fork_child();
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
    cg_trace_state_set_wanted(cg_config.tracing);
    cg_forward_refresh();
    if (cg_config.tracing)
        cg_writer_grow_fd_table(); /* single-threaded still: no RCU wait later */
    if (cg_config.tracing && !fork_handlers_registered) {
        fork_handlers_registered = pthread_atfork(fork_prepare, fork_parent, fork_child) == 0;
        if (!fork_handlers_registered)
            cg_warn("cannot register fork handlers; fork children write no trace");
    }
    cg_debug("loaded (%s)", cg_config.tracing ? cg_config.dir : "idle: CUGUARD_DIR not set");
}

void cg_shim_finish(void)
{
    if (cg_trace_close_if_ours())
        cg_forward_refresh();
}

__attribute__((constructor)) static void shim_load(void)
{
    cg_shim_load_config();
}

__attribute__((destructor)) static void shim_unload(void)
{
    cg_shim_finish();
}
