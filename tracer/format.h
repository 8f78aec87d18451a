/*
 * tracer/format.h — the on-disk cuguard trace, in one header.
 *
 * What it is for: the contract between the writer (in the preloaded shim)
 * and the reader (in the offline analyzer). A newcomer should be able to
 * decode a trace with nothing but this file and a hex dump.
 *
 * What it must never do: depend on anything but <stdint.h>; change a field's
 * meaning without bumping CG_FORMAT_VERSION.
 *
 * File: $CUGUARD_DIR/<host>-<pid>-<start>.cgt, one per process, mode 0600.
 *
 *   offset 0            struct cg_file_header        (CG_HEADER_SIZE bytes)
 *   offset CG_HEADER_SIZE  record 0, record 1, ...   (CG_RECORD_SIZE each)
 *
 * All integers are little-endian. The file grows in segments: in version 3
 * the first holds CG_FIRST_SEGMENT_RECORDS records and each next one twice
 * as many as the one before, up to CG_SEGMENT_RECORDS (version 2: every
 * segment CG_SEGMENT_RECORDS). Segments follow each other with no gap, so
 * record i is always at CG_HEADER_SIZE + i * CG_RECORD_SIZE. The writer maps
 * each segment MAP_SHARED, so whatever a thread finished writing survives
 * SIGKILL of the process. A clean exit truncates the file to the last
 * reserved slot; a killed process leaves zero slots after its last record
 * (up to the end of the segments it had prepared). A reader reads records
 * up to the end of the file, whatever its length.
 *
 * Records: a thread reserves a slot in its batch (see "Batches"), fills
 * every field, then stores `kind` last with release order: the record is
 * then published, and survives SIGKILL. A slot whose kind is 0 was never
 * finished (or lies past the last reserved slot); the reader skips it. A
 * record's ts_ns is taken at the moment the thing it describes happened
 * (for a call: when it returned; for a blocking call: once at entry, once
 * at exit). Up to version 3 a record is reserved at that moment too and
 * slot order is the order of the trace; from version 4 the order is that of
 * "Batches" below, and the usual call of a non-blocking API (the shim's
 * fast path) reserves and fills its slot before the real call and stamps
 * and publishes it after.
 *
 * Batches (version 4). The shared slot counter advances only by whole
 * batches of `batch_records` (CG_BATCH_RECORDS, 64) slots, so a batch never
 * straddles a segment. A thread takes a batch with one atomic add, its time
 * stamped just BEFORE that add; its first slot holds a CG_REC_BATCH record
 * (ts_ns = that time, tid = the thread, arg = slots in the batch) and the
 * thread alone fills the other slots, in the order it reserves them (a run
 * reserved together, n <= 4, never spans two batches: a batch's tail too
 * short for it stays zero). The fault handler's record is a batch of its
 * own. A reader orders records by the key
 *   (order time, tid, slot), order time = max(ts_ns, time of the record's
 *   batch, order time of the thread's previous record),
 * where a record's batch is the latest BATCH record of its tid before it in
 * slot order; a CG_REC_STRING record (no ts_ns), CG_REC_ARGS and
 * CG_REC_STREAM_ID take the order time of the thread's previous record, so
 * they stay just after the record they belong to. One thread's records are
 * in key order in slot order, so a reader merges per-thread streams; every
 * record's order time is at least its batch's time, and a thread has one
 * batch open at a time, so a record can come after, in slot order, at most
 * 63 records per thread that sort after it: a reader that merges a window
 * of W slots orders exactly while fewer than W / 64 threads fill batches at
 * once. BATCH records themselves are not handed out by tracer/reader.h.
 * A thread's unfilled tail of a batch (it exited, or the process was killed)
 * is zero slots (kind 0) and is skipped. `kill -9` loses no published
 * record: the file is MAP_SHARED and publishing is still the release store
 * of `kind`.
 *
 * Order of creates and teardowns (must hold in ts_ns order, which the
 * order of "Batches" keeps; up to version 3 in slot order too): a
 * create's ts_ns is taken after the real call returned; a teardown's
 * record (cuEventDestroy*, cuStreamDestroy*, cuMemFreeHost,
 * cuMemHostUnregister, cuCtxDestroy*, cuDevicePrimaryCtxReset*, and the
 * shim's own RELEASED / RECLAIMED destroys) is reserved and its ts_ns
 * taken BEFORE the real call, and published with its result after it. A
 * value a teardown frees can be handed to another thread's create before
 * the teardown returns; this way the teardown always precedes that create.
 * For cuMemFreeHost (a blocking call) the EXIT's slot and ts_ns are taken
 * together with the ENTER's. The POLICY records of a teardown the program
 * called follow its CALL record.
 *
 * Strings (call sites, task names, thread names, argv) are interned: a
 * string gets an id (1, 2, ...) and is written once as a run of consecutive
 * CG_REC_STRING records of one thread (from version 4 the run may go on in
 * that thread's next batch), each carrying up to CG_STRING_CHUNK bytes.
 * Records refer to strings by id. A string is always complete, in trace
 * order, before the first record that uses its id.
 *
 * API names are not numbered by a table compiled into the reader: the header
 * carries the writer's table (`api_names`, NUL-separated, index = api id), so
 * a trace stays readable when the shim's api.def grows.
 */
