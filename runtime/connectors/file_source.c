/*
 * file_source.c — the `file` and `stdin` sources: JSON lines or CSV records
 * from files (a glob, several files in name order), tailed with follow, or
 * from standard input.
 *
 * Reading. Every input is streamed through one buffer per open input: read
 * in chunks of up to the free space (256 KiB to start), records found in the
 * buffer, the unconsumed tail moved to the front before the next read. The
 * buffer doubles when one record does not fit, up to the option
 * `max-record-size` (default MAX_RECORD, 16 MiB; 1 KiB … 1 GiB); a longer
 * record is a bad record ("record longer than N bytes (max-record-size)")
 * and is skipped through the next newline, so one huge line costs at most
 * that much memory. Strings are slices of a record, so the largest string
 * is bounded by the same limit.
 *
 * Splitting among tasks (non-follow):
 *   JSON   the files, in name order, form one byte space of S bytes; task t
 *          of N owns [S*t/N, S*(t+1)/N) and within it the lines that start
 *          in its range (a piece of a file). To find its first line a task
 *          reads from the byte before its range and skips through the first
 *          newline; it reads its last line to its end even past the range.
 *          Sizes are taken at open, so the files must not change while read.
 *   CSV    a quoted field may hold newlines, so a line start cannot be found
 *          without reading from the top: whole files are dealt to tasks
 *          (file i, in name order, to task i mod N).
 * With follow, files (whole) go to task hash(path) mod N, a choice that does
 * not move when new files appear; the glob is evaluated again every second
 * while idle, a file that shrinks is read again from the start, and a file
 * replaced under its name (rotation) is reopened. Only task 0 reads stdin.
 *
 * Bad records are counted and skipped (the first SOURCE_BAD_KEEP messages
 * kept as "path:line: reason"), or with format.on-error = fail end the
 * source with SOURCE_ERROR and that message. Line numbers count physical
 * lines from 1; a task whose piece starts mid-file learns how many lines
 * precede it only when it needs to report one (one pass over the prefix).
 */
#include "runtime/connectors/conn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/vector.h"
#include "runtime/connectors/formats.h"

#define CHUNK          (256 * 1024)
#define MAX_RECORD     (16 * 1024 * 1024)   /* default of max-record-size */
#define MIN_RECORD_OPT ((int64_t)1024)
#define MAX_RECORD_OPT ((int64_t)1 << 30)
#define FOLLOW_WAIT_US (50 * 1000)
#define STDIN_WAIT_US  (10 * 1000)
#define REGLOB_US      (1000 * 1000)

enum { FMT_JSON, FMT_CSV };

/* one input being read: a piece of a file, a followed file, or stdin */
typedef struct Input {
    const char *path;          /* for messages (owned by FileSource)                 */
    int         fd;            /* -1 closed                                          */
    int         is_stdin;
    char       *buf;
    size_t      cap, pos, len; /* unconsumed bytes are buf[pos..len)                 */
    size_t      scan;          /* JSON: buf[pos..scan) holds no newline              */
    int64_t     off;           /* file offset of buf[0]                              */
    int64_t     end;           /* records starting at or after end are not ours      */
    int         eof;           /* no more bytes will come                            */
    int         skip_partial;  /* discarding up to the first newline (piece start)   */
    int         skip_long;     /* discarding the rest of a too-long record           */
    int64_t     first_off;     /* offset of the piece's first line                   */
    int64_t     line_base;     /* lines before first_off; -1 not counted yet         */
    int64_t     line_rel;      /* lines consumed since first_off                     */
    int         header_pending;/* CSV: the next record is the header                 */
    int        *map;           /* CSV: field index of each column (-1: none)         */
    int         nfields;       /* CSV with header: fields per record; else minimum   */
    dev_t       dev;           /* follow: identity of the open file                  */
    ino_t       ino;
} Input;

/* a byte range of one file (of paths[]) that this task reads */
typedef struct Piece {
    int     file;
    int64_t begin, end;
} Piece;

typedef struct FileSource {
    int          fmt;
    int          fail;          /* format.on-error = fail                           */
    size_t       max_record;    /* max-record-size: longest record, bytes           */
    int          header;        /* CSV: first record of each file is a header       */
    int          follow, is_stdin;
    int          task, ntasks;
    int          ncols;
    char       **names;         /* column names (copied)                            */
    SqlType     *types;
    int         *col_index;     /* declared positions                               */
    char        *pattern;       /* the glob                                         */
    CsvParser    csv;

    /* non-follow: pieces read one after another through `in` */
    char       **paths;
    int          npaths;
    Piece       *pieces;
    int          npieces, cur;  /* cur: the open piece, or the next to open         */
    Input        in;
    int          in_open;

    /* follow: every file of ours, each with its own input */
    Input       *ff;
    int          nff;
    int          rr;            /* round-robin position                             */
    int64_t      next_glob_us;
} FileSource;

enum { REC_OK, REC_DONE, REC_WAIT, REC_BAD, REC_ERR };

/* ---- inputs ------------------------------------------------------------------------ */

static void input_reset(Input *in, int64_t off)
{
    in->pos = in->len = in->scan = 0;
    in->off = off;
    in->eof = 0;
    in->skip_partial = in->skip_long = 0;
    in->first_off = off;
    in->line_base = 0;
    in->line_rel = 0;
}

static void input_close(Input *in)
{
    if (in->fd >= 0 && !in->is_stdin) close(in->fd);
    in->fd = -1;
}

static void input_free(Input *in)
{
    input_close(in);
    free(in->buf);
    free(in->map);
    in->buf = NULL;
    in->map = NULL;
}

enum { FILL_DATA, FILL_EOF, FILL_NONE, FILL_FULL, FILL_ERR };

