/*
 * shim/config.c — parse the CUGUARD_* variables into struct cg_config.
 *
 * What it is for: the pure parsing behind shim/config.h. Every function here
 * works on the strings it is given; nothing reads the environment.
 *
 * What it must never do: call getenv, allocate, print (warnings go through
 * the caller's callback), or accept a value it cannot honour silently.
 */
#include "shim/config.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracer/format.h"

struct cg_config cg_config;

static int is_var_name(const char *s, size_t len)
{
    if (len == 0 || len >= CG_TASK_VAR_MAX || isdigit((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return 0;
    }
    return 1;
}

int cg_parse_task(const char *value, uint32_t *mode, char *var, size_t var_len)
{
    *mode = CG_TASK_ENV;
    snprintf(var, var_len, "%s", CG_DEFAULT_TASK_VAR);
    if (value == NULL || value[0] == '\0')
        return 0;
    if (strcmp(value, "thread") == 0) {
        *mode = CG_TASK_THREAD;
        var[0] = '\0';
        return 0;
    }
    if (strcmp(value, "process") == 0) {
        *mode = CG_TASK_PROCESS;
        var[0] = '\0';
        return 0;
    }
    if (strncmp(value, "env:", 4) == 0 && is_var_name(value + 4, strlen(value + 4)) &&
        strlen(value + 4) < var_len) {
        snprintf(var, var_len, "%s", value + 4);
        return 0;
    }
    return -1;
}

static int policy_bit(const char *name, size_t len, unsigned *bit)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        {"ownership", CG_POLICY_BIT_OWNERSHIP},
        {"isolate", CG_POLICY_BIT_ISOLATE},
        {"destroy", CG_POLICY_BIT_DESTROY},
        {"sync-query", CG_POLICY_BIT_SYNC_QUERY},
        {"none", 0},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].name) == len && strncmp(names[i].name, name, len) == 0) {
            *bit = names[i].bit;
            return 0;
        }
    }
    return -1;
}