#ifndef CUGUARD_TRACER_FORMAT_H
#define CUGUARD_TRACER_FORMAT_H

#include <stdint.h>

#define CG_MAGIC "CUGUARD\0" /* 8 bytes at offset 0 */
#define CG_FORMAT_VERSION                                                                          \
    4u /* 2: CONTEXT/CALLBACK/MODULE records, tool_version and cut-short fields at the end of the  \
          header; 3: growing segments, the file ends where the records end, clock fields;          \
          4: per-thread batches ("Batches"), batch_records and policies at the end of the          \
          header (policies 0 in the first version 4 files: not said) */
#define CG_FORMAT_VERSION_MIN 1u /* oldest version the reader accepts */
#define CG_CUT_SHORT_REASON_MAX 64u
#define CG_HEADER_SIZE 8192u /* header occupies the first two pages */
#define CG_RECORD_SIZE 48u
#define CG_SEGMENT_RECORDS 65536u      /* largest segment, 3 MiB (version 2: every segment) */
#define CG_FIRST_SEGMENT_RECORDS 1024u /* version 3: segment 0, 48 KiB; each next one doubles */
#define CG_BATCH_RECORDS 64u           /* version 4: slots a thread takes at once ("Batches") */
#define CG_STRING_CHUNK 32u
#define CG_HOST_MAX 64u
#define CG_ARGV_MAX 2048u
#define CG_API_NAMES_MAX 4096u
#define CG_LABEL_MAX 32u

/* Header `end_state`: set by the writer when the process ends normally. */
enum cg_end_state {
    CG_END_RUNNING = 0,   /* still running, or died without a clean exit */
    CG_END_CLEAN = 1,     /* exit() / return from main ran the shim's destructor */
    CG_END_CUT_SHORT = 2, /* (version 2) tracing stopped early while the process ran on:
                             disk full, descriptor lost, file truncated, size limit.
                             cut_short_mono_ns and cut_short_reason say when and why */
};

/* Header `task_mode`, from CUGUARD_TASK (docs/design.md). */
enum cg_task_mode {
    CG_TASK_ENV = 0,     /* a task is the value of an environment variable */
    CG_TASK_THREAD = 1,  /* each host thread is its own task */
    CG_TASK_PROCESS = 2, /* the whole process is one task */
};

