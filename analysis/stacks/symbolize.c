/*
 * analysis/stacks/symbolize.c — the libdw (elfutils) implementation of
 * analysis/stacks/symbolize.h.
 *
 * What it is for: one Dwfl per module path (reported at bias 0, so a trace
 * offset is the ELF address), its build-id compared with the recorded one
 * once, then per address: dwfl_module_getsrc for the innermost line,
 * dwarf_getscopes + dwarf_getscopes_die for the inlined subroutines (each one's DW_AT_call_file /
 * DW_AT_call_line is the location in the function it was inlined into) and
 * the symbol table when there is no DWARF. Separate debug files are found
 * the standard way (build-id under /usr/lib/debug, .gnu_debuglink).
 *
 * What it must never do: abort on a bad ELF (libdw reports errors, which
 * become SYM_NO_INFO / SYM_NO_MODULE), open anything but a regular file, or
 * print anything.
 */
#include "analysis/stacks/symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uthash.h>

struct module_entry {
    char *path; /* hash key */
    UT_hash_handle hh;
    Dwfl *dwfl;
    Dwfl_Module *mod;
    char *build_id; /* the file's, lowercase hex ("" = none) */
};

struct symbolizer {
    struct module_entry *modules;
};

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

struct symbolizer *symbolizer_new(void)
{
    return calloc(1, sizeof(struct symbolizer));
}

void symbolizer_free(struct symbolizer *s)
{
    if (!s)
        return;
    struct module_entry *e, *tmp;
    HASH_ITER(hh, s->modules, e, tmp)
    {
        HASH_DEL(s->modules, e);
        if (e->dwfl)
            dwfl_end(e->dwfl);
        free(e->path);
        free(e->build_id);
        free(e);
    }
    free(s);
}

static char *file_build_id(Dwfl_Module *mod)
{
    const unsigned char *bits = NULL;
    GElf_Addr vaddr;
    int len = mod ? dwfl_module_build_id(mod, &bits, &vaddr) : -1;
    char *hex = calloc(len > 0 ? 2 * (size_t)len + 1 : 1, 1);
    for (int i = 0; hex && i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", bits[i]);
    return hex;
}

static struct module_entry *open_module(struct symbolizer *s, const char *path)
{
    struct module_entry *e = NULL;
    HASH_FIND_STR(s->modules, path, e);
    if (e)
        return e;
    e = calloc(1, sizeof *e);
    if (!e || !(e->path = strdup(path))) {
        free(e);
        return NULL;
    }
    struct stat st;
    /* A trace names the file: only a regular file is opened (a FIFO or a
     * device named by a corrupt trace would block or never end). */
    e->dwfl = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? dwfl_begin(&callbacks) : NULL;
    if (e->dwfl) {
        e->mod = dwfl_report_elf(e->dwfl, path, path, -1, 0, false);
        dwfl_report_end(e->dwfl, NULL, NULL);
    }
    e->build_id = file_build_id(e->mod);
    HASH_ADD_KEYPTR(hh, s->modules, e->path, strlen(e->path), e);
    return e;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* Name of a subprogram or inlined subroutine (through its abstract origin). */
static const char *scope_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name = NULL;
    if (dwarf_attr_integrate(die, DW_AT_name, &attr))
        name = dwarf_formstring(&attr);
    if (!name && dwarf_attr_integrate(die, DW_AT_linkage_name, &attr))
        name = dwarf_formstring(&attr);
    return name;
}

static int is_function(Dwarf_Die *die)
{
    int tag = dwarf_tag(die);
    return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram;
}

/* Where the inlined subroutine `die` was called from, in its caller. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *die, struct symbolized_frame *caller)
{
    Dwarf_Attribute attr;
    Dwarf_Word line = 0, file = 0;
    Dwarf_Files *files = NULL;
    size_t nfiles = 0;
    caller->line = 0;
    caller->file[0] = '\0';
    if (dwarf_attr(die, DW_AT_call_line, &attr) && dwarf_formudata(&attr, &line) == 0)
        caller->line = (int)line;
    if (dwarf_attr(die, DW_AT_call_file, &attr) && dwarf_formudata(&attr, &file) == 0 &&
        dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && file < nfiles)
        copy(caller->file, sizeof caller->file, dwarf_filesrc(files, file, NULL, NULL));
}

/* The DWARF view: innermost line, then one frame per inlined scope. */
static size_t from_dwarf(Dwfl_Module *mod, Dwarf_Addr addr, struct symbolized_frame *out,
                         size_t max)
{
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, &bias);
    if (!cu)
        return 0;
    Dwfl_Line *l = dwfl_module_getsrc(mod, addr);
    int line = 0;
    const char *file = l ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
    copy(out[0].file, sizeof out[0].file, file);
    out[0].line = line;
    out[0].function[0] = '\0';
    /* The innermost function scope at the address, then (eu-addr2line's
     * way) the chain of scopes containing that DIE: an inlined subroutine
     * is followed by the function it was inlined into. */
    Dwarf_Die *scopes = NULL, *chain = NULL;
    int nscopes = dwarf_getscopes(cu, addr - bias, &scopes), first = 0;
    while (first < nscopes && !is_function(&scopes[first]))
        first++;
    int nchain = first < nscopes ? dwarf_getscopes_die(&scopes[first], &chain) : 0;
    size_t n = 0;
    for (int i = 0; i < nchain && n < max; i++) {
        if (!is_function(&chain[i]))
            continue;
        copy(out[n].function, sizeof out[n].function, scope_name(&chain[i]));
        n++;
        if (dwarf_tag(&chain[i]) == DW_TAG_subprogram || n == max)
            break;
        call_site(cu, &chain[i], &out[n]);
    }
    free(chain);
    free(scopes);
    return n == 0 && (file || line) ? 1 : n;
}

enum symbolize_status symbolize(struct symbolizer *s, const char *path, const char *build_id,
                                uint64_t offset, struct symbolized_frame *out, size_t *n)
{
    *n = 0;
    struct module_entry *e = path && path[0] == '/' ? open_module(s, path) : NULL;
    if (!e || !e->mod)
        return SYM_NO_MODULE;
    if (build_id && build_id[0] && e->build_id && strcmp(build_id, e->build_id) != 0)
        return SYM_BINARY_CHANGED;
    Dwarf_Addr addr = offset > 0 ? offset - 1 : 0;
    /* dwfl_report_elf at bias 0: a shared object's offset is its address;
     * an executable's (not position independent) load address is 0. */
    *n = from_dwarf(e->mod, addr, out, SYMBOLIZE_MAX_INLINE);
    const char *sym = dwfl_module_addrname(e->mod, addr);
    if (*n == 0 && sym) {
        copy(out[0].function, sizeof out[0].function, sym);
        out[0].file[0] = '\0';
        out[0].line = 0;
        *n = 1;
    } else if (*n > 0 && out[*n - 1].function[0] == '\0' && sym) {
        copy(out[*n - 1].function, sizeof out[*n - 1].function, sym);
    }
    return *n > 0 ? SYM_OK : SYM_NO_INFO;
}
