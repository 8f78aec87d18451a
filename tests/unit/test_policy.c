/*
 * tests/unit/test_policy.c — the policies against a fake driver table.
 *
 * What it is for: proving what reaches the driver. The shim's real-pointer
 * table is filled with fakes that count their calls and remember the
 * handles they were given, so each test can assert that a refused foreign,
 * stale or reclaimed handle never got to the driver (docs/driver-behaviour.md: a real
 * driver may crash on one), that deferred destroys wait in the quarantine,
 * that sync-query turns a spin into one call, that isolate redirects,
 * creates non-blocking and drains, and that with no policy nothing changes.
 *
 * What it must never do: load a driver (the table is filled by hand) or
 * trace (CUGUARD_DIR is unset).
 */
#define __CUDA_API_VERSION_INTERNAL 1
#include <check.h>
#include <cuda.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/api.h"
#include "shim/driver.h"
#include "shim/lifecycle.h"
#include "shim/policy.h"
#include "shim/registry.h"
#include "shim/task.h"

#define SEEN_MAX 64

static struct {
    uintptr_t next_handle;
    int reuse; /* 1: a create gets the latest destroyed value first (LIFO) */
    uint64_t freed[SEEN_MAX];
    int nfreed;
    int queries, not_ready_left;
    uint64_t queried[SEEN_MAX];
    int destroys;
    uint64_t destroyed[SEEN_MAX];
    int records, records_ptsz, stream_creates, stream_syncs, stream_busy, host_funcs;
    int block_sync;   /* 1: a stream synchronize waits until sync_released */
    int sync_entered; /* set when a blocking synchronize began */
    int sync_released;
    unsigned last_stream_flags;
} fake;

/* A fresh value, or with `reuse` the latest destroyed one, as drivers do. */
static uintptr_t fake_new_value(void)
{
    if (fake.reuse && fake.nfreed > 0)
        return (uintptr_t)fake.freed[--fake.nfreed];
    return fake.next_handle += 0x100;
}

static CUresult CUDAAPI fake_event_create(CUevent *e, unsigned flags)
{
    (void)flags;
    *e = (CUevent)fake_new_value();
    return CUDA_SUCCESS;
}

static CUresult CUDAAPI fake_event_query(CUevent e)
{
    if (fake.queries < SEEN_MAX)
        fake.queried[fake.queries] = (uint64_t)(uintptr_t)e;
    fake.queries++;
    if (fake.not_ready_left > 0) {
        fake.not_ready_left--;
        return CUDA_ERROR_NOT_READY;
    }
    return CUDA_SUCCESS;
}

static CUresult CUDAAPI fake_destroy(void *h)
{
    if (fake.destroys < SEEN_MAX)
        fake.destroyed[fake.destroys] = (uint64_t)(uintptr_t)h;
    fake.destroys++;
    if (fake.nfreed < SEEN_MAX)
        fake.freed[fake.nfreed++] = (uint64_t)(uintptr_t)h;
    return CUDA_SUCCESS;
}

static CUresult CUDAAPI fake_record(CUevent e, CUstream s)
{
    (void)e, (void)s;
    fake.records++;
    return CUDA_SUCCESS;
}

static CUresult CUDAAPI fake_record_ptsz(CUevent e, CUstream s)
{
    (void)e, (void)s;
    fake.records_ptsz++;
    return CUDA_SUCCESS;
}

static CUresult CUDAAPI fake_stream_create(CUstream *s, unsigned flags)
{
    fake.stream_creates++;
    fake.last_stream_flags = flags;
    *s = (CUstream)fake_new_value();
    return CUDA_SUCCESS;
}

static CUresult CUDAAPI fake_stream_create_prio(CUstream *s, unsigned flags, int priority)
{
    (void)priority;
    return fake_stream_create(s, flags);
}

static CUresult CUDAAPI fake_stream_query(CUstream s)
{
    (void)s;
    return fake.stream_busy ? CUDA_ERROR_NOT_READY : CUDA_SUCCESS;
}

static CUresult CUDAAPI fake_stream_sync(CUstream s)
{
    (void)s;
    if (__atomic_load_n(&fake.block_sync, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&fake.sync_entered, 1, __ATOMIC_RELEASE);
        while (!__atomic_load_n(&fake.sync_released, __ATOMIC_ACQUIRE))
            usleep(1000);
    }
    fake.stream_syncs++;
    fake.stream_busy = 0;
    return CUDA_SUCCESS;
}

