/*
 * shim/config.h — the shim's configuration, read once at load from CUGUARD_*.
 *
 * What it is for: turning environment strings into one validated struct.
 * The parsing functions are pure (no getenv, no global state, no output
 * except through the warn callback) so a unit suite can check every value.
 *
 * What it must never do: fail. A bad value yields exactly one warning line
 * naming the variable and the value used instead, and the default is used.
 */
#ifndef CUGUARD_SHIM_CONFIG_H
#define CUGUARD_SHIM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "tracer/format.h"

#define CG_PATH_MAX 4096
#define CG_TASK_VAR_MAX 64
#define CG_DEFAULT_TASK_VAR "PYTEST_CURRENT_TEST"
#define CG_DEFAULT_LIBCUDA "libcuda.so.1"
#define CG_DEFAULT_WATCHDOG_S 60u
#define CG_DEFAULT_QUARANTINE 1024u
#define CG_DEFAULT_RECLAIM_AGE 1u
#define CG_DEFAULT_SYNC_QUERY_MS 1000u
#define CG_DEFAULT_STACK_FRAMES 8u

/* CUGUARD_POLICY bits: the trace header's (tracer/format.h), so the header
 * takes them as they are. */
enum cg_policy_bits {
    CG_POLICY_BIT_OWNERSHIP = CG_HDR_POLICY_OWNERSHIP,
    CG_POLICY_BIT_ISOLATE = CG_HDR_POLICY_ISOLATE,
    CG_POLICY_BIT_DESTROY = CG_HDR_POLICY_DESTROY,
    CG_POLICY_BIT_SYNC_QUERY = CG_HDR_POLICY_SYNC_QUERY,
};

/* CUGUARD_LOG levels: each includes the ones before it. */
enum cg_log_level {
    CG_LOG_QUIET = 0,
    CG_LOG_WARN = 1,
    CG_LOG_DEBUG = 2,
};

/* CUGUARD_ON_ERROR. */
enum cg_on_error {
    CG_ON_ERROR_CONTINUE = 0,
    CG_ON_ERROR_REFUSE = 1,
    CG_ON_ERROR_ABORT = 2,
};

struct cg_config {
    int tracing;                    /* 1 when CUGUARD_DIR is set and non-empty */
    char dir[CG_PATH_MAX];          /* absolute trace directory when tracing */
    uint32_t task_mode;             /* enum cg_task_mode (tracer/format.h) */
    char task_var[CG_TASK_VAR_MAX]; /* variable name in CG_TASK_ENV mode */
    unsigned policy;                /* enum cg_policy_bits */
    unsigned watchdog_s;            /* 0 = off */
    char libcuda[CG_PATH_MAX];      /* driver to dlopen */
    int libcuda_from_env;           /* 1 when CUGUARD_LIBCUDA chose it */
    int log_level;                  /* enum cg_log_level */
    int on_error;                   /* enum cg_on_error */
    unsigned quarantine;            /* CUGUARD_QUARANTINE */
    unsigned reclaim_age;           /* CUGUARD_RECLAIM_AGE */
    unsigned sync_query_ms;         /* CUGUARD_SYNC_QUERY_MS */
    int dump_signal;                /* CUGUARD_DUMP_SIGNAL, default SIGUSR2 */
    unsigned stack_depth;           /* CUGUARD_STACK_DEPTH, 0 = stacks off */
};

/* Where values come from: returns the variable's value or NULL if unset. */
typedef const char *(*cg_config_lookup)(const char *name, void *ctx);
/* Where warnings go: one complete line without the trailing newline. */
typedef void (*cg_config_warn)(const char *line, void *ctx);

/* Fill `cfg` from `lookup`. `cwd` makes a relative CUGUARD_DIR absolute (may
 * be NULL: the directory is then kept as given). Bad values are replaced by
 * defaults, each with one call to `warn`. */
void cg_config_parse(struct cg_config *cfg, cg_config_lookup lookup, void *lookup_ctx,
                     const char *cwd, cg_config_warn warn, void *warn_ctx);

/* The pieces, each pure. They return 0 when `value` was valid, -1 when the
 * default was stored instead. A NULL `value` (unset) is valid. */
int cg_parse_task(const char *value, uint32_t *mode, char *var, size_t var_len);
int cg_parse_policy(const char *value, unsigned *bits, char *bad, size_t bad_len);
int cg_parse_uint(const char *value, unsigned max, unsigned dflt, unsigned *out);
int cg_parse_log(const char *value, int *level);
int cg_parse_on_error(const char *value, int *mode);
int cg_parse_signal(const char *value, int *signo);

/* The configuration loaded at startup (shim/lifecycle.c fills it). */
extern struct cg_config cg_config __attribute__((visibility("hidden")));

#endif
