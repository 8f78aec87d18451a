/*
 * shim/unwind_cfi.c — run a frame's CIE and FDE CFA programs up to an
 * address and reduce the result to a cg_cfi_rule (shim/unwind_cfi.h).
 *
 * What it is for: the x86-64 rules GCC and clang emit (def_cfa on rsp or
 * rbp, offsets, advance, remember/restore state, args_size); rules of the
 * other registers are skipped, since the walk needs only rsp, rbp and the
 * return address.
 *
 * What it must never do: read past the end of the CIE or FDE, accept a
 * CFA expression, a signal frame, a 64-bit .eh_frame length or an
 * encoding it does not know: those give CG_CFI_BAD.
 */
#include "shim/unwind_cfi.h"

#include <string.h>

#define REG_RBP 6u
#define REG_RSP 7u
#define REG_RA 16u
#define STATE_DEPTH 4

enum how { HOW_SAME, HOW_OFFSET, HOW_UNDEFINED, HOW_OTHER };

struct reg_rule {
    uint8_t how;
    int64_t off;
};

struct cfa_state {
    uint32_t cfa_reg;
    int64_t cfa_off;
    int cfa_bad; /* an expression, or a register the walk does not track */
    struct reg_rule rbp, ra;
};

struct cursor {
    const uint8_t *p, *end;
    int bad;
};

static uint64_t uleb(struct cursor *c)
{
    uint64_t v = 0;
    for (unsigned shift = 0; c->p < c->end && shift < 64; shift += 7) {
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    c->bad = 1;
    return 0;
}

static int64_t sleb(struct cursor *c)
{
    uint64_t v = 0;
    unsigned shift = 0;
    while (c->p < c->end && shift < 64) {
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= ~(uint64_t)0 << shift;
            return (int64_t)v;
        }
    }
    c->bad = 1;
    return 0;
}

static uint64_t fixed(struct cursor *c, unsigned n)
{
    if ((size_t)(c->end - c->p) < n) {
        c->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, c->p, n); /* little-endian */
    c->p += n;
    return v;
}

/* Skip one pointer of encoding `enc` (DW_EH_PE_*); 0 when unknown. */
static int skip_encoded(struct cursor *c, uint8_t enc)
{
    if (enc == 0xff) /* omit */
        return 1;
    if ((enc & 0x70) == 0x50) /* aligned */
        return 0;
    switch (enc & 0x0f) {
    case 0x00:
    case 0x04:
    case 0x0c:
        fixed(c, 8);
        break;
    case 0x02:
    case 0x0a:
        fixed(c, 2);
        break;
    case 0x03:
    case 0x0b:
        fixed(c, 4);
        break;
    case 0x01:
        uleb(c);
        break;
    case 0x09:
        sleb(c);
        break;
    default:
        return 0;
    }
    return !c->bad;
}

static void set_rule(struct cfa_state *s, uint64_t reg, uint8_t how, int64_t off)
{
    struct reg_rule r = {.how = how, .off = off};
    if (reg == REG_RBP)
        s->rbp = r;
    else if (reg == REG_RA)
        s->ra = r;
}

static void restore_rule(struct cfa_state *s, const struct cfa_state *init, uint64_t reg)
{
    if (reg == REG_RBP)
        s->rbp = init->rbp;
    else if (reg == REG_RA)
        s->ra = init->ra;
}

static void def_cfa(struct cfa_state *s, uint64_t reg, int64_t off)
{
    s->cfa_reg = (uint32_t)reg;
    s->cfa_off = off;
    s->cfa_bad = reg != REG_RSP && reg != REG_RBP;
}

struct program {
    uint64_t code_align;
    int64_t data_align;
    const struct cfa_state *init; /* for restore; NULL while running the CIE's */
    uintptr_t loc, target;
    struct cfa_state stack[STATE_DEPTH];
    int depth;
};

