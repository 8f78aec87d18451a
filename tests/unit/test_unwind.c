/*
 * tests/unit/test_unwind.c — shim/unwind.c gives the stacks backtrace()
 * gives: nested frames of this program, frames inside libc (qsort's
 * callback: libc is built without frame pointers), a thread's whole stack
 * down to its outermost frame, and the depth limit; several threads at
 * once share the rule cache (also built with TSan). shim/unwind_cfi.c reads
 * CFA programs right and refuses what it does not know.
 *
 * What it must never do: compare timings (bench/stacks.sh measures them).
 */
#include <check.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shim/unwind.h"
#include "shim/unwind_cfi.h"

#define FRAMES 64

struct pair {
    void *fast[FRAMES], *slow[FRAMES + 1];
    int n_fast, n_slow, was_fast, max;
};

static void setup(void)
{
    void *warm[2];
    backtrace(warm, 2); /* loads libgcc_s, as the shim's cg_stack_init does */
    cg_unwind_init(dlsym);
}

/* Both stacks taken here: only their first frame (the return into this
 * function from each call) differs. */
__attribute__((noinline)) static void take_both(struct pair *p)
{
    p->n_fast = cg_unwind(p->fast, p->max);
    p->was_fast = cg_unwind_last_was_fast();
    p->n_slow = backtrace(p->slow, p->max + 1);
    __asm__ __volatile__("" ::: "memory");
    /* a sanitizer's backtrace() interceptor adds its own frame first */
    Dl_info self, first;
    if (p->n_slow > 1 && dladdr((void *)take_both, &self) && dladdr(p->slow[0], &first) &&
        strcmp(self.dli_fname, first.dli_fname) != 0) {
        memmove(p->slow, p->slow + 1, (size_t)--p->n_slow * sizeof p->slow[0]);
    }
    if (p->n_slow > p->max)
        p->n_slow = p->max;
}

static void assert_same(const struct pair *p)
{
    ck_assert_int_eq(p->n_fast, p->n_slow);
    ck_assert_int_gt(p->n_fast, 1);
    for (int i = 1; i < p->n_fast; i++)
        ck_assert_msg(p->fast[i] == p->slow[i], "frame %d: %p, backtrace() %p", i, p->fast[i],
                      p->slow[i]);
#if defined(__x86_64__)
    ck_assert_msg(p->was_fast, "the fast walk fell back to backtrace()");
#endif
}

static __thread struct pair *in_callback;