struct cg_file_header {
    char magic[8];            /* CG_MAGIC */
    uint32_t version;         /* CG_FORMAT_VERSION */
    uint32_t header_size;     /* CG_HEADER_SIZE */
    uint32_t record_size;     /* CG_RECORD_SIZE */
    uint32_t segment_records; /* CG_SEGMENT_RECORDS */
    uint32_t pid;
    uint32_t ppid;
    uint64_t start_mono_ns;  /* CLOCK_MONOTONIC at open; record times use this clock */
    uint64_t start_real_ns;  /* CLOCK_REALTIME at the same instant */
    uint32_t end_state;      /* enum cg_end_state, written at clean exit */
    uint32_t task_mode;      /* enum cg_task_mode */
    uint64_t end_mono_ns;    /* CLOCK_MONOTONIC at clean exit, else 0 */
    uint64_t slots_reserved; /* writer's slot counter, refreshed at each new segment and at exit */
    char host[CG_HOST_MAX];  /* gethostname(), NUL-terminated */
    char task_var[64];       /* task variable name in CG_TASK_ENV mode, e.g. PYTEST_CURRENT_TEST */
    uint32_t argc;
    uint32_t api_count;               /* number of names in api_names */
    char argv[CG_ARGV_MAX];           /* argv joined by NUL bytes, truncated to fit */
    char api_names[CG_API_NAMES_MAX]; /* api id i = i-th NUL-terminated name; id 0 is "" */
    /* version 2; zero in version 1 files */
    uint64_t cut_short_mono_ns;                     /* CLOCK_MONOTONIC when tracing stopped */
    char cut_short_reason[CG_CUT_SHORT_REASON_MAX]; /* e.g. "disk full", NUL-terminated */
    char tool_version[32]; /* CUGUARD_VERSION of the writer, NUL-terminated ("" in version 1) */
    /* version 3 (as are the fields after it); zero in older files */
    char label[CG_LABEL_MAX]; /* short process label: $PYTEST_XDIST_WORKER (gw0, gw1, ...) when
                                 the file was opened, NUL-terminated, "" when unset */
    /* ts_ns is CLOCK_MONOTONIC ns whatever the clock; with
     * CG_CLOCK_TSC the writer converted TSC ticks with the latest line below:
     * ns = tsc_anchor_ns + ((tsc - tsc_anchor) * tsc_mult >> 32). Even then
     * the records of the first ~1 ms after tsc_open_ns are stamped by
     * clock_gettime (the calibration never sleeps), in the same time base
     * and never later than the TSC stamps that follow. */
    uint32_t clock_source;          /* enum cg_clock_source */
    uint32_t first_segment_records; /* CG_FIRST_SEGMENT_RECORDS: records of segment 0 */
    uint64_t tsc_open;              /* TSC when the clock was calibrated at open ... */
    uint64_t tsc_open_ns;           /* ... and CLOCK_MONOTONIC at the same instant */
    uint64_t tsc_anchor;            /* the conversion in use, refreshed at each re-anchoring */
    uint64_t tsc_anchor_ns;
    uint64_t tsc_mult; /* ns per TSC tick times 2^32 */
    /* version 4; zero in older files */
    uint32_t batch_records; /* CG_BATCH_RECORDS: slots per batch ("Batches"); 0: slot order */
    uint32_t policies;      /* enum cg_header_policies: CUGUARD_POLICY at open (0: not said) */
};

/* Header `policies` (version 4; zero from writers before it was filled, and
 * then nothing is known of the policies). The policies are read once, at
 * the library's start, so they hold for the whole file. */
enum cg_header_policies {
    CG_HDR_POLICY_OWNERSHIP = 1u << 0,
    CG_HDR_POLICY_ISOLATE = 1u << 1, /* the only source of CG_POLICY_DRAINED_STREAM */
    CG_HDR_POLICY_DESTROY = 1u << 2,
    CG_HDR_POLICY_SYNC_QUERY = 1u << 3,
    CG_HDR_POLICIES_KNOWN = 1u << 31, /* set by every writer that fills the bits above */
};

/* Header `clock_source` (version 3): what stamped ts_ns. */
enum cg_clock_source {
    CG_CLOCK_MONOTONIC = 0, /* clock_gettime(CLOCK_MONOTONIC) */
    CG_CLOCK_TSC = 1,       /* the invariant TSC, converted by the writer (see the header) */
};

