/*
 * shim/modules.c — the module table behind shim/modules.h.
 *
 * What it is for: one entry per loaded module seen in a stack: the address
 * range of its PT_LOAD segments, its load address and its module number in
 * the current trace. Module records are written lazily, the first time a
 * stack names an address in the module, so a trace only lists modules its
 * stacks use. A reopened trace (fork child) starts the numbering afresh.
 *
 * What it must never do: wait for the table (trylock only), allocate, or
 * keep a module number across traces.
 */
#include "shim/modules.h"

#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim/trace_state.h"
#include "tracer/writer.h"

#define MODULES_MAX 1024u

struct module {
    uintptr_t lo, hi; /* [lo, hi): its PT_LOAD segments */
    uintptr_t base;   /* dlpi_addr, the load bias */
    uint32_t number;  /* in trace `generation`; 0 = not written yet */
    uint32_t generation;
    char name_hint[8]; /* first bytes of dlpi_name, to notice a reused range */
};

static struct module modules[MODULES_MAX];
static unsigned nmodules;
static unsigned long long seen_adds = ~0ull, seen_subs = ~0ull;
static uint32_t next_number = 1, numbers_generation;
static int table_busy;
static uintptr_t self_lo, self_hi;

int cg_modules_lock(void)
{
    return __atomic_exchange_n(&table_busy, 1, __ATOMIC_ACQUIRE) == 0;
}

void cg_modules_unlock(void)
{
    __atomic_store_n(&table_busy, 0, __ATOMIC_RELEASE);
}

int cg_modules_is_self(uintptr_t pc)
{
    return pc >= self_lo && pc < self_hi;
}

static void segment_range(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi)
{
    *lo = UINTPTR_MAX;
    *hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < *lo)
            *lo = a;
        if (a + ph->p_memsz > *hi)
            *hi = a + ph->p_memsz;
    }
}

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t lo, hi, me = (uintptr_t)data;
    segment_range(info, &lo, &hi);
    if (me >= lo && me < hi) {
        self_lo = lo;
        self_hi = hi;
        return 1;
    }
    return 0;
}

/* In a fork child only the forking thread lives on, and it was not inside
 * the table (fork is not called from here): a busy flag left by another
 * thread of the parent would otherwise keep the child without stacks. */
static void child_after_fork(void)
{
    __atomic_store_n(&table_busy, 0, __ATOMIC_RELEASE);
}

void cg_modules_init(void)
{
    if (self_hi != 0)
        return;
    dl_iterate_phdr(find_self, (void *)(uintptr_t)cg_modules_init);
    pthread_atfork(NULL, NULL, child_after_fork);
}

/* ---- scanning ---- */

static void remember(const struct dl_phdr_info *info)
{
    uintptr_t lo, hi;
    segment_range(info, &lo, &hi);
    if (hi <= lo)
        return;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    for (unsigned i = 0; i < nmodules; i++) {
        struct module *m = &modules[i];
        if (m->lo == lo && m->hi == hi && m->base == info->dlpi_addr &&
            strncmp(m->name_hint, name, sizeof m->name_hint) == 0)
            return; /* known */
        if (lo < m->hi && m->lo < hi)
            m->lo = m->hi = 0; /* unloaded: its range was reused */
    }
    if (nmodules == MODULES_MAX)
        return;
    struct module *m = &modules[nmodules++];
    memset(m, 0, sizeof *m);
    m->lo = lo;
    m->hi = hi;
    m->base = info->dlpi_addr;
    strncpy(m->name_hint, name, sizeof m->name_hint);
}

static int scan_one(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    remember(info);
    return 0;
}

static int read_counts(struct dl_phdr_info *info, size_t size, void *data)
{
    unsigned long long *counts = data;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        counts[0] = info->dlpi_adds;
        counts[1] = info->dlpi_subs;
    }
    return 1; /* the counts are the same in every entry: stop */
}

