/*
 * analysis/cli/run_timeout.h — `cuguard run --timeout SECONDS`.
 *
 * What it is for: waiting for CMD with a deadline. When CMD (or any of its
 * descendants, pytest-xdist workers included) still runs at the deadline,
 * every traced process still running is asked for its hang report (the
 * dump signal, CUGUARD_DUMP_SIGNAL or SIGUSR2, sent to each pid found in
 * the run directory's traces), cuguard waits until each one's trace shows
 * the report written (its CG_REC_PYSTACK header record) or a few seconds
 * pass, then sends SIGTERM to CMD and its descendants, and SIGKILL to what
 * is left after a grace period.
 *
 * What it must never do: signal a process that is not CMD or one of its
 * descendants, or wait for CMD without end once the deadline has passed.
 */
#ifndef CUGUARD_ANALYSIS_RUN_TIMEOUT_H
#define CUGUARD_ANALYSIS_RUN_TIMEOUT_H

#include <sys/types.h>

/* cuguard run's exit status when --timeout ended CMD. */
#define RUN_TIMEOUT_STATUS 124

/* 1 when `s` is a whole number of seconds from 1 to 31536000. */
int run_timeout_valid(const char *s);

/* waitpid(child) with a deadline `seconds` from now (0 = none). Stores the
 * status in *status; returns 1 when the deadline ended CMD, 0 when CMD
 * ended on its own, -1 when waitpid failed. `run_dir` holds the traces
 * (NULL: untraced, no report is asked for). */
int run_timeout_wait(pid_t child, unsigned seconds, const char *run_dir, int *status);

#endif
