/*
 * shim/python_frames.c — reading CPython frames through its public C API.
 *
 * What it is for: the implementation of shim/python_frames.h. Every
 * function is looked up by name (no Python headers, no link dependency):
 * Py_IsInitialized, _Py_IsFinalizing / Py_IsFinalizing,
 * PyGILState_GetThisThreadState, PyGILState_Check, PyGILState_Ensure /
 * Release, PyThreadState_GetFrame, PyFrame_GetBack, PyFrame_GetCode,
 * PyFrame_GetLineNumber, PyObject_GetAttrString, PyUnicode_AsUTF8, Py_DecRef,
 * PyErr_Fetch / PyErr_Restore. The three PyFrame_* accessors exist since
 * 3.9; without any one of them the shim records no Python frames.
 *
 * What it must never do: call into Python without holding the GIL, or when
 * the interpreter is not initialized or finalizing; keep a Python object
 * past cg_py_release.
 */
#include "shim/python_frames.h"

#include <stdio.h>
#include <string.h>

#include "shim/python_api.h"

typedef void *pyobj;

struct py_api {
    int (*is_initialized)(void);
    int (*is_finalizing)(void);
    void *(*this_thread_state)(void);
    int (*gil_check)(void);
    int (*gil_ensure)(void);
    void (*gil_release)(int);
    pyobj (*thread_frame)(void *);
    pyobj (*frame_back)(pyobj);
    pyobj (*frame_code)(pyobj);
    int (*frame_line)(pyobj);
    pyobj (*getattr)(pyobj, const char *);
    const char *(*as_utf8)(pyobj);
    void (*decref)(pyobj);
    void (*err_fetch)(pyobj *, pyobj *, pyobj *);
    void (*err_restore)(pyobj, pyobj, pyobj);
};

static struct py_api api;
static int api_ready; /* every function found */

/* Every function the walk needs, by name; Py_IsFinalizing (3.13) is tried
 * before its older private name. */
static const struct cg_py_symbol wanted[] = {
    {"Py_IsInitialized", (void **)&api.is_initialized},
    {"PyGILState_GetThisThreadState", (void **)&api.this_thread_state},
    {"PyGILState_Check", (void **)&api.gil_check},
    {"PyGILState_Ensure", (void **)&api.gil_ensure},
    {"PyGILState_Release", (void **)&api.gil_release},
    {"PyThreadState_GetFrame", (void **)&api.thread_frame},
    {"PyFrame_GetBack", (void **)&api.frame_back},
    {"PyFrame_GetCode", (void **)&api.frame_code},
    {"PyFrame_GetLineNumber", (void **)&api.frame_line},
    {"PyObject_GetAttrString", (void **)&api.getattr},
    {"PyUnicode_AsUTF8", (void **)&api.as_utf8},
    {"Py_DecRef", (void **)&api.decref},
    {"PyErr_Fetch", (void **)&api.err_fetch},
    {"PyErr_Restore", (void **)&api.err_restore},
};

void cg_py_resolve(void)
{
    if (__atomic_load_n(&api_ready, __ATOMIC_ACQUIRE))
        return;
    if (cg_py_lookup(wanted, sizeof wanted / sizeof wanted[0], (void **)&api.is_finalizing) ==
        CG_PY_FOUND)
        __atomic_store_n(&api_ready, 1, __ATOMIC_RELEASE);
}

static int interpreter_running(void)
{
    return __atomic_load_n(&api_ready, __ATOMIC_ACQUIRE) && api.is_initialized() &&
           !api.is_finalizing();
}

int cg_py_take(struct cg_py_stack *s, int max)
{
    s->n = 0;
    s->gil_ensured = 0;
    if (max > CG_PY_FRAMES_MAX)
        max = CG_PY_FRAMES_MAX;
    if (max <= 0 || !interpreter_running() || api.this_thread_state() == NULL)
        return 0;
    if (!api.gil_check()) {
        s->gil_state = api.gil_ensure();
        s->gil_ensured = 1;
    }
    void *tstate = api.this_thread_state();
    pyobj frame = tstate ? api.thread_frame(tstate) : NULL;
    while (frame != NULL && s->n < max) {
        s->code[s->n] = api.frame_code(frame);
        s->line[s->n] = api.frame_line(frame);
        if (s->code[s->n] != NULL)
            s->n++;
        pyobj back = api.frame_back(frame);
        api.decref(frame);
        frame = back;
    }
    if (frame != NULL)
        api.decref(frame);
    if (s->n == 0)
        cg_py_release(s);
    return s->n;
}

/* The UTF-8 text of attribute `name` of `code` into out (';', which the
 * stack syntax reserves, and control characters become '?'). */
static void code_attr(pyobj code, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "?");
    pyobj value = api.getattr(code, name);
    if (value == NULL)
        return;
    const char *text = api.as_utf8(value);
    if (text != NULL)
        snprintf(out, cap, "%s", text);
    api.decref(value);
    for (char *c = out; *c; c++)
        if (*c == ';' || (unsigned char)*c < 0x20)
            *c = '?';
}

void cg_py_format(const struct cg_py_stack *s, char *buf, size_t cap)
{
    pyobj type = NULL, value = NULL, trace = NULL;
    api.err_fetch(&type, &value, &trace);
    size_t used = strlen(buf);
    for (int i = 0; i < s->n && used + 1 < cap; i++) {
        char file[512], function[128];
        /* a function name is an identifier or "<module>", "<lambda>"...: no spaces */
        code_attr(s->code[i], "co_filename", file, sizeof file);
        code_attr(s->code[i], "co_name", function, sizeof function);
        int n = snprintf(buf + used, cap - used, ";p%d %s %s", s->line[i], function, file);
        if (n < 0 || (size_t)n >= cap - used) {
            buf[used] = '\0'; /* never a partial frame */
            break;
        }
        used += (size_t)n;
    }
    api.err_restore(type, value, trace);
}

void cg_py_release(struct cg_py_stack *s)
{
    for (int i = 0; i < s->n; i++)
        api.decref(s->code[i]);
    s->n = 0;
    if (s->gil_ensured)
        api.gil_release(s->gil_state);
    s->gil_ensured = 0;
}
