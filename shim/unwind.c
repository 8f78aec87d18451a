/*
 * shim/unwind.c — cached DWARF CFI unwinding of the caller's stack
 * (shim/unwind.h).
 *
 * What it is for: on x86-64, each frame's FDE (from libgcc's
 * _Unwind_Find_FDE) is reduced once to a rule "CFA = rsp|rbp + k; return
 * address at CFA-8; rbp at CFA+j or unchanged", kept in a lock-free table
 * keyed by the looked-up address, so a stack seen before costs a few loads
 * per frame. Everything unusual falls back to backtrace().
 *
 * What it must never do: read a stack word below the stack pointer of the
 * frame being unwound or outside the pages this thread checked readable;
 * follow a frame that does not move up the stack; lock or allocate; crash
 * on a CFA program it does not understand (it gives up instead).
 */
#include "shim/unwind.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <stdint.h>
#include <string.h>

static __thread int last_fast __attribute__((tls_model("initial-exec")));

int cg_unwind_last_was_fast(void)
{
    return last_fast;
}

#define SLOW_EXTRA 4 /* slow_unwind, cg_unwind, a sanitizer's interceptor, spare */

/* backtrace() as if called by cg_unwind's caller: the frames up to the
 * return into cg_unwind (slow_unwind's, and an interceptor's under a
 * sanitizer) are dropped. */
__attribute__((noinline)) static int slow_unwind(void **out, int max)
{
    void *buf[CG_UNWIND_MAX + SLOW_EXTRA];
    if (max > CG_UNWIND_MAX)
        max = CG_UNWIND_MAX;
    int got = backtrace(buf, max + SLOW_EXTRA);
    int first = 2;
    for (int i = 0; i < got && i < SLOW_EXTRA; i++)
        if (buf[i] == __builtin_return_address(0)) {
            first = i + 1;
            break;
        }
    int n = got - first < max ? got - first : max;
    if (n <= 0)
        return 0;
    memcpy(out, buf + first, (size_t)n * sizeof *out);
    return n;
}

#if defined(__x86_64__) && defined(__linux__)

#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim/unwind_cfi.h"

#define REG_RBP 6u
#define PAGE 4096u
#define CHECK_PAGES 64u   /* most pages checked readable in one go */
#define CACHE_SLOTS 1024u /* rules cached, all threads */
#define MAX_FRAME_BYTES (1u << 20)

struct dwarf_eh_bases {
    void *tbase;
    void *dbase;
    void *func;
};
typedef const void *(*find_fde_fn)(void *pc, struct dwarf_eh_bases *bases);
static find_fde_fn find_fde;

void cg_unwind_init(void *(*lookup)(void *handle, const char *name))
{
    if (lookup == NULL || __atomic_load_n(&find_fde, __ATOMIC_ACQUIRE) != NULL)
        return;
    void *h = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    void *fn = h ? lookup(h, "_Unwind_Find_FDE") : NULL;
    __atomic_store_n(&find_fde, (find_fde_fn)fn, __ATOMIC_RELEASE);
}

/* ---- the rule cache: lock-free, shared by all threads ---- */

/* A slot is a sequence lock: `seq` odd while a writer fills it; a reader
 * uses the slot only when `seq` is even and unchanged around its reads. */
struct rule_slot {
    unsigned seq;
    uintptr_t key;
    uint64_t rule;
};
static struct rule_slot rule_cache[CACHE_SLOTS];

/* Two ways per set: the set of a key, multiplicative hashing (the low bits
 * of nearby return addresses collide less). */
static struct rule_slot *set_of(uintptr_t key)
{
    uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ull;
    return &rule_cache[(h >> 40) % (CACHE_SLOTS / 2) * 2];
}

static int slot_get(struct rule_slot *s, uintptr_t key, uint64_t *rule)
{
    unsigned seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
    if (seq & 1u)
        return 0;
    /* acquire: the second read of `seq` stays after these (and a writer's
     * odd `seq`, stored before its fields, is seen with them) */
    uintptr_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
    uint64_t r = __atomic_load_n(&s->rule, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq || k != key)
        return 0;
    *rule = r;
    return 1;
}

static int cache_get(uintptr_t key, uint64_t *rule)
{
    struct rule_slot *set = set_of(key);
    return slot_get(&set[0], key, rule) || slot_get(&set[1], key, rule);
}

