/*
 * analysis/cli/cli_option.h — one way to read "--opt VALUE" and "--opt=VALUE".
 *
 * What it is for: the option parsers of `cuguard run`, `report` and `dump`
 * share it, so every command accepts an option's value the same way.
 *
 * What it must never do: print, exit, or read past argv[argc - 1].
 */
#ifndef CUGUARD_ANALYSIS_CLI_OPTION_H
#define CUGUARD_ANALYSIS_CLI_OPTION_H

/* The value of option `name` at argv[*i] ("--opt VALUE", advancing *i, or
 * "--opt=VALUE"); NULL when argv[*i] is another argument. Sets *missing
 * when the option is there but its value is not (end of argv, or "--"). */
const char *cli_option_value(int argc, char **argv, int *i, const char *name, int *missing);

#endif
