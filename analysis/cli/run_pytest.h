/*
 * analysis/cli/run_pytest.h — the environment `cuguard run` gives pytest.
 *
 * What it is for: loading cuguard's pytest plugin (python/cuguard.py, see
 * docs/pytest.md) into an unmodified pytest run and its pytest-xdist
 * workers: the plugin's directory is prepended to PYTHONPATH, "cuguard" is
 * added to PYTEST_PLUGINS, CUGUARD_PROGRAM names this cuguard binary (the
 * plugin runs it at the end of the session) and CUGUARD_FAIL_ON carries
 * --fail-on to the plugin's --cuguard-fail-on.
 *
 * What it must never do: drop or reorder entries already in PYTHONPATH or
 * PYTEST_PLUGINS, add one twice, or fail the run: a missing plugin is one
 * warning and the command runs without it.
 */
#ifndef CUGUARD_ANALYSIS_RUN_PYTEST_H
#define CUGUARD_ANALYSIS_RUN_PYTEST_H

/* The plugin file relative to the directory of the cuguard binary: in a
 * build tree, then in an installed tree (PREFIX/bin/cuguard). */
#define RUN_PYTEST_PLUGIN_BUILD "python/cuguard.py"
#define RUN_PYTEST_PLUGIN_INSTALLED "../lib/cuguard/python/cuguard.py"

/* Set the variables above; `fail_on` may be NULL. Returns 0, or -1 when
 * the environment could not be changed (out of memory). */
int run_pytest_environment(const char *fail_on);

/* `list` with `item` added after a `sep` (`item` first when `prepend`),
 * unless `list` already holds it between separators; malloc'ed. Pure. */
char *run_pytest_list_add(const char *list, const char *item, char sep, int prepend);

#endif
