/*
 * sqltest.c — the runner for the SQL tests under tests/sql (files ending in .test).
 *
 *   build/sqltest [--set KEY=VALUE]… [FILE|DIR]…
 *
 * Each file runs in a fresh Session, records in order. A record is a
 * directive line followed by its body, ended by a blank line:
 *
 *   # a comment (also "# name: …" headers)
 *   statement ok                 the SQL must succeed
 *   statement error [SUBSTR]     the SQL must fail; the formatted error
 *                                ("line L, column C: what") contains SUBSTR
 *   query TYPES [rowsort|nosort] the SQL returns rows; TYPES has one letter
 *   SQL                          per column (I integer, R real, T text,
 *   ----                         B boolean, S timestamp, V interval); the
 *   expected rows                expected rows follow "----", values
 *                                separated by tabs, NULL as NULL, '' as
 *                                (empty); rowsort compares sorted rows
 *   input NAME                   lines up to the blank line are written to
 *   LINES                        __TEST_DIR__/NAME (a stream's input file)
 *   halt                         stop this file here
 *   mode skip / mode unskip      skip the records in between
 *
 * __TEST_DIR__ in SQL is replaced by a fresh temporary directory per file.
 * Every failure prints one line "FAIL file:line: why" (and the details
 * indented below it); the run ends with "N passed, M failed", counting
 * records.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/vector.h"
#include "parser/parser.h"
#include "runtime/session.h"

typedef struct StrBuf {
    char  *p;
    size_t n, cap;
} StrBuf;

static void sb_putn(StrBuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            perror("sqltest");
            exit(2);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_puts(StrBuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
static void sb_clear(StrBuf *b) { b->n = 0; if (b->p) b->p[0] = 0; }

/* ---- collecting results -------------------------------------------------- */

typedef struct Collect {
    int     ncols;
    char  **rows;     /* each row: values joined by tabs */
    size_t  nrows, cap;
    int     statements_with_rows;
} Collect;

static void collect_reset(Collect *c)
{
    for (size_t i = 0; i < c->nrows; i++) free(c->rows[i]);
    free(c->rows);
    memset(c, 0, sizeof *c);
}

static int c_columns(void *ctx, int ncols, const char *const *names, const SqlType *types, int streaming)
{
    (void)streaming;
    (void)names;
    (void)types;
    Collect *c = ctx;
    c->ncols = ncols;
    c->statements_with_rows++;
    return 0;
}

static int c_rows(void *ctx, const Batch *b)
{
    Collect *c = ctx;
    char     buf[256];
    StrBuf   row = {0};
    for (int i = 0; i < b->count; i++) {
        int r = b->sel ? (int)b->sel[i] : i;
        sb_clear(&row);
        for (int col = 0; col < b->ncols; col++) {
            const Vector *v = &b->cols[col];
            if (col) sb_putn(&row, "\t", 1);
            if (v->type == TYPE_VARCHAR && !vector_is_null(v, r)) {
                Str s = vector_str(v)[v->kind == VECTOR_CONSTANT ? 0 : r];
                if (s.len == 0) sb_puts(&row, "(empty)");
                else sb_putn(&row, s.ptr, s.len);
            } else {
                vector_format_value(v, r, buf, sizeof buf);
                sb_puts(&row, buf);
            }
        }
        if (c->nrows == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 64;
            c->rows = realloc(c->rows, c->cap * sizeof *c->rows);
            if (!c->rows) exit(2);
        }
        c->rows[c->nrows++] = strdup(row.p ? row.p : "");
    }
    free(row.p);
    return 0;
}

static void c_done(void *ctx, const char *tag) { (void)ctx; (void)tag; }

/* EXPLAIN text: one single-column row per line. */
static void c_text(void *ctx, const char *text)
{
    Collect *c = ctx;
    c->ncols = 1;
    c->statements_with_rows++;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t      n = nl ? (size_t)(nl - p) : strlen(p);
        if (c->nrows == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 64;
            c->rows = realloc(c->rows, c->cap * sizeof *c->rows);
            if (!c->rows) exit(2);
        }
        c->rows[c->nrows++] = strndup(p, n);
        p += n + (nl ? 1 : 0);
    }
}
static void c_notice(void *ctx, const char *msg) { (void)ctx; (void)msg; }

/* ---- the runner ----------------------------------------------------------- */

typedef struct Runner {
    int    passed, failed;
    char **sets;
    int    nsets;
} Runner;

typedef struct FileState {
    const char *path;
    char        tmpdir[256];
    Session    *session;
    int         failed_here;
} FileState;

static void fail(Runner *R, FileState *F, int line, const char *fmt, const char *a, const char *b)
{
    printf("FAIL %s:%d: ", F->path, line);
    printf(fmt, a ? a : "", b ? b : "");
    printf("\n");
    R->failed++;
    F->failed_here++;
}