/* Record kinds. 0 = slot not (yet) valid. */
enum cg_record_kind {
    CG_REC_NONE = 0,
    CG_REC_CALL = 1,          /* a wrapped API call that returned; see "Fields per API" */
    CG_REC_ENTER = 2,         /* a blocking call began (same fields as its CALL would have) */
    CG_REC_EXIT = 3,          /* that blocking call returned: result set, handles repeated */
    CG_REC_SPIN = 4,          /* repeated CUDA_ERROR_NOT_READY polls of one handle, see below */
    CG_REC_STRING = 5,        /* one chunk of an interned string, see below */
    CG_REC_THREAD_START = 6,  /* first record of a host thread: site = thread name string id */
    CG_REC_THREAD_EXIT = 7,   /* the host thread ended (pthread TLS destructor) */
    CG_REC_TASK = 8,          /* task changed: site = task name string id (0 = no task) */
    CG_REC_FORK = 9,          /* in the parent: arg = child pid. Child starts its own file */
    CG_REC_STREAM_ID = 10,    /* handle = stream, arg = cuStreamGetId() value */
    CG_REC_ARGS = 11,         /* extra arguments of the CALL/ENTER record just before it
                                 (same tid, next slot reserved together): handle, arg, arg2 */
    CG_REC_PROCESS_EXIT = 12, /* clean process end (also noted in the header) */
    CG_REC_POLICY = 13,   /* a policy intervention: api = call concerned, arg = cg_policy_action */
    CG_REC_STALL = 14,    /* watchdog: thread `arg` blocked/polling on `handle` for arg2 ns */
    CG_REC_LOG = 15,      /* free text note from the shim: site = string id */
    CG_REC_CONTEXT = 16,  /* the thread's current context, see below (version 2) */
    CG_REC_CALLBACK = 17, /* a host callback started running, see below (version 2) */
    CG_REC_MODULE = 18,   /* a loaded module stacks refer to; see "Stacks and modules" */
    CG_REC_PYSTACK = 19,  /* one Python thread's stack at a hang report or stall, see below */
    CG_REC_KIND_MAX = 19,
    CG_REC_BATCH = 64, /* version 4: first slot of a thread's batch, see "Batches" */
};

/* Record flags. */
enum cg_record_flags {
    CG_FLAG_VIA_RUNTIME = 1u << 0, /* the call came through a cuda* runtime wrapper */
    CG_FLAG_PTSZ = 1u << 1,        /* per-thread default stream variant (_ptsz/_ptds) */
    CG_FLAG_LAST_CHUNK = 1u << 2,  /* CG_REC_STRING: this chunk ends the string */
    CG_FLAG_TASK_THREAD = 1u << 3, /* CG_REC_TASK: applies to this thread only */
    CG_FLAG_ORPHANED = 1u << 4,    /* CG_REC_STALL: stall by orphaned wait, see below */
    CG_FLAG_STACK = 1u << 7,       /* CALL/ENTER/EXIT: `site` names a stack string, see
                                      "Stacks and modules" (else the innermost frame) */
};

/*
 * Crashed calls. A CALL (or, for a blocking call, EXIT) record whose result
 * is CG_RESULT_CRASHED(signo) was written by the shim's fault handler: the
 * thread received signal `signo` (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT)
 * while inside the real driver function of that record's api, with the
 * record's handle/arg/arg2 as the call's arguments (out handles are 0). The
 * call never returned; the process then died of the signal (or the
 * program's own handler ran). These values are negative and never a
 * CUresult.
 */
#define CG_RESULT_CRASHED_BASE (-1000)
#define CG_RESULT_CRASHED(signo) (CG_RESULT_CRASHED_BASE - (signo))
#define CG_RESULT_IS_CRASH(result)                                                                 \
    ((result) < CG_RESULT_CRASHED_BASE && (result) >= CG_RESULT_CRASHED_BASE - 64)
#define CG_RESULT_CRASH_SIGNAL(result) (CG_RESULT_CRASHED_BASE - (result))

