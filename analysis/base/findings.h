/*
 * analysis/base/findings.h — finding kinds, severities and the grouped set of
 * findings of one analysis run.
 *
 * What it is for: the stable kind names of docs/findings.md with their severity and
 * a one-sentence explanation, and a table that folds repeated findings (same
 * kind, process, task, site and API) into one entry with a count, so its size
 * is bounded by distinct sites, never by trace length.
 *
 * What it must never do: keep pointers into a trace reader (every string is
 * copied: findings outlive the reader of their process), or rename a kind.
 */
#ifndef CUGUARD_ANALYSIS_FINDINGS_H
#define CUGUARD_ANALYSIS_FINDINGS_H

#include <stddef.h>
#include <stdint.h>

#include <uthash.h>

enum finding_kind {
    FK_LEAK_EVENT,
    FK_LEAK_STREAM,
    FK_LEAK_PINNED,
    FK_UNKNOWN_HANDLE,
    FK_USE_AFTER_DESTROY,
    FK_DOUBLE_DESTROY,
    FK_DESTROY_WHILE_WAITED,
    FK_QUERY_BEFORE_RECORD,
    FK_RECORD_WHILE_POLLED,
    FK_POLLER_EXITED,
    FK_CROSS_TASK_USE,
    FK_PENDING_AT_TASK_END,
    FK_PINNED_REUSE_WHILE_INFLIGHT,
    FK_STREAM_DESTROY_WITH_PENDING,
    FK_STALL,
    FK_BLOCKED_AT_EXIT,
    FK_API_ERROR,
    FK_SHARED_EVENT,
    FK_NEVER_COMPLETED,
    FK_LIVE_AT_EXIT, /* leak residue, not growth (analysis/group/residue.h) */
    FK_COUNT
};

enum severity { SEV_INFO = 0, SEV_WARNING = 1, SEV_ERROR = 2 };

const char *finding_kind_name(enum finding_kind k);
enum severity finding_kind_severity(enum finding_kind k);
const char *finding_kind_explanation(enum finding_kind k);
const char *severity_name(enum severity s);
/* Kind by its stable name, or -1. */
int finding_kind_by_name(const char *name);

/* Where and when something happened to an object (creation, destruction). */
struct finding_origin {
    int present;
    uint64_t ts_ns;
    uint32_t tid;
    char *thread; /* thread name or NULL */
    char *task;   /* task name or NULL */
    char *site;   /* call site or NULL */
    char *api;    /* API name or NULL */
};

/* What a detector reports about one occurrence. Strings are borrowed: the
 * set copies what it keeps. */
struct finding_origin_in {
    int present;
    uint64_t ts_ns;
    uint32_t tid;
    const char *thread, *task, *site, *api;
};

struct finding_input {
    enum finding_kind kind;
    int process; /* index of the trace in the run */
    uint32_t pid;
    uint64_t process_start_ns; /* to print times relative to the process start */
    uint32_t tid;
    const char *thread, *task, *api, *site;
    int has_handle;
    uint64_t handle;
    uint64_t bytes;
    uint64_t ts_ns;
    const char *message; /* one sentence about this occurrence */
    struct finding_origin_in created, destroyed;
};

/* One frame of a finding's call stack (analysis/stacks/stack.h fills them). */
enum frame_kind { FRAME_NATIVE = 0, FRAME_PYTHON = 1 };
struct finding_frame {
    enum frame_kind kind;
    char *module;    /* native: module path, NULL when unknown */
    uint64_t offset; /* native: from the module's load address (or absolute) */
    char *function;  /* NULL when unknown */
    char *file;      /* NULL when unknown */
    int line;        /* 0 when unknown */
    int inlined;     /* inlined into the next frame (same address) */
    int tool;        /* not the user's code (skipped when choosing the site) */
    int status;      /* enum symbolize_status (analysis/stacks/symbolize.h) */
};

/* One of the per-process, per-task findings grouping merged (analysis/group/group.h). */
struct finding_part {
    char *task; /* NULL = no task */
    uint32_t pid;
    uint64_t count, bytes, ts_ns, last_ts_ns;
};

struct finding {
    enum finding_kind kind;
    int process;
    uint32_t pid;
    uint64_t process_start_ns;
    uint32_t tid;
    char *thread, *task, *api, *site;
    int has_handle;
    uint64_t handle; /* of the first occurrence */
    uint64_t count;
    uint64_t bytes; /* summed over the occurrences */
    uint64_t ts_ns; /* first occurrence */
    uint64_t last_ts_ns;
    char *message; /* of the first occurrence */
    struct finding_origin created, destroyed;
    int suppressed;
    char *key;
    UT_hash_handle hh;
    /* Set by attribution (analysis/attribute/attribute.h): the stack `site` was
     * chosen from (site_frame indexes it; nframes when none is the user's). */
    struct finding_frame *frames;
    size_t nframes, site_frame;
    char fingerprint[17]; /* "" when the finding has no stack */
    /* Set by grouping (analysis/group/group.h): what was merged into this one. */
    struct finding_part *parts;
    size_t nparts, ntasks, nprocesses;
};

struct finding_set {
    struct finding *table; /* uthash, insertion order */
    size_t size;
};

void findings_init(struct finding_set *set);
void findings_free(struct finding_set *set);

/* Add one occurrence; folds it into an existing finding with the same kind,
 * process, task, site and API. Returns the finding (NULL if out of memory). */
struct finding *findings_add(struct finding_set *set, const struct finding_input *in);

/* The findings, most severe first (then kind, process, time); NULL-terminated
 * array the caller frees (the findings stay owned by the set). */
struct finding **findings_sorted(const struct finding_set *set);

/* Take `f` out of the set and free it (grouping merged it elsewhere). */
void findings_remove(struct finding_set *set, struct finding *f);
/* Move `f` from one set to the end of another (whose findings have other
 * keys: those of other processes), keeping the finding itself. */
void findings_move(struct finding_set *to, struct finding_set *from, struct finding *f);
/* Free an array of frames and the strings they hold. */
void finding_frames_free(struct finding_frame *frames, size_t n);

/* Count of unsuppressed findings of one severity. */
size_t findings_count_severity(const struct finding_set *set, enum severity s);
size_t findings_count_suppressed(const struct finding_set *set);

/* --fail-on: "error", "warning", "info" or a comma list of kinds (mixing is
 * allowed). Fills mask[FK_COUNT]; returns 0, or -1 with a message in err. */
int findings_parse_fail_on(const char *list, unsigned char mask[FK_COUNT], char *err,
                           size_t errlen);
/* 1 if an unsuppressed finding has its kind set in mask. */
int findings_match_mask(const struct finding_set *set, const unsigned char mask[FK_COUNT]);

#endif