/* Replace __TEST_DIR__ with the file's temporary directory. */
static char *substitute(const char *sql, const char *tmpdir)
{
    StrBuf      out = {0};
    const char *p = sql, *hit;
    while ((hit = strstr(p, "__TEST_DIR__")) != NULL) {
        sb_putn(&out, p, (size_t)(hit - p));
        sb_puts(&out, tmpdir);
        p = hit + strlen("__TEST_DIR__");
    }
    sb_puts(&out, p);
    return out.p ? out.p : strdup("");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char           path[1024];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) rm_rf(path);
        else unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Split text into lines (in place). */
static char **split_lines(char *text, int *n)
{
    int    cap = 256, k = 0;
    char **lines = malloc((size_t)cap * sizeof *lines);
    char  *p = text;
    while (lines && *p) {
        char *e = strchr(p, '\n');
        if (e) *e = 0;
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r') p[len - 1] = 0;
        if (k == cap) {
            cap *= 2;
            char **nl = realloc(lines, (size_t)cap * sizeof *lines);
            if (!nl) break;
            lines = nl;
        }
        lines[k++] = p;
        if (!e) break;
        p = e + 1;
    }
    *n = k;
    return lines;
}

static int blank(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return *s == 0;
}

static void run_sql(Runner *R, FileState *F, int line, const char *sql_raw, int expect_ok,
                    const char *err_substr, const char *types, int rowsort, char **expected,
                    int nexpected)
{
    char      *sql = substitute(sql_raw, F->tmpdir);
    Collect    col = {0};
    ResultSink sink = {&col, c_columns, c_rows, c_done, c_notice, c_text};
    SqlError   err;
    int        rc = session_exec(F->session, sql, strlen(sql), &sink, &err);
    char       msg[2048];
    if (rc != 0) sql_error_format(sql, strlen(sql), err.loc, err.msg, msg, sizeof msg);

    if (!expect_ok) {
        if (rc == 0) fail(R, F, line, "statement succeeded, expected an error%s%s", err_substr && *err_substr ? " containing: " : "", err_substr);
        else if (err_substr && *err_substr && !strstr(msg, err_substr))
            fail(R, F, line, "error lacks '%s': %s", err_substr, msg);
        else R->passed++;
    } else if (rc != 0) {
        fail(R, F, line, "%s%s", "unexpected error: ", msg);
    } else if (!types) {
        R->passed++;
    } else if (col.statements_with_rows == 0) {
        fail(R, F, line, "query returned no result set%s%s", "", "");
    } else if ((int)strlen(types) != col.ncols) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%d", col.ncols);
        snprintf(b, sizeof b, "%zu", strlen(types));
        fail(R, F, line, "query returned %s columns, the header says %s", a, b);
    } else {
        char **want = calloc((size_t)nexpected + 1, sizeof *want);
        for (int i = 0; i < nexpected; i++) want[i] = expected[i];
        if (rowsort) {
            qsort(col.rows, col.nrows, sizeof *col.rows, cmp_str);
            qsort(want, (size_t)nexpected, sizeof *want, cmp_str);
        }
        int same = (int)col.nrows == nexpected;
        for (int i = 0; same && i < nexpected; i++) same = strcmp(col.rows[i], want[i]) == 0;
        if (same) {
            R->passed++;
        } else {
            fail(R, F, line, "query result differs%s%s", "", "");
            printf("    expected (%d rows):\n", nexpected);
            for (int i = 0; i < nexpected && i < 20; i++) printf("      %s\n", want[i]);
            printf("    got (%zu rows):\n", col.nrows);
            for (size_t i = 0; i < col.nrows && i < 20; i++) printf("      %s\n", col.rows[i]);
        }
        free(want);
    }
    collect_reset(&col);
    free(sql);
}

