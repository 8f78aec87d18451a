/*
 * analysis/stacks/stack.c — parse, symbolize, classify and fingerprint a stack
 * (analysis/stacks/stack.h).
 *
 * What it is for: the frames behind a finding's site. Native frames are
 * expanded into their inlined calls (ASan style); a frame is "tool" when
 * its module or file belongs to cuguard, the CUDA libraries, libffi, ctypes,
 * the Python interpreter or a known binding layer (the table below); the
 * site is the innermost frame that is not.
 *
 * What it must never do: keep a pointer into the text it parsed, or let a
 * garbage frame stop the rest of the stack from being read.
 */
#include "analysis/stacks/stack.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Module basenames that are never the user's code (fnmatch patterns). */
static const char *const tool_modules[] = {
    "libcuguard.so*", "libcuda.so*", "libcudart.so*", "libffi.so*", "_ctypes*.so",
    "libpython*",     "python*",     "ld-linux*",     "libc.so*",
};

/* Python files that are never the user's code (fnmatch over the path). */
static const char *const tool_files[] = {
    "*/ctypes/*",     "*/numba/cuda/*", /* numba.cuda's API and its cudadrv driver layer */
    "*/numba_cuda/*", "*/cuda/bindings/*", "*/cuda/cuda*.pyx",
    "*/cupy/cuda/*",  "*/cupy_backends/*", "<frozen *",
};

/* Test code shipped inside a binding package (numba/cuda/tests/...) is the
 * code under test's caller, the user's line, even though its path matches a
 * binding pattern above. */
static const char *const test_files[] = {"*/numba/cuda/tests/*", "*/cupy/*/tests/*"};

static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path ? path : "?";
}

static int matches_any(const char *text, const char *const *patterns, size_t n)
{
    for (size_t i = 0; text && i < n; i++)
        if (fnmatch(patterns[i], text, 0) == 0)
            return 1;
    return 0;
}

int stack_is_stack(const char *text)
{
    return text && strncmp(text, STACK_PREFIX, strlen(STACK_PREFIX)) == 0;
}

