/*
 * shim/python_threads.c — every Python thread's stack, read by a helper
 * thread under the GIL (see shim/python_threads.h).
 *
 * What it is for: the helper thread and its hand-over. The watchdog bumps
 * `requested`, posts `wake` and waits on `done` until a deadline; the
 * helper walks only when `requested` moved past the last generation it
 * answered, fills `result`, then publishes `answered` (release). The
 * watchdog reads `result` only after seeing its own generation answered,
 * and asks again only after it is done reading, so the two never touch
 * `result` at once. A helper still waiting for the GIL from an earlier
 * request answers that one late and then the next.
 *
 * What it must never do: let the watchdog wait past its bound, run Python
 * code, or keep a reference or the GIL after a walk.
 */
#include "shim/python_threads.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "shim/python_api.h"

#define NS_PER_S 1000000000ull
#define FRAMES_MAX 32

typedef void *pyobj;

static struct {
    int (*is_initialized)(void);
    int (*is_finalizing)(void);
    int (*gil_ensure)(void);
    void (*gil_release)(int);
    pyobj (*call_no_args)(pyobj);
    int (*dict_next)(pyobj, long *, pyobj *, pyobj *);
    pyobj (*frame_back)(pyobj);
    pyobj (*frame_code)(pyobj);
    int (*frame_line)(pyobj);
    pyobj (*getattr)(pyobj, const char *);
    const char *(*as_utf8)(pyobj);
    void (*decref)(pyobj);
    void (*err_fetch)(pyobj *, pyobj *, pyobj *);
    void (*err_restore)(pyobj, pyobj, pyobj);
    void (*err_clear)(void);
    pyobj (*sys_get)(const char *);
    pyobj (*dict_get_string)(pyobj, const char *);
    pyobj (*dict_get)(pyobj, pyobj);
    unsigned long (*long_as_ulong)(pyobj);
} py;

static const struct cg_py_symbol wanted[] = {
    {"Py_IsInitialized", (void **)&py.is_initialized},
    {"PyGILState_Ensure", (void **)&py.gil_ensure},
    {"PyGILState_Release", (void **)&py.gil_release},
    {"PyObject_CallNoArgs", (void **)&py.call_no_args},
    {"PyDict_Next", (void **)&py.dict_next},
    {"PyFrame_GetBack", (void **)&py.frame_back},
    {"PyFrame_GetCode", (void **)&py.frame_code},
    {"PyFrame_GetLineNumber", (void **)&py.frame_line},
    {"PyObject_GetAttrString", (void **)&py.getattr},
    {"PyUnicode_AsUTF8", (void **)&py.as_utf8},
    {"Py_DecRef", (void **)&py.decref},
    {"PyErr_Fetch", (void **)&py.err_fetch},
    {"PyErr_Restore", (void **)&py.err_restore},
    {"PyErr_Clear", (void **)&py.err_clear},
    {"PySys_GetObject", (void **)&py.sys_get},
    {"PyDict_GetItemString", (void **)&py.dict_get_string},
    {"PyDict_GetItem", (void **)&py.dict_get},
    {"PyLong_AsUnsignedLong", (void **)&py.long_as_ulong},
};

static int api_state; /* 0 not looked up, 1 complete, -1 incomplete */

/* CG_PYT_NO_PYTHON, CG_PYT_UNAVAILABLE, or CG_PYT_OK once every function
 * is known. Looked up again while incomplete (a library may load later). */
static int resolve(void)
{
    if (api_state == 1)
        return CG_PYT_OK;
    switch (cg_py_lookup(wanted, sizeof wanted / sizeof wanted[0], (void **)&py.is_finalizing)) {
    case CG_PY_ABSENT:
        return CG_PYT_NO_PYTHON;
    case CG_PY_INCOMPLETE:
        api_state = -1;
        return CG_PYT_UNAVAILABLE;
    case CG_PY_FOUND:
        break;
    }
    api_state = 1;
    return CG_PYT_OK;
}

static int interpreter_running(void)
{
    return py.is_initialized() && !py.is_finalizing();
}

