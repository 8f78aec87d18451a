/*
 * shim/spin.h — spin compression: repeated CUDA_ERROR_NOT_READY polls.
 *
 * What it is for: a thread that keeps polling cuEventQuery/cuStreamQuery on
 * the same handle and keeps getting CUDA_ERROR_NOT_READY writes ONE
 * CG_REC_SPIN record, then updates its count and latest time in place. Each
 * thread keeps a small table of open spins, so a watcher polling several
 * events round-robin is compressed too. A spin ends when the poll succeeds
 * (or fails otherwise), and a new one begins after any event record in the
 * process (cg_record_epoch), so a spin never straddles a re-record.
 *
 * What it must never do: share a table between threads, or write to a spin
 * record of a trace that is no longer this thread's (the thread state is
 * reset when a new trace opens).
 */
#ifndef CUGUARD_SHIM_SPIN_H
#define CUGUARD_SHIM_SPIN_H

#include <stdint.h>

#include "shim/thread.h"

/* Bumped by every event record (cuEventRecord*). Alone on its cache line:
 * threads recording events write it, threads only polling must not pay. */
struct cg_epoch {
    _Alignas(64) uint64_t value;
};
extern struct cg_epoch cg_record_epoch __attribute__((visibility("hidden")));

/* A NOT_READY result of `api` on `handle`. `t` may be NULL (no table: one
 * record per poll). */
void cg_spin_not_ready(struct cg_thread *t, uint16_t api, uint8_t flags, uint32_t site,
                       uint64_t handle);

/* Any other result of `api` on `handle` ends its spin. */
void cg_spin_end_slow(struct cg_thread *t, uint16_t api, uint64_t handle);
static inline void cg_spin_end(struct cg_thread *t, uint16_t api, uint64_t handle)
{
    if (t != NULL && t->spins_open != 0) /* else the common case: this thread is not spinning */
        cg_spin_end_slow(t, api, handle);
}

#endif
