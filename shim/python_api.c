/*
 * shim/python_api.c — find CPython's C API in this process by name
 * (see shim/python_api.h).
 *
 * What it is for: one lookup through the real dlsym (the program's own
 * dlsym may be interposed by cuguard's dlsym route) for every table of
 * CPython functions the shim uses.
 *
 * What it must never do: load a library or call into Python.
 */
#include "shim/python_api.h"

#include <dlfcn.h>

#include "shim/driver.h"

static void *find(const char *name)
{
    cg_dlsym_fn real_dlsym = cg_real_dlsym();
    return real_dlsym ? real_dlsym(RTLD_DEFAULT, name) : NULL;
}

enum cg_py_lookup_result cg_py_lookup(const struct cg_py_symbol *table, size_t n,
                                      void **is_finalizing)
{
    if (find("Py_IsInitialized") == NULL)
        return CG_PY_ABSENT;
    for (size_t i = 0; i < n; i++)
        if ((*table[i].slot = find(table[i].name)) == NULL)
            return CG_PY_INCOMPLETE;
    *is_finalizing = find("Py_IsFinalizing");
    if (*is_finalizing == NULL)
        *is_finalizing = find("_Py_IsFinalizing");
    return *is_finalizing != NULL ? CG_PY_FOUND : CG_PY_INCOMPLETE;
}