/* Rescan when the loader loaded or unloaded something since the last scan. */
static void rescan_if_changed(void)
{
    unsigned long long counts[2] = {0, 0};
    dl_iterate_phdr(read_counts, counts);
    if (counts[0] == seen_adds && counts[1] == seen_subs && counts[0] != 0)
        return;
    seen_adds = counts[0];
    seen_subs = counts[1];
    dl_iterate_phdr(scan_one, NULL);
}

/* ---- writing a module record ---- */

struct module_facts {
    uintptr_t base;
    char path[4096];
    char build_id[2 * 64 + 1];
};

static void hex_build_id(const ElfW(Nhdr) * note, char *out, size_t cap)
{
    const unsigned char *desc = (const unsigned char *)(note + 1) + ((note->n_namesz + 3u) & ~3u);
    size_t n = note->n_descsz;
    if (2 * n + 1 > cap)
        n = (cap - 1) / 2;
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", desc[i]);
}

static void read_build_id(const struct dl_phdr_info *info, char *out, size_t cap)
{
    out[0] = '\0';
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
        const char *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *note = (const ElfW(Nhdr) *)p;
            size_t total =
                sizeof *note + ((note->n_namesz + 3u) & ~3u) + ((note->n_descsz + 3u) & ~3u);
            if (total > (size_t)(end - p))
                break;
            if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
                memcmp(note + 1, "GNU", 4) == 0) {
                hex_build_id(note, out, cap);
                return;
            }
            p += total;
        }
    }
}

static int facts_of(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct module_facts *f = data;
    if (info->dlpi_addr != f->base)
        return 0;
    uintptr_t lo, hi;
    segment_range(info, &lo, &hi);
    if (hi <= lo)
        return 0;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    if (name[0] == '\0') { /* the main program */
        ssize_t n = readlink("/proc/self/exe", f->path, sizeof f->path - 1);
        f->path[n > 0 ? n : 0] = '\0';
    } else {
        snprintf(f->path, sizeof f->path, "%s", name);
    }
    read_build_id(info, f->build_id, sizeof f->build_id);
    return 1;
}

static int write_module_record(struct module *m, uint32_t number)
{
    static struct module_facts facts; /* under the table lock */
    memset(&facts, 0, sizeof facts);
    facts.base = m->base;
    if (dl_iterate_phdr(facts_of, &facts) == 0)
        return -1;
    uint32_t path_id = cg_writer_intern(facts.path[0] ? facts.path : "?");
    uint32_t build_id = facts.build_id[0] ? cg_writer_intern(facts.build_id) : 0;
    struct cg_record *r = cg_writer_reserve(1);
    if (r == NULL || path_id == 0)
        return -1;
    r->handle = m->base;
    r->arg = build_id;
    r->arg2 = m->hi - m->lo;
    r->ts_ns = cg_now_ns();
    r->tid = cg_gettid();
    r->site = path_id;
    r->result = (int32_t)number;
    cg_writer_publish(r, CG_REC_MODULE);
    return 0;
}

static struct module *lookup(uintptr_t pc)
{
    for (unsigned i = nmodules; i-- > 0;)
        if (pc >= modules[i].lo && pc < modules[i].hi)
            return &modules[i];
    return NULL;
}

uint32_t cg_modules_find(uintptr_t pc, uint64_t *offset)
{
    uint32_t generation = __atomic_load_n(&cg_trace_generation, __ATOMIC_ACQUIRE);
    if (generation != numbers_generation) {
        numbers_generation = generation;
        next_number = 1;
    }
    struct module *m = lookup(pc);
    if (m == NULL) {
        rescan_if_changed();
        m = lookup(pc);
    }
    if (m == NULL)
        return 0;
    if (m->number == 0 || m->generation != generation) {
        if (write_module_record(m, next_number) != 0)
            return 0;
        m->number = next_number++;
        m->generation = generation;
    }
    *offset = pc - m->base;
    return m->number;
}
