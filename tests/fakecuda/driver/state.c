/*
 * state.c — the simulated driver's process-wide state: the one lock that
 * guards every object, the "something completed" condition, whether cuInit
 * has run, and what happens across fork().
 *
 * A child forked from a process that had initialized the driver sees every
 * call fail with CUDA_ERROR_NOT_INITIALIZED, as with a real driver; fork
 * itself must never deadlock, so the lock is taken around fork.
 *
 * Must never: hold the lock while running user work (host functions,
 * copies), or block inside fork handlers.
 */
#include "tests/fakecuda/driver/fakecuda.h"

#include <stdatomic.h>

enum init_state { INIT_NONE, INIT_DONE, INIT_FORKED };

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t state_changed = PTHREAD_COND_INITIALIZER;
static atomic_int init_state = INIT_NONE;

void fc_lock(void)
{
    pthread_mutex_lock(&state_lock);
}

void fc_unlock(void)
{
    pthread_mutex_unlock(&state_lock);
}

void fc_wait_changed(void)
{
    pthread_cond_wait(&state_changed, &state_lock);
}

void fc_wait_on(pthread_cond_t *cond)
{
    pthread_cond_wait(cond, &state_lock);
}

void fc_broadcast_changed(void)
{
    pthread_cond_broadcast(&state_changed);
}

CUresult fc_enter_uninitialized(const char *api)
{
    return fc_injected_failure(api);
}

CUresult fc_enter(const char *api)
{
    CUresult injected = fc_injected_failure(api);
    if (injected != CUDA_SUCCESS)
        return injected;
    if (atomic_load(&init_state) != INIT_DONE)
        return CUDA_ERROR_NOT_INITIALIZED;
    return CUDA_SUCCESS;
}

CUresult fc_initialize(void)
{
    int expected = INIT_NONE;
    if (atomic_compare_exchange_strong(&init_state, &expected, INIT_DONE))
        return CUDA_SUCCESS;
    return expected == INIT_DONE ? CUDA_SUCCESS : CUDA_ERROR_NOT_INITIALIZED;
}

static void before_fork(void)
{
    pthread_mutex_lock(&state_lock);
}

static void after_fork_in_parent(void)
{
    pthread_mutex_unlock(&state_lock);
}

static void after_fork_in_child(void)
{
    /* The workers did not survive the fork: the child cannot run work. */
    if (atomic_load(&init_state) == INIT_DONE)
        atomic_store(&init_state, INIT_FORKED);
    pthread_mutex_unlock(&state_lock);
}

__attribute__((constructor)) static void install_fork_handlers(void)
{
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}