static void cache_put(uintptr_t key, uint64_t rule)
{
    struct rule_slot *set = set_of(key);
    /* the empty way, else the second (the first keeps its older key) */
    struct rule_slot *s = __atomic_load_n(&set[0].key, __ATOMIC_RELAXED) == 0 ? &set[0] : &set[1];
    unsigned seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
    if ((seq & 1u) ||
        !__atomic_compare_exchange_n(&s->seq, &seq, seq + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return; /* another writer: skip caching this time */
    /* release: whoever sees a field also sees the odd `seq` before it */
    __atomic_store_n(&s->key, key, __ATOMIC_RELEASE);
    __atomic_store_n(&s->rule, rule, __ATOMIC_RELEASE);
    __atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

/* The rule at `key` (an address inside the frame's function). */
static inline struct cg_cfi_rule rule_for(uintptr_t key)
{
    uint64_t packed;
    if (cache_get(key, &packed))
        return cg_cfi_unpack(packed);
    struct cg_cfi_rule r = {.kind = CG_CFI_BAD};
    find_fde_fn find = __atomic_load_n(&find_fde, __ATOMIC_ACQUIRE);
    struct dwarf_eh_bases bases = {0};
    const void *fde = find ? find((void *)key, &bases) : NULL;
    if (fde != NULL)
        r = cg_cfi_rule_at(fde, (uintptr_t)bases.func, key);
    cache_put(key, cg_cfi_pack(r));
    return r;
}

/* ---- reading the stack: only pages this thread checked ---- */

/* [lo, hi): pages of this thread's stack known readable, valid while the
 * stack pointer of a walk is inside it. */
static __thread uintptr_t known_lo __attribute__((tls_model("initial-exec")));
static __thread uintptr_t known_hi __attribute__((tls_model("initial-exec")));

/* 1 when pages [from, to) (page-aligned, at most CHECK_PAGES) can be read:
 * one byte of each read through the kernel, which fails instead of faulting. */
static int pages_readable(uintptr_t from, uintptr_t to)
{
    struct iovec local[CHECK_PAGES], remote[CHECK_PAGES];
    char sink[CHECK_PAGES];
    size_t n = (to - from) / PAGE;
    if (n == 0 || n > CHECK_PAGES)
        return n == 0;
    for (size_t i = 0; i < n; i++) {
        local[i] = (struct iovec){&sink[i], 1};
        remote[i] = (struct iovec){(void *)(from + i * PAGE), 1};
    }
    int saved = errno; /* the host's errno is never changed */
    ssize_t got = process_vm_readv(getpid(), local, n, remote, n, 0);
    if (got < 0 && (errno == ENOSYS || errno == EPERM)) /* a sandbox: never fast */
        __atomic_store_n(&find_fde, NULL, __ATOMIC_RELAXED);
    errno = saved;
    return got == (ssize_t)n;
}

/* The slow half of word_readable: extend the checked pages to `addr`. */
__attribute__((noinline)) static int extend_known(uintptr_t sp, uintptr_t addr)
{
    if (addr < sp || (addr & 7u) || addr > UINTPTR_MAX - 8)
        return 0;
    uintptr_t page_sp = sp & ~(uintptr_t)(PAGE - 1);
    uintptr_t need = (addr + 8 + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
    int inside = sp >= known_lo && sp < known_hi;
    uintptr_t from = inside ? known_hi : page_sp;
    if (!pages_readable(from, need))
        return 0;
    if (!inside)
        known_lo = page_sp;
    known_hi = need;
    return 1;
}

/* 1 when the word at `addr` (>= sp, the frame's stack pointer) may be read. */
static inline int word_readable(uintptr_t sp, uintptr_t addr)
{
    if (__builtin_expect(addr >= sp && !(addr & 7u) && addr < known_hi - 7 && sp >= known_lo &&
                             known_hi >= 8,
                         1))
        return 1;
    return extend_known(sp, addr);
}

__attribute__((no_sanitize_address)) static uintptr_t read_word(uintptr_t addr)
{
    return *(const uintptr_t *)addr;
}

/* ---- the walk ---- */

struct regs {
    uintptr_t pc, sp, bp;
    int bp_known;
};

/* One frame up: 1 done (a caller's frame), 0 end of stack, -1 give up. */
static inline int step(struct regs *r, uintptr_t key)
{
    struct cg_cfi_rule rule = rule_for(key);
    if (rule.kind == CG_CFI_END)
        return 0;
    if (rule.kind != CG_CFI_OK || (rule.cfa_reg == REG_RBP && !r->bp_known))
        return -1;
    uintptr_t base = rule.cfa_reg == REG_RBP ? r->bp : r->sp;
    uintptr_t cfa = base + (uintptr_t)(intptr_t)rule.cfa_off;
    if (cfa <= r->sp || cfa - r->sp > MAX_FRAME_BYTES || !word_readable(r->sp, cfa - 8))
        return -1;
    uintptr_t ra = read_word(cfa - 8);
    if (rule.rbp_how == CG_RBP_SAVED) {
        uintptr_t at = cfa + (uintptr_t)(intptr_t)rule.rbp_off;
        if (!word_readable(r->sp, at))
            return -1;
        r->bp = read_word(at);
        r->bp_known = 1;
    } else if (rule.rbp_how == CG_RBP_LOST) {
        r->bp_known = 0;
    }
    r->sp = cfa;
    r->pc = ra;
    return ra != 0 ? 1 : 0;
}

/* The fast walk from `r` (a frame of cg_unwind); -1 when it gave up. */
static int fast_unwind(struct regs r, void **out, int max)
{
    int n = 0;
    uintptr_t key = r.pc; /* the first frame is at pc itself, callers at ra - 1 */
    while (n < max) {
        int s = step(&r, key);
        if (s < 0)
            return -1;
        if (s == 0)
            break;
        out[n++] = (void *)r.pc;
        key = r.pc - 1;
    }
    return n;
}

__attribute__((noinline)) int cg_unwind(void **out, int max)
{
    struct regs r = {.bp_known = 1};
    if (max <= 0)
        return 0;
    if (max > CG_UNWIND_MAX)
        max = CG_UNWIND_MAX;
    __asm__ __volatile__("lea 0f(%%rip), %0\n0:\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                         : "=r"(r.pc), "=r"(r.sp), "=r"(r.bp));
    int n = __atomic_load_n(&find_fde, __ATOMIC_RELAXED) ? fast_unwind(r, out, max) : -1;
    last_fast = n >= 0;
    if (n < 0)
        n = slow_unwind(out, max);
    __asm__ __volatile__("" ::: "memory"); /* no tail call: our frame stays */
    return n;
}

#else /* not x86-64 Linux: backtrace() */

void cg_unwind_init(void *(*lookup)(void *handle, const char *name))
{
    (void)lookup;
}

__attribute__((noinline)) int cg_unwind(void **out, int max)
{
    last_fast = 0;
    int n = max > 0 ? slow_unwind(out, max) : 0;
    __asm__ __volatile__("" ::: "memory");
    return n;
}

#endif
