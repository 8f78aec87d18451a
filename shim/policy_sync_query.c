/*
 * shim/policy_sync_query.c — the sync-query policy: cuEventQuery waits.
 *
 * What it is for: a cuEventQuery that would return CUDA_ERROR_NOT_READY is
 * made again, with a short growing sleep between (20 us doubling to 1 ms),
 * until the event completes or CUGUARD_SYNC_QUERY_MS passes; the program
 * sees one query. A query that waited is written as CG_POLICY_SYNC_QUERY
 * with the time it waited. A poller that spun thousands of times on one
 * event thereby makes about one query per event.
 *
 * What it must never do: wait on anything but cuEventQuery, wait longer
 * than CUGUARD_SYNC_QUERY_MS, or change a result other than NOT_READY.
 */
#include <time.h>

#include "shim/config.h"
#include "shim/policy_internal.h"
#include "tracer/writer.h"

#define FIRST_SLEEP_NS 20000u
#define LONGEST_SLEEP_NS 1000000u

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    nanosleep(&ts, NULL);
}

int cg_sync_query_retry(struct cg_pcall *pc, CUresult rc)
{
    const struct cg_role *role = &cg_roles[pc->id];
    if (role->op != CG_OP_QUERY || role->handle_kind != CG_OBJ_EVENT)
        return 0;
    if (rc != CUDA_ERROR_NOT_READY) {
        if (pc->started_ns != 0) /* a query that waited: no clock read for one that did not */
            cg_policy_record(pc, CG_POLICY_SYNC_QUERY, pc->handle, cg_now_ns() - pc->started_ns,
                             rc);
        return 0;
    }
    uint64_t now = cg_now_ns();
    uint64_t limit = (uint64_t)cg_config.sync_query_ms * 1000000u;
    if (limit == 0)
        return 0;
    if (pc->started_ns == 0)
        pc->started_ns = now;
    if (now - pc->started_ns >= limit) {
        cg_policy_record(pc, CG_POLICY_SYNC_QUERY, pc->handle, now - pc->started_ns, rc);
        return 0;
    }
    uint64_t nap = (uint64_t)FIRST_SLEEP_NS << (pc->retries < 6 ? pc->retries : 6);
    if (nap > LONGEST_SLEEP_NS)
        nap = LONGEST_SLEEP_NS;
    if (nap > limit - (now - pc->started_ns))
        nap = limit - (now - pc->started_ns);
    pc->retries++;
    sleep_ns(nap);
    return 1;
}