/* ---- the walk (helper thread, GIL held) ---- */

/* The UTF-8 text of attribute `name` of `obj`, ';' and control characters
 * made '?' (the stack syntax reserves ';'). */
static void text_attr(pyobj obj, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "?");
    pyobj value = py.getattr(obj, name);
    if (value == NULL) {
        py.err_clear();
        return;
    }
    const char *text = py.as_utf8(value);
    if (text != NULL)
        snprintf(out, cap, "%s", text);
    else
        py.err_clear();
    py.decref(value);
    for (char *c = out; *c; c++)
        if (*c == ';' || (unsigned char)*c < 0x20)
            *c = '?';
}

static void add_frame(struct cg_pyt_thread *t, size_t *used, pyobj frame)
{
    pyobj code = py.frame_code(frame);
    if (code == NULL)
        return;
    char file[512], function[128];
    text_attr(code, "co_filename", file, sizeof file);
    text_attr(code, "co_name", function, sizeof function);
    for (char *c = function; *c; c++)
        if (*c == ' ')
            *c = '_';
    int n = snprintf(t->stack + *used, sizeof t->stack - *used, ";p%d %s %s", py.frame_line(frame),
                     function, file);
    py.decref(code);
    if (n < 0 || (size_t)n >= sizeof t->stack - *used) {
        t->stack[*used] = '\0'; /* never a partial frame */
        return;
    }
    *used += (size_t)n;
    t->frames++;
}

/* `frame` is borrowed (the dict of sys._current_frames() holds it). */
static void walk_frames(struct cg_pyt_thread *t, pyobj frame)
{
    size_t used = (size_t)snprintf(t->stack, sizeof t->stack, "#stack");
    pyobj owned = NULL;
    for (int depth = 0; frame != NULL && depth < FRAMES_MAX; depth++) {
        add_frame(t, &used, frame);
        pyobj back = py.frame_back(frame);
        if (owned != NULL)
            py.decref(owned);
        owned = frame = back;
    }
    if (owned != NULL)
        py.decref(owned);
}

/* Name and native id from threading._active[ident] (borrowed lookups). */
static void thread_identity(struct cg_pyt_thread *t, pyobj active, pyobj key)
{
    if (active == NULL)
        return;
    pyobj thread = py.dict_get(active, key);
    if (thread == NULL)
        return;
    text_attr(thread, "_name", t->name, sizeof t->name);
    pyobj native = py.getattr(thread, "_native_id");
    if (native == NULL) {
        py.err_clear();
        return;
    }
    unsigned long id = py.long_as_ulong(native);
    py.decref(native);
    if (id == (unsigned long)-1)
        py.err_clear();
    else
        t->native_tid = (uint32_t)id;
}

/* threading._active, a new reference, or NULL when threading is not loaded. */
static pyobj threading_active(void)
{
    pyobj modules = py.sys_get("modules");
    pyobj threading = modules ? py.dict_get_string(modules, "threading") : NULL;
    if (threading == NULL)
        return NULL;
    pyobj active = py.getattr(threading, "_active");
    if (active == NULL)
        py.err_clear();
    return active;
}

/* sys._current_frames(), a C function (thread ident -> innermost frame
 * of every thread state but the caller's own, which has none). */
static pyobj current_frames(void)
{
    pyobj function = py.sys_get("_current_frames");
    pyobj frames = function ? py.call_no_args(function) : NULL;
    if (frames == NULL)
        py.err_clear();
    return frames;
}

static void walk_threads(struct cg_pyt_snapshot *s)
{
    pyobj frames = current_frames();
    if (frames == NULL)
        return;
    pyobj active = threading_active();
    pyobj key = NULL, frame = NULL;
    long position = 0;
    while (py.dict_next(frames, &position, &key, &frame)) {
        if (s->count == CG_PYT_THREADS_MAX) {
            s->more++;
            continue;
        }
        struct cg_pyt_thread *t = &s->threads[s->count++];
        memset(t, 0, sizeof *t);
        t->ident = py.long_as_ulong(key);
        if (t->ident == (unsigned long)-1)
            py.err_clear();
        thread_identity(t, active, key);
        walk_frames(t, frame);
    }
    if (active != NULL)
        py.decref(active);
    py.decref(frames);
}