/*
 * One record, 48 bytes. Field meaning depends on `kind` (and for CALL,
 * ENTER, EXIT on the API).
 *
 * CALL / ENTER / EXIT, "Fields per API" (handle, arg, arg2). The api id
 * names the exact exported variant that was called (cuEventDestroy_v2,
 * cuMemcpyDtoHAsync_v2_ptsz); the table lists base names:
 *   cuEventCreate                handle=new event (0 on failure), arg=flags
 *   cuEventRecord                handle=event, arg=stream
 *   cuEventRecordWithFlags       handle=event, arg=stream, arg2=flags
 *   cuEventQuery / Synchronize   handle=event
 *   cuEventDestroy               handle=event
 *   cuEventElapsedTime           handle=start event, arg=end event
 *   cuStreamCreate(WithPriority) handle=new stream, arg=flags, arg2=priority
 *                                (followed by CG_REC_STREAM_ID when known)
 *   cuStreamDestroy / Synchronize / Query   handle=stream
 *   cuStreamWaitEvent            handle=stream, arg=event, arg2=flags
 *   cuCtxSynchronize             (no handles); cuCtxSynchronize_v2: handle=context
 *   cuMemAllocHost               handle=pointer, arg=bytes
 *   cuMemHostAlloc               handle=pointer, arg=bytes, arg2=flags
 *   cuMemFreeHost                handle=pointer
 *   cuMemHostRegister            handle=pointer, arg=bytes, arg2=flags
 *   cuMemHostUnregister          handle=pointer
 *   cuMemcpyHtoDAsync            handle=stream, arg=host source, arg2=bytes
 *   cuMemcpyDtoHAsync            handle=stream, arg=host destination, arg2=bytes
 *   cuMemcpyDtoDAsync            handle=stream, arg2=bytes
 *   cuMemcpyAsync                handle=stream, arg=destination, arg2=source,
 *                                + CG_REC_ARGS with handle=bytes
 *   cuLaunchKernel               handle=stream, arg=function
 *   cuLaunchHostFunc             handle=stream, arg=function, arg2=user data
 *   cuStreamAddCallback          handle=stream, arg=callback function, arg2=callback
 *                                id (nonzero; its CALLBACK record carries it)
 *   cuStreamBeginCapture         handle=stream (_v2: arg=capture mode)
 *   cuStreamEndCapture           handle=stream, arg=the graph made
 *   cuCtxCreate (every version)  handle=new context, arg=flags, arg2=device ordinal
 *   cuCtxDestroy                 handle=context
 *   cuDevicePrimaryCtxReset / Release   handle=device ordinal
 * Stream handle 0 is the legacy default stream for plain entry points and the
 * per-thread default stream for _ptsz/_ptds ones (CG_FLAG_PTSZ set).
 *
 * STALL: api = the blocking or polling call, handle = the object waited on,
 *   arg = the stuck thread's tid, arg2 = ns stuck so far, tid = the
 *   watchdog's. With CG_FLAG_ORPHANED it is a stall by orphaned wait: no
 *   thread is blocked or polling, but the process has made no CUDA call for
 *   arg2 ns while event `handle` has a record nobody saw complete and every
 *   thread that polled it (or polled events and failed) after that record has
 *   exited. Then api = the API the dead poller used (cuEventQuery), arg =
 *   the tid of the thread that recorded the event, site = 0.
 *   With CG_FLAG_ORPHANED and handle 0 it is a quiet after a dead poller:
 *   no event is left pending, but a thread that polled or waited on events
 *   exited with its latest call failed or with event records it polled not
 *   seen complete, and the process has made no CUDA call for arg2 ns
 *   since. Then arg = the dead thread's tid, api and result = its failed
 *   call's (0 when it exited with work unseen but no error), site = 0. The
 *   PYSTACK records with the same ts_ns say where the live threads were.
 *
 * PYSTACK: every Python thread's stack, written by the watchdog with each
 *   hang report (watchdog, dump signal, `cuguard run --timeout`) and each
 *   STALL. One snapshot is a run of records sharing ts_ns: first a header
 *   with handle = 0, tid = the watchdog's, result = what could be read (0
 *   the stacks follow; 1 the GIL could not be taken within the bound, a
 *   thread holds it in C code; 2 the interpreter was starting or
 *   finalizing; 3 no Python in the process; 4 this Python lacks a needed C
 *   API function), arg = number of thread records that follow, arg2 = ns
 *   waited for the GIL; then per Python thread: handle = its threading
 *   ident (nonzero), arg = string id of its threading name (0 = unknown),
 *   arg2 = its native thread id (0 = unknown) << 32 | the number of its
 *   frames, site = string id of a stack string of Python frames only,
 *   innermost first (CG_FLAG_STACK, "Stacks and modules"; "#stack" alone
 *   = no Python frame), tid = the watchdog's (as for STALL, the thread a
 *   record describes is a field, never `tid`), result = 0. Every hang
 *   report writes at least the header, so it also marks that the report
 *   was written.
 *
 * CONTEXT: written by a thread just after a successful create CALL (event,
 *   stream, pinned allocation or registration) when the thread's current
 *   context is not the one it last recorded: handle = the context, arg =
 *   device ordinal + 1 (0 = unknown), tid = the thread, api = the create's.
 *   Objects a thread creates belong to its latest CONTEXT.
 *
 * CALLBACK: a host callback enqueued by cuStreamAddCallback started running
 *   (before the program's function is called): handle = stream as passed
 *   to the enqueue, arg = callback id (the enqueue CALL's arg2), arg2 = the
 *   status the driver passed to the callback, api = the enqueuing api, tid
 *   = the (driver) thread it runs on. The enqueue's CALL record is reserved
 *   before the real call, so it always precedes its CALLBACK.
 *
 * SPIN: handle=polled object, api=the polling API, ts_ns=first poll,
 *   arg=number of NOT_READY results (updated in place while the spin lasts),
 *   arg2=time of the latest poll. result = CUDA_ERROR_NOT_READY.
 *
 * STRING: site=string id, result=byte offset of this chunk in the string,
 *   api=chunk length (0..CG_STRING_CHUNK), payload in the 32 bytes of
 *   handle, arg, arg2 and ts_ns (in that memory order: see cg_string_payload),
 *   CG_FLAG_LAST_CHUNK on the final chunk.
 */
