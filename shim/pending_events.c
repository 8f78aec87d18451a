/*
 * shim/pending_events.c — replay this process's own trace into a table of
 * events whose latest record is not yet known complete.
 *
 * What it is for: the implementation of shim/pending_events.h. The file is
 * read by shim/live_merge.c: from the batch where the last update stopped,
 * plus the batches threads are still filling, each record once, in the
 * order of tracer/format.h "Batches". A record is taken only when its kind
 * was already non-zero in a first read, and its fields come from a second
 * read made after it, so a record being written during the copy is never
 * taken half-written.
 *
 * What it must never do: use malloc or a stdio stream, keep a file descriptor open
 * between updates (the application may close or reuse descriptors), or
 * trust a file that is not a trace of this format.
 */
#include "shim/pending_events.h"

#include <cuda.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/api.h"
#include "shim/live_merge.h"
#include "tracer/format.h"

/* ---- memory: mmap only (see the header) ---- */

#define CELL_BYTES 128u
#define CHUNK_BYTES (64u * 1024u)
#define MAX_CHUNKS 4096u /* 256 MiB of table at most */

static void *map_bytes(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static int table_oom;

#define HASH_NONFATAL_OOM 1
#define uthash_malloc(sz) map_bytes(sz)
#define uthash_free(ptr, sz) munmap((ptr), (sz))
#define uthash_nonfatal_oom(obj) (table_oom = 1)
#include <uthash.h>

struct free_cell {
    struct free_cell *next;
};

static struct free_cell *free_cells;
static void *chunks[MAX_CHUNKS];
static unsigned chunk_count;

static void *cell_alloc(void)
{
    if (free_cells == NULL) {
        if (chunk_count == MAX_CHUNKS)
            return NULL;
        char *chunk = map_bytes(CHUNK_BYTES);
        if (chunk == NULL)
            return NULL;
        chunks[chunk_count++] = chunk;
        for (size_t off = 0; off + CELL_BYTES <= CHUNK_BYTES; off += CELL_BYTES) {
            struct free_cell *c = (struct free_cell *)(chunk + off);
            c->next = free_cells;
            free_cells = c;
        }
    }
    struct free_cell *c = free_cells;
    free_cells = c->next;
    memset(c, 0, CELL_BYTES);
    return c;
}

static void cell_free(void *p)
{
    struct free_cell *c = p;
    c->next = free_cells;
    free_cells = c;
}

/* ---- the tables ---- */

struct event_entry {
    uint64_t event;
    struct cg_event_state state;
    UT_hash_handle hh;
};

struct stream_key {
    uint64_t handle;
    uint32_t tid; /* owner of a per-thread default stream (handle 0 + _ptsz), else 0 */
    uint32_t zero;
};

struct stream_entry {
    struct stream_key key;
    uint64_t synced_from_ns; /* start of the latest successful synchronize */
    UT_hash_handle hh;
};

struct thread_entry {
    uint32_t tid;
    uint64_t enter_ns; /* start of its current or latest blocking call */
    uint64_t exit_ns;  /* THREAD_EXIT time, 0 while alive */
    /* a dead poller (cg_pending_dead_pollers) */
    uint8_t polled;        /* it polled or waited on an event */
    uint8_t failed;        /* its latest call failed: */
    uint8_t dead;          /* it exited after polling, with an error or work unseen */
    uint8_t dead_reported; /* the watchdog wrote its STALL */
    uint16_t fail_api;
    uint16_t unseen; /* event records it polled still pending at its exit */
    int32_t fail_result;
    uint64_t fail_handle;
    uint64_t fail_ns;
    UT_hash_handle hh;
};

_Static_assert(sizeof(struct event_entry) <= CELL_BYTES, "event entry fits a cell");
_Static_assert(sizeof(struct stream_entry) <= CELL_BYTES, "stream entry fits a cell");
_Static_assert(sizeof(struct thread_entry) <= CELL_BYTES, "thread entry fits a cell");

static struct event_entry *events;
static struct stream_entry *streams;
static struct thread_entry *threads;
static uint64_t context_synced_from_ns;
static uint64_t last_call_ns;

/* Records replayed since the process began tracing: an update costs the
 * records written since the last one, never the whole trace. */
static uint64_t records_replayed;

uint64_t cg_pending_records_replayed(void)
{
    return records_replayed;
}

/* Where reading resumes, and which file that position belongs to. */
static struct {
    char path[4096];
    dev_t dev;
    ino_t ino;
    int known;
} position;

static void *add_cell(void *head_unused)
{
    (void)head_unused;
    table_oom = 0;
    return cell_alloc();
}

static struct stream_key key_of(uint64_t handle, int per_thread, uint32_t tid)
{
    struct stream_key k = {handle, handle == 0 && per_thread ? tid : 0, 0};
    return k;
}

static struct stream_entry *stream_get(struct stream_key k, int create)
{
    struct stream_entry *s = NULL;
    HASH_FIND(hh, streams, &k, sizeof k, s);
    if (s != NULL || !create)
        return s;
    s = add_cell(streams);
    if (s == NULL)
        return NULL;
    s->key = k;
    HASH_ADD(hh, streams, key, sizeof s->key, s);
    if (table_oom) {
        cell_free(s);
        return NULL;
    }
    return s;
}

static struct thread_entry *thread_get(uint32_t tid, int create)
{
    struct thread_entry *t = NULL;
    HASH_FIND(hh, threads, &tid, sizeof tid, t);
    if (t != NULL || !create)
        return t;
    t = add_cell(threads);
    if (t == NULL)
        return NULL;
    t->tid = tid;
    HASH_ADD(hh, threads, tid, sizeof t->tid, t);
    if (table_oom) {
        cell_free(t);
        return NULL;
    }
    return t;
}

static struct event_entry *event_find(uint64_t event)
{
    struct event_entry *e = NULL;
    HASH_FIND(hh, events, &event, sizeof event, e);
    return e;
}

static void event_forget(uint64_t event)
{
    struct event_entry *e = event_find(event);
    if (e != NULL) {
        HASH_DEL(events, e);
        cell_free(e);
    }
}

static void event_recorded(const struct cg_record *r)
{
    struct event_entry *e = event_find(r->handle);
    if (e == NULL) {
        e = add_cell(events);
        if (e == NULL)
            return;
        e->event = r->handle;
        HASH_ADD(hh, events, event, sizeof e->event, e);
        if (table_oom) {
            cell_free(e);
            return;
        }
    }
    e->state = (struct cg_event_state){
        .event = r->handle,
        .stream = r->arg,
        .record_ns = r->ts_ns,
        .tid = r->tid,
        .per_thread = (r->flags & CG_FLAG_PTSZ) != 0,
        .pending = 1,
    };
}

static void add_poller(struct cg_event_state *e, const struct cg_record *r)
{
    e->poll_api = r->api;
    e->poll_result = r->result;
    e->poll_handle = r->handle;
    for (unsigned i = 0; i < e->poller_count; i++) {
        if (e->pollers[i] == r->tid)
            return;
    }
    if (e->poller_count < CG_PENDING_POLLERS)
        e->pollers[e->poller_count++] = r->tid;
    else
        e->poller_overflow = 1;
}

/* `r` waited for `event` (a poll or a synchronize, any result). */
static void event_polled(const struct cg_record *r)
{
    struct event_entry *e = event_find(r->handle);
    if (e != NULL && e->state.pending && r->ts_ns >= e->state.record_ns)
        add_poller(&e->state, r);
}

/* A poll of `r->handle` failed with an error: if that handle is no event
 * with a record, the thread meant some other event; count it a poller of
 * every event then pending. */
static void failed_poll(const struct cg_record *r)
{
    if (event_find(r->handle) != NULL)
        return;
    for (struct event_entry *e = events; e != NULL; e = e->hh.next) {
        if (e->state.pending && r->ts_ns >= e->state.record_ns)
            add_poller(&e->state, r);
    }
}

static void event_completed(uint64_t event)
{
    struct event_entry *e = event_find(event);
    if (e != NULL)
        e->state.pending = 0;
}

/* ---- what each api means here ---- */

enum api_role {
    ROLE_OTHER = 0,
    ROLE_EVENT_CREATE,
    ROLE_EVENT_RECORD,
    ROLE_EVENT_QUERY,
    ROLE_EVENT_SYNC,
    ROLE_EVENT_DESTROY,
    ROLE_STREAM_SYNC,
    ROLE_DEVICE_SYNC, /* cuCtxSynchronize, cuMemFreeHost: every earlier record completes */
};

static uint8_t roles[CG_API_COUNT];
static int roles_ready;

static void compute_roles(void)
{
    static const struct {
        const char *base;
        uint8_t role;
    } table[] = {
        {"cuEventCreate", ROLE_EVENT_CREATE},          {"cuEventRecord", ROLE_EVENT_RECORD},
        {"cuEventRecordWithFlags", ROLE_EVENT_RECORD}, {"cuEventQuery", ROLE_EVENT_QUERY},
        {"cuEventSynchronize", ROLE_EVENT_SYNC},       {"cuEventDestroy", ROLE_EVENT_DESTROY},
        {"cuStreamSynchronize", ROLE_STREAM_SYNC},     {"cuCtxSynchronize", ROLE_DEVICE_SYNC},
        {"cuMemFreeHost", ROLE_DEVICE_SYNC},
    };
    for (unsigned id = 1; id < CG_API_COUNT; id++) {
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
            if (strcmp(cg_api_info[id].base, table[i].base) == 0)
                roles[id] = table[i].role;
        }
    }
    roles_ready = 1;
}