static int walk(struct cg_pyt_snapshot *s)
{
    s->count = 0;
    s->more = 0;
    if (!interpreter_running())
        return CG_PYT_NOT_RUNNING;
    int gil = py.gil_ensure();
    int status = CG_PYT_NOT_RUNNING;
    if (!py.is_finalizing()) {
        pyobj type = NULL, value = NULL, trace = NULL;
        py.err_fetch(&type, &value, &trace);
        walk_threads(s);
        py.err_restore(type, value, trace);
        status = CG_PYT_OK;
    }
    py.gil_release(gil);
    return status;
}

/* ---- the helper thread ---- */

static int helper_state; /* 0 none, 1 running, -1 could not start */
static pthread_t helper;
static sem_t wake, done;
static unsigned requested, answered;
static struct cg_pyt_snapshot result;

static void *helper_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "cuguard-py");
    unsigned last = 0;
    for (;;) {
        while (sem_wait(&wake) != 0 && errno == EINTR)
            ;
        unsigned gen = __atomic_load_n(&requested, __ATOMIC_ACQUIRE);
        if (gen == last)
            continue; /* a wake-up for a request already answered */
        result.status = walk(&result);
        last = gen;
        __atomic_store_n(&answered, gen, __ATOMIC_RELEASE);
        sem_post(&done);
    }
    return NULL;
}

static int helper_ready(void)
{
    if (helper_state != 0)
        return helper_state == 1;
    sem_init(&wake, 0, 0);
    sem_init(&done, 0, 0);
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    int rc = pthread_create(&helper, NULL, helper_main, NULL);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (rc == 0)
        pthread_detach(helper);
    helper_state = rc == 0 ? 1 : -1;
    return rc == 0;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Wait for generation `gen` until `deadline` (CLOCK_MONOTONIC ns). */
static int wait_answer(unsigned gen, uint64_t deadline)
{
    struct timespec at = {(time_t)(deadline / NS_PER_S), (long)(deadline % NS_PER_S)};
    while (__atomic_load_n(&answered, __ATOMIC_ACQUIRE) != gen) {
        if (sem_clockwait(&done, CLOCK_MONOTONIC, &at) != 0 && errno == ETIMEDOUT)
            return __atomic_load_n(&answered, __ATOMIC_ACQUIRE) == gen;
    }
    return 1;
}

static void take_from_helper(struct cg_pyt_snapshot *out, uint64_t bound_ns)
{
    uint64_t start = mono_ns();
    unsigned gen = __atomic_load_n(&requested, __ATOMIC_RELAXED) + 1;
    if (gen == 0)
        gen = 1; /* 0 means "never asked" to the helper */
    __atomic_store_n(&requested, gen, __ATOMIC_RELEASE);
    sem_post(&wake);
    int got = wait_answer(gen, start + bound_ns);
    uint64_t when = out->when_ns;
    if (got) {
        memcpy(out, &result, sizeof *out);
    } else {
        out->status = interpreter_running() ? CG_PYT_GIL_HELD : CG_PYT_NOT_RUNNING;
        out->count = out->more = 0;
    }
    out->when_ns = when;
    out->waited_ns = mono_ns() - start;
}

void cg_pyt_take(struct cg_pyt_snapshot *out, uint64_t now_ns, uint64_t bound_ns)
{
    out->when_ns = now_ns;
    out->waited_ns = 0;
    out->count = out->more = 0;
    out->status = resolve();
    if (out->status != CG_PYT_OK)
        return;
    if (!interpreter_running()) {
        out->status = CG_PYT_NOT_RUNNING;
        return;
    }
    if (!helper_ready()) {
        out->status = CG_PYT_UNAVAILABLE;
        return;
    }
    take_from_helper(out, bound_ns);
}

void cg_pyt_after_fork_child(void)
{
    helper_state = 0;
    __atomic_store_n(&requested, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&answered, 0, __ATOMIC_RELAXED);
}