int cg_parse_policy(const char *value, unsigned *bits, char *bad, size_t bad_len)
{
    int rc = 0;
    *bits = 0;
    if (bad_len > 0)
        bad[0] = '\0';
    if (value == NULL)
        return 0;
    const char *p = value;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        unsigned bit = 0;
        if (len > 0 && policy_bit(p, len, &bit) == 0) {
            *bits |= bit;
        } else if (len > 0) {
            if (rc == 0 && bad_len > 0)
                snprintf(bad, bad_len, "%.*s", (int)len, p);
            rc = -1;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return rc;
}

int cg_parse_uint(const char *value, unsigned max, unsigned dflt, unsigned *out)
{
    *out = dflt;
    if (value == NULL)
        return 0;
    if (!isdigit((unsigned char)value[0]))
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long v = strtoul(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_choice(const char *value, const char *const *names, int count, int dflt, int *out)
{
    *out = dflt;
    if (value == NULL)
        return 0;
    for (int i = 0; i < count; i++) {
        if (strcmp(value, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

int cg_parse_log(const char *value, int *level)
{
    static const char *const names[] = {"quiet", "warn", "debug"};
    return parse_choice(value, names, 3, CG_LOG_WARN, level);
}

int cg_parse_on_error(const char *value, int *mode)
{
    static const char *const names[] = {"continue", "refuse", "abort"};
    return parse_choice(value, names, 3, CG_ON_ERROR_CONTINUE, mode);
}

int cg_parse_signal(const char *value, int *signo)
{
    static const struct {
        const char *name;
        int signo;
    } names[] = {
        {"SIGUSR1", SIGUSR1}, {"USR1", SIGUSR1},    {"SIGUSR2", SIGUSR2},
        {"USR2", SIGUSR2},    {"SIGQUIT", SIGQUIT}, {"QUIT", SIGQUIT},
    };
    *signo = SIGUSR2;
    if (value == NULL)
        return 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(value, names[i].name) == 0) {
            *signo = names[i].signo;
            return 0;
        }
    }
    unsigned n = 0;
    if (cg_parse_uint(value, 64, SIGUSR2, &n) == 0 && n >= 1) {
        *signo = (int)n;
        return 0;
    }
    *signo = SIGUSR2;
    return -1;
}

static void warn_bad(cg_config_warn warn, void *ctx, const char *var, const char *value,
                     const char *used)
{
    char line[512];
    snprintf(line, sizeof line, "%s=\"%.200s\" is not valid; using %s", var, value, used);
    warn(line, ctx);
}

static void parse_dir(struct cg_config *cfg, const char *value, const char *cwd,
                      cg_config_warn warn, void *ctx)
{
    cfg->tracing = 0;
    cfg->dir[0] = '\0';
    if (value == NULL || value[0] == '\0')
        return;
    int n;
    if (value[0] == '/' || cwd == NULL)
        n = snprintf(cfg->dir, sizeof cfg->dir, "%s", value);
    else
        n = snprintf(cfg->dir, sizeof cfg->dir, "%s/%s", cwd, value);
    if (n < 0 || (size_t)n >= sizeof cfg->dir) {
        warn_bad(warn, ctx, "CUGUARD_DIR", "(path too long)", "no tracing");
        cfg->dir[0] = '\0';
        return;
    }
    cfg->tracing = 1;
}

static void parse_unsigned_var(const char *var, const char *value, unsigned max, unsigned dflt,
                               unsigned *out, cg_config_warn warn, void *ctx)
{
    if (cg_parse_uint(value, max, dflt, out) != 0) {
        char used[32];
        snprintf(used, sizeof used, "%u", dflt);
        warn_bad(warn, ctx, var, value, used);
    }
}

static void parse_libcuda(struct cg_config *cfg, const char *value, cg_config_warn warn, void *ctx)
{
    snprintf(cfg->libcuda, sizeof cfg->libcuda, "%s", CG_DEFAULT_LIBCUDA);
    cfg->libcuda_from_env = 0;
    if (value == NULL || value[0] == '\0')
        return;
    if (strlen(value) >= sizeof cfg->libcuda) {
        warn_bad(warn, ctx, "CUGUARD_LIBCUDA", "(path too long)", CG_DEFAULT_LIBCUDA);
        return;
    }
    snprintf(cfg->libcuda, sizeof cfg->libcuda, "%s", value);
    cfg->libcuda_from_env = 1;
}

void cg_config_parse(struct cg_config *cfg, cg_config_lookup lookup, void *lookup_ctx,
                     const char *cwd, cg_config_warn warn, void *warn_ctx)
{
    const char *v;
    memset(cfg, 0, sizeof *cfg);

    parse_dir(cfg, lookup("CUGUARD_DIR", lookup_ctx), cwd, warn, warn_ctx);

    v = lookup("CUGUARD_TASK", lookup_ctx);
    if (cg_parse_task(v, &cfg->task_mode, cfg->task_var, sizeof cfg->task_var) != 0)
        warn_bad(warn, warn_ctx, "CUGUARD_TASK", v, "env:" CG_DEFAULT_TASK_VAR);

    char bad[64];
    v = lookup("CUGUARD_POLICY", lookup_ctx);
    if (cg_parse_policy(v, &cfg->policy, bad, sizeof bad) != 0) {
        char line[512];
        snprintf(line, sizeof line,
                 "CUGUARD_POLICY=\"%.200s\": unknown policy \"%s\" ignored (known: "
                 "ownership, isolate, destroy, sync-query)",
                 v, bad);
        warn(line, warn_ctx);
    }

    unsigned watchdog_default = cfg->tracing ? CG_DEFAULT_WATCHDOG_S : 0;
    parse_unsigned_var("CUGUARD_WATCHDOG", lookup("CUGUARD_WATCHDOG", lookup_ctx), 86400u * 365,
                       watchdog_default, &cfg->watchdog_s, warn, warn_ctx);

    parse_libcuda(cfg, lookup("CUGUARD_LIBCUDA", lookup_ctx), warn, warn_ctx);

    v = lookup("CUGUARD_LOG", lookup_ctx);
    if (cg_parse_log(v, &cfg->log_level) != 0)
        warn_bad(warn, warn_ctx, "CUGUARD_LOG", v, "warn");

    v = lookup("CUGUARD_ON_ERROR", lookup_ctx);
    if (cg_parse_on_error(v, &cfg->on_error) != 0)
        warn_bad(warn, warn_ctx, "CUGUARD_ON_ERROR", v, "continue");

    parse_unsigned_var("CUGUARD_QUARANTINE", lookup("CUGUARD_QUARANTINE", lookup_ctx), 1u << 24,
                       CG_DEFAULT_QUARANTINE, &cfg->quarantine, warn, warn_ctx);
    parse_unsigned_var("CUGUARD_RECLAIM_AGE", lookup("CUGUARD_RECLAIM_AGE", lookup_ctx), 1u << 20,
                       CG_DEFAULT_RECLAIM_AGE, &cfg->reclaim_age, warn, warn_ctx);
    parse_unsigned_var("CUGUARD_SYNC_QUERY_MS", lookup("CUGUARD_SYNC_QUERY_MS", lookup_ctx),
                       3600u * 1000, CG_DEFAULT_SYNC_QUERY_MS, &cfg->sync_query_ms, warn, warn_ctx);

    parse_unsigned_var("CUGUARD_STACK_DEPTH", lookup("CUGUARD_STACK_DEPTH", lookup_ctx), 32u,
                       CG_DEFAULT_STACK_FRAMES, &cfg->stack_depth, warn, warn_ctx);

    v = lookup("CUGUARD_DUMP_SIGNAL", lookup_ctx);
    if (cg_parse_signal(v, &cfg->dump_signal) != 0)
        warn_bad(warn, warn_ctx, "CUGUARD_DUMP_SIGNAL", v, "SIGUSR2");
}