static struct finding_frame *new_frame(struct stack *st)
{
    struct finding_frame *grown = realloc(st->frames, (st->n + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    st->frames = grown;
    memset(&grown[st->n], 0, sizeof *grown);
    return &grown[st->n++];
}

static char *dup_nonempty(const char *s)
{
    return s && s[0] ? strdup(s) : NULL;
}

static const struct trace_module *module_by_number(const struct trace_module *m, size_t n,
                                                   unsigned long number)
{
    for (size_t i = 0; i < n; i++)
        if (m[i].number == number)
            return &m[i];
    return NULL;
}

/* "n<module> <hex offset>": one frame per inlined level. */
static int add_native(struct stack *st, const char *f, const struct trace_module *modules,
                      size_t nmodules, struct symbolizer *sym)
{
    char *end;
    unsigned long number = strtoul(f + 1, &end, 10);
    uint64_t offset = strtoull(end, NULL, 16);
    const struct trace_module *m = module_by_number(modules, nmodules, number);
    struct symbolized_frame out[SYMBOLIZE_MAX_INLINE];
    size_t n = 0;
    enum symbolize_status status =
        m ? symbolize(sym, m->path, m->build_id, offset, out, &n) : SYM_NO_MODULE;
    int tool = m && matches_any(base_name(m->path), tool_modules,
                                sizeof tool_modules / sizeof tool_modules[0]);
    tool |= n > 0 && strcmp(out[0].function, "_start") == 0; /* the C runtime's entry */
    for (size_t i = 0; i == 0 || i < n; i++) {
        struct finding_frame *fr = new_frame(st);
        if (!fr)
            return -1;
        fr->kind = FRAME_NATIVE;
        fr->module = m ? strdup(m->path) : NULL;
        fr->offset = offset;
        fr->status = status;
        fr->tool = tool;
        fr->inlined = i + 1 < n;
        if (i < n) {
            fr->function = dup_nonempty(out[i].function);
            fr->file = dup_nonempty(out[i].file);
            fr->line = out[i].line;
        }
    }
    return 0;
}

/* "a<hex address>": a native frame in no recorded module. */
static int add_absolute(struct stack *st, const char *f)
{
    struct finding_frame *fr = new_frame(st);
    if (!fr)
        return -1;
    fr->kind = FRAME_NATIVE;
    fr->offset = strtoull(f + 1, NULL, 16);
    fr->status = SYM_NO_MODULE;
    return 0;
}

/* "p<line> <function> <file>" (f ends where the frame ends). */
static int add_python(struct stack *st, const char *f)
{
    struct finding_frame *fr = new_frame(st);
    if (!fr)
        return -1;
    char *end;
    fr->kind = FRAME_PYTHON;
    fr->line = (int)strtol(f + 1, &end, 10);
    const char *name = end[0] == ' ' ? end + 1 : end;
    const char *space = strchr(name, ' ');
    fr->function = space ? strndup(name, (size_t)(space - name)) : strdup(name);
    fr->file = space ? strdup(space + 1) : NULL;
    fr->tool = matches_any(fr->file, tool_files, sizeof tool_files / sizeof tool_files[0]) &&
               !matches_any(fr->file, test_files, sizeof test_files / sizeof test_files[0]);
    return 0;
}

int stack_build(struct stack *st, const char *text, const struct trace_module *modules,
                size_t nmodules, struct symbolizer *sym)
{
    memset(st, 0, sizeof *st);
    if (!stack_is_stack(text))
        return 0;
    char *copy = strdup(text + strlen(STACK_PREFIX));
    if (!copy)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *f = strtok_r(copy, ";", &save); f && rc == 0; f = strtok_r(NULL, ";", &save)) {
        if (f[0] == 'n')
            rc = add_native(st, f, modules, nmodules, sym);
        else if (f[0] == 'a')
            rc = add_absolute(st, f);
        else if (f[0] == 'p')
            rc = add_python(st, f);
    }
    free(copy);
    st->site = st->n;
    for (size_t i = 0; i < st->n; i++)
        if (!st->frames[i].tool) {
            st->site = i;
            break;
        }
    if (rc < 0)
        stack_free(st);
    return rc;
}

void stack_free(struct stack *st)
{
    finding_frames_free(st->frames, st->n);
    memset(st, 0, sizeof *st);
}

void stack_frame_label(const struct finding_frame *f, char *buf, size_t cap)
{
    const char *fn = f->function ? f->function : "?";
    if (f->kind == FRAME_PYTHON)
        snprintf(buf, cap, "%s:%d in %s", base_name(f->file), f->line, fn);
    else if (f->status == SYM_BINARY_CHANGED)
        snprintf(buf, cap, "%s+0x%llx (binary changed since the run)", base_name(f->module),
                 (unsigned long long)f->offset);
    else if (f->file && f->line)
        snprintf(buf, cap, "%s:%d in %s", base_name(f->file), f->line, fn);
    else if (f->function)
        snprintf(buf, cap, "%s+0x%llx in %s", base_name(f->module), (unsigned long long)f->offset,
                 fn);
    else if (f->module)
        snprintf(buf, cap, "%s+0x%llx", base_name(f->module), (unsigned long long)f->offset);
    else
        snprintf(buf, cap, "0x%llx", (unsigned long long)f->offset);
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull; /* field separator */
}

void stack_fingerprint(const struct stack *st, const char *kind, char out[17])
{
    uint64_t h = fnv(0xcbf29ce484222325ull, kind);
    for (size_t i = st->site; i < st->n; i++) {
        const struct finding_frame *f = &st->frames[i];
        char where[64];
        if (f->function || f->file)
            snprintf(where, sizeof where, "%d", f->line);
        else
            snprintf(where, sizeof where, "%s+%llx", base_name(f->module),
                     (unsigned long long)f->offset);
        h = fnv(fnv(fnv(h, f->function), base_name(f->file)), where);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

void stack_fingerprint_site(const char *kind, const char *site, const char *api, char out[17])
{
    uint64_t h = fnv(fnv(fnv(0xcbf29ce484222325ull, kind), site), api);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}
