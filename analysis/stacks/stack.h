/*
 * analysis/stacks/stack.h — a recorded call stack, symbolized, with the frame a
 * finding names.
 *
 * What it is for: parsing a stack string of the trace (tracer/format.h,
 * "Stacks and modules") into frames, symbolizing the native ones
 * (analysis/stacks/symbolize.h), marking the frames that are not the user's code
 * (cuguard, libcuda, libcudart, libffi, ctypes, the Python interpreter, and
 * binding layers: numba.cuda (its API and cudadrv), cuda-bindings, CuPy's
 * backend), choosing
 * the site (the innermost user frame) and a fingerprint that is stable
 * across runs (kind + symbolized user frames, no addresses).
 *
 * What it must never do: trust the text (any part may be garbage), or read
 * anything but the module files the trace names.
 */
#ifndef CUGUARD_ANALYSIS_STACK_H
#define CUGUARD_ANALYSIS_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/base/findings.h"
#include "analysis/stacks/symbolize.h"

#define STACK_PREFIX "#stack"

/* A module of one traced process (a CG_REC_MODULE record). */
struct trace_module {
    uint32_t number;
    uint64_t base;
    char *path;
    char *build_id; /* "" = none recorded */
};

struct stack {
    struct finding_frame *frames;
    size_t n;
    size_t site; /* index of the user's innermost frame; n when none */
};

/* 1 if `text` is a stack string. */
int stack_is_stack(const char *text);

/* Parse and symbolize `text` with the process's modules. Returns 0, -1 when
 * memory is short (the stack is then empty). */
int stack_build(struct stack *st, const char *text, const struct trace_module *modules,
                size_t nmodules, struct symbolizer *sym);
void stack_free(struct stack *st);

/* The label of a frame, ASan's order: "file:line in function" (file's
 * basename; native or Python), "module+0xoff in function" with symbols but
 * no line, "module+0xoff" without debug info, "module+0xoff (binary changed
 * since the run)" when the module's build-id differs. */
void stack_frame_label(const struct finding_frame *f, char *buf, size_t cap);

/* 16 hex digits from the kind name and the symbolized frames from the site
 * outward (function, file, line; module basename and offset only for a
 * frame without symbols). */
void stack_fingerprint(const struct stack *st, const char *kind, char out[17]);
/* The same for a finding without a stack: kind, site text and API. */
void stack_fingerprint_site(const char *kind, const char *site, const char *api, char out[17]);

#endif
