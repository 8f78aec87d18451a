/*
 * tests/unit/test_tracer_fork.c — a fork child's writer costs O(1), however
 * many strings the parent interned.
 *
 * What it is for: counting, not timing. The suite is linked with
 * -Wl,--wrap=free, so every free() the writer makes goes through
 * __wrap_free and is counted. The parent interns many distinct strings
 * (task names); the child's side of the fork (cg_writer_after_fork_child)
 * must make a bounded number of free() calls (it abandons the table rather
 * than walking it) and the child's own trace must start a fresh string
 * table (its first string gets id 1 and reads back).
 *
 * What it must never do: assert on elapsed time, or pass when the strings
 * were never interned.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/tracer_testlib.h"
#include "tracer/reader.h"
#include "tracer/writer.h"

#define STRINGS 20000
#define CHILD_FREES_MAX 64 /* a few buffers at most, never one per string */

static unsigned long frees_counted;

void __real_free(void *p);
void __wrap_free(void *p);

void __wrap_free(void *p)
{
    if (p != NULL)
        __atomic_fetch_add(&frees_counted, 1, __ATOMIC_RELAXED);
    __real_free(p);
}

/* String 1 of the trace `child` wrote in `dir` (malloc'ed), or NULL. */
static char *first_string_of_child(const char *dir, pid_t child)
{
    char path[4096], err[256];
    char *found = NULL;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d != NULL && found == NULL && (de = readdir(d)) != NULL) {
        if (strstr(de->d_name, ".cgt") == NULL)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct cg_reader *rd = cg_reader_open(path, err, sizeof err);
        if (rd == NULL)
            continue;
        struct cg_record rec;
        while (cg_reader_next(rd, &rec))
            ;
        const char *s = cg_reader_string(rd, 1);
        if (cg_reader_header(rd)->pid == (uint32_t)child && s != NULL)
            found = strdup(s);
        cg_reader_close(rd);
    }
    if (d != NULL)
        closedir(d);
    return found;
}

START_TEST(fork_child_does_not_walk_the_string_table)
{
    char *dir = testlib_tmpdir();
    struct cg_writer_config cfg = testlib_config(dir);
    ck_assert_int_eq(cg_writer_open(&cfg), 0);
    char name[64];
    uint32_t last = 0;
    for (int i = 0; i < STRINGS; i++) {
        snprintf(name, sizeof name, "tests/test_many.py::test_%d (call)", i);
        last = cg_writer_intern(name);
    }
    ck_assert_uint_ge(last, STRINGS); /* every name got its own id */
    cg_writer_prepare_fork();
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        unsigned long before = __atomic_load_n(&frees_counted, __ATOMIC_RELAXED);
        cg_writer_after_fork_child();
        unsigned long frees = __atomic_load_n(&frees_counted, __ATOMIC_RELAXED) - before;
        uint32_t id = cg_writer_intern("child.py:1");
        cg_writer_close();
        if (frees > CHILD_FREES_MAX) {
            fprintf(stderr, "the fork child made %lu free() calls\n", frees);
            _exit(2);
        }
        _exit(id == 1 ? 0 : 3);
    }
    cg_writer_after_fork_parent();
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg(WIFEXITED(status), "the child did not exit");
    ck_assert_msg(WEXITSTATUS(status) != 2, "the fork child freed the string table entry by entry");
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    cg_writer_close();
    char *first = first_string_of_child(dir, child);
    ck_assert_ptr_nonnull(first);
    ck_assert_str_eq(first, "child.py:1");
    free(first);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tracer_fork");
    TCase *tc = tcase_create("fork");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, fork_child_does_not_walk_the_string_table);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
