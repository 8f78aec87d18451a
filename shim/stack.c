/*
 * shim/stack.c — take, hash, cache and intern call stacks (shim/stack.h).
 *
 * What it is for: the native frames from shim/unwind.h (libgcc's DWARF
 * tables, as glibc backtrace() reads them, with each frame's rule cached:
 * right on this host's libraries, built without frame pointers, and sees
 * JIT code registered with __register_frame; backtrace() itself for
 * anything unusual; see docs/stacks.md for the measurements), the shim's
 * own frames dropped, then
 * the Python frames (shim/python_frames.h). A per-thread cache keyed by a
 * hash of the frames makes a stack seen before cost the unwind and one
 * compare; a new one is written as "#stack" plus ";frame" per frame.
 *
 * What it must never do: write a partial frame, wait for a lock, or
 * keep a stack id across traces (the thread state is reset with the trace).
 */
#include "shim/stack.h"

#include <execinfo.h>
#include <stdio.h>
#include <string.h>

#include "shim/api.h"
#include "shim/driver.h"
#include "shim/modules.h"
#include "shim/python_frames.h"
#include "shim/unwind.h"
#include "tracer/writer.h"

/* Frames of the shim itself above the caller (cg_stack_id, cg_call_begin or
 * cg_call_end, the generated wrapper; one spare), unwound on top of the
 * depth and then dropped. Each frame unwound costs a few ns (a rule cached
 * by shim/unwind.c), about 100 ns through backtrace(). */
#define OWN_FRAMES_MAX 4
#define STACK_TEXT_MAX 4000

static unsigned stack_depth;
unsigned char cg_stack_wanted_api[CG_API_COUNT];

static int is_lifecycle(const char *base)
{
    static const char *const words[] = {"Create", "Destroy", "Alloc", "Free", "Register"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(base, words[i]) != NULL)
            return 1;
    return 0;
}

void cg_stack_init(unsigned depth)
{
    stack_depth = depth > CG_STACK_DEPTH_MAX ? CG_STACK_DEPTH_MAX : depth;
    cg_modules_init();
    if (stack_depth == 0)
        return;
    void *warm[2];
    backtrace(warm, 2); /* loads libgcc_s, whose FDE lookup cg_unwind uses */
    cg_unwind_init(cg_real_dlsym());
    for (unsigned i = 1; i < CG_API_COUNT; i++) /* blocking calls: where a hang points */
        cg_stack_wanted_api[i] = cg_api_info[i].style == CG_STYLE_BLOCKING ||
                                 (cg_api_info[i].base != NULL && is_lifecycle(cg_api_info[i].base));
    cg_py_resolve();
}

int cg_stack_enabled(void)
{
    return stack_depth != 0;
}

struct taken {
    void *pcs[CG_STACK_DEPTH_MAX + OWN_FRAMES_MAX];
    int first, n; /* pcs[first .. first+n) are the caller's frames */
    struct cg_py_stack py;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x100000001b3ull;
}

static uint64_t hash_of(const struct taken *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < s->n; i++)
        h = mix(h, (uintptr_t)s->pcs[s->first + i]);
    for (int i = 0; i < s->py.n; i++)
        h = mix(mix(h, (uintptr_t)s->py.code[i]), (uint64_t)s->py.line[i]);
    return h | 1; /* 0 marks an empty cache slot */
}

/* "#stack" and the native frames; -1 when the module table is busy. */
static int format_native(const struct taken *s, char *buf, size_t cap)
{
    if (!cg_modules_lock())
        return -1;
    size_t used = (size_t)snprintf(buf, cap, "#stack");
    for (int i = 0; i < s->n; i++) {
        uintptr_t pc = (uintptr_t)s->pcs[s->first + i];
        uint64_t off = 0;
        uint32_t module = cg_modules_find(pc, &off);
        char line[48];
        if (module != 0)
            snprintf(line, sizeof line, ";n%u %llx", module, (unsigned long long)off);
        else
            snprintf(line, sizeof line, ";a%llx", (unsigned long long)pc);
        if (used + strlen(line) + 1 > cap)
            break;
        memcpy(buf + used, line, strlen(line) + 1);
        used += strlen(line);
    }
    cg_modules_unlock();
    return 0;
}

static uint32_t intern_new(const struct taken *s)
{
    char text[STACK_TEXT_MAX];
    if (format_native(s, text, sizeof text) != 0)
        return 0;
    if (s->py.n > 0)
        cg_py_format(&s->py, text, sizeof text);
    return cg_writer_intern(text);
}

/* Index of the caller's frame: where `caller` was returned to, else the
 * first frame outside the shim's library. */
static int first_caller_frame(void *const *pcs, int got, const void *caller)
{
    for (int i = 0; caller != NULL && i < got; i++)
        if (pcs[i] == caller)
            return i;
    int first = 0;
    while (first < got && cg_modules_is_self((uintptr_t)pcs[first]))
        first++;
    return first;
}

uint32_t cg_stack_id(struct cg_thread *t, const void *caller)
{
    struct taken s;
    int got = cg_unwind(s.pcs, (int)(stack_depth + OWN_FRAMES_MAX));
    s.first = first_caller_frame(s.pcs, got, caller);
    s.n = got - s.first;
    if (s.n > (int)stack_depth)
        s.n = (int)stack_depth;
    cg_py_take(&s.py, (int)stack_depth);
    uint64_t hash = hash_of(&s);
    struct cg_stack_slot *slot = t ? &t->stacks[hash % CG_STACK_SLOTS] : NULL;
    uint32_t id;
    if (slot != NULL && slot->hash == hash) {
        id = slot->id;
    } else {
        id = intern_new(&s);
        if (slot != NULL && id != 0)
            *slot = (struct cg_stack_slot){.hash = hash, .id = id};
    }
    if (s.py.n > 0)
        cg_py_release(&s.py);
    return id;
}