static unsigned role_of(uint16_t api)
{
    return api < CG_API_COUNT ? roles[api] : ROLE_OTHER;
}

/* Whether `r`'s thread polled or waited on an event; what its latest
 * call returned. */
static void note_thread_call(const struct cg_record *r, int waits_on_event)
{
    struct thread_entry *t = thread_get(r->tid, 1);
    if (t == NULL)
        return;
    if (waits_on_event)
        t->polled = 1;
    if (r->kind == CG_REC_ENTER || r->kind == CG_REC_SPIN)
        return;
    t->failed = r->result != CUDA_SUCCESS && r->result != CUDA_ERROR_NOT_READY;
    if (t->failed) {
        t->fail_api = r->api;
        t->fail_result = r->result;
        t->fail_handle = r->handle;
        t->fail_ns = r->ts_ns;
    }
}

static void replay_call(const struct cg_record *r)
{
    note_thread_call(r, role_of(r->api) == ROLE_EVENT_QUERY);
    if (role_of(r->api) == ROLE_EVENT_QUERY) {
        event_polled(r);
        if (r->result != CUDA_SUCCESS && r->result != CUDA_ERROR_NOT_READY)
            failed_poll(r);
    }
    if (r->result != CUDA_SUCCESS)
        return;
    switch (role_of(r->api)) {
    case ROLE_EVENT_CREATE:
    case ROLE_EVENT_DESTROY:
        event_forget(r->handle);
        break;
    case ROLE_EVENT_RECORD:
        event_recorded(r);
        break;
    case ROLE_EVENT_QUERY:
        event_completed(r->handle);
        break;
    default:
        break;
    }
}

