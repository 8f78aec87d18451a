/*
 * analysis/attribute/ownership.h — who destroys the objects made at a creating site.
 *
 * What it is for: the evidence the residue rule (analysis/group/residue.h) needs
 * to tell a deferral queue not flushed at exit from a line that never
 * destroys. During the replay it notes the creation stack of every object
 * the program destroyed; after attribution it turns each into an owner key:
 *   - the binding layer's allocation path, when the creation went through a
 *     binding function that called the binding's driver call (numba's
 *     Context.create_stream -> safe_cuda_api_call): the binding owns the
 *     object, whichever user line asked for it;
 *   - else (a direct driver call, through ctypes or a thin binding) the
 *     user's creating line (with the binding frame in between, if any).
 * A leak whose owner key the process also destroyed objects of is owned by
 * something that frees them, late: residue. One whose owner never destroyed
 * anything it made is a leak however late it is.
 *
 * What it must never do: count a destroy cuguard made (a policy's reclaim)
 * or an object ended by its context as the owner's, or read a trace.
 */
#ifndef CUGUARD_ANALYSIS_OWNERSHIP_H
#define CUGUARD_ANALYSIS_OWNERSHIP_H

#include <stddef.h>

#include "analysis/base/findings.h"
#include "analysis/replay/replay.h"
#include "analysis/stacks/stack.h"

struct ownership; /* one per process */

/* The steps ownership_note wants (REPLAY_WANTS_* bits). */
uint32_t ownership_step_mask(void);
/* A replay step: when it destroyed an object, note the object's creation
 * stack in *own (allocated on first use). */
void ownership_note(struct ownership **own, const struct replay_process *p,
                    const struct replay_step *s);
/* Turn the noted stacks into owner keys (symbolized with the modules). */
void ownership_index(struct ownership *own, const struct trace_module *modules, size_t nmodules);
/* 1 when the process destroyed objects of f's kind with f's owner key. */
int ownership_owner_destroys(const struct ownership *own, const struct finding *f);
void ownership_free(struct ownership *own);

#endif