static CUresult CUDAAPI fake_host_func(CUstream s, CUhostFn fn, void *data)
{
    (void)s, (void)fn, (void)data;
    fake.host_funcs++;
    return CUDA_SUCCESS;
}

static void install_fakes(void)
{
    memset(cg_real_table, 0, sizeof(void *) * CG_API_COUNT);
    cg_real_table[CG_ID_cuEventCreate] = (void *)fake_event_create;
    cg_real_table[CG_ID_cuEventQuery] = (void *)fake_event_query;
    cg_real_table[CG_ID_cuEventDestroy] = (void *)fake_destroy;
    cg_real_table[CG_ID_cuEventDestroy_v2] = (void *)fake_destroy;
    cg_real_table[CG_ID_cuStreamDestroy_v2] = (void *)fake_destroy;
    cg_real_table[CG_ID_cuEventRecord] = (void *)fake_record;
    cg_real_table[CG_ID_cuEventRecord_ptsz] = (void *)fake_record_ptsz;
    cg_real_table[CG_ID_cuStreamCreate] = (void *)fake_stream_create;
    cg_real_table[CG_ID_cuStreamCreateWithPriority] = (void *)fake_stream_create_prio;
    cg_real_table[CG_ID_cuStreamQuery] = (void *)fake_stream_query;
    cg_real_table[CG_ID_cuStreamSynchronize] = (void *)fake_stream_sync;
    cg_real_table[CG_ID_cuLaunchHostFunc] = (void *)fake_host_func;
    __atomic_store_n(&cg_driver_state, 1, __ATOMIC_RELEASE);
}

/* Load the shim's configuration with these policy settings. */
static void configure(const char *policy, const char *on_error, const char *quarantine)
{
    const char *names[] = {"CUGUARD_POLICY", "CUGUARD_ON_ERROR", "CUGUARD_QUARANTINE"};
    const char *values[] = {policy, on_error, quarantine};
    for (int i = 0; i < 3; i++) {
        if (values[i] != NULL)
            setenv(names[i], values[i], 1);
        else
            unsetenv(names[i]);
    }
    unsetenv("CUGUARD_DIR");
    setenv("CUGUARD_LOG", "quiet", 1);
    memset(&fake, 0, sizeof fake);
    fake.next_handle = 0x10000;
    install_fakes();
    cg_registry_clear();
    cg_shim_load_config();
}

static CUevent new_event(void)
{
    CUevent e = NULL;
    ck_assert_int_eq(cuEventCreate(&e, 0), CUDA_SUCCESS);
    return e;
}

static const CUevent foreign = (CUevent)(uintptr_t)0x7f0000abc000ull;

START_TEST(no_policy_forwards_everything)
{
    configure(NULL, NULL, NULL);
    ck_assert_int_eq(cg_policy_active, 0);
    ck_assert_int_eq(cuEventQuery(foreign), CUDA_SUCCESS);
    ck_assert_int_eq(fake.queries, 1);
    ck_assert_uint_eq(fake.queried[0], (uint64_t)(uintptr_t)foreign);
}
END_TEST

