/*
 * shim/thread.c — per-thread state, CG_REC_THREAD_START and CG_REC_THREAD_EXIT.
 *
 * What it is for: the implementation of shim/thread.h. A TLS pointer gives
 * the state in one load (cg_tls, the one TLS block of the shim); the pthread key exists only so
 * that a destructor runs at thread exit.
 *
 * What it must never do: write a record into a trace this process did not
 * open, or free state another thread can reach.
 */
#include "shim/thread.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim/config.h"
#include "shim/trace_state.h"
#include "tracer/writer.h"

__thread struct cg_tls cg_tls __attribute__((tls_model("initial-exec")));
static pthread_key_t exit_key;
static int exit_key_ready;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void write_simple(uint8_t kind, uint32_t tid, uint32_t site, uint8_t flags)
{
    struct cg_record *r = cg_writer_reserve(1);
    if (r == NULL)
        return;
    memset(r, 0, sizeof *r);
    r->ts_ns = cg_now_ns();
    r->tid = tid;
    r->site = site;
    r->flags = flags;
    cg_writer_publish(r, kind);
}

static void on_thread_exit(void *arg)
{
    struct cg_thread *t = arg;
    if (t == NULL)
        return;
    if (cg_tls.thread == t) {
        cg_tls.thread = NULL;
        cg_tls.thread_gone = 1;
    }
    if (__atomic_load_n(&cg_trace_state, __ATOMIC_ACQUIRE) == CG_TRACE_OPEN &&
        t->generation == __atomic_load_n(&cg_trace_generation, __ATOMIC_ACQUIRE))
        write_simple(CG_REC_THREAD_EXIT, t->tid, 0, 0);
    free(t);
}

static void create_key(void)
{
    if (pthread_key_create(&exit_key, on_thread_exit) == 0)
        __atomic_store_n(&exit_key_ready, 1, __ATOMIC_RELEASE);
}

void cg_thread_init(void)
{
    pthread_once(&key_once, create_key);
}

static void write_start(struct cg_thread *t)
{
    char name[32] = "";
    if (pthread_getname_np(pthread_self(), name, sizeof name) != 0)
        name[0] = '\0';
    uint32_t name_id = name[0] != '\0' ? cg_writer_intern(name) : 0;
    write_simple(CG_REC_THREAD_START, t->tid, name_id, 0);
    if (cg_config.task_mode == CG_TASK_THREAD) {
        char task[64];
        snprintf(task, sizeof task, "thread %u%s%s", t->tid, name[0] ? " " : "", name);
        write_simple(CG_REC_TASK, t->tid, cg_writer_intern(task), CG_FLAG_TASK_THREAD);
    }
}

static void reset(struct cg_thread *t, uint32_t generation)
{
    memset(t, 0, sizeof *t);
    t->tid = cg_gettid();
    t->generation = generation;
    write_start(t);
}

struct cg_thread *cg_thread_self_slow(void)
{
    struct cg_thread *t = cg_tls.thread;
    uint32_t generation = __atomic_load_n(&cg_trace_generation, __ATOMIC_ACQUIRE);
    if (__builtin_expect(t != NULL && t->generation == generation, 1))
        return t;
    if (t != NULL) { /* a fork child, or a reopened trace: start afresh */
        reset(t, generation);
        return t;
    }
    if (cg_tls.thread_gone)
        return NULL;
    t = malloc(sizeof *t);
    if (t == NULL)
        return NULL;
    reset(t, generation);
    cg_tls.thread = t;
    if (__atomic_load_n(&exit_key_ready, __ATOMIC_ACQUIRE))
        pthread_setspecific(exit_key, t);
    return t;
}
