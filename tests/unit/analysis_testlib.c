/*
 * tests/unit/analysis_testlib.c — see analysis_testlib.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/analysis_testlib.h"
#include "tests/unit/tracer_testlib.h"

void scratch_setup(struct scratch_trace *s)
{
    s->dir = testlib_tmpdir();
    ck_assert_ptr_nonnull(s->dir);
    snprintf(s->path, sizeof s->path, "%s/host-1000-1.cgt", s->dir);
    s->analyzed = 0;
}

void scratch_teardown(struct scratch_trace *s)
{
    if (s->analyzed)
        analysis_free(&s->result);
    testlib_rmtree(s->dir);
    free(s->dir);
}

const struct analysis *scratch_finish(struct scratch_trace *s, struct tb *b, uint32_t exit_tid)
{
    if (exit_tid)
        tb_process_exit(b, exit_tid);
    ck_assert_int_eq(tb_close(b), 0);
    analyze_dir(&s->result, s->dir);
    s->analyzed = 1;
    return &s->result;
}

void analyze_dir(struct analysis *a, const char *dir)
{
    char *paths[1] = {(char *)dir};
    FILE *warn = tmpfile();
    ck_assert_ptr_nonnull(warn);
    int rc = analyze_paths(a, paths, 1, "test", warn, NULL, 0);
    fclose(warn);
    ck_assert_int_eq(rc, 0);
}

size_t findings_of_kind(const struct analysis *a, enum finding_kind kind)
{
    size_t n = 0;
    for (const struct finding *f = a->findings.table; f; f = f->hh.next)
        n += f->kind == kind;
    return n;
}

uint64_t occurrences_of_kind(const struct analysis *a, enum finding_kind kind)
{
    uint64_t n = 0;
    for (const struct finding *f = a->findings.table; f; f = f->hh.next)
        if (f->kind == kind)
            n += f->count;
    return n;
}

const struct finding *first_of_kind(const struct analysis *a, enum finding_kind kind)
{
    for (const struct finding *f = a->findings.table; f; f = f->hh.next)
        if (f->kind == kind)
            return f;
    return NULL;
}
