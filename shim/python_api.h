/*
 * shim/python_api.h — find CPython's C API in this process by name.
 *
 * What it is for: the one lookup the Python frame capture
 * (shim/python_frames.c) and the all-threads walk (shim/python_threads.c)
 * share. Each keeps its own table of the functions it needs; this fills
 * the table through the real dlsym, so a process without an interpreter
 * costs one failed lookup and nothing else.
 *
 * What it must never do: load a library, call into Python, or report a
 * table as found when one of its functions is missing.
 */
#ifndef CUGUARD_SHIM_PYTHON_API_H
#define CUGUARD_SHIM_PYTHON_API_H

#include <stddef.h>

struct cg_py_symbol {
    const char *name;
    void **slot;
};

enum cg_py_lookup_result {
    CG_PY_FOUND = 0,      /* every slot filled, and *is_finalizing */
    CG_PY_ABSENT = 1,     /* no interpreter in this process (yet) */
    CG_PY_INCOMPLETE = 2, /* an interpreter without one of the functions */
};

/* Fill each slot of `table`, and *is_finalizing with Py_IsFinalizing
 * (3.13) or else its older private name _Py_IsFinalizing. */
enum cg_py_lookup_result cg_py_lookup(const struct cg_py_symbol *table, size_t n,
                                      void **is_finalizing);

#endif