START_TEST(ownership_never_passes_a_foreign_handle)
{
    configure("ownership", NULL, NULL);
    ck_assert_int_eq(cuEventQuery(foreign), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(cuEventRecord(foreign, NULL), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(cuEventDestroy(foreign), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(fake.queries + fake.records + fake.destroys, 0);
    CUevent e = new_event(); /* a live handle still gets through */
    ck_assert_int_eq(cuEventQuery(e), CUDA_SUCCESS);
    ck_assert_int_eq(fake.queries, 1);
}
END_TEST

START_TEST(strict_refuses_live_errors_without_ownership)
{
    configure(NULL, "refuse", NULL);
    ck_assert_int_eq(cuEventQuery(foreign), CUDA_ERROR_INVALID_HANDLE);
    CUevent e = new_event();
    ck_assert_int_eq(cuEventDestroy(e), CUDA_SUCCESS);
    ck_assert_int_eq(fake.destroys, 1); /* no ownership: destroyed at once */
    ck_assert_int_eq(cuEventQuery(e), CUDA_ERROR_INVALID_HANDLE);   /* use after destroy */
    ck_assert_int_eq(cuEventDestroy(e), CUDA_ERROR_INVALID_HANDLE); /* double destroy */
    ck_assert_int_eq(fake.queries, 0);
    ck_assert_int_eq(fake.destroys, 1);
}
END_TEST

START_TEST(continue_lets_errors_through)
{
    configure("destroy", "continue", NULL); /* registry kept, nothing refused */
    CUevent e = new_event();
    ck_assert_int_eq(cuEventDestroy(e), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventQuery(e), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventQuery(foreign), CUDA_SUCCESS);
    ck_assert_int_eq(fake.queries, 2);
}
END_TEST

START_TEST(abort_aborts_on_a_foreign_handle)
{
    configure(NULL, "abort", NULL);
    cuEventQuery(foreign);
}
END_TEST

START_TEST(ownership_quarantines_destroyed_objects)
{
    configure("ownership", NULL, "2");
    CUevent e1 = new_event(), e2 = new_event(), e3 = new_event();
    ck_assert_int_eq(cuEventDestroy(e1), CUDA_SUCCESS);
    ck_assert_int_eq(fake.destroys, 0); /* deferred: the value cannot be reused */
    fake.not_ready_left = 0;
    ck_assert_int_eq(cuEventQuery(e1), CUDA_SUCCESS); /* stale, answered by the live object */
    ck_assert_int_eq(fake.queries, 1);
    ck_assert_int_eq(cuEventRecord(e1, NULL), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(cuEventDestroy(e1), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(fake.records + fake.destroys, 0);
    ck_assert_int_eq(cuEventDestroy(e2), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventDestroy(e3), CUDA_SUCCESS); /* quarantine of 2 full: e1 goes */
    ck_assert_int_eq(fake.destroys, 1);
    ck_assert_uint_eq(fake.destroyed[0], (uint64_t)(uintptr_t)e1);
    ck_assert_int_eq(cuEventQuery(e1), CUDA_ERROR_INVALID_HANDLE); /* gone for good */
    ck_assert_int_eq(fake.queries, 1);
}
END_TEST

START_TEST(strict_with_ownership_refuses_stale_queries)
{
    configure("ownership", "refuse", NULL);
    CUevent e = new_event();
    ck_assert_int_eq(cuEventDestroy(e), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventQuery(e), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(fake.queries + fake.destroys, 0);
}
END_TEST

START_TEST(destroy_reclaims_after_the_age)
{
    configure("destroy", NULL, NULL);
    setenv("PYTEST_CURRENT_TEST", "t.py::reclaim_a (call)", 1);
    CUevent a[3] = {new_event(), new_event(), new_event()};
    setenv("PYTEST_CURRENT_TEST", "t.py::reclaim_b (setup)", 1);
    CUevent b = new_event();
    setenv("PYTEST_CURRENT_TEST", "t.py::reclaim_b (call)", 1); /* same task */
    ck_assert_int_eq(cuEventQuery(b), CUDA_SUCCESS);
    ck_assert_int_eq(fake.destroys, 0);
    setenv("PYTEST_CURRENT_TEST", "t.py::reclaim_c (call)", 1);
    int queries = fake.queries;
    ck_assert_int_eq(cuEventQuery(a[0]), CUDA_SUCCESS); /* answered, a[] reclaimed first */
    ck_assert_int_eq(fake.destroys, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(fake.destroyed[i] % 0x100, 0);
    ck_assert_int_eq(fake.queries, queries + 3); /* the 3 completion checks, not the call */
    ck_assert_int_eq(cuEventRecord(a[1], NULL), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(fake.records, 0);
    ck_assert_int_eq(cuEventDestroy(a[2]), CUDA_SUCCESS); /* late destroy: answered */
    ck_assert_int_eq(fake.destroys, 3);
    unsetenv("PYTEST_CURRENT_TEST");
}
END_TEST

/* How many times the fake driver was asked to destroy `h`. */
static int destroys_of(uint64_t h)
{
    int n = 0;
    for (int i = 0; i < fake.destroys && i < SEEN_MAX; i++)
        n += fake.destroyed[i] == h;
    return n;
}

/* numba's pattern: streams whose destroy the program defers past the
 * reclaim age. The driver hands reclaimed values out again; the program's
 * late destroys must not reach the objects that now have them. */
START_TEST(destroy_never_lets_a_reclaimed_value_reach_the_driver)
{
    configure("destroy", NULL, "4");
    fake.reuse = 1;
    setenv("PYTEST_CURRENT_TEST", "t.py::defer_a (call)", 1);
    CUstream old[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(cuStreamCreate(&old[i], 0), CUDA_SUCCESS);
    setenv("PYTEST_CURRENT_TEST", "t.py::defer_b (call)", 1);
    CUevent e = new_event();
    setenv("PYTEST_CURRENT_TEST", "t.py::defer_c (call)", 1);
    CUstream fresh = NULL;
    ck_assert_int_eq(cuStreamCreate(&fresh, 0), CUDA_SUCCESS); /* old[] reclaimed first */
    ck_assert_int_eq(destroys_of((uint64_t)(uintptr_t)old[0]), 1);
    ck_assert_int_eq(destroys_of((uint64_t)(uintptr_t)old[1]), 1);
    ck_assert_ptr_ne(fresh, old[0]); /* the driver offered both values: held back */
    ck_assert_ptr_ne(fresh, old[1]);
    ck_assert_int_eq(cuStreamQuery(fresh), CUDA_SUCCESS);
    int destroys = fake.destroys;
    ck_assert_int_eq(cuStreamDestroy_v2(old[0]), CUDA_SUCCESS);    /* late: answered */
    ck_assert_int_eq(destroys_of((uint64_t)(uintptr_t)old[0]), 2); /* the held object goes */
    ck_assert_int_eq(fake.destroys, destroys + 1);
    ck_assert_int_eq(cuStreamDestroy_v2(fresh), CUDA_SUCCESS);
    ck_assert_int_eq(destroys_of((uint64_t)(uintptr_t)fresh), 1);
    ck_assert_int_eq(cuEventDestroy(e), CUDA_SUCCESS);
    unsetenv("PYTEST_CURRENT_TEST");
}
END_TEST

/* A full quarantine gives the oldest held value back to the driver, and a
 * create takes it then instead of going round the quarantine. */
START_TEST(destroy_holds_no_more_than_the_quarantine)
{
    configure("destroy", NULL, "1");
    fake.reuse = 1;
    setenv("PYTEST_CURRENT_TEST", "t.py::full_a (call)", 1);
    CUevent a[3] = {new_event(), new_event(), new_event()};
    setenv("PYTEST_CURRENT_TEST", "t.py::full_b (call)", 1);
    (void)new_event();
    setenv("PYTEST_CURRENT_TEST", "t.py::full_c (call)", 1);
    CUevent got = new_event();              /* a[] reclaimed; held one at a time */
    ck_assert_int_eq(fake.destroys, 3 + 1); /* 3 reclaimed, 1 held object pushed out */
    int is_old = got == a[0] || got == a[1] || got == a[2];
    ck_assert_int_eq(is_old, 1); /* the pushed-out value, not a loop */
    unsetenv("PYTEST_CURRENT_TEST");
}
END_TEST

START_TEST(sync_query_makes_one_call_of_a_spin)
{
    configure("sync-query", NULL, NULL);
    CUevent e = new_event();
    fake.not_ready_left = 5;
    ck_assert_int_eq(cuEventQuery(e), CUDA_SUCCESS);
    ck_assert_int_eq(fake.queries, 6);
    setenv("CUGUARD_SYNC_QUERY_MS", "2", 1);
    cg_shim_load_config();
    fake.not_ready_left = 1000000;
    ck_assert_int_eq(cuEventQuery(e), CUDA_ERROR_NOT_READY); /* bounded wait */
    unsetenv("CUGUARD_SYNC_QUERY_MS");
}
END_TEST

static void no_op(void *data)
{
    (void)data;
}

START_TEST(isolate_redirects_and_drains)
{
    configure("isolate", NULL, NULL);
    setenv("PYTEST_CURRENT_TEST", "t.py::isolate_a (call)", 1);
    CUevent e = new_event();
    ck_assert_int_eq(cuEventRecord(e, NULL), CUDA_SUCCESS);
    ck_assert_int_eq(fake.records_ptsz, 1);
    ck_assert_int_eq(fake.records, 0);
    CUstream s = NULL;
    ck_assert_int_eq(cuStreamCreate(&s, 0), CUDA_SUCCESS);
    ck_assert_uint_eq(fake.last_stream_flags, CU_STREAM_NON_BLOCKING);
    ck_assert_int_eq(cuEventRecord(e, s), CUDA_SUCCESS);
    ck_assert_int_eq(fake.records, 1);
    ck_assert_int_eq(cuLaunchHostFunc(s, no_op, NULL), CUDA_SUCCESS);
    fake.stream_busy = 1;
    setenv("PYTEST_CURRENT_TEST", "t.py::isolate_b (call)", 1);
    ck_assert_int_eq(fake.stream_syncs, 0);
    ck_assert_int_eq(cuEventQuery(e), CUDA_SUCCESS);
    ck_assert_int_eq(fake.stream_syncs, 1); /* drained before the call went on */
    unsetenv("PYTEST_CURRENT_TEST");
}
END_TEST

/* Thread of the fork test: a task change whose drain blocks in the driver
 * (fake_stream_sync) while holding the policy's task lock. */
static void *drain_in_new_task(void *event)
{
    setenv("PYTEST_CURRENT_TEST", "t.py::fork_b (call)", 1);
    cuEventQuery((CUevent)event);
    return NULL;
}

/* Wait up to `seconds` for `child`; kill it if it is still running.
 * Returns its status, or -1 when it hung. */
static int wait_or_kill(pid_t child, int seconds)
{
    int status = 0;
    for (int i = 0; i < seconds * 100; i++) {
        if (waitpid(child, &status, WNOHANG) == child)
            return status;
        usleep(10000);
    }
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    return -1;
}

/* isolate + task changes: a fork made while another thread holds the task
 * lock (draining a busy stream) gives a child that can make CUDA calls in
 * a new task of its own. The child's hang is caught by a generous wait. */
START_TEST(isolate_fork_child_is_not_stuck_on_the_task_lock)
{
    configure("isolate", NULL, NULL);
    setenv("PYTEST_CURRENT_TEST", "t.py::fork_a (call)", 1);
    CUevent e = new_event();
    CUstream s = NULL;
    ck_assert_int_eq(cuStreamCreate(&s, 0), CUDA_SUCCESS);
    ck_assert_int_eq(cuLaunchHostFunc(s, no_op, NULL), CUDA_SUCCESS);
    fake.stream_busy = 1;
    __atomic_store_n(&fake.block_sync, 1, __ATOMIC_RELEASE);
    pthread_t drainer;
    ck_assert_int_eq(pthread_create(&drainer, NULL, drain_in_new_task, (void *)e), 0);
    for (int i = 0; i < 10000 && !__atomic_load_n(&fake.sync_entered, __ATOMIC_ACQUIRE); i++)
        usleep(1000);
    ck_assert_int_eq(__atomic_load_n(&fake.sync_entered, __ATOMIC_ACQUIRE), 1);
    pid_t child = fork(); /* the drainer holds the task lock now */
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        fake.block_sync = 0; /* the child's own copy: its drain may return */
        fake.stream_busy = 0;
        setenv("PYTEST_CURRENT_TEST", "t.py::fork_child (call)", 1);
        _exit(cuEventQuery(e) == CUDA_SUCCESS ? 0 : 1);
    }
    int status = wait_or_kill(child, 10);
    __atomic_store_n(&fake.sync_released, 1, __ATOMIC_RELEASE);
    pthread_join(drainer, NULL);
    ck_assert_msg(status != -1, "the fork child hung in a CUDA call (task lock)");
    ck_assert_int_eq(WIFEXITED(status), 1);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_int_eq(fake.stream_syncs, 1); /* the parent's drain went on */
    unsetenv("PYTEST_CURRENT_TEST");
}
END_TEST

/* The task-name hash each thread caches (shim/task.c) follows every change
 * of the variable: a new value, the old value again, the phase suffix
 * (same task), unset, empty, and an environment moved by other setenvs. */
START_TEST(task_hash_cache_follows_the_variable)
{
    configure("destroy", NULL, NULL);
    setenv("PYTEST_CURRENT_TEST", "t.py::hash_a (call)", 1);
    uint64_t a = cg_task_name_hash();
    ck_assert_uint_eq(cg_task_name_hash(), a);
    setenv("PYTEST_CURRENT_TEST", "t.py::hash_a (teardown)", 1);
    ck_assert_uint_eq(cg_task_name_hash(), a); /* the same task */
    setenv("PYTEST_CURRENT_TEST", "t.py::hash_b (call)", 1);
    uint64_t b = cg_task_name_hash();
    ck_assert_uint_ne(b, a);
    setenv("PYTEST_CURRENT_TEST", "t.py::hash_a (call)", 1); /* glibc may reuse the old string */
    ck_assert_uint_eq(cg_task_name_hash(), a);
    unsetenv("PYTEST_CURRENT_TEST");
    uint64_t absent = cg_task_name_hash();
    ck_assert_uint_ne(absent, a);
    setenv("PYTEST_CURRENT_TEST", "", 1);
    uint64_t empty = cg_task_name_hash();
    ck_assert_uint_ne(empty, absent);
    char name[32];
    for (int i = 0; i < 64; i++) { /* grow the environment: `environ` moves */
        snprintf(name, sizeof name, "CG_HASH_FILLER_%d", i);
        setenv(name, "x", 1);
    }
    ck_assert_uint_eq(cg_task_name_hash(), empty);
    setenv("PYTEST_CURRENT_TEST", "t.py::hash_b (call)", 1);
    ck_assert_uint_eq(cg_task_name_hash(), b);
    for (int i = 0; i < 64; i++) {
        snprintf(name, sizeof name, "CG_HASH_FILLER_%d", i);
        unsetenv(name);
    }
    ck_assert_uint_eq(cg_task_name_hash(), b);
    unsetenv("PYTEST_CURRENT_TEST");
}
END_TEST

/* A task that comes back (a, b, a) is a new task for the policies: the
 * cached hash of this thread must not hide the returns, so a's objects are
 * reclaimed when a begins again (the third task). */
START_TEST(task_serial_counts_a_task_that_comes_back)
{
    configure("destroy", NULL, NULL);
    setenv("PYTEST_CURRENT_TEST", "t.py::again_a (call)", 1);
    CUevent old = new_event();
    setenv("PYTEST_CURRENT_TEST", "t.py::again_b (call)", 1);
    ck_assert_int_eq(cuEventQuery(new_event()), CUDA_SUCCESS);
    ck_assert_int_eq(fake.destroys, 0);
    setenv("PYTEST_CURRENT_TEST", "t.py::again_a (call)", 1);
    (void)new_event();
    ck_assert_int_eq(destroys_of((uint64_t)(uintptr_t)old), 1);
    unsetenv("PYTEST_CURRENT_TEST");
}
END_TEST

/* The quarantine caches the process id: a fork child must not take its
 * parent's deferred destroys for its own (they stay undestroyed when they
 * leave its quarantine) and must destroy its own. */
START_TEST(fork_child_quarantine_knows_its_own_pid)
{
    configure("ownership", NULL, "1");
    CUevent parents = new_event();
    ck_assert_int_eq(cuEventDestroy(parents), CUDA_SUCCESS); /* deferred; the pid is cached */
    ck_assert_int_eq(fake.destroys, 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        CUevent mine = new_event(), next = new_event();
        int ok = cuEventDestroy(mine) == CUDA_SUCCESS && fake.destroys == 0; /* parent's: kept */
        ok = ok && cuEventDestroy(next) == CUDA_SUCCESS && fake.destroys == 1 &&
             fake.destroyed[0] == (uint64_t)(uintptr_t)mine; /* the child's own: destroyed */
        _exit(ok ? 0 : 1);
    }
    int status = wait_or_kill(child, 10);
    ck_assert_int_ne(status, -1);
    ck_assert_int_eq(WIFEXITED(status), 1);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static Suite *policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("policy");
    tcase_set_timeout(tc, 30); /* the fork test waits up to 10 s for a hung child */
    tcase_add_test(tc, no_policy_forwards_everything);
    tcase_add_test(tc, ownership_never_passes_a_foreign_handle);
    tcase_add_test(tc, strict_refuses_live_errors_without_ownership);
    tcase_add_test(tc, continue_lets_errors_through);
    tcase_add_test_raise_signal(tc, abort_aborts_on_a_foreign_handle, SIGABRT);
    tcase_add_test(tc, ownership_quarantines_destroyed_objects);
    tcase_add_test(tc, strict_with_ownership_refuses_stale_queries);
    tcase_add_test(tc, destroy_reclaims_after_the_age);
    tcase_add_test(tc, destroy_never_lets_a_reclaimed_value_reach_the_driver);
    tcase_add_test(tc, destroy_holds_no_more_than_the_quarantine);
    tcase_add_test(tc, sync_query_makes_one_call_of_a_spin);
    tcase_add_test(tc, isolate_redirects_and_drains);
    tcase_add_test(tc, isolate_fork_child_is_not_stuck_on_the_task_lock);
    tcase_add_test(tc, task_hash_cache_follows_the_variable);
    tcase_add_test(tc, task_serial_counts_a_task_that_comes_back);
    tcase_add_test(tc, fork_child_quarantine_knows_its_own_pid);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(policy_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