/* Read more bytes behind buf[len]; the buffer grows up to max bytes. */
static int input_fill(Input *in, size_t max)
{
    if (in->pos > 0 && (in->pos >= in->cap / 2 || in->len == in->cap)) {
        memmove(in->buf, in->buf + in->pos, in->len - in->pos);
        in->off += (int64_t)in->pos;
        in->len -= in->pos;
        in->scan -= in->pos;
        in->pos = 0;
    }
    if (in->len == in->cap) {
        if (in->cap >= max) return FILL_FULL;
        size_t ncap = in->cap ? in->cap * 2 : CHUNK;
        if (ncap > max) ncap = max;
        char  *nb = realloc(in->buf, ncap);
        if (!nb) {
            errno = ENOMEM;
            return FILL_ERR;
        }
        in->buf = nb;
        in->cap = ncap;
    }
    if (in->is_stdin) {
        struct pollfd pfd = {in->fd, POLLIN, 0};
        int           rc = poll(&pfd, 1, 0);
        if (rc == 0) return FILL_NONE;
        if (rc < 0) return errno == EINTR ? FILL_NONE : FILL_ERR;
    }
    ssize_t got;
    do got = read(in->fd, in->buf + in->len, in->cap - in->len);
    while (got < 0 && errno == EINTR);
    if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? FILL_NONE : FILL_ERR;
    if (got == 0) return FILL_EOF;
    in->len += (size_t)got;
    return FILL_DATA;
}

/* Count the lines before the piece's first line (for a message). */
static void input_count_base(Input *in)
{
    if (in->line_base >= 0) return;
    in->line_base = 0;
    char *tmp = malloc(65536);
    if (!tmp) return;
    int64_t at = 0;
    while (at < in->first_off) {
        size_t  want = (size_t)(in->first_off - at < 65536 ? in->first_off - at : 65536);
        ssize_t got = pread(in->fd, tmp, want, at);
        if (got <= 0) break;
        for (ssize_t i = 0; i < got; i++) in->line_base += tmp[i] == '\n';
        at += got;
    }
    free(tmp);
}

static void bad_message(Input *in, char *msg, size_t cap, const char *why)
{
    input_count_base(in);
    snprintf(msg, cap, "%s:%lld: %s", in->path, (long long)(in->line_base + in->line_rel + 1),
             why);
}

/* ---- records ------------------------------------------------------------------------ */

/* Handle the result of a fill for a caller that needs more bytes: 1 = try
 * again, else a REC_ code. At EOF in follow mode (not stdin) there is
 * simply nothing yet. */
static int after_fill(FileSource *fs, Input *in, int rc, char *why, size_t cap)
{
    switch (rc) {
    case FILL_DATA: return 1;
    case FILL_EOF:
        if (fs->follow && !in->is_stdin) return REC_WAIT;
        in->eof = 1;
        return 1;
    case FILL_NONE: return REC_WAIT;
    case FILL_FULL:
        snprintf(why, cap, "record longer than %zu bytes (max-record-size)", fs->max_record);
        in->skip_long = 1;
        return REC_BAD;
    default:
        snprintf(why, cap, "read error: %s", strerror(errno));
        return REC_ERR;
    }
}

/* Discard through the next newline. 0 done, else a REC_ code to return. */
static int skip_line(FileSource *fs, Input *in, char *why, size_t cap)
{
    for (;;) {
        const char *nl = in->len > in->pos ? memchr(in->buf + in->pos, '\n', in->len - in->pos) : NULL;
        if (nl) {
            in->pos = (size_t)(nl - in->buf) + 1;
            in->scan = in->pos;
            return 0;
        }
        in->pos = in->scan = in->len;
        if (in->eof) return 0;
        int rc = after_fill(fs, in, input_fill(in, fs->max_record), why, cap);
        if (rc != 1) return rc == REC_BAD ? REC_ERR : rc;
    }
}

/* A record found by next_record. */
typedef struct Rec {
    const char *p;       /* JSON: the line without its newline; CSV: the raw record */
    size_t      n;
    size_t      used;    /* bytes consumed (terminator included)                    */
    int64_t     lines;   /* newlines consumed                                       */
} Rec;

static int64_t count_newlines(const char *p, size_t n)
{
    int64_t k = 0;
    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++) k++;
    return k;
}

/* The next record of `in` (CSV: fields in fs->csv). REC_OK, REC_DONE (no
 * more records in this input), REC_WAIT, REC_BAD (why set; the record is
 * consumed, or for a too-long one, being skipped) or REC_ERR (why set). */
static int next_record(FileSource *fs, Input *in, Rec *r, char *why, size_t cap)
{
    for (;;) {
        if (in->skip_partial || in->skip_long) {
            int was_long = in->skip_long;
            int rc = skip_line(fs, in, why, cap);
            if (rc) return rc;
            in->skip_partial = in->skip_long = 0;
            if (was_long) {
                in->line_rel++;
            } else {
                in->first_off = in->off + (int64_t)in->pos;
                in->line_base = -1;
            }
            continue;
        }
        if (in->off + (int64_t)in->pos >= in->end) return REC_DONE;
        size_t avail = in->len - in->pos;
        if (fs->fmt == FMT_JSON) {
            const char *nl = in->len > in->scan ? memchr(in->buf + in->scan, '\n', in->len - in->scan)
                                                : NULL;
            if (nl || (in->eof && avail > 0)) {
                size_t stop = nl ? (size_t)(nl - in->buf) : in->len;
                r->p = in->buf + in->pos;
                r->n = stop - in->pos;
                r->used = r->n + (nl != NULL);
                r->lines = nl != NULL;
                in->pos = in->scan = in->pos + r->used;
                return REC_OK;
            }
            if (in->eof) return REC_DONE;
            in->scan = in->len;
        } else if (avail > 0) {
            size_t used;
            int    rc = csv_parse_record(&fs->csv, in->buf + in->pos, avail, in->eof, &used, why,
                                         cap);
            if (rc == CSV_OOM) {
                snprintf(why, cap, "out of memory");
                return REC_ERR;
            }
            if (rc == CSV_RECORD || rc == CSV_BAD) {
                r->p = in->buf + in->pos;
                r->n = r->used = used;
                r->lines = count_newlines(r->p, used);
                in->pos += used;
                in->scan = in->pos;
                return rc == CSV_RECORD ? REC_OK : REC_BAD;
            }
        } else if (in->eof) {
            return REC_DONE;
        }
        int rc = after_fill(fs, in, input_fill(in, fs->max_record), why, cap);
        if (rc == REC_BAD) {
            /* too long: drop what we have; the rest is skipped next time */
            r->p = NULL;
            r->n = 0;
            r->used = in->len - in->pos;
            r->lines = 0;
            in->pos = in->scan = in->len;
            return REC_BAD;
        }
        if (rc != 1) return rc;
    }
}

