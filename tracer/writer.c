/*
 * tracer/writer.c — append records to this process's trace file.
 *
 * What it is for: the implementation of tracer/writer.h. One file per
 * process, grown in segments of CG_SEGMENT_RECORDS records, each mapped
 * MAP_SHARED so that a record whose kind was stored survives SIGKILL.
 *
 * What it must never do: call CUDA, call getenv, allocate or lock on the
 * reserve/publish path, crash or stop the host program. Every failure turns
 * tracing off after one line on stderr.
 *
 * Descriptors: the trace descriptor is moved high (F_DUPFD_CLOEXEC) out of
 * the application's way, and its device and inode are checked with fstat
 * before every use of the descriptor (growing, header refresh, exit). A
 * number that no longer names our file is never touched again: the file is
 * reopened by path when it is still ours, else tracing stops ("cut short").
 * The per-record path only stores into memory already mapped; a trace file
 * truncated by someone else makes those stores fault, and
 * cg_writer_fault_at() (called by the shim's SIGBUS handler) then stops
 * tracing and puts anonymous memory where the mapping was, so the store is
 * retried harmlessly.
 *
 * Concurrency: the slot counter is one process-global atomic, advanced
 * only by whole batches of CG_BATCH_RECORDS slots (format.h "Batches"), so
 * a batch never straddles a segment (every segment is a multiple of it);
 * each thread fills its batch alone. The segment
 * table holds atomic pointers read without a lock; `grow_lock` is taken only
 * to map a segment that is not mapped yet; `intern_lock` guards the string
 * table. Slots are zero in a fresh file, so a thread killed between reserve
 * and publish leaves a kind==0 slot that the reader skips.
 */
#include "tracer/writer.h"
#include "tracer/clock.h"
#include "tracer/pages.h"
#include "tracer/version.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

/* Segments grow from CG_FIRST_SEGMENT_RECORDS, doubling GROWTH_STEPS times
 * up to CG_SEGMENT_RECORDS; 8192 segments are about 512 Mi records (24 GiB),
 * the most one process writes; past it tracing stops with a warning. */
#define MAX_SEGMENTS 8192u
#define GROWTH_STEPS 6u
#define GROWN_FIRST_SLOT ((uint64_t)CG_FIRST_SEGMENT_RECORDS * ((1u << GROWTH_STEPS) - 1u))
_Static_assert(CG_FIRST_SEGMENT_RECORDS << GROWTH_STEPS == CG_SEGMENT_RECORDS,
               "segments grow to CG_SEGMENT_RECORDS");
/* Longest string interned; longer ones are truncated. */
#define INTERN_MAX 4096u
#define DIR_MAX 4096u

enum writer_state {
    WRITER_OFF = 0,     /* no trace: never opened, failed, or closed */
    WRITER_ACTIVE = 1,  /* a trace file is open */
    WRITER_PENDING = 2, /* fork child: open a new file at the first record */
};

struct interned {
    char *text;
    uint32_t id;
    UT_hash_handle hh;
};

/* Configuration kept for the fork child's new file. */
static struct {
    char dir[DIR_MAX];
    char task_var[64];
    char label[CG_LABEL_MAX];
    uint32_t task_mode;
    uint32_t policies;
    const char *const *api_names;
    uint32_t api_count;
} saved;

static _Atomic int cg_writer_state = WRITER_OFF;
/* The slot counter, alone on its cache line: every record of every thread
 * writes it, so nothing the hot path only reads may share that line. */
struct cg_writer_slot_counter cg_writer_slot_counter;
static struct cg_record *_Atomic segments[MAX_SEGMENTS];
static struct cg_file_header *header;
static int trace_fd = -1;
/* Its file system maps read-faulted pages writable (tracer/pages.h); known at open. */
static int trace_fault_around;
static dev_t trace_dev; /* identity of the file we created */
static ino_t trace_ino;
static char trace_path[DIR_MAX + 128];
/* The segment being mapped (not yet in `segments`), for the fault handler. */
static char *_Atomic growing_base;
static uint64_t growing_len;
static int dir_checked; /* the directory warnings are given once per program */
/* The parent's string table in a fork child: dropped, not freed (O(1)). */
static struct interned *abandoned_strings;
static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static struct interned *intern_table;
static uint32_t intern_next_id = 1;
static int fork_prepared;

static __thread uint32_t cached_tid __attribute__((tls_model("initial-exec")));
/* Wakes the background thread to prepare the next segment (shim/watchdog.c);
 * NULL: the thread that needs a segment maps it. */
