/*
 * analysis/cli/cli_option.c — "--opt VALUE" and "--opt=VALUE" (cli_option.h).
 *
 * What it is for: the one implementation behind every command's options.
 *
 * What it must never do: print, exit, or read past argv[argc - 1].
 */
#include "analysis/cli/cli_option.h"

#include <string.h>

const char *cli_option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc || !strcmp(argv[*i + 1], "--")) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}