/* ---- CSV headers ------------------------------------------------------------------- */

/* The header record names the fields: map each column to its field. */
static void map_header(FileSource *fs, Input *in)
{
    const CsvParser *cp = &fs->csv;
    for (int c = 0; c < fs->ncols; c++) {
        int found = -1;
        for (int f = 0; f < cp->nf && found < 0; f++)
            if (cp->f[f].n == strlen(fs->names[c]) &&
                memcmp(cp->f[f].p, fs->names[c], cp->f[f].n) == 0)
                found = f;
        for (int f = 0; f < cp->nf && found < 0; f++)
            if (cp->f[f].n == strlen(fs->names[c]) &&
                strncasecmp(cp->f[f].p, fs->names[c], cp->f[f].n) == 0)
                found = f;
        in->map[c] = found;
    }
    in->nfields = cp->nf;
    in->header_pending = 0;
}

static int input_setup_csv(FileSource *fs, Input *in)
{
    if (!in->map) {
        in->map = malloc((fs->ncols > 0 ? (size_t)fs->ncols : 1) * sizeof *in->map);
        if (!in->map) return -1;
    }
    in->header_pending = fs->header;
    int need = 0;
    for (int c = 0; c < fs->ncols; c++) {
        in->map[c] = fs->col_index ? fs->col_index[c] : c;
        if (in->map[c] + 1 > need) need = in->map[c] + 1;
    }
    in->nfields = need;
    return 0;
}

/* ---- reading records into the batch ------------------------------------------------ */

/* A bad record: count it (and fail if so configured). 0 = go on, -1 = error. */
static int handle_bad(Source *s, FileSource *fs, Input *in, const char *why)
{
    char msg[SOURCE_BAD_MSG_LEN];
    bad_message(in, msg, sizeof msg, why);
    conn_bad_record(s, msg);
    if (fs->fail) {
        conn_set_error(s, "bad record at %s (format.on-error = fail)", msg);
        return -1;
    }
    return 0;
}

/* Read records of `in` into b until the batch is full or the input has no
 * more for now. Returns REC_DONE (input finished), REC_WAIT (nothing more
 * now), REC_OK (batch full) or REC_ERR (s->error set). */
static int read_input(Source *s, FileSource *fs, Input *in, Batch *b)
{
    char why[200];
    while (b->nrows < b->capacity) {
        Rec r = {NULL, 0, 0, 0};
        int rc = next_record(fs, in, &r, why, sizeof why);
        if (rc == REC_DONE || rc == REC_WAIT) return rc;
        if (rc == REC_ERR) {
            conn_set_error(s, "%s: %s", in->path, why);
            return REC_ERR;
        }
        const char *rec = r.p;
        size_t      n = r.n;
        int64_t     lines = r.lines;
        s->stats.bytes += (int64_t)r.used;
        if (rc == REC_BAD) {
            if (handle_bad(s, fs, in, why)) return REC_ERR;
            in->line_rel += lines;
            continue;
        }
        int row = b->nrows, bad = 0;
        if (fs->fmt == FMT_JSON) {
            size_t k = 0;
            while (k < n && (rec[k] == ' ' || rec[k] == '\t' || rec[k] == '\r')) k++;
            if (k == n) {   /* blank line */
                in->line_rel += lines;
                continue;
            }
            bad = json_decode_line(rec, n, fs->ncols, (const char *const *)fs->names, b, row,
                                   why, sizeof why);
        } else {
            const CsvParser *cp = &fs->csv;
            if (cp->nf == 1 && cp->f[0].n == 0 && !cp->f[0].quoted) {   /* blank line */
                in->line_rel += lines;
                continue;
            }
            if (in->header_pending) {
                map_header(fs, in);
                in->line_rel += lines;
                continue;
            }
            if (fs->header ? cp->nf != in->nfields : cp->nf < in->nfields) {
                snprintf(why, sizeof why, "expected %s%d fields, found %d",
                         fs->header ? "" : "at least ", in->nfields, cp->nf);
                bad = -1;
            } else {
                bad = csv_decode_record(cp, in->map, b, row, why, sizeof why);
            }
        }
        if (bad) {
            if (handle_bad(s, fs, in, why)) return REC_ERR;
        } else {
            batch_set_nrows(b, row + 1);
        }
        in->line_rel += lines;
    }
    return REC_OK;
}

/* ---- non-follow: pieces -------------------------------------------------------------- */

