/*
 * analysis/cli/run_pytest.c — PYTHONPATH, PYTEST_PLUGINS, CUGUARD_PROGRAM and
 * CUGUARD_FAIL_ON for `cuguard run` (see run_pytest.h).
 *
 * What it must never do: touch any other variable, remove what the user
 * set, or make `cuguard run` fail.
 */
#include "analysis/cli/run_pytest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *run_pytest_list_add(const char *list, const char *item, char sep, int prepend)
{
    size_t n = strlen(item);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, (char[]){sep, '\0'});
        if (len == n && !strncmp(p, item, n))
            return strdup(list);
        p += len + (p[len] != '\0');
    }
    if (!list || !*list)
        return strdup(item);
    size_t size = strlen(list) + n + 2;
    char *out = malloc(size);
    if (out)
        snprintf(out, size, "%s%c%s", prepend ? item : list, sep, prepend ? list : item);
    return out;
}

static int add_to(const char *var, const char *item, char sep, int prepend)
{
    char *value = run_pytest_list_add(getenv(var), item, sep, prepend);
    int rc = value ? setenv(var, value, 1) : -1;
    free(value);
    return rc;
}

/* This binary's path and the plugin's directory; -1 when either is missing. */
static int find_plugin(char *exe, size_t exe_len, char *dir, size_t dir_len)
{
    ssize_t n = readlink("/proc/self/exe", exe, exe_len - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%s", exe);
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = '\0';
    const char *candidates[] = {RUN_PYTEST_PLUGIN_BUILD, RUN_PYTEST_PLUGIN_INSTALLED};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", base, candidates[i]);
        if (access(path, R_OK) == 0 && realpath(path, dir) && strlen(dir) < dir_len) {
            *strrchr(dir, '/') = '\0';
            return 0;
        }
    }
    fprintf(stderr,
            "cuguard run: warning: the pytest plugin is missing (looked for %s/%s and %s/%s); "
            "pytest runs without it\n",
            base, RUN_PYTEST_PLUGIN_BUILD, base, RUN_PYTEST_PLUGIN_INSTALLED);
    return -1;
}

int run_pytest_environment(const char *fail_on)
{
    char exe[PATH_MAX], dir[PATH_MAX];
    if (find_plugin(exe, sizeof exe, dir, sizeof dir) != 0)
        return 0;
    int rc = add_to("PYTHONPATH", dir, ':', 1);
    rc |= add_to("PYTEST_PLUGINS", "cuguard", ',', 0);
    rc |= setenv("CUGUARD_PROGRAM", exe, 1);
    if (fail_on)
        rc |= setenv("CUGUARD_FAIL_ON", fail_on, 1);
    if (rc != 0)
        fprintf(stderr, "cuguard run: cannot set the pytest environment: %s\n", strerror(errno));
    return rc ? -1 : 0;
}
