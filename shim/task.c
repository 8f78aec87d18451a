/*
 * shim/task.c — detect task changes from the environment.
 *
 * What it is for: the implementation of shim/task.h in CG_TASK_ENV mode
 * (CG_TASK_THREAD records its task at thread start, shim/thread.c;
 * CG_TASK_PROCESS needs none).
 *
 * The cache: `environ` as last seen, and either the index and pointer of the
 * variable's "NAME=value" slot, or (variable absent) the environment's length
 * and its last entry. setenv/putenv replace the slot pointer, unsetenv shifts
 * the slots, and adding a variable writes the old terminator slot or moves
 * `environ`, so any change to the variable changes one of them. Each thread
 * keeps a copy of the slots to watch (struct cg_thread), so the check on
 * every call (cg_task_poll_thread, task.h) reads only the environment.
 *
 * What it must never do: call getenv, allocate, or lock on the hot path.
 */
#include "shim/task.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim/config.h"
#include "shim/thread.h"
#include "tracer/writer.h"

#define TASK_NAME_MAX 4096

static pthread_mutex_t task_lock = PTHREAD_MUTEX_INITIALIZER;
static int seen_valid; /* 0 = nothing cached */
static char **seen_environ;
static long seen_index;             /* slot of the variable, -1 when absent */
static char *seen_entry;            /* environ[seen_index], or the last entry when absent */
static long seen_length;            /* number of entries when absent */
static char current[TASK_NAME_MAX]; /* guarded by task_lock */
static int current_valid;           /* guarded by task_lock */

void cg_task_strip_phase(const char *value, char *out, size_t len)
{
    static const char *const phases[] = {" (call)", " (setup)", " (teardown)"};
    size_t n = strlen(value);
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++) {
        size_t p = strlen(phases[i]);
        if (n >= p && strcmp(value + n - p, phases[i]) == 0) {
            n -= p;
            break;
        }
    }
    if (n >= len)
        n = len - 1;
    memcpy(out, value, n);
    out[n] = '\0';
}

static int cache_still_valid(char **env)
{
    if (!__atomic_load_n(&seen_valid, __ATOMIC_ACQUIRE) ||
        env != __atomic_load_n(&seen_environ, __ATOMIC_RELAXED))
        return 0;
    if (env == NULL)
        return 1;
    long index = __atomic_load_n(&seen_index, __ATOMIC_RELAXED);
    char *entry = __atomic_load_n(&seen_entry, __ATOMIC_RELAXED);
    if (index >= 0)
        return env[index] == entry;
    long length = __atomic_load_n(&seen_length, __ATOMIC_RELAXED);
    return env[length] == NULL && (length == 0 || env[length - 1] == entry);
}

/* Scan the environment; returns the value of the variable or NULL. */
static const char *scan(char **env, const char *var, long *index, long *length)
{
    size_t var_len = strlen(var);
    long i = 0;
    *index = -1;
    const char *value = NULL;
    for (; env != NULL && env[i] != NULL; i++) {
        if (value == NULL && strncmp(env[i], var, var_len) == 0 && env[i][var_len] == '=') {
            *index = i;
            value = env[i] + var_len + 1;
        }
    }
    *length = i;
    return value;
}

static void write_task(uint32_t name_id)
{
    struct cg_record *r = cg_writer_reserve(1);
    if (r == NULL)
        return;
    memset(r, 0, sizeof *r);
    r->ts_ns = cg_now_ns();
    r->tid = cg_gettid();
    r->site = name_id;
    cg_writer_publish(r, CG_REC_TASK);
}

static void refresh_locked(char **env)
{
    long index, length;
    const char *value = scan(env, cg_config.task_var, &index, &length);
    char name[TASK_NAME_MAX] = "";
    if (value != NULL)
        cg_task_strip_phase(value, name, sizeof name);
    int changed = !current_valid || strcmp(name, current) != 0;
    if (changed && (current_valid || name[0] != '\0'))
        write_task(name[0] != '\0' ? cg_writer_intern(name) : 0);
    memcpy(current, name, sizeof current);
    current_valid = 1;
    __atomic_store_n(&seen_index, index, __ATOMIC_RELAXED);
    __atomic_store_n(&seen_length, length, __ATOMIC_RELAXED);
    char *entry = NULL;
    if (index >= 0)
        entry = env[index];
    else if (length > 0)
        entry = env[length - 1];
    __atomic_store_n(&seen_entry, entry, __ATOMIC_RELAXED);
    __atomic_store_n(&seen_environ, env, __ATOMIC_RELAXED);
    __atomic_store_n(&seen_valid, 1, __ATOMIC_RELEASE);
}