static int open_piece(Source *s, FileSource *fs)
{
    Input *in = &fs->in;
    int    pi = fs->cur;
    const char *path = fs->paths[fs->pieces[pi].file];
    int64_t     begin = fs->pieces[pi].begin;
    in->path = path;
    in->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0) {
        conn_set_error(s, "file: cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    int64_t start = begin > 0 ? begin - 1 : 0;
    if (lseek(in->fd, start, SEEK_SET) < 0) {
        conn_set_error(s, "file: cannot seek in '%s': %s", path, strerror(errno));
        return -1;
    }
    input_reset(in, start);
    in->end = fs->pieces[pi].end;
    in->skip_partial = begin > 0;
    if (fs->fmt == FMT_CSV && input_setup_csv(fs, in)) {
        conn_set_error(s, "file: out of memory");
        return -1;
    }
    fs->in_open = 1;
    return 0;
}

static SourceStatus pieces_next(Source *s, FileSource *fs, Batch *b, int64_t *wait_us)
{
    while (b->nrows < b->capacity) {
        if (!fs->in_open) {
            if (fs->cur >= fs->npieces) return b->nrows > 0 ? SOURCE_BATCH : SOURCE_END;
            if (open_piece(s, fs)) return SOURCE_ERROR;
        }
        int rc = read_input(s, fs, &fs->in, b);
        if (rc == REC_ERR) return SOURCE_ERROR;
        if (rc == REC_WAIT) {   /* stdin with nothing to read yet */
            if (b->nrows > 0) return SOURCE_BATCH;
            *wait_us = STDIN_WAIT_US;
            return SOURCE_IDLE;
        }
        if (rc == REC_DONE) {
            input_close(&fs->in);
            fs->in_open = 0;
            fs->cur++;
        }
    }
    return SOURCE_BATCH;
}

/* ---- follow ---------------------------------------------------------------------------- */

static uint64_t path_hash(const char *p)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *p; p++) h = (h ^ (unsigned char)*p) * UINT64_C(0x100000001b3);
    return conn_mix64(h);
}

static int follow_open(FileSource *fs, Input *in)
{
    in->fd = open(in->path, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0) return -1;
    struct stat st;
    if (fstat(in->fd, &st) == 0) {
        in->dev = st.st_dev;
        in->ino = st.st_ino;
    }
    input_reset(in, 0);
    in->end = INT64_MAX;
    if (fs->fmt == FMT_CSV && input_setup_csv(fs, in)) return -1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Evaluate the glob; add the regular files of ours that are new. */
static int follow_glob(FileSource *fs)
{
    glob_t g;
    int    rc = glob(fs->pattern, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) return 0;
    if (rc != 0) return -1;
    qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, cmp_str);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *p = g.gl_pathv[i];
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (path_hash(p) % (uint64_t)fs->ntasks != (uint64_t)fs->task) continue;
        int known = 0;
        for (int k = 0; k < fs->nff && !known; k++) known = strcmp(fs->ff[k].path, p) == 0;
        if (known) continue;
        Input *ff = realloc(fs->ff, (size_t)(fs->nff + 1) * sizeof *ff);
        if (!ff) break;
        fs->ff = ff;
        Input *in = &fs->ff[fs->nff];
        memset(in, 0, sizeof *in);
        in->fd = -1;
        in->path = strdup(p);
        if (!in->path) break;
        fs->nff++;
        /* keep the list in name order */
        for (int k = fs->nff - 1; k > 0 && strcmp(fs->ff[k - 1].path, fs->ff[k].path) > 0; k--) {
            Input t = fs->ff[k];
            fs->ff[k] = fs->ff[k - 1];
            fs->ff[k - 1] = t;
        }
    }
    globfree(&g);
    return 0;
}

/* Idle housekeeping for one followed file: truncation and rotation. */
static void follow_check(FileSource *fs, Input *in)
{
    if (in->fd < 0) {
        follow_open(fs, in);
        return;
    }
    struct stat cur, now;
    if (fstat(in->fd, &cur) == 0 && cur.st_size < in->off + (int64_t)in->len) {
        lseek(in->fd, 0, SEEK_SET);          /* truncated in place: from the start */
        input_reset(in, 0);
        if (fs->fmt == FMT_CSV) input_setup_csv(fs, in);
        return;
    }
    if (stat(in->path, &now) == 0 && (now.st_ino != in->ino || now.st_dev != in->dev)) {
        input_close(in);                     /* replaced: the old one was read to its end */
        follow_open(fs, in);
    }
}

static SourceStatus follow_next(Source *s, FileSource *fs, Batch *b, int64_t now_us,
                                int64_t *wait_us)
{
    if (now_us >= fs->next_glob_us) {
        follow_glob(fs);
        fs->next_glob_us = now_us + REGLOB_US;
    }
    int idle = 0;   /* consecutive files with nothing for now */
    while (b->nrows < b->capacity && fs->nff > 0 && idle < fs->nff) {
        Input *in = &fs->ff[fs->rr];
        if (in->fd < 0 && follow_open(fs, in) != 0) {
            in->fd = -1;
            idle++;
            fs->rr = (fs->rr + 1) % fs->nff;
            continue;
        }
        int rc = read_input(s, fs, in, b);
        if (rc == REC_ERR) return SOURCE_ERROR;
        if (rc == REC_OK) break;   /* batch full */
        idle++;
        fs->rr = (fs->rr + 1) % fs->nff;
    }
    if (b->nrows > 0) return SOURCE_BATCH;
    for (int k = 0; k < fs->nff; k++) follow_check(fs, &fs->ff[k]);
    *wait_us = FOLLOW_WAIT_US;
    return SOURCE_IDLE;
}

/* ---- the Source ------------------------------------------------------------------------ */

static SourceStatus file_next(Source *s, Batch *b, int64_t now_us, int64_t *wait_us)
{
    FileSource *fs = s->impl;
    if (b->capacity - b->nrows <= 0) return SOURCE_BATCH;
    if (fs->follow) return follow_next(s, fs, b, now_us, wait_us);
    return pieces_next(s, fs, b, wait_us);
}

