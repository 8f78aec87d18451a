/*
 * shim/task.h — the current task (docs/design.md) and CG_REC_TASK records.
 *
 * What it is for: noticing when the task variable (default
 * PYTEST_CURRENT_TEST) changes and writing one CG_REC_TASK with the interned
 * name, its pytest phase suffix (" (call)", " (setup)", " (teardown)")
 * stripped. The hot path never calls getenv: it compares the `environ`
 * pointer and the cached slot of the variable with what it saw last time.
 *
 * What it must never do: take a lock unless the environment changed, or
 * record any variable but the task variable.
 */
#ifndef CUGUARD_SHIM_TASK_H
#define CUGUARD_SHIM_TASK_H

#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "shim/thread.h"

/* Check the task variable; write CG_REC_TASK if the task changed. */
void cg_task_poll(void);

/* The same for a thread with state `t` (may be NULL): the hot path. Two
 * loads from the environment (`environ` and the variable's slot; a third,
 * same cache line, when the variable is absent) compared with what this
 * thread saw last; only a change takes the lock. */
void cg_task_poll_slow(struct cg_thread *t);
/* 1 when the environment is as thread `t` (not NULL) last saw it: no poll
 * needed (the test of cg_task_poll_thread, for the wrappers' fast path). */
static inline int cg_task_unchanged(const struct cg_thread *t)
{
    char **env = environ;
    return env != NULL && env == t->task_env && env[t->task_slot[0]] == t->task_entry[0] &&
           env[t->task_slot[1]] == t->task_entry[1];
}
static inline void cg_task_poll_thread(struct cg_thread *t)
{
    if (__builtin_expect(t != NULL && cg_task_unchanged(t), 1))
        return;
    cg_task_poll_slow(t);
}

/* FNV-1a hash of the current task name (the task variable's value, pytest
 * phase suffix stripped, at most 1023 bytes; an absent variable hashes
 * apart from an empty one). Each thread caches the hash with the slots of
 * the environment it came from (the same watch as cg_task_poll_thread), so
 * an unchanged task costs three loads and no getenv; a change of the
 * variable (setenv, putenv, unsetenv, a moved `environ`) rehashes. */
uint64_t cg_task_name_hash(void);

/* Forget the cached task (a new trace file opened): the next poll writes
 * the current task again. */
void cg_task_reset(void);

/* Fork handlers: keep the task lock consistent across fork. */
void cg_task_prepare_fork(void);
void cg_task_after_fork(void);

/* The task name in `value` with a pytest phase suffix removed, into out.
 * Pure. */
void cg_task_strip_phase(const char *value, char *out, size_t len);

#endif
