/*
 * ops.c — one unit of stream work (a copy, a host function, a marker for
 * an event record or a kernel) and its completion. An op is reference
 * counted: the stream queue, the stream's "last op", event records, and
 * ops that depend on it each hold a reference, so a record outlives the
 * destroy of its event or stream.
 *
 * Must never: run an action with fc_lock held (the worker releases it),
 * or free an op that is still referenced. All functions but the actions
 * and fc_now_ms need fc_lock held.
 */
#include "tests/fakecuda/driver/fakecuda.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

double fc_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6;
}

struct fc_op *fc_op_new(fc_op_action action)
{
    struct fc_op *op = calloc(1, sizeof *op);
    if (op == NULL)
        return NULL;
    op->refs = 1;
    op->action = action;
    return op;
}

void fc_op_retain(struct fc_op *op)
{
    op->refs++;
}

void fc_op_release(struct fc_op *op)
{
    if (op == NULL || --op->refs > 0)
        return;
    fc_op_drop_deps(op);
    free(op->deps);
    free(op->staging);
    free(op);
}

bool fc_op_add_dep(struct fc_op *op, struct fc_op *dep)
{
    if (dep == NULL || dep->done || dep == op)
        return true;
    if (op->dep_count == op->dep_capacity) {
        size_t capacity = op->dep_capacity ? op->dep_capacity * 2 : 4;
        struct fc_op **grown = realloc(op->deps, capacity * sizeof *grown);
        if (grown == NULL)
            return false;
        op->deps = grown;
        op->dep_capacity = capacity;
    }
    fc_op_retain(dep);
    op->deps[op->dep_count++] = dep;
    return true;
}

bool fc_op_deps_done(const struct fc_op *op)
{
    for (size_t i = 0; i < op->dep_count; i++) {
        if (!op->deps[i]->done)
            return false;
    }
    return true;
}

void fc_op_drop_deps(struct fc_op *op)
{
    for (size_t i = 0; i < op->dep_count; i++)
        fc_op_release(op->deps[i]);
    op->dep_count = 0;
}

void fc_op_wait(struct fc_op *op)
{
    while (!op->done)
        fc_wait_changed();
}

void fc_op_action_copy(struct fc_op *op)
{
    const void *source = op->staging ? op->staging : op->src;
    if (op->size > 0)
        memmove(op->dst, source, op->size);
}

void fc_op_action_host_fn(struct fc_op *op)
{
    op->host_fn(op->user_data);
}

void fc_op_action_stream_callback(struct fc_op *op)
{
    op->stream_callback(op->callback_stream, fc_injected_failure("cuStreamCallbackStatus"),
                        op->user_data);
}
