/*
 * shim/modules.h — the loaded modules (executable, shared libraries) as
 * CG_REC_MODULE records, so stacks can be symbolized offline.
 *
 * What it is for: mapping a native return address to (module number,
 * offset from the module's load address). Each module is written once per
 * trace: its path, load address and GNU build-id (tracer/format.h, "Stacks
 * and modules"). The table is rescanned with dl_iterate_phdr only when an
 * address falls outside every known module and the loader's load count
 * changed.
 *
 * What it must never do: block (a busy table makes the caller give up and
 * record the innermost frame only), run from a signal handler, or be called
 * on the per-call path of a query (only when a new stack is interned).
 */
#ifndef CUGUARD_SHIM_MODULES_H
#define CUGUARD_SHIM_MODULES_H

#include <stdint.h>

/* Take the table for a series of lookups; 0 when it is busy (another thread
 * holds it: the caller then records no stack). */
int cg_modules_lock(void);
void cg_modules_unlock(void);

/* With the table taken: the module number (>= 1) holding `pc`, writing its
 * CG_REC_MODULE record first if this trace has not got it yet, and the
 * offset of `pc` from the module's load address. 0 when no module holds it. */
uint32_t cg_modules_find(uintptr_t pc, uint64_t *offset);

/* 1 if `pc` lies in the shim's own library (libcuguard.so). Lock-free. */
int cg_modules_is_self(uintptr_t pc);

/* When the trace opens (once per process): learn the shim's own text range
 * and clear the table's busy flag in fork children. */
void cg_modules_init(void);

#endif