struct cg_record {
    uint64_t handle;
    uint64_t arg;
    uint64_t arg2;
    uint64_t ts_ns; /* CLOCK_MONOTONIC nanoseconds */
    uint32_t tid;   /* kernel thread id (gettid) */
    uint32_t site;  /* string id of the call site, 0 = unknown */
    int32_t result; /* CUresult of the call (CALL, EXIT, SPIN) */
    uint16_t api;   /* index into the header's api_names, 0 = none */
    uint8_t flags;  /* enum cg_record_flags */
    uint8_t kind;   /* enum cg_record_kind; written last */
};

/*
 * Stacks and modules (version 2). A create, destroy, alloc, free, register
 * or unregister call, and any call that failed, carries a call stack: its
 * `site` is the string id of a stack string and its flags have
 * CG_FLAG_STACK. Other calls' `site` is the innermost frame as
 * "module!symbol+0xoff" (version 1 meaning). A stack string is an ordinary
 * interned string (so each distinct stack is in the file once):
 *
 *   "#stack" then ";<frame>" per frame, innermost first (strings are
 *   printable text: no control characters), a frame being one of
 *     "n<module> <offset>"         native: CG_REC_MODULE number (decimal) and
 *                                  return address minus that module's load
 *                                  address (hex, no 0x)
 *     "a<address>"                 native, outside every known module (hex)
 *     "p<line> <function> <file>"  Python: decimal line, the code object's
 *                                  co_name (no space) and co_filename (the
 *                                  rest; ';' in either is written '?')
 *   e.g. "#stack;n1 1a2b;n1 3c0;n2 29d90;p291 _process_task /src/w.py".
 *   Native frames come first (the driver's caller, up the C stack), then the
 *   calling thread's Python frames (innermost first) when it runs Python.
 *
 * MODULE: result = module number (1, 2, ... per trace), site = string id of
 *   its path, handle = load address (what offsets are relative to), arg =
 *   string id of its GNU build-id as lowercase hex (0 = none), arg2 = bytes
 *   spanned by its loaded segments. Written before the first stack string
 *   that names it.
 */