static void replay_exit(const struct cg_record *r)
{
    note_thread_call(r, role_of(r->api) == ROLE_EVENT_SYNC);
    struct thread_entry *t = thread_get(r->tid, 0);
    uint64_t began = t != NULL ? t->enter_ns : 0;
    if (r->result != CUDA_SUCCESS || began == 0)
        return;
    switch (role_of(r->api)) {
    case ROLE_EVENT_SYNC:
        event_completed(r->handle);
        break;
    case ROLE_STREAM_SYNC: {
        struct stream_entry *s =
            stream_get(key_of(r->handle, (r->flags & CG_FLAG_PTSZ) != 0, r->tid), 1);
        if (s != NULL && began > s->synced_from_ns)
            s->synced_from_ns = began;
        break;
    }
    case ROLE_DEVICE_SYNC:
        if (began > context_synced_from_ns)
            context_synced_from_ns = began;
        break;
    default:
        break;
    }
}

static void note_call_time(const struct cg_record *r)
{
    if (r->ts_ns > last_call_ns)
        last_call_ns = r->ts_ns;
}

static int still_pending(const struct cg_event_state *e);

/* Event records `tid` polled that nobody has seen complete. */
static unsigned unseen_by(uint32_t tid)
{
    unsigned n = 0;
    for (struct event_entry *e = events; e != NULL; e = e->hh.next) {
        if (!still_pending(&e->state))
            continue;
        for (unsigned i = 0; i < e->state.poller_count; i++)
            n += e->state.pollers[i] == tid;
    }
    return n;
}