/* One instruction with a low-bits opcode. 0: go on, 1: stop here, -1: bad. */
static int run_extended(struct program *pg, struct cfa_state *s, struct cursor *c, uint8_t op)
{
    uint64_t reg, delta = 0;
    switch (op) {
    case 0x00: /* nop */
        return 0;
    case 0x02:
        delta = fixed(c, 1);
        break;
    case 0x03:
        delta = fixed(c, 2);
        break;
    case 0x04:
        delta = fixed(c, 4);
        break;
    case 0x05:
        reg = uleb(c);
        set_rule(s, reg, HOW_OFFSET, (int64_t)uleb(c) * pg->data_align);
        return 0;
    case 0x06:
        reg = uleb(c);
        if (pg->init)
            restore_rule(s, pg->init, reg);
        return 0;
    case 0x07:
        set_rule(s, uleb(c), HOW_UNDEFINED, 0);
        return 0;
    case 0x08:
        set_rule(s, uleb(c), HOW_SAME, 0);
        return 0;
    case 0x09:
        reg = uleb(c);
        uleb(c);
        set_rule(s, reg, HOW_OTHER, 0);
        return 0;
    case 0x0a:
        if (pg->depth == STATE_DEPTH)
            return -1;
        pg->stack[pg->depth++] = *s;
        return 0;
    case 0x0b:
        if (pg->depth == 0)
            return -1;
        *s = pg->stack[--pg->depth];
        return 0;
    case 0x0c:
        reg = uleb(c);
        def_cfa(s, reg, (int64_t)uleb(c));
        return 0;
    case 0x0d:
        def_cfa(s, uleb(c), s->cfa_off);
        return 0;
    case 0x0e:
        s->cfa_off = (int64_t)uleb(c);
        return 0;
    case 0x0f: /* def_cfa_expression */
        return -1;
    case 0x10:
    case 0x16: { /* expression, val_expression */
        reg = uleb(c);
        uint64_t len = uleb(c);
        if (len > (uint64_t)(c->end - c->p))
            return -1;
        c->p += len;
        set_rule(s, reg, HOW_OTHER, 0);
        return 0;
    }
    case 0x11:
        reg = uleb(c);
        set_rule(s, reg, HOW_OFFSET, sleb(c) * pg->data_align);
        return 0;
    case 0x12:
        reg = uleb(c);
        def_cfa(s, reg, sleb(c) * pg->data_align);
        return 0;
    case 0x13:
        s->cfa_off = sleb(c) * pg->data_align;
        return 0;
    case 0x14:
    case 0x15: /* val_offset(_sf): a value, not a save slot */
        reg = uleb(c);
        if (op == 0x14)
            uleb(c);
        else
            sleb(c);
        set_rule(s, reg, HOW_OTHER, 0);
        return 0;
    case 0x2e: /* GNU_args_size */
        uleb(c);
        return 0;
    case 0x2f:
        reg = uleb(c);
        set_rule(s, reg, HOW_OFFSET, -(int64_t)uleb(c) * pg->data_align);
        return 0;
    default: /* set_loc and anything else */
        return -1;
    }
    delta *= pg->code_align;
    if (pg->loc + delta > pg->target)
        return 1;
    pg->loc += delta;
    return 0;
}

/* Run instructions [p, end) into `s` until the location passes the target.
 * 0 on success. */
static int run_program(struct program *pg, struct cfa_state *s, const uint8_t *p,
                       const uint8_t *end)
{
    struct cursor c = {p, end, 0};
    while (c.p < c.end && !c.bad) {
        uint8_t op = *c.p++;
        int r = 0;
        switch (op & 0xc0) {
        case 0x40: {
            uint64_t delta = (uint64_t)(op & 0x3f) * pg->code_align;
            if (pg->loc + delta > pg->target)
                return 0;
            pg->loc += delta;
            break;
        }
        case 0x80:
            set_rule(s, op & 0x3f, HOW_OFFSET, (int64_t)uleb(&c) * pg->data_align);
            break;
        case 0xc0:
            if (pg->init)
                restore_rule(s, pg->init, op & 0x3f);
            break;
        default:
            r = run_extended(pg, s, &c, op);
        }
        if (r != 0)
            return r > 0 ? 0 : -1;
    }
    return c.bad ? -1 : 0;
}

struct cie {
    const uint8_t *insns, *end;
    uint64_t code_align;
    int64_t data_align;
    uint8_t fde_enc;
    int has_z;
};