static void (*_Atomic prepare_wake)(void);
/* The segment the background thread was last woken for (avoids repeats). */
static _Atomic uint32_t wake_sent_for;
/* Each thread's batch: the slots it took with one atomic add and fills
 * alone. Valid while `generation` equals cg_writer_batch_generation, which
 * every open, every stop (cut short, truncated, closed) and every fork
 * child changes: a batch is never valid while the writer is not active, so
 * the inline reserve (writer.h) needs no look at cg_writer_state. */
__thread struct cg_writer_batch cg_writer_batch __attribute__((tls_model("initial-exec")));
_Atomic uint32_t cg_writer_batch_generation = 1;
_Static_assert(CG_FIRST_SEGMENT_RECORDS % CG_BATCH_RECORDS == 0, "batches tile the segments");

/* The writer leaves WRITER_ACTIVE: every thread's batch stops being valid
 * (async-signal-safe: one atomic exchange, one atomic add). Returns the
 * state it left. */
static int leave_active(void)
{
    int was = atomic_exchange(&cg_writer_state, WRITER_OFF);
    atomic_fetch_add_explicit(&cg_writer_batch_generation, 1, memory_order_release);
    return was;
}

/* ---- segment geometry (format.h): segments are contiguous in the file ---- */

static uint64_t segment_first_slot(uint32_t s)
{
    if (s <= GROWTH_STEPS)
        return (uint64_t)CG_FIRST_SEGMENT_RECORDS * ((1u << s) - 1u);
    return GROWN_FIRST_SLOT + (uint64_t)(s - GROWTH_STEPS) * CG_SEGMENT_RECORDS;
}

static uint64_t segment_records(uint32_t s)
{
    return s < GROWTH_STEPS ? (uint64_t)CG_FIRST_SEGMENT_RECORDS << s : CG_SEGMENT_RECORDS;
}

static uint64_t segment_of(uint64_t slot)
{
    if (slot < GROWN_FIRST_SLOT)
        return (uint64_t)(63 - __builtin_clzll(slot / CG_FIRST_SEGMENT_RECORDS + 1));
    return GROWTH_STEPS + (slot - GROWN_FIRST_SLOT) / CG_SEGMENT_RECORDS;
}

/* File offset of segment s, rounded down to a page, and the length mapped. */
static void segment_span(uint32_t s, uint64_t *map_off, uint64_t *map_len, uint64_t *delta)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t off = CG_HEADER_SIZE + segment_first_slot(s) * CG_RECORD_SIZE;
    *delta = page > 0 ? off % (uint64_t)page : 0;
    *map_off = off - *delta;
    *map_len = segment_records(s) * CG_RECORD_SIZE + *delta;
}

/* ---- small helpers: no allocation, async-signal-safe ---- */