static void replay_thread(const struct cg_record *r, int exited)
{
    struct thread_entry *t = thread_get(r->tid, exited);
    if (t == NULL)
        return;
    t->exit_ns = exited ? (r->ts_ns != 0 ? r->ts_ns : 1) : 0;
    if (!exited) {
        t->polled = t->failed = t->dead = t->dead_reported = 0;
        return;
    }
    unsigned unseen = t->polled ? unseen_by(t->tid) : 0;
    t->unseen = (uint16_t)(unseen > 0xffff ? 0xffff : unseen);
    t->dead = t->polled && (t->failed || t->unseen > 0);
}

static void replay(const struct cg_record *r)
{
    switch (r->kind) {
    case CG_REC_CALL:
        note_call_time(r);
        replay_call(r);
        break;
    case CG_REC_ENTER: {
        note_call_time(r);
        struct thread_entry *t = thread_get(r->tid, 1);
        if (t != NULL)
            t->enter_ns = r->ts_ns;
        if (role_of(r->api) == ROLE_EVENT_SYNC)
            event_polled(r);
        break;
    }
    case CG_REC_EXIT:
        note_call_time(r);
        replay_exit(r);
        break;
    case CG_REC_SPIN:
        note_call_time(r);
        if (role_of(r->api) == ROLE_EVENT_QUERY) {
            event_polled(r);
            note_thread_call(r, 1);
        }
        break;
    case CG_REC_THREAD_START:
        replay_thread(r, 0);
        break;
    case CG_REC_THREAD_EXIT:
        replay_thread(r, 1);
        break;
    default:
        break;
    }
}

/* ---- reading the file: shim/live_merge.c ---- */

static void replay_counted(const struct cg_record *r)
{
    replay(r);
    records_replayed++;
}

static int header_ok(int fd)
{
    struct cg_file_header h;
    if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
        return 0;
    return memcmp(h.magic, CG_MAGIC, sizeof h.magic) == 0 && h.version == CG_FORMAT_VERSION &&
           h.header_size == CG_HEADER_SIZE && h.record_size == CG_RECORD_SIZE &&
           h.pid == (uint32_t)getpid();
}

static void start_over(const char *path, const struct stat *st)
{
    cg_pending_reset();
    snprintf(position.path, sizeof position.path, "%s", path);
    position.dev = st->st_dev;
    position.ino = st->st_ino;
    position.known = 1;
    cg_live_merge_reset();
}

int cg_pending_update(const char *path)
{
    if (!roles_ready)
        compute_roles();
    if (path == NULL)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) == 0 && header_ok(fd)) {
        if (!position.known || strcmp(position.path, path) != 0 || position.dev != st.st_dev ||
            position.ino != st.st_ino)
            start_over(path, &st);
        uint64_t size = (uint64_t)st.st_size;
        uint64_t slots = size > CG_HEADER_SIZE ? (size - CG_HEADER_SIZE) / CG_RECORD_SIZE : 0;
        (void)cg_live_merge_update(fd, slots, replay_counted);
        rc = 0;
    }
    close(fd);
    return rc;
}

/* ---- questions ---- */