static void file_free(FileSource *fs)
{
    if (!fs) return;
    input_free(&fs->in);
    for (int k = 0; k < fs->nff; k++) {
        free((char *)fs->ff[k].path);
        input_free(&fs->ff[k]);
    }
    free(fs->ff);
    for (int i = 0; i < fs->npaths; i++) free(fs->paths[i]);
    free(fs->paths);
    free(fs->pieces);
    for (int c = 0; c < fs->ncols; c++) free(fs->names ? fs->names[c] : NULL);
    free(fs->names);
    free(fs->types);
    free(fs->col_index);
    free(fs->pattern);
    csv_parser_free(&fs->csv);
    free(fs);
}

static void file_close(Source *s)
{
    file_free(s->impl);
    s->impl = NULL;
}

/* ---- checkpoints ----------------------------------------------------------------------
 *
 * The position of an input is the byte offset of its next unread record
 * (off + pos: bytes buffered behind it are not part of it) with what reading
 * from there needs: the line count (first_off, line_base — -1 while not
 * counted — and line_rel), the skip state (a piece's first partial line, the
 * rest of a too-long record) and, for CSV, whether the header is still to
 * come and the header's column mapping. source_next stops consuming as soon
 * as the batch is full, so that offset is just after the last row returned.
 *
 * Blob body (version 1):
 *   fmt, header, follow, task, ntasks, ncols
 *   without follow: the number of remaining pieces, whether the first is
 *     open (then its input position), then per piece: path, begin, end
 *   with follow: the number of files, the round-robin index, then per file:
 *     path, opened (then its input position)
 */
#define FILE_CKPT_VERSION 1
#define MAX_FIELDS        (1 << 20)

static void put_input(CkptOut *w, const FileSource *fs, const Input *in)
{
    ckpt_put_i64(w, in->off + (int64_t)in->pos);
    ckpt_put_i64(w, in->first_off);
    ckpt_put_i64(w, in->line_base);
    ckpt_put_i64(w, in->line_rel);
    ckpt_put_u64(w, (uint64_t)in->skip_partial | (uint64_t)in->skip_long << 1 |
                        (uint64_t)in->header_pending << 2);
    ckpt_put_i64(w, fs->fmt == FMT_CSV ? in->nfields : 0);
    for (int c = 0; c < fs->ncols && fs->fmt == FMT_CSV; c++) ckpt_put_i64(w, in->map[c]);
}

typedef struct InPos {
    int64_t off, first_off, line_base, line_rel;
    int     skip_partial, skip_long, header_pending, nfields;
    int    *map;   /* fs->ncols entries (CSV) */
} InPos;

static int get_input(CkptIn *r, const FileSource *fs, InPos *ip, char *err, size_t cap)
{
    ip->off = ckpt_get_i64(r);
    ip->first_off = ckpt_get_i64(r);
    ip->line_base = ckpt_get_i64(r);
    ip->line_rel = ckpt_get_i64(r);
    uint64_t flags = ckpt_get_u64(r);
    int64_t  nf = ckpt_get_i64(r);
    ip->skip_partial = (int)(flags & 1);
    ip->skip_long = (int)(flags >> 1 & 1);
    ip->header_pending = (int)(flags >> 2 & 1);
    int ok = !r->bad && ip->off >= 0 && ip->first_off >= 0 && ip->line_base >= -1 &&
             ip->line_rel >= 0 && flags < 8 && nf >= 0 && nf <= MAX_FIELDS;
    ip->nfields = (int)nf;
    for (int c = 0; c < fs->ncols && fs->fmt == FMT_CSV; c++) {
        int64_t m = ckpt_get_i64(r);
        ok &= !r->bad && m >= -1 && m < nf;
        if (ip->map) ip->map[c] = (int)m;
    }
    if (!ok) return conn_errf(err, cap, "file: the checkpoint blob is malformed");
    return 0;
}

/* Point `in` (open on its file, fd anywhere) at a restored position. */
static int apply_input(FileSource *fs, Input *in, const InPos *ip, char *err, size_t cap)
{
    if (lseek(in->fd, ip->off, SEEK_SET) < 0)
        return conn_errf(err, cap, "file: cannot seek in '%s': %s", in->path, strerror(errno));
    int64_t end = in->end;
    input_reset(in, ip->off);
    in->end = end;
    in->first_off = ip->first_off;
    in->line_base = ip->line_base;
    in->line_rel = ip->line_rel;
    in->skip_partial = ip->skip_partial;
    in->skip_long = ip->skip_long;
    if (fs->fmt == FMT_CSV) {
        if (input_setup_csv(fs, in)) return conn_errf(err, cap, "out of memory");
        in->header_pending = ip->header_pending;
        in->nfields = ip->nfields;
        memcpy(in->map, ip->map, (size_t)fs->ncols * sizeof *in->map);
    }
    return 0;
}

/* The file must exist and be at least `need` bytes long. */
static int check_size(const char *path, int64_t need, char *err, size_t cap)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return conn_errf(err, cap, "file: '%s' of the checkpoint cannot be read: %s", path,
                         strerror(errno));
    if ((int64_t)st.st_size < need)
        return conn_errf(err, cap,
                         "file: '%s' is %lld bytes long, shorter than at the checkpoint (%lld bytes "
                         "needed): the file was truncated or replaced",
                         path, (long long)st.st_size, (long long)need);
    return 0;
}