__attribute__((noinline)) static int compare(const void *a, const void *b)
{
    if (in_callback) {
        take_both(in_callback);
        in_callback = NULL;
    }
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

__attribute__((noinline)) static void through_libc(struct pair *p)
{
    int v[2] = {2, 1};
    in_callback = p;
    qsort(v, 2, sizeof v[0], compare);
    __asm__ __volatile__("" ::: "memory");
}

__attribute__((noinline)) static void nest(struct pair *p, int depth)
{
    volatile char pad[64 * 3]; /* frames of several sizes */
    pad[depth] = (char)depth;
    if (depth == 0)
        through_libc(p);
    else
        nest(p, depth - 1);
    __asm__ __volatile__("" ::"r"(pad) : "memory");
}

START_TEST(nested_frames_and_libc_match_backtrace)
{
    struct pair p = {.max = FRAMES};
    nest(&p, 6);
    assert_same(&p);
    ck_assert_int_ge(p.n_fast, 10);      /* take_both, compare, qsort's, through_libc, nest x7 */
    struct pair again = {.max = FRAMES}; /* the second time from the cache */
    nest(&again, 6);
    assert_same(&again);
}
END_TEST

START_TEST(the_depth_limit_is_kept)
{
    for (int max = 1; max <= 6; max++) {
        struct pair p = {.max = max};
        nest(&p, 8);
        ck_assert_int_eq(p.n_fast, max);
        ck_assert_int_eq(p.n_slow, max);
        for (int i = 1; i < max; i++)
            ck_assert_ptr_eq(p.fast[i], p.slow[i]);
    }
}
END_TEST

START_TEST(without_init_it_is_backtrace)
{
    struct pair p = {.max = FRAMES};
    nest(&p, 3);
    ck_assert_int_eq(p.was_fast, 0);
    ck_assert_int_eq(p.n_fast, p.n_slow);
    for (int i = 1; i < p.n_fast; i++)
        ck_assert_ptr_eq(p.fast[i], p.slow[i]);
}
END_TEST

#define THREADS 4

static void *thread_main(void *arg)
{
    struct pair *p = arg;
    for (int i = 0; i < 50; i++) {
        memset(p->fast, 0, sizeof p->fast);
        nest(p, i % 5);
        /* the whole stack: down to the thread's outermost frame (clone) */
        ck_assert_int_lt(p->n_fast, FRAMES);
        assert_same(p);
    }
    return NULL;
}

START_TEST(threads_get_their_whole_stack)
{
    pthread_t t[THREADS];
    static struct pair p[THREADS];
    for (int i = 0; i < THREADS; i++) {
        p[i] = (struct pair){.max = FRAMES};
        ck_assert_int_eq(pthread_create(&t[i], NULL, thread_main, &p[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
}
END_TEST

/* ---- the CFA-program reader on a hand-made CIE + FDE ---- */

static unsigned char eh[64];

/* CIE "zR" (pcrel sdata4), code 1, data -8, RA 16: CFA = rsp+8, RA at
 * CFA-8. FDE: `body` after the header. Returns the FDE. */
static const void *make_fde(const unsigned char *body, size_t n, const char *aug)
{
    memset(eh, 0, sizeof eh);
    unsigned char cie[] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
    size_t at = sizeof cie;
    memcpy(eh, cie, at);
    size_t alen = strlen(aug) + 1;
    memcpy(eh + at, aug, alen);
    at += alen;
    unsigned char rest[] = {1, 0x78, 16, 1, 0x1b, 0x0c, 7, 8, 0x90, 1};
    memcpy(eh + at, rest, sizeof rest);
    at += sizeof rest;
    while ((at - 4) % 4)
        eh[at++] = 0; /* nops */
    uint32_t cie_len = (uint32_t)(at - 4);
    memcpy(eh, &cie_len, 4);
    unsigned char *fde = eh + at;
    uint32_t fde_len = (uint32_t)(4 + 4 + 4 + 1 + n);
    int32_t delta = (int32_t)(at + 4);
    memcpy(fde, &fde_len, 4);
    memcpy(fde + 4, &delta, 4);
    /* pc_begin, pc_range (sdata4, not read), augmentation length 0 */
    memcpy(fde + 17, body, n);
    return fde;
}

/* advance 1; CFA rsp+16; rbp at CFA-16; advance 3; CFA on rbp. */
static const unsigned char prologue[] = {0x41, 0x0e, 16, 0x86, 2, 0x43, 0x0d, 6};

START_TEST(cfa_programs_are_read)
{
    const void *fde = make_fde(prologue, sizeof prologue, "zR");
    struct cg_cfi_rule r = cg_cfi_rule_at(fde, 0x1000, 0x1000);
    ck_assert_int_eq(r.kind, CG_CFI_OK);
    ck_assert_int_eq(r.cfa_reg, 7);
    ck_assert_int_eq(r.cfa_off, 8);
    ck_assert_int_eq(r.rbp_how, CG_RBP_SAME);
    r = cg_cfi_rule_at(fde, 0x1000, 0x1003);
    ck_assert_int_eq(r.cfa_reg, 7);
    ck_assert_int_eq(r.cfa_off, 16);
    ck_assert_int_eq(r.rbp_how, CG_RBP_SAVED);
    ck_assert_int_eq(r.rbp_off, -16);
    r = cg_cfi_rule_at(fde, 0x1000, 0x1004);
    ck_assert_int_eq(r.cfa_reg, 6);
    ck_assert_int_eq(r.cfa_off, 16);
    struct cg_cfi_rule back = cg_cfi_unpack(cg_cfi_pack(r));
    ck_assert(back.kind == r.kind && back.cfa_reg == r.cfa_reg && back.cfa_off == r.cfa_off &&
              back.rbp_how == r.rbp_how && back.rbp_off == r.rbp_off);
}
END_TEST

START_TEST(unknown_cfa_programs_are_refused)
{
    static const unsigned char expression[] = {0x41, 0x0f, 2, 0x77, 8};
    const void *fde = make_fde(expression, sizeof expression, "zR");
    ck_assert_int_eq(cg_cfi_rule_at(fde, 0x1000, 0x1000).kind, CG_CFI_OK);
    ck_assert_int_eq(cg_cfi_rule_at(fde, 0x1000, 0x1001).kind, CG_CFI_BAD);
    fde = make_fde(prologue, sizeof prologue, "zRS"); /* a signal frame */
    ck_assert_int_eq(cg_cfi_rule_at(fde, 0x1000, 0x1000).kind, CG_CFI_BAD);
    static const unsigned char on_rbx[] = {0x41, 0x0c, 3, 16}; /* CFA = rbx+16 */
    fde = make_fde(on_rbx, sizeof on_rbx, "zR");
    ck_assert_int_eq(cg_cfi_rule_at(fde, 0x1000, 0x1001).kind, CG_CFI_BAD);
    static const unsigned char outermost[] = {0x07, 16}; /* RA undefined */
    fde = make_fde(outermost, sizeof outermost, "zR");
    ck_assert_int_eq(cg_cfi_rule_at(fde, 0x1000, 0x1000).kind, CG_CFI_END);
    static const unsigned char restore_empty[] = {0x0b}; /* restore without remember */
    fde = make_fde(restore_empty, sizeof restore_empty, "zR");
    ck_assert_int_eq(cg_cfi_rule_at(fde, 0x1000, 0x1000).kind, CG_CFI_BAD);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("unwind");
    TCase *walk = tcase_create("walk");
    tcase_add_checked_fixture(walk, setup, NULL);
    tcase_add_test(walk, nested_frames_and_libc_match_backtrace);
    tcase_add_test(walk, the_depth_limit_is_kept);
    tcase_add_test(walk, threads_get_their_whole_stack);
    suite_add_tcase(s, walk);
    TCase *plain = tcase_create("fallback");
    tcase_add_test(plain, without_init_it_is_backtrace);
    suite_add_tcase(s, plain);
    TCase *cfi = tcase_create("cfi");
    tcase_add_test(cfi, cfa_programs_are_read);
    tcase_add_test(cfi, unknown_cfa_programs_are_refused);
    suite_add_tcase(s, cfi);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
