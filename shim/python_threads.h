/*
 * shim/python_threads.h — every Python thread's stack, for the hang report.
 *
 * What it is for: what `faulthandler.dump_traceback(all_threads=True)` or
 * `py-spy dump` shows (each Python thread's name, native thread id and
 * frames, innermost first), taken for the watchdog thread (which has no
 * Python thread state) by a helper thread of the shim's own: the helper
 * takes the GIL with PyGILState_Ensure, calls sys._current_frames() (a C
 * function: ident -> innermost frame of every thread state that has one),
 * walks each PyFrame_GetBack chain, copies names, files, lines and
 * functions into plain text, and gives the GIL back. The watchdog waits for it at
 * most `bound_ns`: when a thread holds the GIL in a C loop the helper is
 * still waiting, and the snapshot says so instead. Thread names and native
 * ids come from threading._active (a dict lookup: no Python code runs).
 *
 * What it must never do: block the caller past its bound, call into Python
 * from the watchdog thread itself, touch Python in a process without an
 * interpreter, before Py_IsInitialized or while it is finalizing, run
 * Python code (no call of a Python function, no import; only an audit hook
 * the program installed sees sys._current_frames), or start more
 * than one helper per process.
 */
#ifndef CUGUARD_SHIM_PYTHON_THREADS_H
#define CUGUARD_SHIM_PYTHON_THREADS_H

#include <stdint.h>

#define CG_PYT_THREADS_MAX 32u
#define CG_PYT_STACK_BYTES 2048u
#define CG_PYT_NAME_BYTES 48u

/* What a snapshot could read (also CG_REC_PYSTACK's result, tracer/format.h). */
enum cg_pyt_status {
    CG_PYT_OK = 0,          /* `threads` holds every Python thread (up to the max) */
    CG_PYT_GIL_HELD = 1,    /* the GIL could not be taken within the bound */
    CG_PYT_NOT_RUNNING = 2, /* the interpreter is starting or finalizing */
    CG_PYT_NO_PYTHON = 3,   /* no interpreter in this process (nothing is shown) */
    CG_PYT_UNAVAILABLE = 4, /* a needed C API function is missing, or no helper thread */
};

struct cg_pyt_thread {
    uint32_t native_tid;          /* threading's native_id, 0 = unknown */
    uint64_t ident;               /* threading.get_ident() of the thread */
    char name[CG_PYT_NAME_BYTES]; /* threading's name, "" = unknown */
    unsigned frames;
    /* "#stack;p<line> <function> <file>..." (tracer/format.h stack syntax) */
    char stack[CG_PYT_STACK_BYTES];
};

struct cg_pyt_snapshot {
    int status;         /* enum cg_pyt_status */
    uint64_t when_ns;   /* CLOCK_MONOTONIC of the request */
    uint64_t waited_ns; /* how long the caller waited for the helper */
    unsigned count;     /* threads[] filled */
    unsigned more;      /* Python threads beyond CG_PYT_THREADS_MAX */
    struct cg_pyt_thread threads[CG_PYT_THREADS_MAX];
};

/* Take a snapshot, waiting at most bound_ns for the helper. For the
 * watchdog thread only (one caller at a time). `out` is filled in every
 * case; status says what it holds. */
void cg_pyt_take(struct cg_pyt_snapshot *out, uint64_t now_ns, uint64_t bound_ns);

/* In a fork child: the helper does not exist there. */
void cg_pyt_after_fork_child(void);

#endif
