/*
 * analysis/base/api_ops.h — what a traced API call means to the replay.
 *
 * What it is for: the header of every trace names its APIs by the exact
 * symbol the shim wrapped ("cuEventDestroy_v2", "cuMemcpyHtoDAsync_v2_ptsz").
 * The replay needs the operation behind the name; this maps one to the other
 * once per trace file, so the per-record path is an array lookup.
 *
 * What it must never do: depend on the shim's api.def numbering (ids differ
 * between traces) or assume a name is well formed.
 */
#ifndef CUGUARD_ANALYSIS_API_OPS_H
#define CUGUARD_ANALYSIS_API_OPS_H

#include <stddef.h>
#include <stdint.h>

enum api_op {
    OP_OTHER = 0, /* anything the replay does not model */
    OP_EVENT_CREATE,
    OP_EVENT_RECORD, /* cuEventRecord, cuEventRecordWithFlags */
    OP_EVENT_QUERY,
    OP_EVENT_SYNC,
    OP_EVENT_DESTROY,
    OP_EVENT_ELAPSED, /* handle = start event, arg = end event */
    OP_STREAM_CREATE, /* cuStreamCreate, cuStreamCreateWithPriority */
    OP_STREAM_DESTROY,
    OP_STREAM_SYNC,
    OP_STREAM_QUERY,
    OP_STREAM_WAIT_EVENT, /* handle = stream, arg = event */
    OP_CTX_SYNC,
    OP_PINNED_ALLOC, /* cuMemAllocHost, cuMemHostAlloc: handle = pointer, arg = bytes */
    OP_PINNED_FREE,  /* cuMemFreeHost */
    OP_HOST_REGISTER,
    OP_HOST_UNREGISTER,
    OP_STREAM_WORK, /* async copies, kernel and host-function launches: handle = stream */
    OP_CTX_CREATE,  /* cuCtxCreate: handle = new context, arg2 = device ordinal */
    OP_CTX_DESTROY, /* cuCtxDestroy: handle = context */
    OP_CTX_RESET,   /* cuDevicePrimaryCtxReset: handle = device ordinal */
    OP_COUNT
};

/* The operation of an API symbol name, ignoring the _v2/_v3 and _ptsz/_ptds
 * variant suffixes. Unknown or NULL names give OP_OTHER. */
enum api_op api_op_of_name(const char *name);

/* The base name without variant suffixes, written into buf (truncated). */
void api_base_name(const char *name, char *buf, size_t len);

/* Short readable name of an operation, for messages ("event create"). */
const char *api_op_label(enum api_op op);

#endif
