/*
 * shim/unwind_cfi.h — one frame's unwind rule from its DWARF CFI (x86-64).
 *
 * What it is for: shim/unwind.c caches, per return address, the rule this
 * file computes from the frame's FDE (as _Unwind_Find_FDE returns it): the
 * CIE's and FDE's CFA programs run up to the address, reduced to the only
 * shape the fast walk follows.
 *
 * What it must never do: accept a program it does not fully understand
 * (anything unusual gives CG_CFI_BAD, and the caller falls back to
 * backtrace()), read outside the CIE and FDE, or allocate.
 */
#ifndef CUGUARD_SHIM_UNWIND_CFI_H
#define CUGUARD_SHIM_UNWIND_CFI_H

#include <stdint.h>

enum cg_cfi_kind {
    CG_CFI_BAD = 0, /* not understood: use backtrace() */
    CG_CFI_OK = 1,  /* the rule below */
    CG_CFI_END = 2, /* the return address is undefined: outermost frame */
};

enum cg_cfi_rbp {
    CG_RBP_SAME = 0,  /* rbp is the caller's */
    CG_RBP_SAVED = 1, /* the caller's rbp is at CFA + rbp_off */
    CG_RBP_LOST = 2,  /* elsewhere: unknown in the caller */
};

/* CFA = (cfa_reg == 6 ? rbp : rsp) + cfa_off; return address at CFA - 8. */
struct cg_cfi_rule {
    uint8_t kind;
    uint8_t cfa_reg; /* DWARF 6 (rbp) or 7 (rsp) */
    uint8_t rbp_how;
    int16_t rbp_off;
    int32_t cfa_off;
};

/* The rule at address `pc` of the function starting at `func` whose FDE
 * (length field first, .eh_frame layout) is `fde`. */
struct cg_cfi_rule cg_cfi_rule_at(const void *fde, uintptr_t func, uintptr_t pc);

/* The rule packed into one word and back (for a lock-free cache). */
static inline uint64_t cg_cfi_pack(struct cg_cfi_rule r)
{
    return (uint64_t)r.kind | (uint64_t)(r.cfa_reg & 0xfu) << 4 | (uint64_t)r.rbp_how << 8 |
           (uint64_t)(uint16_t)r.rbp_off << 16 | (uint64_t)(uint32_t)r.cfa_off << 32;
}

static inline struct cg_cfi_rule cg_cfi_unpack(uint64_t w)
{
    return (struct cg_cfi_rule){
        .kind = (uint8_t)(w & 0xfu),
        .cfa_reg = (uint8_t)((w >> 4) & 0xfu),
        .rbp_how = (uint8_t)((w >> 8) & 0xffu),
        .rbp_off = (int16_t)(uint16_t)(w >> 16),
        .cfa_off = (int32_t)(uint32_t)(w >> 32),
    };
}

#endif
