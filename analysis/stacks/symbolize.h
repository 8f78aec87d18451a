/*
 * analysis/stacks/symbolize.h — native frames to function, file and line, offline.
 *
 * What it is for: `cuguard report` turns (module path, build-id, offset)
 * into the source location with libdw (elfutils): the function, file and
 * line, and the chain of inlined calls at that address, innermost first, as
 * ASan shows them. A module whose build-id differs from the one the trace
 * recorded is reported as changed rather than given wrong lines.
 *
 * What it must never do: fork a tool per frame, trust a module file (any
 * ELF may be missing, truncated or replaced), or keep more than one open
 * handle per module path.
 */
#ifndef CUGUARD_ANALYSIS_SYMBOLIZE_H
#define CUGUARD_ANALYSIS_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#define SYMBOLIZE_MAX_INLINE 8

enum symbolize_status {
    SYM_OK = 0,             /* at least a function name */
    SYM_NO_INFO = 1,        /* the module is there but has no symbol for it */
    SYM_NO_MODULE = 2,      /* the module file cannot be read */
    SYM_BINARY_CHANGED = 3, /* the file's build-id is not the recorded one */
};

struct symbolized_frame {
    char function[256]; /* "" when unknown */
    char file[512];     /* "" when unknown */
    int line;           /* 0 when unknown */
};

struct symbolizer;

struct symbolizer *symbolizer_new(void);
void symbolizer_free(struct symbolizer *s);

/* Symbolize the return address at `offset` from the load address of module
 * `path` (the caller subtracts nothing: this looks up offset - 1, the call
 * itself). `build_id` is the recorded lowercase hex (NULL or "" = do not
 * check). Fills out[0..*n) innermost first (inlined callees before the
 * function they were inlined into). */
enum symbolize_status symbolize(struct symbolizer *s, const char *path, const char *build_id,
                                uint64_t offset, struct symbolized_frame *out, size_t *n);

#endif