/* Parse the CIE at `p` (its length field). 0 when usable. */
static int parse_cie(const uint8_t *p, struct cie *out)
{
    uint32_t len;
    memcpy(&len, p, 4);
    if (len == 0 || len == 0xffffffffu)
        return -1;
    struct cursor c = {p + 4, p + 4 + len, 0};
    if (fixed(&c, 4) != 0) /* CIE id */
        return -1;
    uint8_t version = (uint8_t)fixed(&c, 1);
    const char *aug = (const char *)c.p;
    size_t aug_len = strnlen(aug, (size_t)(c.end - c.p));
    if (c.bad || aug_len == (size_t)(c.end - c.p))
        return -1;
    c.p += aug_len + 1;
    out->code_align = uleb(&c);
    out->data_align = sleb(&c);
    uint64_t ra = version == 1 ? fixed(&c, 1) : uleb(&c);
    if (c.bad || ra != REG_RA || (version != 1 && version != 3))
        return -1;
    out->fde_enc = 0; /* absptr */
    out->has_z = aug[0] == 'z';
    const uint8_t *data_end = c.p;
    if (out->has_z) {
        uint64_t n = uleb(&c);
        if (c.bad || n > (uint64_t)(c.end - c.p))
            return -1;
        data_end = c.p + n;
    } else if (aug[0] != '\0') {
        return -1;
    }
    for (size_t i = 1; out->has_z && i < aug_len; i++) {
        if (aug[i] == 'R')
            out->fde_enc = (uint8_t)fixed(&c, 1);
        else if (aug[i] == 'L')
            fixed(&c, 1);
        else if (aug[i] == 'P') {
            if (!skip_encoded(&c, (uint8_t)fixed(&c, 1)))
                return -1;
        } else /* 'S' (a signal frame) or unknown */
            return -1;
    }
    if (c.bad || c.p > data_end)
        return -1;
    out->insns = data_end;
    out->end = c.end;
    return 0;
}

static struct cg_cfi_rule reduce(const struct cfa_state *s)
{
    struct cg_cfi_rule r = {.kind = CG_CFI_BAD};
    if (s->ra.how == HOW_UNDEFINED) {
        r.kind = CG_CFI_END;
        return r;
    }
    if (s->cfa_bad || s->ra.how != HOW_OFFSET || s->ra.off != -8 || s->cfa_off < 8 ||
        s->cfa_off > INT32_MAX)
        return r;
    if (s->rbp.how == HOW_OFFSET &&
        (s->rbp.off < INT16_MIN || s->rbp.off > INT16_MAX || s->rbp.off % 8 != 0))
        return r;
    r.kind = CG_CFI_OK;
    r.cfa_reg = (uint8_t)s->cfa_reg;
    r.cfa_off = (int32_t)s->cfa_off;
    r.rbp_how = s->rbp.how == HOW_SAME     ? CG_RBP_SAME
                : s->rbp.how == HOW_OFFSET ? CG_RBP_SAVED
                                           : CG_RBP_LOST;
    r.rbp_off = r.rbp_how == CG_RBP_SAVED ? (int16_t)s->rbp.off : 0;
    return r;
}

struct cg_cfi_rule cg_cfi_rule_at(const void *fde_ptr, uintptr_t func, uintptr_t pc)
{
    const struct cg_cfi_rule bad = {.kind = CG_CFI_BAD};
    const uint8_t *fde = fde_ptr;
    uint32_t len;
    int32_t cie_delta;
    memcpy(&len, fde, 4);
    memcpy(&cie_delta, fde + 4, 4);
    struct cie cie;
    if (len < 8 || len == 0xffffffffu || cie_delta <= 0 || pc < func ||
        parse_cie(fde + 4 - cie_delta, &cie) != 0)
        return bad;
    struct cursor c = {fde + 8, fde + 4 + len, 0};
    if (!skip_encoded(&c, cie.fde_enc) || !skip_encoded(&c, cie.fde_enc & 0x0f))
        return bad;
    if (cie.has_z) {
        uint64_t n = uleb(&c);
        if (c.bad || n > (uint64_t)(c.end - c.p))
            return bad;
        c.p += n;
    }
    struct program pg = {
        .code_align = cie.code_align, .data_align = cie.data_align, .loc = 0, .target = pc - func};
    struct cfa_state s = {.cfa_reg = REG_RSP, .cfa_off = 8, .ra = {HOW_OTHER, 0}};
    if (run_program(&pg, &s, cie.insns, cie.end) != 0)
        return bad;
    struct cfa_state init = s;
    pg.init = &init;
    pg.depth = 0;
    if (run_program(&pg, &s, c.p, c.end) != 0)
        return bad;
    return reduce(&s);
}