static long file_checkpoint(Source *s, void *buf, size_t cap)
{
    FileSource *fs = s->impl;
    if (fs->is_stdin) {
        conn_set_error(s, "stdin cannot be replayed from a checkpoint");
        return -1;
    }
    CkptOut w;
    ckpt_out_begin(&w, buf, cap, "file", FILE_CKPT_VERSION);
    ckpt_put_i64(&w, fs->fmt);
    ckpt_put_i64(&w, fs->header);
    ckpt_put_i64(&w, fs->follow);
    ckpt_put_i64(&w, fs->task);
    ckpt_put_i64(&w, fs->ntasks);
    ckpt_put_i64(&w, fs->ncols);
    if (!fs->follow) {
        ckpt_put_i64(&w, fs->npieces - fs->cur);
        ckpt_put_i64(&w, fs->in_open);
        if (fs->in_open) put_input(&w, fs, &fs->in);
        for (int i = fs->cur; i < fs->npieces; i++) {
            ckpt_put_str(&w, fs->paths[fs->pieces[i].file]);
            ckpt_put_i64(&w, fs->pieces[i].begin);
            ckpt_put_i64(&w, fs->pieces[i].end);
        }
    } else {
        ckpt_put_i64(&w, fs->nff);
        ckpt_put_i64(&w, fs->rr);
        for (int k = 0; k < fs->nff; k++) {
            const Input *in = &fs->ff[k];
            ckpt_put_str(&w, in->path);
            ckpt_put_i64(&w, in->fd >= 0);
            if (in->fd >= 0) put_input(&w, fs, in);
        }
    }
    return conn_ckpt_finish(s, &w, "file");
}

static int restore_pieces(FileSource *fs, CkptIn *r, char *err, size_t cap)
{
    int64_t n = ckpt_get_i64(r), open_first = ckpt_get_i64(r);
    if (r->bad || n < 0 || n > (int64_t)(r->len / 16) + 1 || open_first < 0 || open_first > 1 ||
        (open_first && n == 0))
        return conn_errf(err, cap, "file: the checkpoint blob is malformed");
    InPos ip = {0};
    int   rc = -1;
    ip.map = calloc((size_t)(fs->ncols > 0 ? fs->ncols : 1), sizeof *ip.map);
    Piece *pieces = calloc((size_t)(n > 0 ? n : 1), sizeof *pieces);
    if (!ip.map || !pieces) {
        conn_errf(err, cap, "out of memory");
        goto done;
    }
    if (open_first && get_input(r, fs, &ip, err, cap)) goto done;
    for (int64_t i = 0; i < n; i++) {
        size_t      len;
        const char *path = ckpt_get_str(r, &len);
        int64_t     begin = ckpt_get_i64(r), end = ckpt_get_i64(r);
        if (r->bad || begin < 0 || end < begin) {
            conn_errf(err, cap, "file: the checkpoint blob is malformed");
            goto done;
        }
        int f = -1;
        for (int k = 0; k < fs->npaths && f < 0; k++)
            if (ckpt_str_is(path, len, fs->paths[k])) f = k;
        if (f < 0) {
            conn_errf(err, cap, "file: the checkpoint reads '%.*s', which '%s' does not match now",
                      (int)(len < 300 ? len : 300), path, fs->pattern);
            goto done;
        }
        int64_t need = end;
        if (i == 0 && open_first && ip.off > need) need = ip.off;
        if (check_size(fs->paths[f], need, err, cap)) goto done;
        pieces[i].file = f;
        pieces[i].begin = begin;
        pieces[i].end = end;
    }
    if (ckpt_in_end(r, "file", err, cap)) goto done;
    /* everything checked: switch to the checkpoint's plan */
    free(fs->pieces);
    fs->pieces = pieces;
    pieces = NULL;
    fs->npieces = (int)n;
    fs->cur = 0;
    if (open_first) {
        Input *in = &fs->in;
        in->path = fs->paths[fs->pieces[0].file];
        in->fd = open(in->path, O_RDONLY | O_CLOEXEC);
        if (in->fd < 0) {
            conn_errf(err, cap, "file: cannot open '%s': %s", in->path, strerror(errno));
            fs->npieces = 0;
            goto done;
        }
        in->end = fs->pieces[0].end;
        if (apply_input(fs, in, &ip, err, cap)) {
            input_close(in);
            fs->npieces = 0;
            goto done;
        }
        fs->in_open = 1;
    }
    rc = 0;
done:
    free(ip.map);
    free(pieces);
    return rc;
}

static int restore_follow(FileSource *fs, CkptIn *r, char *err, size_t cap)
{
    int64_t n = ckpt_get_i64(r), rr = ckpt_get_i64(r);
    if (r->bad || n < 0 || n > (int64_t)(r->len / 12) + 1 || rr < 0 || (n > 0 && rr >= n) ||
        (n == 0 && rr != 0))
        return conn_errf(err, cap, "file: the checkpoint blob is malformed");
    InPos ip = {0};
    int   rc = -1, rr_ff = 0;
    ip.map = calloc((size_t)(fs->ncols > 0 ? fs->ncols : 1), sizeof *ip.map);
    if (!ip.map) return conn_errf(err, cap, "out of memory");
    /* two passes: check everything, then apply (a failed restore changes nothing) */
    size_t start = r->off;
    for (int pass = 0; pass < 2; pass++) {
        r->off = start;
        for (int64_t i = 0; i < n; i++) {
            size_t      len;
            const char *path = ckpt_get_str(r, &len);
            int64_t     opened = ckpt_get_i64(r);
            if (r->bad || opened < 0 || opened > 1) {
                conn_errf(err, cap, "file: the checkpoint blob is malformed");
                goto done;
            }
            if (opened && get_input(r, fs, &ip, err, cap)) goto done;
            int k = -1;
            for (int j = 0; j < fs->nff && k < 0; j++)
                if (ckpt_str_is(path, len, fs->ff[j].path)) k = j;
            if (k < 0 && !opened) continue;   /* never opened: nothing was read from it */
            if (k < 0) {
                conn_errf(err, cap,
                          "file: the checkpoint follows '%.*s', which is not among the files "
                          "'%s' gives this task now",
                          (int)(len < 300 ? len : 300), path, fs->pattern);
                goto done;
            }
            if (i == rr) rr_ff = k;
            if (!opened) continue;
            if (pass == 0) {
                if (check_size(fs->ff[k].path, ip.off, err, cap)) goto done;
                continue;
            }
            Input *in = &fs->ff[k];
            if (in->fd < 0 && follow_open(fs, in) != 0) {
                conn_errf(err, cap, "file: cannot open '%s': %s", in->path, strerror(errno));
                goto done;
            }
            if (apply_input(fs, in, &ip, err, cap)) goto done;
        }
        if (pass == 0 && ckpt_in_end(r, "file", err, cap)) goto done;
    }
    fs->rr = rr_ff;
    rc = 0;
done:
    free(ip.map);
    return rc;
}