static int still_pending(const struct cg_event_state *e)
{
    if (!e->pending || e->record_ns < context_synced_from_ns)
        return 0;
    struct stream_entry *s = stream_get(key_of(e->stream, e->per_thread, e->tid), 0);
    return s == NULL || e->record_ns >= s->synced_from_ns;
}

int cg_pending_lookup(uint64_t event, struct cg_event_state *out)
{
    struct event_entry *e = event_find(event);
    if (e == NULL)
        return 0;
    *out = e->state;
    out->pending = (uint8_t)still_pending(&e->state);
    return 1;
}

unsigned cg_pending_collect(struct cg_event_state *out, unsigned max, unsigned *total)
{
    unsigned n = 0, all = 0;
    for (struct event_entry *e = events; e != NULL; e = e->hh.next) {
        if (!still_pending(&e->state))
            continue;
        all++;
        /* Insert in record order, keeping the `max` oldest. */
        unsigned at = n;
        while (at > 0 && out[at - 1].record_ns > e->state.record_ns)
            at--;
        if (at >= max)
            continue;
        unsigned last = n < max ? n : max - 1;
        for (unsigned i = last; i > at; i--)
            out[i] = out[i - 1];
        out[at] = e->state;
        if (n < max)
            n++;
    }
    if (total != NULL)
        *total = all;
    return n;
}

uint64_t cg_pending_last_call_ns(void)
{
    return last_call_ns;
}

int cg_pending_thread_exited(uint32_t tid, uint64_t *exit_ns)
{
    struct thread_entry *t = thread_get(tid, 0);
    if (t == NULL || t->exit_ns == 0)
        return 0;
    if (exit_ns != NULL)
        *exit_ns = t->exit_ns;
    return 1;
}

static int orphaned(const struct cg_event_state *e, int include_reported)
{
    if (e->poller_count == 0 || e->poller_overflow || (e->orphan_reported && !include_reported))
        return 0;
    for (unsigned i = 0; i < e->poller_count; i++) {
        if (!cg_pending_thread_exited(e->pollers[i], NULL))
            return 0;
    }
    return 1;
}

unsigned cg_pending_orphans(struct cg_event_state *out, unsigned max, int include_reported)
{
    unsigned n = 0;
    for (struct event_entry *e = events; e != NULL && n < max; e = e->hh.next) {
        if (still_pending(&e->state) && orphaned(&e->state, include_reported)) {
            out[n] = e->state;
            out[n++].pending = 1;
        }
    }
    return n;
}

void cg_pending_mark_orphan_reported(uint64_t event)
{
    struct event_entry *e = event_find(event);
    if (e != NULL)
        e->state.orphan_reported = 1;
}

unsigned cg_pending_dead_pollers(struct cg_dead_poller *out, unsigned max, int include_reported)
{
    unsigned n = 0;
    for (struct thread_entry *t = threads; t != NULL && n < max; t = t->hh.next) {
        if (!t->dead || t->exit_ns == 0 || (t->dead_reported && !include_reported))
            continue;
        out[n++] = (struct cg_dead_poller){
            .tid = t->tid,
            .exit_ns = t->exit_ns,
            .has_error = t->failed,
            .api = t->fail_api,
            .result = t->fail_result,
            .handle = t->fail_handle,
            .error_ns = t->fail_ns,
            .unseen = t->unseen,
        };
    }
    return n;
}

void cg_pending_mark_dead_reported(uint32_t tid)
{
    struct thread_entry *t = thread_get(tid, 0);
    if (t != NULL)
        t->dead_reported = 1;
}

/* ---- lifetime ---- */

void cg_pending_forget(void)
{
    events = NULL;
    streams = NULL;
    threads = NULL;
    free_cells = NULL;
    chunk_count = 0;
    context_synced_from_ns = 0;
    last_call_ns = 0;
    memset(&position, 0, sizeof position);
}

void cg_pending_reset(void)
{
    HASH_CLEAR(hh, events);
    HASH_CLEAR(hh, streams);
    HASH_CLEAR(hh, threads);
    for (unsigned i = 0; i < chunk_count; i++)
        munmap(chunks[i], CHUNK_BYTES);
    cg_pending_forget();
}
