/*
 * shim/log.h — the shim's messages on stderr ("cuguard: ...").
 *
 * What it is for: warnings the user must see (bad configuration, tracing
 * turned off, no driver) and debug lines (CUGUARD_LOG=debug).
 *
 * What it must never do: allocate, take a lock, or write anything when
 * CUGUARD_LOG=quiet. Never called on a hot path except behind a level check.
 */
#ifndef CUGUARD_SHIM_LOG_H
#define CUGUARD_SHIM_LOG_H

#include "shim/config.h"

/* Current level (enum cg_log_level); set once at load. */
extern int cg_log_level;

/* One line "cuguard: <message>\n" on stderr when `level` <= cg_log_level. */
void cg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cg_warn(...) cg_log(CG_LOG_WARN, __VA_ARGS__)
#define cg_debug(...) cg_log(CG_LOG_DEBUG, __VA_ARGS__)

#endif
