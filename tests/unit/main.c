/*
 * main.c — runner for the unit tests registered with TEST() (see unit.h).
 *
 *   build/unit_tests            run all
 *   build/unit_tests vector     run the tests whose name contains "vector"
 *   build/unit_tests -l         list the tests
 *   build/unit_tests -t [name]  also print each test's time (sort -n)
 *
 * Prints one line per failed check, then "N passed, M failed"; exits 1 on any
 * failure. Tests run in name order so the output is stable.
 */
#include "tests/unit/unit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

static UnitTest   *registry;
static int         registry_n;
static UnitTest   *current;
static int         current_failed;

void unit_register(UnitTest *t)
{
    t->next = registry;
    registry = t;
    registry_n++;
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    printf("FAIL %s:%d: %s: ", file, line, current ? current->name : "?");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    current_failed = 1;
}

int unit_failed_now(void)
{
    return current_failed;
}

static int by_name(const void *a, const void *b)
{
    const UnitTest *x = *(UnitTest *const *)a, *y = *(UnitTest *const *)b;
    return strcmp(x->name, y->name);
}

int main(int argc, char **argv)
{
    const char *filter = NULL;
    int         list = 0, times = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-l") == 0) list = 1;
        else if (strcmp(argv[i], "-t") == 0) times = 1;
        else filter = argv[i];
    }
    UnitTest **all = calloc((size_t)registry_n + 1, sizeof *all);
    if (!all) return 2;
    int n = 0;
    for (UnitTest *t = registry; t; t = t->next) all[n++] = t;
    qsort(all, (size_t)n, sizeof *all, by_name);

    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        UnitTest *t = all[i];
        if (filter && !strstr(t->name, filter)) continue;
        if (list) {
            printf("%s (%s)\n", t->name, t->file);
            continue;
        }
        current = t;
        current_failed = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        t->fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (times)
            printf("%8.3f s  %s\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
                   t->name);
        if (current_failed) failed++;
        else passed++;
        current = NULL;
    }
    free(all);
    if (!list) printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
