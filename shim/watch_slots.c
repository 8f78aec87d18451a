/*
 * shim/watch_slots.c — claiming, releasing and resetting watch slots.
 *
 * What it is for: the slow paths of shim/watch_slots.h. A thread claims a
 * free slot with one compare-and-swap on its tid at its first record, and a
 * pthread key destructor gives it back when the thread exits. The first
 * claim in a process starts the watchdog thread (tracing is on: only the
 * record builders call the hooks).
 *
 * What it must never do: lock, allocate, or free a slot another thread
 * still owns.
 */
#include "shim/watch_slots.h"

#include <pthread.h>
#include <sys/prctl.h>

#include "shim/watchdog.h"
#include "tracer/writer.h"

struct cg_watch_slot cg_watch_slots[CG_WATCH_THREADS];

struct cg_watch_exit cg_watch_exited[CG_WATCH_EXITED];
static unsigned exited_next;

static unsigned unwatched_threads;
static pthread_key_t release_key;
static int release_key_ready;
static pthread_once_t release_key_once = PTHREAD_ONCE_INIT;

static void clear_slot(struct cg_watch_slot *s)
{
    __atomic_store_n(&s->blocked, (const struct cg_record *)0, __ATOMIC_RELEASE);
    __atomic_store_n(&s->last, (const struct cg_record *)0, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < CG_SPIN_SLOTS; i++)
        __atomic_store_n(&s->spin[i], (const struct cg_record *)0, __ATOMIC_RELEASE);
}

/* Note the exiting thread's tid and name in the ring. */
static void note_exit(uint32_t tid)
{
    char name[16] = "";
    if (prctl(PR_GET_NAME, name, 0, 0, 0) != 0)
        name[0] = '\0';
    name[sizeof name - 1] = '\0';
    unsigned i = __atomic_fetch_add(&exited_next, 1, __ATOMIC_RELAXED) % CG_WATCH_EXITED;
    struct cg_watch_exit *e = &cg_watch_exited[i];
    __atomic_store_n(&e->tid, 0u, __ATOMIC_RELAXED);
    for (size_t k = 0; k < sizeof name; k++)
        __atomic_store_n(&e->name[k], name[k], __ATOMIC_RELAXED);
    __atomic_store_n(&e->tid, tid, __ATOMIC_RELEASE);
}

int cg_watch_exited_name(uint32_t tid, char *name, size_t len)
{
    if (tid == 0 || len == 0)
        return 0;
    for (unsigned i = 0; i < CG_WATCH_EXITED; i++) {
        struct cg_watch_exit *e = &cg_watch_exited[i];
        if (__atomic_load_n(&e->tid, __ATOMIC_ACQUIRE) != tid)
            continue;
        size_t k = 0;
        for (; k + 1 < len && k < sizeof e->name; k++)
            name[k] = __atomic_load_n(&e->name[k], __ATOMIC_RELAXED);
        name[k] = '\0';
        return __atomic_load_n(&e->tid, __ATOMIC_ACQUIRE) == tid;
    }
    return 0;
}

static void release_slot(void *arg)
{
    struct cg_watch_slot *s = arg;
    if (s == NULL || s != cg_tls.watch)
        return;
    note_exit(__atomic_load_n(&s->tid, __ATOMIC_RELAXED));
    clear_slot(s);
    __atomic_store_n(&s->tid, 0u, __ATOMIC_RELEASE);
    cg_tls.watch = NULL;
    cg_tls.watch_gone = 1;
}

static void create_release_key(void)
{
    if (pthread_key_create(&release_key, release_slot) == 0)
        __atomic_store_n(&release_key_ready, 1, __ATOMIC_RELEASE);
}

static struct cg_watch_slot *take_free_slot(uint32_t tid)
{
    for (unsigned i = 0; i < CG_WATCH_THREADS; i++) {
        struct cg_watch_slot *s = &cg_watch_slots[i];
        uint32_t expected = 0;
        if (__atomic_load_n(&s->tid, __ATOMIC_RELAXED) == 0 &&
            __atomic_compare_exchange_n(&s->tid, &expected, tid, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            return s;
    }
    return NULL;
}

struct cg_watch_slot *cg_watch_claim(void)
{
    if (cg_tls.watch_gone)
        return NULL;
    pthread_once(&release_key_once, create_release_key);
    struct cg_watch_slot *s = take_free_slot(cg_gettid());
    if (s == NULL) {
        cg_tls.watch_gone = 1; /* all taken: this thread stays unwatched */
        __atomic_fetch_add(&unwatched_threads, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    clear_slot(s);
    cg_tls.watch = s;
    if (__atomic_load_n(&release_key_ready, __ATOMIC_ACQUIRE))
        pthread_setspecific(release_key, s);
    cg_watchdog_ensure_started();
    return s;
}

void cg_watch_spin_open(unsigned index, const struct cg_record *spin)
{
    struct cg_watch_slot *s = cg_watch_slot_self();
    if (s == NULL || index >= CG_SPIN_SLOTS)
        return;
    __atomic_store_n(&s->spin[index], spin, __ATOMIC_RELEASE);
}

void cg_watch_spin_end(unsigned index)
{
    struct cg_watch_slot *s = cg_tls.watch;
    if (s == NULL || index >= CG_SPIN_SLOTS)
        return;
    uint32_t ends = __atomic_load_n(&s->spin_ends[index], __ATOMIC_RELAXED);
    __atomic_store_n(&s->spin_ends[index], ends + 1, __ATOMIC_RELEASE);
    __atomic_store_n(&s->spin[index], (const struct cg_record *)0, __ATOMIC_RELEASE);
}

unsigned cg_watch_unwatched(void)
{
    return __atomic_load_n(&unwatched_threads, __ATOMIC_RELAXED);
}

void cg_watch_after_fork_child(void)
{
    __atomic_store_n(&unwatched_threads, 0u, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < CG_WATCH_EXITED; i++)
        __atomic_store_n(&cg_watch_exited[i].tid, 0u, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < CG_WATCH_THREADS; i++) {
        clear_slot(&cg_watch_slots[i]);
        __atomic_store_n(&cg_watch_slots[i].tid, 0u, __ATOMIC_RELEASE);
    }
    cg_tls.watch = NULL;
    cg_tls.watch_gone = 0;
}
