/*
 * shim/python_frames.h — the Python frames of the calling thread, when it
 * runs Python (ctypes, numba-cuda, cuda-bindings, CuPy, PyTorch).
 *
 * What it is for: the file, line and function of each Python frame above a
 * driver call, innermost first, through CPython's public C API found at run
 * time with dlsym(RTLD_DEFAULT) (3.9 to 3.13). A thread that has a thread
 * state but has released the GIL (ctypes does around a foreign call) takes
 * it for the walk with PyGILState_Ensure and gives it back.
 *
 * What it must never do: touch Python in a process without an interpreter
 * (the symbols are absent), before Py_IsInitialized or once the interpreter
 * is finalizing, in a thread that has no thread state, or from a signal
 * handler; leave a Python exception set or a reference taken.
 */
#ifndef CUGUARD_SHIM_PYTHON_FRAMES_H
#define CUGUARD_SHIM_PYTHON_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#define CG_PY_FRAMES_MAX 32

/* Frames taken by cg_py_take: code objects (referenced) and their lines. */
struct cg_py_stack {
    int n;
    void *code[CG_PY_FRAMES_MAX];
    int line[CG_PY_FRAMES_MAX];
    int gil_ensured; /* 1: the walk took the GIL; release gives it back */
    int gil_state;
};

/* Look the C API up again (after a library was loaded). Cheap when found. */
void cg_py_resolve(void);

/* Take up to `max` frames of the calling thread (innermost first). Returns
 * the count (0: no Python here); when > 0 the caller must call
 * cg_py_release, and may call cg_py_format in between. */
int cg_py_take(struct cg_py_stack *s, int max);

/* Append ";p<line> <function> <file>" per frame (the tracer/format.h stack
 * syntax) to buf (NUL-terminated; whole frames only). */
void cg_py_format(const struct cg_py_stack *s, char *buf, size_t cap);

/* Drop the references and the GIL taken by cg_py_take. */
void cg_py_release(struct cg_py_stack *s);

#endif