static int file_restore(Source *s, const void *buf, size_t len, char *err, size_t cap)
{
    FileSource *fs = s->impl;
    if (fs->is_stdin) return conn_errf(err, cap, "stdin cannot be replayed from a checkpoint");
    CkptIn r;
    if (ckpt_in_begin(&r, buf, len, "file", FILE_CKPT_VERSION, err, cap)) return -1;
    int64_t fmt = ckpt_get_i64(&r), header = ckpt_get_i64(&r), follow = ckpt_get_i64(&r);
    int64_t task = ckpt_get_i64(&r), ntasks = ckpt_get_i64(&r), ncols = ckpt_get_i64(&r);
    if (r.bad) return conn_errf(err, cap, "file: the checkpoint blob is malformed");
    if (fmt != fs->fmt || header != fs->header || follow != fs->follow)
        return conn_errf(err, cap, "file: the checkpoint was taken with another format, csv.header "
                                   "or follow setting");
    if (task != fs->task || ntasks != fs->ntasks)
        return conn_errf(err, cap, "file: the checkpoint is of task %lld of %lld, this is task %d of %d",
                         (long long)task, (long long)ntasks, fs->task, fs->ntasks);
    if (ncols != fs->ncols)
        return conn_errf(err, cap, "file: the checkpoint has %lld columns, this source %d",
                         (long long)ncols, fs->ncols);
    return follow ? restore_follow(fs, &r, err, cap) : restore_pieces(fs, &r, err, cap);
}

static const SourceOps file_ops = {file_next, file_close, file_checkpoint, file_restore};

/* ---- open ---------------------------------------------------------------------------------- */

static int parse_delimiter(const ConnSpec *spec, char *out, char *err, size_t cap)
{
    const char *v = conn_opt(spec, "csv.delimiter");
    *out = ',';
    if (!v) return 0;
    if (strcmp(v, "\\t") == 0 || strcasecmp(v, "tab") == 0) *out = '\t';
    else if (strlen(v) == 1 && v[0] != '"' && v[0] != '\n' && v[0] != '\r') *out = v[0];
    else
        return conn_errf(err, cap,
                         "%s: option 'csv.delimiter' must be one character (or '\\t'); got '%s'",
                         spec->connector, v);
    return 0;
}

/* Expand the glob into regular files, sorted by name. */
static int expand_glob(FileSource *fs, int64_t **sizes, char *err, size_t cap)
{
    glob_t g;
    int    rc = glob(fs->pattern, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) return conn_errf(err, cap, "file: no file matches '%s'", fs->pattern);
    if (rc != 0) return conn_errf(err, cap, "file: cannot expand '%s'", fs->pattern);
    qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, cmp_str);
    fs->paths = calloc(g.gl_pathc ? g.gl_pathc : 1, sizeof *fs->paths);
    *sizes = calloc(g.gl_pathc ? g.gl_pathc : 1, sizeof **sizes);
    if (!fs->paths || !*sizes) {
        globfree(&g);
        return conn_errf(err, cap, "out of memory");
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        struct stat st;
        if (stat(g.gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode)) continue;
        char *p = strdup(g.gl_pathv[i]);
        if (!p) {
            globfree(&g);
            return conn_errf(err, cap, "out of memory");
        }
        (*sizes)[fs->npaths] = st.st_size;
        fs->paths[fs->npaths++] = p;
    }
    globfree(&g);
    if (fs->npaths == 0) return conn_errf(err, cap, "file: no regular file matches '%s'", fs->pattern);
    return 0;
}

static int plan_pieces(FileSource *fs, const int64_t *sizes, char *err, size_t cap)
{
    fs->pieces = calloc((size_t)fs->npaths, sizeof *fs->pieces);
    if (!fs->pieces) return conn_errf(err, cap, "out of memory");
    if (fs->fmt == FMT_CSV) {
        for (int i = 0; i < fs->npaths; i++)
            if (i % fs->ntasks == fs->task && sizes[i] > 0) {
                fs->pieces[fs->npieces].file = i;
                fs->pieces[fs->npieces].begin = 0;
                fs->pieces[fs->npieces].end = sizes[i];
                fs->npieces++;
            }
        return 0;
    }
    unsigned __int128 total = 0;
    for (int i = 0; i < fs->npaths; i++) total += (uint64_t)sizes[i];
    int64_t lo = (int64_t)(total * (unsigned)fs->task / (unsigned)fs->ntasks);
    int64_t hi = (int64_t)(total * (unsigned)(fs->task + 1) / (unsigned)fs->ntasks);
    int64_t g = 0;   /* global offset of file i */
    for (int i = 0; i < fs->npaths; i++) {
        int64_t b = lo > g ? lo : g, e = hi < g + sizes[i] ? hi : g + sizes[i];
        if (b < e) {
            fs->pieces[fs->npieces].file = i;
            fs->pieces[fs->npieces].begin = b - g;
            fs->pieces[fs->npieces].end = e - g;
            fs->npieces++;
        }
        g += sizes[i];
    }
    return 0;
}

