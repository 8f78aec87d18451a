/*
 * shim/task.h — the current task (DESIGN §6) and CG_REC_TASK records.
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

/* Check the task variable; write CG_REC_TASK if the task changed. */
void cg_task_poll(void);

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
