/*
 * shim/registry.h — the live-handle registry of the policies (docs/design.md).
 *
 * What it is for: knowing, at the moment of a call, what a handle value is:
 * an event or stream the driver returned and the program has not destroyed
 * (LIVE), one the program destroyed but whose real destroy `ownership`
 * deferred (QUARANTINED), one destroyed for good (DESTROYED, a tombstone so a
 * later use is "use after destroy" rather than "unknown"), or one `destroy`
 * reclaimed behind the program's back (RECLAIMED). A value that is absent
 * was never returned by a create call: foreign or garbage.
 *
 * The table is a set of uthash tables, one per stripe of the handle space,
 * each under its own spinlock, so threads working on different objects rarely
 * meet. It is consulted only when a policy or CUGUARD_ON_ERROR needs it: the
 * untouched hot path never comes here.
 *
 * What it must never do: call the driver, write trace records, or hold a
 * stripe lock while the caller does either (every function returns with no
 * lock held).
 */
#ifndef CUGUARD_SHIM_REGISTRY_H
#define CUGUARD_SHIM_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

enum cg_obj_kind { CG_OBJ_EVENT = 1, CG_OBJ_STREAM = 2 };

enum cg_obj_state {
    CG_OBJ_ABSENT = 0, /* not in the registry: never created (foreign, garbage) */
    CG_OBJ_LIVE,
    CG_OBJ_QUARANTINED, /* destroyed by the program, kept alive by ownership */
    CG_OBJ_DESTROYED,   /* destroyed for good (tombstone) */
    CG_OBJ_RECLAIMED,   /* destroyed by the destroy policy, never by the program */
};

/* What the registry knows about one handle. */
struct cg_obj_info {
    uint8_t kind;       /* enum cg_obj_kind (0 when absent) */
    uint8_t state;      /* enum cg_obj_state */
    uint64_t last_task; /* policy task serial of the latest use */
};

/* A LIVE object handed out by a scan. */
struct cg_obj_ref {
    uint64_t handle;
    uint8_t kind;
    uint64_t last_task;
};

/* Allocate the stripes (once; later calls do nothing). Returns 0 on
 * success, -1 when memory is short (the policies needing it stay off). */
int cg_registry_init(void);

/* A create call returned `handle` in task `task`: it is LIVE from now on,
 * whatever the value meant before. */
void cg_registry_created(uint64_t handle, uint8_t kind, uint64_t task);

/* Look `handle` up; when it is LIVE and `touch_task` is non-zero, its
 * last_task becomes `touch_task` first. Returns the state (CG_OBJ_ABSENT if
 * unknown) and fills `info` (as after the touch) when non-NULL. */
int cg_registry_lookup(uint64_t handle, uint64_t touch_task, struct cg_obj_info *info);

/* cg_registry_lookup without a touch, except that a LIVE entry of kind
 * `kind` becomes `to` in the same step (under one lock: no other thread
 * can change it in between). Returns the state before (LIVE when it was
 * changed) and fills `info` with what it was. */
int cg_registry_lookup_take(uint64_t handle, uint8_t kind, int to, struct cg_obj_info *info);

/* Change the state of `handle` from `from` to `to`. With `expect_task`
 * non-zero the change happens only if last_task still equals it. Returns 1
 * when the state was changed, 0 otherwise. CG_OBJ_ABSENT as `to` removes
 * the entry. */
int cg_registry_transition(uint64_t handle, int from, int to, uint64_t expect_task);

/* Up to `max` LIVE objects of `kind` (0 = any) whose last_task is at most
 * `last_task_max` and at least `last_task_min`, into `out`. Returns how
 * many. */
size_t cg_registry_scan(uint8_t kind, uint64_t last_task_min, uint64_t last_task_max,
                        struct cg_obj_ref *out, size_t max);

/* Number of entries in `state` (tests and debug lines). */
size_t cg_registry_count(int state);

/* Forget everything (unit suites). */
void cg_registry_clear(void);

/* Fork handlers: every stripe is locked across fork, so the child gets
 * consistent tables (after_fork runs in the parent and in the child). */
void cg_registry_prepare_fork(void);
void cg_registry_after_fork(void);

#endif