static int copy_columns(FileSource *fs, const ConnSpec *spec, char *err, size_t cap)
{
    size_t n = spec->ncols > 0 ? (size_t)spec->ncols : 1;
    fs->ncols = spec->ncols;
    fs->names = calloc(n, sizeof *fs->names);
    fs->types = calloc(n, sizeof *fs->types);
    fs->col_index = calloc(n, sizeof *fs->col_index);
    if (!fs->names || !fs->types || !fs->col_index) return conn_errf(err, cap, "out of memory");
    for (int c = 0; c < spec->ncols; c++) {
        fs->names[c] = strdup(spec->col_names[c]);
        if (!fs->names[c]) return conn_errf(err, cap, "out of memory");
        fs->types[c] = spec->col_types[c];
        fs->col_index[c] = spec->col_index ? spec->col_index[c] : c;
        if (fs->col_index[c] < 0)
            return conn_errf(err, cap, "%s: bad position for column '%s'", spec->connector,
                             spec->col_names[c]);
    }
    return 0;
}

/* max-record-size: bytes, optionally with K/KB/KiB, M/MB/MiB or G/GB/GiB
 * (powers of 1024); MIN_RECORD_OPT … MAX_RECORD_OPT. */
static int parse_max_record(const ConnSpec *spec, size_t *out, char *err, size_t cap)
{
    const char *v = conn_opt(spec, "max-record-size");
    *out = MAX_RECORD;
    if (!v) return 0;
    char     *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    int64_t   mult = 1;
    while (*end == ' ') end++;
    if (!strcasecmp(end, "k") || !strcasecmp(end, "kb") || !strcasecmp(end, "kib")) mult = 1 << 10;
    else if (!strcasecmp(end, "m") || !strcasecmp(end, "mb") || !strcasecmp(end, "mib")) mult = 1 << 20;
    else if (!strcasecmp(end, "g") || !strcasecmp(end, "gb") || !strcasecmp(end, "gib")) mult = 1 << 30;
    else if (*end && strcasecmp(end, "b")) mult = 0;
    if (end == v || errno || mult == 0 || x < MIN_RECORD_OPT / mult || x > MAX_RECORD_OPT / mult ||
        x * mult < MIN_RECORD_OPT)
        return conn_errf(err, cap,
                         "%s: option 'max-record-size' must be a size from 1KB to 1GB "
                         "(like '64MB'); got '%s'", spec->connector, v);
    *out = (size_t)(x * mult);
    return 0;
}

int file_source_open(Source *s, const ConnSpec *spec, int is_stdin, char *err, size_t cap)
{
    int task, ntasks;
    if (conn_check_task(spec, &task, &ntasks, err, cap)) return -1;
    FileSource *fs = calloc(1, sizeof *fs);
    if (!fs) return conn_errf(err, cap, "out of memory");
    fs->in.fd = -1;
    fs->task = task;
    fs->ntasks = ntasks;
    fs->is_stdin = is_stdin;
    int64_t    *sizes = NULL;
    const char *fmt = spec->format ? spec->format : conn_opt(spec, "format");
    const char *onerr = conn_opt(spec, "format.on-error");
    char        delim;
    if (!fmt || strcasecmp(fmt, "json") == 0) fs->fmt = FMT_JSON;
    else if (strcasecmp(fmt, "csv") == 0) fs->fmt = FMT_CSV;
    else {
        conn_errf(err, cap, "%s: format must be json or csv; got '%s'", spec->connector, fmt);
        goto fail;
    }
    if (parse_max_record(spec, &fs->max_record, err, cap)) goto fail;
    if (onerr && strcasecmp(onerr, "fail") == 0) fs->fail = 1;
    else if (onerr && strcasecmp(onerr, "skip") != 0) {
        conn_errf(err, cap, "%s: option 'format.on-error' must be skip or fail; got '%s'",
                  spec->connector, onerr);
        goto fail;
    }
    fs->header = fs->fmt == FMT_CSV;
    if (conn_opt_bool(spec, "csv.header", &fs->header, err, cap) < 0 ||
        parse_delimiter(spec, &delim, err, cap) || copy_columns(fs, spec, err, cap))
        goto fail;
    csv_parser_init(&fs->csv, delim);
    if (fs->fmt == FMT_JSON) fs->header = 0;

    if (is_stdin) {
        /* one piece: fd 0, read by task 0 only */
        fs->paths = calloc(1, sizeof *fs->paths);
        fs->pieces = calloc(1, sizeof *fs->pieces);
        if (!fs->paths || !fs->pieces || !(fs->paths[0] = strdup("<stdin>"))) {
            conn_errf(err, cap, "out of memory");
            goto fail;
        }
        fs->npaths = 1;
        if (task == 0) {
            fs->npieces = 1;
            fs->pieces[0].end = INT64_MAX;
            fs->in.is_stdin = 1;
            fs->in.path = fs->paths[0];
            fs->in.fd = STDIN_FILENO;
            input_reset(&fs->in, 0);
            fs->in.end = INT64_MAX;
            if (fs->fmt == FMT_CSV && input_setup_csv(fs, &fs->in)) {
                conn_errf(err, cap, "out of memory");
                goto fail;
            }
            fs->in_open = 1;
        }
    } else {
        const char *path = conn_opt(spec, "path");
        if (!path || !*path) {
            conn_errf(err, cap, "file: option 'path' is required");
            goto fail;
        }
        fs->pattern = strdup(path);
        if (!fs->pattern) {
            conn_errf(err, cap, "out of memory");
            goto fail;
        }
        if (conn_opt_bool(spec, "follow", &fs->follow, err, cap) < 0) goto fail;
        if (fs->follow) {
            if (follow_glob(fs) != 0) {
                conn_errf(err, cap, "file: cannot expand '%s'", path);
                goto fail;
            }
            fs->next_glob_us = INT64_MIN;   /* glob again at the first call */
        } else if (expand_glob(fs, &sizes, err, cap) || plan_pieces(fs, sizes, err, cap)) {
            goto fail;
        }
    }
    free(sizes);
    s->ops = &file_ops;
    s->impl = fs;
    return 0;
fail:
    free(sizes);
    file_free(fs);
    return -1;
}
