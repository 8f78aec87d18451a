/*
 * shim/api.h — api ids, record styles and lookups generated from api.def.
 *
 * What it is for: naming every wrapped entry point by a small integer (the
 * api id written in trace records, index into the header's name table) and
 * finding the wrapper for a name (dlsym route) or for a (base name, version,
 * flags) request (cuGetProcAddress route).
 *
 * What it must never do: know about any particular function; everything
 * here is derived from shim/api.def.
 */
#ifndef CUGUARD_SHIM_API_H
#define CUGUARD_SHIM_API_H

#include <stdint.h>

/* Api ids: 0 is "none" (format.h), then one per row of api.def in order. */
enum cg_api_id {
    CG_ID_NONE = 0,
#define CG_API(sym, ...) CG_ID_##sym,
#define CG_ENTRY(sym, ...) CG_ID_##sym,
#include "shim/api.def"
    CG_API_COUNT
};

/* How a call is recorded (the `style` column of api.def). */
enum cg_style {
    CG_STYLE_CALL = 0,
    CG_STYLE_RECORD,
    CG_STYLE_POLL,
    CG_STYLE_BLOCKING,
    CG_STYLE_NEW_STREAM,
    CG_STYLE_WITH_ARGS,
    CG_STYLE_ENTRY,
    CG_STYLE_DESTROY,          /* CALL reserved and stamped before the call (format.h) */
    CG_STYLE_BLOCKING_DESTROY, /* ENTER, and its EXIT reserved and stamped with it */
    CG_STYLE_CREATE,           /* CALL, then CONTEXT when the thread's context changed */
};

struct cg_api_info {
    const char *name; /* exported symbol */
    const char *base; /* name asked of cuGetProcAddress */
    int version;      /* introducing CUDA version of this variant */
    uint8_t per_thread;
    uint8_t style; /* enum cg_style */
    void *wrapper; /* the shim's function for this variant */
};

/* Indexed by api id; row 0 is {"", ...}. Defined in shim/wrappers.c. */
extern const struct cg_api_info cg_api_info[CG_API_COUNT] __attribute__((visibility("hidden")));
/* Indexed by api id; [0] = "". What the trace header carries. */
extern const char *const cg_api_names[CG_API_COUNT];

/* Api id of an exported name (exact match), 0 if the shim does not wrap it. */
unsigned cg_api_by_name(const char *name);

/* The api id cuGetProcAddress(symbol, cudaVersion, flags) resolves to, per
 * the driver's rule (docs/driver-behaviour.md "cuGetProcAddress_v2"), given what the real
 * driver returned (`real_fn`, matched against each variant's real pointer
 * first). 0 if `symbol` is not wrapped. */
unsigned cg_api_for_procaddr(const char *symbol, void *real_fn, int cuda_version, uint64_t flags);

#endif