static void run_file(Runner *R, const char *path)
{
    FileState F = {0};
    F.path = path;
    size_t cap = 1 << 16, n = 0;
    FILE  *f = fopen(path, "rb");
    if (!f) {
        printf("FAIL %s:0: cannot open: %s\n", path, strerror(errno));
        R->failed++;
        return;
    }
    char *text = malloc(cap);
    size_t got;
    while (text && (got = fread(text + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) text = realloc(text, cap *= 2);
    }
    fclose(f);
    if (!text) exit(2);
    text[n] = 0;

    snprintf(F.tmpdir, sizeof F.tmpdir, "%s/sluice-sqltest-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(F.tmpdir)) {
        printf("FAIL %s:0: mkdtemp: %s\n", path, strerror(errno));
        R->failed++;
        free(text);
        return;
    }
    F.session = session_new();
    for (int i = 0; i < R->nsets; i++) {
        char    *eq = strchr(R->sets[i], '=');
        SqlError err;
        *eq = 0;
        if (session_set(F.session, R->sets[i], eq + 1, &err) != 0)
            fail(R, &F, 0, "--set %s: %s", R->sets[i], err.msg);
        *eq = '=';
    }

    int    nlines;
    char **L = split_lines(text, &nlines);
    int    skipping = 0;
    StrBuf sql = {0};
    for (int i = 0; i < nlines;) {
        char *d = L[i];
        if (blank(d) || d[0] == '#') {
            i++;
            continue;
        }
        int start = i + 1;   /* 1-based line of the directive */
        char directive[256];
        snprintf(directive, sizeof directive, "%s", d);
        char *argv[8] = {0};
        int   argc = 0;
        char *save = NULL;
        for (char *t = strtok_r(directive, " \t", &save); t && argc < 8; t = strtok_r(NULL, " \t", &save))
            argv[argc++] = t;
        i++;

        if (!strcmp(argv[0], "halt")) break;
        if (!strcmp(argv[0], "mode") && argc > 1) {
            skipping = !strcmp(argv[1], "skip");
            continue;
        }
        /* body: lines up to a blank line, split at ---- for queries */
        sb_clear(&sql);
        int    sep = -1;
        int    body_start = i;
        while (i < nlines && !blank(L[i])) {
            if (sep < 0 && !strcmp(L[i], "----")) sep = i;
            i++;
        }
        int body_end = i;
        if (skipping) continue;

        if (!strcmp(argv[0], "input")) {
            if (argc < 2) {
                fail(R, &F, start, "input needs a file name%s%s", "", "");
                continue;
            }
            char p[512];
            snprintf(p, sizeof p, "%s/%s", F.tmpdir, argv[1]);
            FILE *out = fopen(p, "wb");
            if (!out) {
                fail(R, &F, start, "cannot write %s%s", p, "");
                continue;
            }
            for (int k = body_start; k < body_end; k++) fprintf(out, "%s\n", L[k]);
            fclose(out);
            continue;
        }
        int sql_end = sep >= 0 ? sep : body_end;
        for (int k = body_start; k < sql_end; k++) {
            sb_puts(&sql, L[k]);
            sb_puts(&sql, "\n");
        }
        if (!strcmp(argv[0], "statement") && argc >= 2 && !strcmp(argv[1], "ok")) {
            run_sql(R, &F, start, sql.p ? sql.p : "", 1, NULL, NULL, 0, NULL, 0);
        } else if (!strcmp(argv[0], "statement") && argc >= 2 && !strcmp(argv[1], "error")) {
            /* the substring is the rest of the directive line after "error" */
            const char *sub = strstr(d, "error") + 5;
            while (*sub == ' ' || *sub == '\t') sub++;
            run_sql(R, &F, start, sql.p ? sql.p : "", 0, sub, NULL, 0, NULL, 0);
        } else if (!strcmp(argv[0], "query") && argc >= 2) {
            if (sep < 0) {
                fail(R, &F, start, "query without a ---- line%s%s", "", "");
                continue;
            }
            int rowsort = argc >= 3 && !strcmp(argv[2], "rowsort");
            run_sql(R, &F, start, sql.p ? sql.p : "", 1, NULL, argv[1], rowsort, L + sep + 1,
                    body_end - sep - 1);
        } else {
            fail(R, &F, start, "unknown directive '%s'%s", argv[0], "");
        }
    }
    free(sql.p);
    free(L);
    free(text);
    session_free(F.session);
    rm_rf(F.tmpdir);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect *.test files under path, sorted, depth first. */
static void walk(Runner *R, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("FAIL %s:0: %s\n", path, strerror(errno));
        R->failed++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(R, path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) return;
    char         **names = NULL;
    size_t         n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        struct stat s2;
        if (stat(p, &s2) != 0) continue;
        if (!S_ISDIR(s2.st_mode) && !ends_with(e->d_name, ".test")) continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(p);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_path);
    for (size_t i = 0; i < n; i++) {
        walk(R, names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    Runner R = {0};
    int    nfiles = 0;
    char **sets = calloc((size_t)argc, sizeof *sets);
    R.sets = sets;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--set") && i + 1 < argc && strchr(argv[i + 1], '=')) {
            sets[R.nsets++] = argv[++i];
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--set")) {
            i++;
            continue;
        }
        walk(&R, argv[i]);
        nfiles++;
    }
    if (nfiles == 0) walk(&R, "tests/sql");
    printf("%d passed, %d failed\n", R.passed, R.failed);
    free(sets);
    return R.failed ? 1 : 0;
}