/* The 32 payload bytes of a CG_REC_STRING record. */
static inline char *cg_string_payload(struct cg_record *r)
{
    return (char *)r;
}

/*
 * Policy actions carried in CG_REC_POLICY.arg (docs/design.md). A POLICY
 * record is written just before the CALL record of the call it concerns
 * (api = that call's api id, tid and site as for the call), or on its own
 * for what the shim does between calls (api = 0 unless stated). handle =
 * the object concerned; arg2 and result as listed (0 when not listed).
 */
enum cg_policy_action {
    CG_POLICY_REFUSED = 1,          /* the call never reached the driver and returned `result`
                                       (CUDA_ERROR_INVALID_HANDLE); arg2 = enum cg_policy_reason,
                                       | CG_REASON_ABORTED when CUGUARD_ON_ERROR=abort stops the
                                       program once the call's record is written */
    CG_POLICY_DEFERRED_DESTROY = 2, /* ownership: the destroy returned success but the object
                                       stays alive in quarantine; arg2 = 1 event, 2 stream */
    CG_POLICY_QUARANTINED = 3,      /* ownership: a stale call of a quarantined (destroyed)
                                       object was answered by the still-alive object */
    CG_POLICY_DRAINED_STREAM = 4,   /* isolate: at a task change the stream still had work;
                                       the shim synchronized it; arg2 = ns waited, result =
                                       the synchronize's result; api = 0 */
    CG_POLICY_RECLAIMED = 5,        /* destroy: a leaked object was destroyed by the shim;
                                       arg2 = 1 event, 2 stream (| 0x100 at process exit) */
    CG_POLICY_SYNC_QUERY = 6,       /* sync-query: the query waited arg2 ns for completion */
    CG_POLICY_REDIRECTED = 7,       /* isolate: legacy-stream work sent to the per-thread
                                       default stream (api = the call's own api id) */
    CG_POLICY_RELEASED = 8,         /* ownership: a deferred destroy carried out (quarantine
                                       full); arg2 = 1 event, 2 stream; api = 0; arg2 | 0x200:
                                       a CG_POLICY_HELD object destroyed (its program
                                       destroyed the reclaimed object, the quarantine was
                                       full, or | 0x100 at process exit) */
    CG_POLICY_RECLAIMED_USE = 9,    /* destroy: the program used an object the shim reclaimed;
                                       answered as the completed object would (`result`) */
    CG_POLICY_NON_BLOCKING = 10,    /* isolate: a stream was created CU_STREAM_NON_BLOCKING;
                                       arg2 = the flags the program asked for */
    CG_POLICY_HELD = 11,            /* destroy: a create got the value of an object the shim
                                       reclaimed (the program may still name it); the shim
                                       keeps that new object in the quarantine and creates
                                       again (api = the create's api id); arg2 = 1 event,
                                       2 stream */
    CG_POLICY_ACTION_MAX = 11,
};

/* Why a call was refused (CG_POLICY_REFUSED.arg2): the live finding. */
enum cg_policy_reason {
    CG_REASON_UNKNOWN_HANDLE = 1, /* never returned by a create call (foreign, garbage) */
    CG_REASON_USE_AFTER_DESTROY = 2,
    CG_REASON_DOUBLE_DESTROY = 3,
    CG_REASON_RECLAIMED = 4, /* an operation a reclaimed object cannot answer */
};
#define CG_REASON_ABORTED 0x100u /* flag on the reason: the program was aborted */

#ifdef __cplusplus
_Static_assert(sizeof(struct cg_record) == CG_RECORD_SIZE, "record size");
#else
_Static_assert(sizeof(struct cg_record) == CG_RECORD_SIZE, "record size is part of the format");
_Static_assert(sizeof(struct cg_file_header) <= CG_HEADER_SIZE, "header fits its pages");
#endif

#endif