/* One line on stderr with write(2); never stdio (may be mid-use). */
static void warn(const char *fmt, ...)
{
    char line[DIR_MAX + 512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)(sizeof line - 2);
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t cg_gettid(void)
{
    if (!cached_tid)
        cached_tid = (uint32_t)syscall(SYS_gettid);
    return cached_tid;
}

static void copy_string(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

/* ---- opening the file ---- */

/* mkdir -p: every directory it creates is 0700. Returns 0 or an errno. */
static int make_dirs(const char *dir)
{
    char path[DIR_MAX];
    size_t len = strnlen(dir, sizeof path);
    if (len == 0 || len >= sizeof path)
        return ENAMETOOLONG;
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved_char = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) == 0) {
            if (chmod(path, 0700) != 0)
                return errno;
        } else if (errno != EEXIST) {
            return errno;
        }
        path[i] = saved_char;
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

/* A host name safe as a file-name component. */
static void file_safe_host(char *out, size_t cap, const char *host)
{
    size_t n = 0;
    for (; host[n] && n + 1 < cap; n++) {
        char c = host[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_';
        out[n] = ok ? c : '_';
    }
    out[n] = '\0';
    if (n == 0)
        copy_string(out, cap, "host");
}

/* Where descriptors are moved: above the range programs close or dup2 over
 * (3..1023) when the limit allows, else near the soft limit. */
static int high_fd_base(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 1024;
    if (rl.rlim_cur > 1100)
        return 1024;
    if (rl.rlim_cur > 64)
        return (int)rl.rlim_cur - 24;
    return 3;
}

/* Move `fd` high; keeps it where it is when no high number is free. */
static int move_fd_high(int fd)
{
    int base = high_fd_base();
    if (fd >= base)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, base);
    if (high < 0)
        return fd;
    close(fd);
    return high;
}

/* Grow the kernel's descriptor table up to the high range now, by taking
 * and releasing one number there. The table never shrinks, so the later
 * move_fd_high() (at the first record, often on another thread) needs no
 * expansion: expanding the table of a process with several threads waits
 * for an RCU grace period (about 20 ms measured under pytest). */
void cg_writer_grow_fd_table(void)
{
    int base = high_fd_base();
    for (int src = 0; base > 3 && src <= 2; src++) {
        int high = fcntl(src, F_DUPFD_CLOEXEC, base);
        if (high >= 0) {
            close(high);
            return;
        }
    }
}

static int is_our_file(const struct stat *st)
{
    return S_ISREG(st->st_mode) && st->st_dev == trace_dev && st->st_ino == trace_ino;
}

/* 0 when trace_fd still names the file we created. When it does not (closed
 * or replaced by the program), the number is forgotten, never closed, and
 * the file is reopened by path if the path still leads to it. Caller holds
 * grow_lock (or is the only thread). */
static int verify_fd_locked(void)
{
    struct stat st;
    if (trace_fd >= 0 && fstat(trace_fd, &st) == 0 && is_our_file(&st))
        return 0;
    trace_fd = -1;
    int fd = open(trace_path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !is_our_file(&st)) {
        close(fd);
        return -1;
    }
    trace_fd = move_fd_high(fd);
    return 0;
}

/* Size of our file, or -1 when it cannot be known (descriptor lost and
 * the path no longer leads to it). Async-signal-safe. */
static int64_t our_file_size(void)
{
    struct stat st;
    if (trace_fd >= 0 && fstat(trace_fd, &st) == 0 && is_our_file(&st))
        return (int64_t)st.st_size;
    if (trace_path[0] && lstat(trace_path, &st) == 0 && is_our_file(&st))
        return (int64_t)st.st_size;
    return -1;
}

/* Warn once about a directory another user could tamper with. */
static void check_dir(const char *dir)
{
    if (dir_checked)
        return;
    dir_checked = 1;
    struct stat st;
    size_t len = strnlen(dir, DIR_MAX);
    char path[DIR_MAX];
    memcpy(path, dir, len + 1 <= sizeof path ? len + 1 : sizeof path);
    path[sizeof path - 1] = '\0';
    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        warn("cuguard: warning: trace directory %s is a symbolic link; following it", dir);
    if (stat(path, &st) == 0 && st.st_uid != geteuid() && (st.st_mode & (S_IWGRP | S_IWOTH)) &&
        !(st.st_mode & S_ISVTX))
        warn("cuguard: warning: trace directory %s is owned by uid %u and writable by others: "
             "they can remove or replace its traces",
             dir, (unsigned)st.st_uid);
}

/* Create the file with O_EXCL; a name already taken gets the next start. */
static int create_trace_file(const char *dir, const char *host, uint64_t start, int *err)
{
    char safe_host[CG_HOST_MAX];
    file_safe_host(safe_host, sizeof safe_host, host);
    for (int attempt = 0; attempt < 16; attempt++) {
        snprintf(trace_path, sizeof trace_path, "%s/%s-%d-%llu.cgt", dir, safe_host, (int)getpid(),
                 (unsigned long long)(start + (uint64_t)attempt));
        int fd = open(trace_path, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0) {
            struct stat st;
            (void)fchmod(fd, 0600); /* whatever the umask */
            if (fstat(fd, &st) != 0) {
                *err = errno;
                close(fd);
                unlink(trace_path);
                return -1;
            }
            trace_dev = st.st_dev;
            trace_ino = st.st_ino;
            return move_fd_high(fd);
        }
        if (errno != EEXIST) {
            *err = errno;
            return -1;
        }
    }
    *err = EEXIST;
    return -1;
}

/* argv from /proc/self/cmdline, NUL-separated, truncated to the field. */
static void fill_argv(struct cg_file_header *h)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    size_t got = 0;
    while (got < CG_ARGV_MAX - 1) {
        ssize_t n = read(fd, h->argv + got, CG_ARGV_MAX - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    h->argv[got] = '\0';
    uint32_t argc = 0;
    for (size_t i = 0; i < got; i++)
        if (h->argv[i] == '\0')
            argc++;
    if (got > 0 && h->argv[got - 1] != '\0')
        argc++; /* a truncated last argument still counts */
    h->argc = argc;
}

/* The API name table: as many names as fit, NUL-separated. */
static void fill_api_names(struct cg_file_header *h)
{
    size_t used = 0;
    uint32_t count = 0;
    for (uint32_t i = 0; i < saved.api_count && saved.api_names; i++) {
        const char *name = saved.api_names[i] ? saved.api_names[i] : "";
        size_t len = strlen(name) + 1;
        if (used + len > CG_API_NAMES_MAX) {
            warn("cuguard: API name table truncated at %u names", count);
            break;
        }
        memcpy(h->api_names + used, name, len);
        used += len;
        count++;
    }
    h->api_count = count;
}

static void fill_header(struct cg_file_header *h, const char *host, uint64_t start_real,
                        uint64_t start_mono)
{
    h->version = CG_FORMAT_VERSION;
    h->header_size = CG_HEADER_SIZE;
    h->record_size = CG_RECORD_SIZE;
    h->segment_records = CG_SEGMENT_RECORDS;
    h->first_segment_records = CG_FIRST_SEGMENT_RECORDS;
    h->batch_records = CG_BATCH_RECORDS;
    h->pid = (uint32_t)getpid();
    h->ppid = (uint32_t)getppid();
    h->start_mono_ns = start_mono;
    h->start_real_ns = start_real;
    h->end_state = CG_END_RUNNING;
    h->task_mode = saved.task_mode;
    h->policies = saved.policies;
    copy_string(h->host, sizeof h->host, host);
    copy_string(h->task_var, sizeof h->task_var, saved.task_var);
    fill_argv(h);
    fill_api_names(h);
    copy_string(h->label, sizeof h->label, saved.label);
    copy_string(h->tool_version, sizeof h->tool_version, CUGUARD_VERSION);
    /* Magic last: a reader never sees a half-written header as valid. */
    uint64_t magic;
    memcpy(&magic, CG_MAGIC, sizeof magic);
    __atomic_store_n((uint64_t *)(void *)h->magic, magic, __ATOMIC_RELEASE);
}

static struct cg_record *map_segment_locked(uint32_t s);

/* Open the file from `saved`. Caller holds grow_lock. Returns 0 or -1. */
static int open_locked(void)
{
    char host[CG_HOST_MAX] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        copy_string(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';

    int err = make_dirs(saved.dir);
    if (err == 0)
        check_dir(saved.dir);
    uint64_t start_mono = cg_clock_monotonic_ns();
    uint64_t start_real = realtime_ns();
    int fd = -1;
    if (err == 0)
        fd = create_trace_file(saved.dir, host, start_real, &err);
    if (fd >= 0) {
        err = cg_pages_zero_fill(fd, 0, CG_HEADER_SIZE);
        if (err != 0) {
            close(fd);
            unlink(trace_path);
            fd = -1;
        }
    }
    void *map = MAP_FAILED;
    if (fd >= 0) {
        map = mmap(NULL, CG_HEADER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
            err = errno;
            close(fd);
            unlink(trace_path);
            fd = -1;
        }
    }
    if (fd < 0) {
        warn("cuguard: cannot write trace in %s: %s; running untraced", saved.dir, strerror(err));
        atomic_store(&cg_writer_state, WRITER_OFF);
        return -1;
    }
    trace_fd = fd;
    trace_fault_around = cg_pages_fault_around_writable(fd);
    header = map;
    cg_clock_start();
    cg_clock_describe(header);
    fill_header(header, host, start_real, start_mono);
    atomic_store_explicit(&cg_writer_slot_counter.value, 0, memory_order_relaxed);
    atomic_store(&wake_sent_for, 0);
    atomic_fetch_add(&cg_writer_batch_generation, 1);
    atomic_store_explicit(&cg_writer_state, WRITER_ACTIVE, memory_order_release);
    if (map_segment_locked(0) == NULL)
        return -1; /* stop_tracing said why */
    return 0;
}

int cg_writer_open(const struct cg_writer_config *cfg)
{
    if (!cfg || !cfg->dir || !cfg->dir[0]) {
        warn("cuguard: no trace directory given; running untraced");
        return -1;
    }
    pthread_mutex_lock(&grow_lock);
    int rc = 0;
    if (atomic_load(&cg_writer_state) != WRITER_ACTIVE) {
        if (strnlen(cfg->dir, DIR_MAX) >= DIR_MAX) {
            warn("cuguard: cannot write trace in %.64s...: path too long; running untraced",
                 cfg->dir);
            rc = -1;
        } else {
            copy_string(saved.dir, sizeof saved.dir, cfg->dir);
            copy_string(saved.task_var, sizeof saved.task_var, cfg->task_var);
            copy_string(saved.label, sizeof saved.label, cfg->label);
            saved.task_mode = cfg->task_mode;
            saved.policies = cfg->policies;
            saved.api_names = cfg->api_names;
            saved.api_count = cfg->api_count;
            rc = open_locked();
        }
    }
    pthread_mutex_unlock(&grow_lock);
    return rc;
}

int cg_writer_active(void)
{
    return atomic_load_explicit(&cg_writer_state, memory_order_acquire) != WRITER_OFF;
}

const char *cg_writer_path(void)
{
    return atomic_load(&cg_writer_state) == WRITER_ACTIVE ? trace_path : NULL;
}

/* ---- growing: the only place that locks besides interning ---- */

/* Say in the header that tracing stopped early, when the header is still
 * in our file (a file truncated below it is left alone). Async-signal-safe. */
static void mark_cut_short(const char *reason)
{
    if (!header || our_file_size() < (int64_t)CG_HEADER_SIZE)
        return;
    size_t n = strnlen(reason, CG_CUT_SHORT_REASON_MAX - 1);
    memcpy(header->cut_short_reason, reason, n);
    header->cut_short_reason[n] = '\0';
    __atomic_store_n(&header->slots_reserved, atomic_load(&cg_writer_slot_counter.value),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&header->cut_short_mono_ns, cg_now_ns(), __ATOMIC_RELAXED);
    __atomic_store_n(&header->end_state, (uint32_t)CG_END_CUT_SHORT, __ATOMIC_RELEASE);
}

/* Stop tracing after a write failure; records already published stay and
 * the header says the trace was cut short, and why. err 0: `what` is the
 * whole reason. */
static void stop_tracing(const char *what, int err)
{
    if (leave_active() == WRITER_OFF)
        return;
    char reason[CG_CUT_SHORT_REASON_MAX];
    if (err)
        snprintf(reason, sizeof reason, "%s: %s", what, strerror(err));
    else
        snprintf(reason, sizeof reason, "%s", what);
    mark_cut_short(reason);
    if (err)
        warn("cuguard: %s %s: %s; tracing stopped", what, trace_path, strerror(err));
    else
        warn("cuguard: %s (%s); tracing stopped", what, trace_path);
}

/* Map segment `s`, growing the file. Caller holds grow_lock. */
static struct cg_record *map_segment_locked(uint32_t s)
{
    struct cg_record *seg = atomic_load_explicit(&segments[s], memory_order_acquire);
    if (seg)
        return seg;
    uint64_t map_off, map_len, delta;
    segment_span(s, &map_off, &map_len, &delta);
    uint64_t off = map_off + delta, bytes = map_len - delta;
    if (verify_fd_locked() != 0) {
        stop_tracing("trace descriptor closed or replaced by the program", 0);
        return NULL;
    }
    int64_t size = our_file_size();
    if (size < (int64_t)off) {
        stop_tracing("trace file truncated by another process", 0);
        return NULL;
    }
    /* Zeros written, then each page faulted in here (tracer/pages.c says
     * why this way), not by the first store on an application thread. */
    int err = cg_pages_zero_fill(trace_fd, off, bytes);
    if (err != 0) {
        stop_tracing("cannot extend trace", err);
        return NULL;
    }
    char *map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, trace_fd, (off_t)map_off);
    if (map == MAP_FAILED) {
        stop_tracing("cannot map trace", errno);
        return NULL;
    }
    growing_len = map_len;
    atomic_store(&growing_base, map);
    seg = (struct cg_record *)(map + delta);
    cg_pages_touch((char *)seg, bytes, trace_fault_around);
    atomic_store_explicit(&segments[s], seg, memory_order_release);
    atomic_store(&growing_base, NULL);
    if (atomic_load(&cg_writer_state) != WRITER_ACTIVE)
        return NULL; /* the file was truncated while this segment was touched */
    __atomic_store_n(&header->slots_reserved, atomic_load(&cg_writer_slot_counter.value),
                     __ATOMIC_RELAXED);
    return seg;
}

/* ---- a trace file truncated under us ---- */

static int in_range(const char *addr, const char *base, uint64_t len)
{
    return base != NULL && addr >= base && addr < base + len;
}

/* Put private zero pages where a trace mapping was: stores into it are then
 * harmless. mmap is a plain system call here (async-signal-safe in practice). */
static void replace_with_anonymous(char *base, uint64_t len)
{
    (void)mmap(base, len, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* Does `addr` lie in one of the trace's mappings? */
static int trace_mapping_holds(const char *addr)
{
    if (in_range(addr, (const char *)header, CG_HEADER_SIZE))
        return 1;
    if (in_range(addr, atomic_load(&growing_base), growing_len))
        return 1;
    for (uint32_t s = 0; s < MAX_SEGMENTS; s++) {
        const char *seg = (const char *)atomic_load_explicit(&segments[s], memory_order_acquire);
        uint64_t map_off, map_len, delta;
        segment_span(s, &map_off, &map_len, &delta);
        if (seg && in_range(addr, seg - delta, map_len))
            return 1;
    }
    return 0;
}

int cg_writer_fault_at(const void *addr)
{
    const char *a = addr;
    if (a == NULL || !trace_mapping_holds(a))
        return 0;
    if (leave_active() != WRITER_OFF) {
        static const char msg[] = "cuguard: the trace file was truncated by another process; "
                                  "tracing stopped\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        mark_cut_short("trace file truncated by another process");
    }
    char *growing = atomic_load(&growing_base);
    if (growing)
        replace_with_anonymous(growing, growing_len);
    for (uint32_t s = 0; s < MAX_SEGMENTS; s++) {
        char *seg = (char *)atomic_load_explicit(&segments[s], memory_order_acquire);
        uint64_t map_off, map_len, delta;
        segment_span(s, &map_off, &map_len, &delta);
        if (seg)
            replace_with_anonymous(seg - delta, map_len);
    }
    if (in_range(a, (const char *)header, CG_HEADER_SIZE))
        replace_with_anonymous((char *)header, CG_HEADER_SIZE);
    return 1;
}

/* A fork child opens its file at its first record. */
static int open_pending(void)
{
    pthread_mutex_lock(&grow_lock);
    int rc = atomic_load(&cg_writer_state) == WRITER_PENDING ? open_locked() : 0;
    pthread_mutex_unlock(&grow_lock);
    return rc == 0 && atomic_load(&cg_writer_state) == WRITER_ACTIVE;
}

/* Is it time to prepare the segment after s, slot `index` of s being in
 * use? Half-way through a small segment (a short process never makes the
 * next one); as soon as a full-size one is entered (its successor then has
 * a whole segment's time, milliseconds, to be extended and populated). */
static int next_segment_wanted(uint64_t s, uint64_t index)
{
    return s >= GROWTH_STEPS || index >= segment_records((uint32_t)s) / 2;
}

/* Ask the background thread (once) to prepare segment s. */
static void wake_preparer(uint32_t s)
{
    void (*wake)(void) = atomic_load_explicit(&prepare_wake, memory_order_acquire);
    if (wake != NULL && s < MAX_SEGMENTS && atomic_load(&wake_sent_for) != s &&
        atomic_exchange(&wake_sent_for, s) != s)
        wake();
}

/* Pointer to slot `slot`, mapping its segment if needed. NULL when out of
 * range or the file cannot grow. Locks only to map a new segment. */
static struct cg_record *slot_pointer(uint64_t slot)
{
    uint64_t s = segment_of(slot);
    if (s >= MAX_SEGMENTS) {
        stop_tracing("trace reached its size limit", 0);
        return NULL;
    }
    uint64_t index = slot - segment_first_slot((uint32_t)s);
    struct cg_record *seg = atomic_load_explicit(&segments[s], memory_order_acquire);
    if (__builtin_expect(seg == NULL, 0)) {
        pthread_mutex_lock(&grow_lock);
        if (atomic_load(&cg_writer_state) == WRITER_ACTIVE)
            seg = map_segment_locked((uint32_t)s);
        pthread_mutex_unlock(&grow_lock);
        if (!seg)
            return NULL;
    }
    if (next_segment_wanted(s, index))
        wake_preparer((uint32_t)s + 1);
    return seg + index;
}

/* Take a batch: its time (stamped before the atomic add, format.h
 * "Batches"), CG_BATCH_RECORDS slot numbers, its BATCH record published at
 * its first slot. Returns the batch's first slot pointer or NULL. */
static struct cg_record *take_batch(void)
{
    uint64_t t = cg_now_ns();
    uint64_t first = atomic_fetch_add_explicit(&cg_writer_slot_counter.value, CG_BATCH_RECORDS,
                                               memory_order_relaxed);
    struct cg_record *b = slot_pointer(first);
    if (b == NULL)
        return NULL;
    b->ts_ns = t;
    b->tid = cg_gettid();
    b->arg = CG_BATCH_RECORDS;
    cg_writer_publish(b, CG_REC_BATCH);
    return b;
}

/* Off the common path: this thread's batch has fewer than n free slots (or
 * belongs to an older file). Its tail stays zero; a new batch is taken. */
static struct cg_record *reserve_in_new_batch(uint32_t n, uint32_t generation)
{
    struct cg_record *b = take_batch();
    if (b == NULL)
        return NULL;
    cg_writer_batch.next = b + 1 + n;
    cg_writer_batch.end = b + CG_BATCH_RECORDS;
    cg_writer_batch.generation = generation;
    return b + 1;
}

struct cg_record *cg_writer_reserve_batch(uint32_t n)
{
    if (n - 1u > 3u)
        return NULL;
    if (atomic_load_explicit(&cg_writer_state, memory_order_acquire) != WRITER_ACTIVE &&
        cg_writer_reserve_slow(n) == NULL)
        return NULL; /* tracing is off (a fork child's file opens in reserve_slow) */
    uint32_t generation = atomic_load_explicit(&cg_writer_batch_generation, memory_order_relaxed);
    return reserve_in_new_batch(n, generation);
}

struct cg_record *cg_writer_reserve_slow(uint32_t n)
{
    if (n - 1u > 3u)
        return NULL;
    int st = atomic_load_explicit(&cg_writer_state, memory_order_acquire);
    if (st != WRITER_ACTIVE && !(st == WRITER_PENDING && open_pending()))
        return NULL;
    return cg_writer_reserve(n);
}

struct cg_record *cg_writer_reserve_mapped(void)
{
    if (atomic_load_explicit(&cg_writer_state, memory_order_acquire) != WRITER_ACTIVE)
        return NULL;
    uint64_t t = cg_now_ns();
    uint64_t slot = atomic_load_explicit(&cg_writer_slot_counter.value, memory_order_relaxed);
    for (;;) {
        uint64_t s = segment_of(slot);
        if (s >= MAX_SEGMENTS)
            return NULL;
        struct cg_record *seg = atomic_load_explicit(&segments[s], memory_order_acquire);
        if (seg == NULL)
            return NULL; /* would need a new segment: mapping is not signal-safe */
        if (atomic_compare_exchange_weak_explicit(&cg_writer_slot_counter.value, &slot,
                                                  slot + CG_BATCH_RECORDS, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            struct cg_record *b = seg + (slot - segment_first_slot((uint32_t)s));
            b->ts_ns = t;
            b->tid = cg_gettid();
            b->arg = CG_BATCH_RECORDS;
            cg_writer_publish(b, CG_REC_BATCH);
            return b + 1;
        }
    }
}

/* ---- the background thread's share ---- */

void cg_writer_set_prepare_wake(void (*wake)(void))
{
    atomic_store_explicit(&prepare_wake, wake, memory_order_release);
}

/* Map the segment the next slot lies in and, once that one is half full,
 * the one after it, so application threads rarely map one themselves. */
static void prepare_ahead(void)
{
    uint64_t slot = atomic_load_explicit(&cg_writer_slot_counter.value, memory_order_relaxed);
    uint64_t s = segment_of(slot);
    if (s + 1 >= MAX_SEGMENTS)
        return;
    int want_next = next_segment_wanted(s, slot - segment_first_slot((uint32_t)s));
    if (atomic_load_explicit(&segments[s], memory_order_acquire) != NULL &&
        (!want_next || atomic_load_explicit(&segments[s + 1], memory_order_acquire) != NULL))
        return;
    pthread_mutex_lock(&grow_lock);
    if (atomic_load(&cg_writer_state) == WRITER_ACTIVE && map_segment_locked((uint32_t)s) != NULL &&
        want_next)
        (void)map_segment_locked((uint32_t)s + 1);
    pthread_mutex_unlock(&grow_lock);
}

void cg_writer_background(void)
{
    if (atomic_load_explicit(&cg_writer_state, memory_order_acquire) != WRITER_ACTIVE)
        return;
    prepare_ahead();
    cg_clock_reanchor();
    pthread_mutex_lock(&grow_lock);
    if (atomic_load(&cg_writer_state) == WRITER_ACTIVE && header)
        cg_clock_describe(header);
    pthread_mutex_unlock(&grow_lock);
}

/* ---- interned strings ---- */

/* Write `len` bytes of `s` as string `id`, chunk by chunk. */
static int write_string_records(uint32_t id, const char *s, size_t len)
{
    uint32_t chunks = len == 0 ? 1 : (uint32_t)((len + CG_STRING_CHUNK - 1) / CG_STRING_CHUNK);
    uint32_t tid = cg_gettid();
    for (uint32_t i = 0; i < chunks; i++) {
        struct cg_record *r = cg_writer_reserve(1);
        if (!r)
            return -1;
        size_t off = (size_t)i * CG_STRING_CHUNK;
        size_t part = len - off < CG_STRING_CHUNK ? len - off : CG_STRING_CHUNK;
        memcpy(cg_string_payload(r), s + off, part);
        r->tid = tid;
        r->site = id;
        r->result = (int32_t)off;
        r->api = (uint16_t)part;
        r->flags = i + 1 == chunks ? CG_FLAG_LAST_CHUNK : 0;
        cg_writer_publish(r, CG_REC_STRING);
    }
    return 0;
}

uint32_t cg_writer_intern(const char *s)
{
    if (!s)
        return 0;
    int st = atomic_load_explicit(&cg_writer_state, memory_order_acquire);
    if (st != WRITER_ACTIVE && !(st == WRITER_PENDING && open_pending()))
        return 0;
    size_t len = strnlen(s, INTERN_MAX);
    pthread_mutex_lock(&intern_lock);
    struct interned *e = NULL;
    HASH_FIND(hh, intern_table, s, len, e);
    uint32_t id = e ? e->id : 0;
    if (!e) {
        e = calloc(1, sizeof *e);
        char *text = e ? malloc(len + 1) : NULL;
        if (text && write_string_records(intern_next_id, s, len) == 0) {
            memcpy(text, s, len);
            text[len] = '\0';
            e->text = text;
            e->id = id = intern_next_id++;
            HASH_ADD_KEYPTR(hh, intern_table, e->text, len, e);
        } else {
            free(text);
            free(e);
        }
    }
    pthread_mutex_unlock(&intern_lock);
    return id;
}

/* ---- end of process, fork ---- */

/* At a clean exit the file ends where the records end: the space the
 * segments reserved past the last slot is given back. A store into a slot
 * reserved after this (a thread racing the exit) faults on a page past the
 * end and is absorbed by cg_writer_fault_at, as for any truncated file. */
static void truncate_to_records(uint64_t slots)
{
    if (verify_fd_locked() != 0)
        return;
    int64_t size = our_file_size();
    uint64_t end = CG_HEADER_SIZE + slots * CG_RECORD_SIZE;
    if (size > (int64_t)end)
        (void)ftruncate(trace_fd, (off_t)end);
}

void cg_writer_close(void)
{
    if (atomic_load(&cg_writer_state) == WRITER_ACTIVE) {
        struct cg_record *r = cg_writer_reserve(1);
        if (r) {
            r->ts_ns = cg_now_ns();
            r->tid = cg_gettid();
            cg_writer_publish(r, CG_REC_PROCESS_EXIT);
        }
    }
    pthread_mutex_lock(&grow_lock);
    /* Threads still running keep the mappings: nothing is unmapped here.
     * The header is refreshed only while it is still in our file. */
    if (leave_active() == WRITER_ACTIVE && header && our_file_size() >= (int64_t)CG_HEADER_SIZE) {
        uint64_t slots = atomic_load(&cg_writer_slot_counter.value);
        __atomic_store_n(&header->slots_reserved, slots, __ATOMIC_RELAXED);
        __atomic_store_n(&header->end_mono_ns, cg_now_ns(), __ATOMIC_RELAXED);
        cg_clock_describe(header);
        __atomic_store_n(&header->end_state, (uint32_t)CG_END_CLEAN, __ATOMIC_RELEASE);
        truncate_to_records(slots);
    }
    pthread_mutex_unlock(&grow_lock);
}

/* Lock order everywhere: intern_lock, then grow_lock (cg_writer_intern
 * maps segments while it holds intern_lock). */
void cg_writer_prepare_fork(void)
{
    pthread_mutex_lock(&intern_lock);
    pthread_mutex_lock(&grow_lock);
    fork_prepared = 1;
}

void cg_writer_after_fork_parent(void)
{
    fork_prepared = 0;
    pthread_mutex_unlock(&grow_lock);
    pthread_mutex_unlock(&intern_lock);
}

/* Drop the string table in O(1): its entries are left behind (still
 * reachable from abandoned_strings), never walked or freed. The child's
 * new file gets a new table at its first intern. */
static void forget_strings(void)
{
    if (intern_table)
        abandoned_strings = intern_table;
    intern_table = NULL;
    intern_next_id = 1;
}

/* Unmap the child's copies of the parent's mappings (the parent keeps its own). */
static void unmap_parent_trace(void)
{
    for (uint32_t s = 0; s < MAX_SEGMENTS; s++) {
        char *seg = (char *)atomic_load(&segments[s]);
        if (!seg)
            continue;
        uint64_t map_off, map_len, delta;
        segment_span(s, &map_off, &map_len, &delta);
        munmap(seg - delta, map_len);
        atomic_store(&segments[s], NULL);
    }
    if (header)
        munmap(header, CG_HEADER_SIZE);
    header = NULL;
    /* Close the inherited copy only if that number still names our file:
     * the program may have put its own descriptor there. */
    struct stat st;
    if (trace_fd >= 0 && fstat(trace_fd, &st) == 0 && is_our_file(&st))
        close(trace_fd);
    trace_fd = -1;
}

void cg_writer_after_fork_child(void)
{
    int was_on = atomic_load(&cg_writer_state) != WRITER_OFF;
    atomic_store(&cg_writer_state, WRITER_OFF);
    cached_tid = 0;
    atomic_fetch_add(&cg_writer_batch_generation, 1);
    unmap_parent_trace();
    atomic_store(&cg_writer_slot_counter.value, 0);
    forget_strings();
    if (fork_prepared) {
        /* This thread took both locks in cg_writer_prepare_fork(). */
        fork_prepared = 0;
        pthread_mutex_unlock(&grow_lock);
        pthread_mutex_unlock(&intern_lock);
    } else {
        /* Another parent thread may have held them: start afresh. */
        pthread_mutex_init(&grow_lock, NULL);
        pthread_mutex_init(&intern_lock, NULL);
    }
    trace_path[0] = '\0';
    if (was_on)
        atomic_store(&cg_writer_state, WRITER_PENDING);
}