void cg_task_poll(void)
{
    if (cg_config.task_mode != CG_TASK_ENV)
        return;
    char **env = environ;
    if (__builtin_expect(cache_still_valid(env), 1))
        return;
    pthread_mutex_lock(&task_lock);
    if (!cache_still_valid(env))
        refresh_locked(env);
    pthread_mutex_unlock(&task_lock);
}

/* What `t` compares on its next call: the variable's slot, or when it is
 * absent the terminator and the last entry (see the top of this file).
 * Caller holds task_lock and has just validated the global cache for env. */
static void remember_in_thread(struct cg_thread *t, char **env)
{
    long first = 0, second = 0;
    if (cg_config.task_mode == CG_TASK_ENV && env != NULL) {
        long index = __atomic_load_n(&seen_index, __ATOMIC_RELAXED);
        long length = __atomic_load_n(&seen_length, __ATOMIC_RELAXED);
        first = index >= 0 ? index : length;
        second = index >= 0 ? index : (length > 0 ? length - 1 : 0);
    }
    t->task_slot[0] = first;
    t->task_slot[1] = second;
    t->task_entry[0] = env != NULL ? env[first] : NULL;
    t->task_entry[1] = env != NULL ? env[second] : NULL;
    t->task_env = env;
}

void cg_task_poll_slow(struct cg_thread *t)
{
    if (t == NULL) {
        cg_task_poll();
        return;
    }
    char **env = environ;
    pthread_mutex_lock(&task_lock);
    if (cg_config.task_mode == CG_TASK_ENV && !cache_still_valid(env))
        refresh_locked(env);
    remember_in_thread(t, env);
    pthread_mutex_unlock(&task_lock);
}

/* The calling thread's cache of cg_task_name_hash(). */
struct hash_watch {
    char **env;
    long slot[2];
    char *entry[2];
    uint64_t hash;
    int valid;
};
static __thread struct hash_watch hash_watch __attribute__((tls_model("initial-exec")));

#define HASH_NAME_MAX 1023u

static uint64_t hash_value(const char *value)
{
    char name[HASH_NAME_MAX + 1];
    cg_task_strip_phase(value != NULL ? value : "", name, sizeof name);
    uint64_t h = 0xcbf29ce484222325ull ^ (value != NULL);
    for (const char *p = name; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return h;
}

/* Rehash from the environment and remember its slots (task.c's top). */
static uint64_t hash_refresh(struct hash_watch *w, char **env)
{
    long index, length;
    const char *value = scan(env, cg_config.task_var, &index, &length);
    w->slot[0] = index >= 0 ? index : length;
    w->slot[1] = index >= 0 ? index : (length > 0 ? length - 1 : 0);
    w->entry[0] = env[w->slot[0]];
    w->entry[1] = env[w->slot[1]];
    w->env = env;
    w->hash = hash_value(value);
    w->valid = 1;
    return w->hash;
}

uint64_t cg_task_name_hash(void)
{
    char **env = environ;
    struct hash_watch *w = &hash_watch;
    if (env == NULL)
        return hash_value(NULL);
    if (__builtin_expect(w->valid && env == w->env && env[w->slot[0]] == w->entry[0] &&
                             env[w->slot[1]] == w->entry[1],
                         1))
        return w->hash;
    return hash_refresh(w, env);
}

void cg_task_reset(void)
{
    pthread_mutex_lock(&task_lock);
    current_valid = 0;
    current[0] = '\0';
    __atomic_store_n(&seen_valid, 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&task_lock);
}

void cg_task_prepare_fork(void)
{
    pthread_mutex_lock(&task_lock);
}

void cg_task_after_fork(void)
{
    pthread_mutex_unlock(&task_lock);
}
