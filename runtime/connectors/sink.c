/*
 * sink.c — the `stdout` and `file` sinks: rows → JSON lines, CSV or a
 * tab-separated table (formats in sink.h).
 *
 * Rows are formatted row by row into one growing output buffer (it stops
 * growing once it holds the largest batch seen) and written with one fwrite
 * when it passes FLUSH_AT, on sink_flush and on close. The JSON key prefix
 * of every column ("name":) is built once at open.
 *
 * The `kafka` sink formats each row the same way (JSON, or CSV without a
 * header), without the line end, and hands it to kafka_sink.c as one
 * message; the message key is the text of column `key` (option) if given
 * (VARCHAR as is, other types as in JSON without quotes; NULL → no key).
 *
 * With spec->transactional the file sink writes to a hidden pending file
 * and makes rows visible per checkpoint (sink_prepare / sink_commit /
 * sink_recover); the scheme and its crash analysis are in "exactly-once
 * file output" below.
 */
#include "runtime/connectors/sink.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exec/timefmt.h"
#include "exec/vector.h"
#include "runtime/connectors/conn_internal.h"
#include "runtime/connectors/kafka.h"

#define FLUSH_AT (64 * 1024)

enum { OUT_JSON, OUT_CSV, OUT_TABLE };

struct Sink {
    int       blackhole;   /* connector 'blackhole': rows are dropped (benchmarks, tests) */
    int       fmt;
    FILE     *fp;
    int       owns_fp;
    int       ncols;
    SqlType  *types;
    char    **names;
    char    **keys;        /* JSON: "\"name\":" per column (",\"name\":" after the first) */
    size_t   *key_len;
    char      delim;
    char     *buf;
    size_t    len, cap;
    char      error[512];
    KafkaSink *kafka;      /* connector kafka: one message per row           */
    int        key_col;    /* kafka: the column giving the message key, or -1 */

    /* transactional file sink (see "Exactly-once file output" below) */
    int        txn;
    int        want_header;/* CSV header requested (written when the target is empty) */
    char      *path;       /* the target                                      */
    char      *ppath;      /* its pending file: <dir>/.<name>.pending          */
    int        tfd, pfd;   /* target and pending file (-1 closed)              */
    int        recovered;  /* sink_recover done (explicitly or implicitly)     */
    int64_t    committed;  /* target bytes that are committed                  */
    int64_t    plen;       /* bytes in the pending file                        */
    uint64_t   phash;      /* FNV-1a of pending[0..plen)                       */
    int        prepared;   /* a prepare not yet committed: …                  */
    int64_t    prep_len;   /* … pending[0..prep_len) are its rows              */

    /* rolling part files (see "Rolling files" below) */
    int        rolling;    /* path is a directory of part-<n>.<ext> files      */
    char      *dir;        /* that directory                                  */
    const char *ext;       /* "json" | "csv"                                  */
    int        csv_header; /* write the CSV header at the top of each part    */
    int64_t    roll_size;  /* sink.rolling-policy.file-size in bytes; 0 = none */
    int64_t    roll_age;   /* sink.rolling-policy.rollover-interval µs; 0 = none */
    int64_t    part_no;    /* the current part's number                       */
    int64_t    part_bytes; /* not transactional: bytes fwritten to it          */
    int64_t    part_t0;    /* clock when it became the current part            */
    char      *hdr;        /* the CSV header line (rolling + csv.header)      */
    size_t     hdr_len;
    int64_t  (*clock)(void *);
    void      *clock_ctx;
};

/* ---- the output buffer -------------------------------------------------------------- */

static int reserve(Sink *k, size_t n)
{
    if (k->len + n <= k->cap) return 0;
    size_t cap = k->cap ? k->cap : FLUSH_AT * 2;
    while (cap < k->len + n) cap *= 2;
    char *nb = realloc(k->buf, cap);
    if (!nb) return -1;
    k->buf = nb;
    k->cap = cap;
    return 0;
}

static void put(Sink *k, const char *p, size_t n)   /* after reserve */
{
    memcpy(k->buf + k->len, p, n);
    k->len += n;
}

static int set_err(Sink *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_err(Sink *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->error, sizeof k->error, fmt, ap);
    va_end(ap);
    return -1;
}

#define FNV_INIT UINT64_C(0xcbf29ce484222325)

static uint64_t fnv_more(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * UINT64_C(0x100000001b3);
    return h;
}

static int pwrite_all(int fd, const char *p, size_t n, int64_t at)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)at);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
        at += w;
    }
    return 0;
}

static int recover_fresh(Sink *k);
static int make_parents(const char *path);
static int header(Sink *k);
static int roll_before_row(Sink *k, int check_age);
static int roll_close_if_old(Sink *k);
static int64_t part_number(const char *name, const char *ext);

static int drain(Sink *k)
{
    if (k->len == 0) return 0;
    if (k->txn) {   /* to the pending file, hashed as it goes */
        if (pwrite_all(k->pfd, k->buf, k->len, k->plen) != 0) {
            k->len = 0;
            return set_err(k, "file: cannot write '%s': %s", k->ppath, strerror(errno));
        }
        k->phash = fnv_more(k->phash, k->buf, k->len);
        k->plen += (int64_t)k->len;
        k->len = 0;
        return 0;
    }
    size_t put_n = fwrite(k->buf, 1, k->len, k->fp);
    if (put_n != k->len) {
        k->len = 0;
        return set_err(k, "write failed: %s", strerror(errno));
    }
    k->part_bytes += (int64_t)k->len;
    k->len = 0;
    return 0;
}

/* ---- value text ------------------------------------------------------------------------ */

static int fmt_i64(int64_t x, char *out)
{
    char     tmp[24];
    int      n = 0;
    uint64_t u = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
    do tmp[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    int len = 0;
    if (x < 0) out[len++] = '-';
    while (n > 0) out[len++] = tmp[--n];
    return len;
}

/* The text of a non-NULL, non-VARCHAR value (iso: JSON timestamps). */
static int value_text(const Vector *v, int slot, char *out, size_t cap, int iso)
{
    switch (v->type) {
    case TYPE_BOOLEAN:
        return vector_bool(v)[slot] ? (memcpy(out, "true", 4), 4) : (memcpy(out, "false", 5), 5);
    case TYPE_BIGINT: return fmt_i64(vector_i64(v)[slot], out);
    case TYPE_TIMESTAMP: return ts_format(vector_i64(v)[slot], out, cap, iso);
    case TYPE_INTERVAL: return interval_format(vector_i64(v)[slot], out, cap);
    default: return vector_format_value(v, slot, out, cap);
    }
}

static void json_string(Sink *k, const char *p, size_t n)   /* after reserve(6n + 2) */
{
    static const char hex[] = "0123456789abcdef";
    char             *o = k->buf + k->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    k->len = (size_t)(o - k->buf);
}

static int needs_quotes(const char *p, size_t n, char delim)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == delim || p[i] == '"' || p[i] == '\n' || p[i] == '\r') return 1;
    return 0;
}

static void csv_field(Sink *k, const char *p, size_t n, int force_quotes)   /* after reserve(2n + 2) */
{
    if (!force_quotes && !needs_quotes(p, n, k->delim)) {
        put(k, p, n);
        return;
    }
    char *o = k->buf + k->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') *o++ = '"';
        *o++ = p[i];
    }
    *o++ = '"';
    k->len = (size_t)(o - k->buf);
}

static void table_field(Sink *k, const char *p, size_t n)   /* after reserve(2n) */
{
    char *o = k->buf + k->len;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\t' || c == '\n' || c == '\r' || c == '\\') {
            *o++ = '\\';
            *o++ = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
        } else {
            *o++ = c;
        }
    }
    k->len = (size_t)(o - k->buf);
}

/* ---- rows ---------------------------------------------------------------------------------- */

static int write_value(Sink *k, const Vector *v, int row)
{
    int  slot = vector_index(v, row);
    int  null = !vector_validity_get(v->validity, slot) || v->type == TYPE_NULL;
    char text[INTERVAL_FORMAT_MAX + TS_FORMAT_MAX];
    if (k->fmt == OUT_JSON) {
        if (null) {
            if (reserve(k, 4)) return -1;
            put(k, "null", 4);
            return 0;
        }
        if (v->type == TYPE_VARCHAR) {
            Str s = vector_str(v)[slot];
            if (reserve(k, (size_t)s.len * 6 + 2)) return -1;
            json_string(k, s.ptr, s.len);
            return 0;
        }
        if (v->type == TYPE_DOUBLE && !isfinite(vector_f64(v)[slot])) {
            if (reserve(k, 4)) return -1;
            put(k, "null", 4);
            return 0;
        }
        int n = value_text(v, slot, text, sizeof text, 1);
        if (reserve(k, (size_t)n * 6 + 2)) return -1;
        if (v->type == TYPE_TIMESTAMP || v->type == TYPE_INTERVAL) json_string(k, text, (size_t)n);
        else put(k, text, (size_t)n);
        return 0;
    }
    if (k->fmt == OUT_CSV) {
        if (null) return 0;
        if (v->type == TYPE_VARCHAR) {
            Str s = vector_str(v)[slot];
            if (reserve(k, (size_t)s.len * 2 + 2)) return -1;
            csv_field(k, s.ptr, s.len, s.len == 0);
            return 0;
        }
        int n = value_text(v, slot, text, sizeof text, 0);
        if (reserve(k, (size_t)n * 2 + 2)) return -1;
        csv_field(k, text, (size_t)n, 0);
        return 0;
    }
    if (null) {
        if (reserve(k, 4)) return -1;
        put(k, "NULL", 4);
        return 0;
    }
    if (v->type == TYPE_VARCHAR) {
        Str s = vector_str(v)[slot];
        if (reserve(k, (size_t)s.len * 2)) return -1;
        table_field(k, s.ptr, s.len);
        return 0;
    }
    int n = value_text(v, slot, text, sizeof text, 0);
    if (reserve(k, (size_t)n * 2)) return -1;
    table_field(k, text, (size_t)n);
    return 0;
}

/* kafka: the buffer holds one formatted row (with its line end): send it. */
static int kafka_row(Sink *k, const Batch *b, int r)
{
    const char *key = NULL;
    size_t      keylen = 0;
    char        text[INTERVAL_FORMAT_MAX + TS_FORMAT_MAX];
    if (k->key_col >= 0) {
        const Vector *v = &b->cols[k->key_col];
        int           slot = vector_index(v, r);
        if (vector_validity_get(v->validity, slot) && v->type != TYPE_NULL) {
            if (v->type == TYPE_VARCHAR) {
                Str s = vector_str(v)[slot];
                key = s.ptr;
                keylen = s.len;
            } else {
                int n = value_text(v, slot, text, sizeof text, 1);
                key = text;
                keylen = n > 0 ? (size_t)n : 0;
            }
        }
    }
    int rc = kafka_sink_produce(k->kafka, k->buf, k->len - 1, key, keylen, k->error,
                                sizeof k->error);
    k->len = 0;
    return rc;
}

int sink_write(Sink *k, const Batch *b)
{
    if (b->ncols != k->ncols)
        return set_err(k, "sink: batch has %d columns, the sink %d", b->ncols, k->ncols);
    if (k->blackhole) return 0;
    if (k->txn && !k->recovered && recover_fresh(k)) return -1;   /* no sink_recover: a fresh start */
    char sep = k->fmt == OUT_CSV ? k->delim : '\t';
    for (int i = 0; i < b->count; i++) {
        int r = batch_row(b, i);
        if (k->rolling && !k->txn && roll_before_row(k, i == 0)) return -1;
        if (k->fmt == OUT_JSON) {
            if (reserve(k, 1)) goto oom;
            put(k, "{", 1);
        }
        for (int c = 0; c < k->ncols; c++) {
            if (k->fmt == OUT_JSON) {
                if (reserve(k, k->key_len[c])) goto oom;
                put(k, k->keys[c], k->key_len[c]);
            } else if (c > 0) {
                if (reserve(k, 1)) goto oom;
                put(k, &sep, 1);
            }
            if (write_value(k, &b->cols[c], r)) goto oom;
        }
        if (reserve(k, 2)) goto oom;
        if (k->fmt == OUT_JSON) put(k, "}\n", 2);
        else put(k, "\n", 1);
        if (k->kafka) {
            if (kafka_row(k, b, r)) return -1;
            continue;
        }
        if (k->len >= FLUSH_AT && drain(k)) return -1;
    }
    return 0;
oom:
    return set_err(k, "sink: out of memory");
}

void sink_set_interrupt(Sink *k, int (*stopped)(void *ctx), void *ctx)
{
    if (k && k->kafka) kafka_sink_set_interrupt(k->kafka, stopped, ctx);
}

int sink_flush(Sink *k)
{
    if (k->blackhole) return 0;
    if (k->kafka)   /* 1 = still waiting for a broker: not an error (sink_warning says so) */
        return kafka_sink_flush(k->kafka, KAFKA_FLUSH_WAIT_MS, k->error, sizeof k->error) < 0 ? -1 : 0;
    if (drain(k)) return -1;
    if (k->txn) return 0;
    if (k->fp && fflush(k->fp) != 0) return set_err(k, "flush failed: %s", strerror(errno));
    if (k->rolling) return roll_close_if_old(k);
    return 0;
}

const char *sink_error(const Sink *k)
{
    return k->error;
}

const char *sink_warning(const Sink *k)
{
    if (!k) return "";
    return k->kafka ? kafka_sink_warning(k->kafka) : "";
}

static int64_t mono_us(void *ctx)
{
    (void)ctx;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

void sink_set_clock(Sink *k, int64_t (*now_us)(void *ctx), void *ctx)
{
    k->clock = now_us ? now_us : mono_us;
    k->clock_ctx = now_us ? ctx : NULL;
}

static void sink_free(Sink *k)
{
    for (int c = 0; c < k->ncols; c++) {
        if (k->names) free(k->names[c]);
        if (k->keys) free(k->keys[c]);
    }
    free(k->names);
    free(k->keys);
    free(k->key_len);
    free(k->types);
    free(k->buf);
    kafka_sink_close(k->kafka);
    if (k->tfd >= 0) close(k->tfd);
    if (k->pfd >= 0) close(k->pfd);
    free(k->path);
    free(k->ppath);
    free(k->dir);
    free(k->hdr);
    free(k);
}

void sink_close(Sink *k)
{
    if (!k) return;
    if (k->txn) {   /* neither commits nor drops: rows not committed stay pending */
        drain(k);
        sink_free(k);
        return;
    }
    if (k->kafka) {
        /* waiting for deliveries makes sense while a broker answers; with
         * messages already waiting for one (all down), a stop should not
         * hang for the full timeout: 1 s, then what is left is dropped */
        int wait = kafka_sink_warning(k->kafka)[0] ? 1000 : KAFKA_FLUSH_TIMEOUT_MS;
        kafka_sink_flush(k->kafka, wait, k->error, sizeof k->error);
    }
    if (k->rolling && !k->fp) drain(k);   /* nothing open: nothing buffered either */
    if (k->fp) {
        sink_flush(k);
        if (k->owns_fp) fclose(k->fp);
    }
    sink_free(k);
}

/* ---- exactly-once file output -------------------------------------------------------
 *
 * With spec->transactional the file sink never writes the target between
 * commits. Rows go to a hidden pending file next to it, <dir>/.<name>.pending
 * (written at offset plen, hashed as they go: FNV-1a 64 of pending[0..plen)).
 *
 *   prepare  drain the buffer, fsync the pending file; the blob says
 *            {path, C = committed length of the target, L = plen, H = hash
 *            of pending[0..L)}. Rows written after a prepare are appended to
 *            the pending file behind those L bytes (not part of this epoch).
 *   commit   pwrite pending[0..L) into the target at offset C (not an
 *            append: redoing it is harmless), fsync the target; committed =
 *            C + L; then move the rows written since the prepare,
 *            pending[L..plen), to the front of the pending file and truncate
 *            it to their length.
 *   recover  with the blob {C, L, H} of the last durable checkpoint:
 *              target shorter than C                → error (committed rows lost);
 *              pending[0..L) still hashes to H      → the commit may not have
 *                 finished (or finished but had not emptied the pending file
 *                 yet): truncate the target to C and redo the copy, fsync;
 *              else target ≥ C + L                  → the commit finished;
 *                 truncate the target to C + L (defensive: nothing can be
 *                 behind it, rows of a later epoch are only ever committed
 *                 after a later checkpoint);
 *              else                                 → error (the prepared rows
 *                 are neither in the target nor in the pending file);
 *            then empty the pending file (rows of an epoch no checkpoint
 *            covers: the sources replay them). No blob: just empty the
 *            pending file; the target is kept as is.
 *
 * A crash at any point leaves the target at C (before the copy), between C
 * and C + L (in the copy: the pending file still holds the bytes, the hash
 * matches, recover redoes it) or at C + L (done) — never a row twice, never
 * one lost. The CSV header is put at the start of the first epoch's pending
 * bytes when the committed target is empty, so it is written exactly once.
 * The directory is fsynced once at open so both files survive a power loss.
 */

#define FILE_SINK_CKPT_VERSION  1
#define FILE_PARTS_CKPT_VERSION 1

/* fsync a directory (a file created in it survives a power loss). */
static void sync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

static int64_t now_of(Sink *k)
{
    return k->clock(k->clock_ctx);
}

static int txn_open(Sink *k, const char *path, char *err, size_t cap)
{
    if (!path || !*path) return conn_errf(err, cap, "file: option 'path' is required");
    k->txn = 1;
    size_t n = strlen(path);
    k->ppath = malloc(n + 24);
    if (!k->ppath) return conn_errf(err, cap, "out of memory");
    if (k->rolling) {   /* the target is the current part: named at recover */
        snprintf(k->ppath, n + 24, "%s/.parts.pending", path);
        k->pfd = open(k->ppath, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (k->pfd < 0)
            return conn_errf(err, cap, "file: cannot open '%s' for writing: %s", k->ppath, strerror(errno));
        sync_dir(path);
        return 0;
    }
    k->path = strdup(path);
    char *dup = strdup(path), *dup2 = strdup(path);
    if (!k->path || !dup || !dup2) {
        free(dup);
        free(dup2);
        return conn_errf(err, cap, "out of memory");
    }
    const char *dir = dirname(dup), *base = basename(dup2);
    snprintf(k->ppath, n + 24, "%s/.%s.pending", dir, base);
    make_parents(path);
    k->tfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (k->tfd >= 0) k->pfd = open(k->ppath, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    sync_dir(dir);
    free(dup);
    free(dup2);
    if (k->tfd < 0 || k->pfd < 0)
        return conn_errf(err, cap, "file: cannot open '%s' for writing: %s",
                         k->tfd < 0 ? path : k->ppath, strerror(errno));
    return 0;
}

static int64_t fd_size(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* Copy n bytes of the pending file from `from` into fd at `to`; hash them into *h if h. */
static int copy_range(Sink *k, int dst, int64_t from, int64_t n, int64_t to, uint64_t *h)
{
    char    tmp[65536];
    int64_t done = 0;
    while (done < n) {
        size_t  want = (size_t)(n - done < (int64_t)sizeof tmp ? n - done : (int64_t)sizeof tmp);
        ssize_t got = pread(k->pfd, tmp, want, (off_t)(from + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return set_err(k, "file: cannot read '%s': %s", k->ppath,
                                     got < 0 ? strerror(errno) : "unexpected end of file");
        if (h) *h = fnv_more(*h, tmp, (size_t)got);
        if (dst >= 0 && pwrite_all(dst, tmp, (size_t)got, to + done) != 0)
            return set_err(k, "file: cannot write: %s", strerror(errno));
        done += got;
    }
    return 0;
}

/* Rolling: the CSV header opens a part; it is written by the part's first
 * commit (c == 0, l > 0) in front of the rows, not kept in the pending file. */
static int64_t part_header_len(const Sink *k, int64_t c, int64_t l)
{
    return k->rolling && k->csv_header && c == 0 && l > 0 ? (int64_t)k->hdr_len : 0;
}

/* The target's length once pending[0..l) is committed behind c bytes. */
static int64_t txn_end(const Sink *k, int64_t c, int64_t l)
{
    return c + part_header_len(k, c, l) + l;
}

/* Rolling: open (create) the current part when there is something to put in it. */
static int part_fd(Sink *k)
{
    if (k->tfd >= 0) return 0;
    k->tfd = open(k->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (k->tfd < 0) return set_err(k, "file: cannot open '%s' for writing: %s", k->path, strerror(errno));
    sync_dir(k->dir);
    return 0;
}

/* Copy pending[0..l) into the target at c (behind the part's header when rolling). */
static int txn_copy(Sink *k, int64_t c, int64_t l)
{
    int64_t hl = part_header_len(k, c, l);
    if (hl > 0 && pwrite_all(k->tfd, k->hdr, (size_t)hl, 0) != 0)
        return set_err(k, "file: cannot write '%s': %s", k->path, strerror(errno));
    return copy_range(k, k->tfd, 0, l, c + hl, NULL);
}

/* The state after a recovery: empty pending file, header if the target is empty. */
static int txn_fresh_pending(Sink *k)
{
    if (ftruncate(k->pfd, 0) != 0 || fsync(k->pfd) != 0)
        return set_err(k, "file: cannot truncate '%s': %s", k->ppath, strerror(errno));
    k->plen = 0;
    k->phash = FNV_INIT;
    k->prepared = 0;
    k->prep_len = 0;
    k->recovered = 1;
    if (!k->rolling && k->want_header && k->committed == 0 && header(k))
        return set_err(k, "sink: out of memory");
    return 0;
}

static int part_set(Sink *k, int64_t n);
static int64_t last_part(Sink *k);

static int recover_fresh(Sink *k)
{
    if (k->rolling) {   /* a new part after the existing ones */
        int64_t last = last_part(k);
        if (last < -1) return -1;
        if (part_set(k, last + 1)) return -1;
        k->committed = 0;
        return txn_fresh_pending(k);
    }
    int64_t t = fd_size(k->tfd);
    if (t < 0) return set_err(k, "file: cannot stat '%s': %s", k->path, strerror(errno));
    k->committed = t;
    return txn_fresh_pending(k);
}

long sink_prepare(Sink *k, void *buf, size_t cap)
{
    if (k->blackhole) return 0;
    if (k->kafka) {   /* at-least-once: every message delivered before the checkpoint */
        int rc = kafka_sink_flush(k->kafka, KAFKA_FLUSH_TIMEOUT_MS, k->error, sizeof k->error);
        if (rc == 1)
            return set_err(k, "%s; still not delivered after %d ms, the checkpoint cannot complete",
                           kafka_sink_warning(k->kafka)[0] ? kafka_sink_warning(k->kafka)
                                                         : "kafka: messages waiting for a broker",
                           KAFKA_FLUSH_TIMEOUT_MS);
        return rc < 0 ? -1 : 0;
    }
    if (!k->txn) return sink_flush(k) ? -1 : 0;
    if (!k->recovered && recover_fresh(k)) return -1;
    if (drain(k)) return -1;
    if (fsync(k->pfd) != 0) return set_err(k, "file: cannot fsync '%s': %s", k->ppath, strerror(errno));
    k->prepared = 1;
    k->prep_len = k->plen;
    CkptOut w;
    size_t  need;
    if (k->rolling) {
        ckpt_out_begin(&w, buf, cap, "file-parts", FILE_PARTS_CKPT_VERSION);
        ckpt_put_str(&w, k->dir);
        ckpt_put_i64(&w, k->part_no);
    } else {
        ckpt_out_begin(&w, buf, cap, "file-sink", FILE_SINK_CKPT_VERSION);
        ckpt_put_str(&w, k->path);
    }
    ckpt_put_i64(&w, k->committed);
    ckpt_put_i64(&w, k->plen);
    ckpt_put_u64(&w, k->phash);
    long n = ckpt_out_end(&w, &need);
    if (n < 0) return set_err(k, "file: the sink's checkpoint needs %zu bytes, the buffer has %zu", need, cap);
    return n;
}

/* Rolling, at a commit point: the current part is big or old enough → the
 * next epoch goes to a new part (created by its first commit). */
static void txn_maybe_roll(Sink *k)
{
    if (!k->rolling || k->committed == 0) return;
    int full = k->roll_size > 0 && k->committed >= k->roll_size;
    int old = k->roll_age > 0 && now_of(k) - k->part_t0 >= k->roll_age;
    if (!full && !old) return;
    if (k->tfd >= 0) close(k->tfd);
    k->tfd = -1;
    k->committed = 0;
    part_set(k, k->part_no + 1);   /* on OOM the old path stays: the next commit fails loudly */
}

int sink_commit(Sink *k)
{
    if (!k->txn || !k->prepared) return 0;
    int64_t len = k->prep_len, rest = k->plen - len;
    if (len > 0) {
        if (k->rolling && part_fd(k)) return -1;
        if (txn_copy(k, k->committed, len)) return -1;
        if (fsync(k->tfd) != 0) return set_err(k, "file: cannot fsync '%s': %s", k->path, strerror(errno));
    }
    k->committed = txn_end(k, k->committed, len);
    k->prepared = 0;
    k->prep_len = 0;
    /* keep the rows written since the prepare: move them to the front */
    uint64_t h = FNV_INIT;
    if (rest > 0) {
        char    tmp[65536];
        int64_t done = 0;
        while (done < rest) {
            size_t  want = (size_t)(rest - done < (int64_t)sizeof tmp ? rest - done : (int64_t)sizeof tmp);
            ssize_t got = pread(k->pfd, tmp, want, (off_t)(len + done));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0 || pwrite_all(k->pfd, tmp, (size_t)got, done) != 0)
                return set_err(k, "file: cannot move pending rows in '%s': %s", k->ppath,
                               got < 0 ? strerror(errno) : "short read");
            h = fnv_more(h, tmp, (size_t)got);
            done += got;
        }
    }
    if (ftruncate(k->pfd, (off_t)rest) != 0)
        return set_err(k, "file: cannot truncate '%s': %s", k->ppath, strerror(errno));
    k->plen = rest;
    k->phash = h;
    txn_maybe_roll(k);
    return 0;
}

/* Rolling recovery: parts after the checkpoint's can only have been created
 * empty (a part gets rows only from a commit after a checkpoint naming it):
 * remove empty ones, refuse others. */
static int parts_after(Sink *k, int64_t n)
{
    DIR *d = opendir(k->dir);
    if (!d) return set_err(k, "file: cannot read directory '%s': %s", k->dir, strerror(errno));
    struct dirent *e;
    int            rc = 0;
    char           p[4096];
    while (rc == 0 && (e = readdir(d)) != NULL) {
        int64_t m = part_number(e->d_name, k->ext);
        if (m <= n) continue;
        snprintf(p, sizeof p, "%s/%s", k->dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0) continue;
        if (st.st_size == 0) unlink(p);
        else rc = set_err(k, "file: '%s' is newer than the checkpoint's part %lld and not empty: "
                             "rows no checkpoint committed (another writer in '%s'?)",
                          p, (long long)n, k->dir);
    }
    closedir(d);
    return rc;
}

int sink_recover(Sink *k, const void *blob, size_t len)
{
    if (!k->txn) return 0;
    if (k->recovered || k->len > 0 || k->plen > 0)
        return set_err(k, "file: sink_recover must be called once, before any row is written");
    if (!blob || len == 0) return recover_fresh(k);
    CkptIn      r;
    char        why[400];
    const char *tag = k->rolling ? "file-parts" : "file-sink";
    if (ckpt_in_begin(&r, blob, len, tag, k->rolling ? FILE_PARTS_CKPT_VERSION : FILE_SINK_CKPT_VERSION,
                      why, sizeof why))
        return set_err(k, "%s", why);
    size_t      plen;
    const char *path = ckpt_get_str(&r, &plen);
    int64_t     n = k->rolling ? ckpt_get_i64(&r) : 0;
    int64_t     c = ckpt_get_i64(&r), l = ckpt_get_i64(&r);
    uint64_t    h = ckpt_get_u64(&r);
    if (ckpt_in_end(&r, tag, why, sizeof why) || c < 0 || l < 0 || n < 0)
        return set_err(k, "%s: the checkpoint blob is malformed", tag);
    if (!ckpt_str_is(path, plen, k->rolling ? k->dir : k->path))
        return set_err(k, "file: the checkpoint is of the sink %s '%.*s', not '%s'",
                       k->rolling ? "directory" : "file", (int)(plen < 300 ? plen : 300), path,
                       k->rolling ? k->dir : k->path);
    if (k->rolling) {
        if (part_set(k, n)) return -1;
        if (k->tfd >= 0) close(k->tfd);
        k->tfd = open(k->path, O_RDWR | O_CLOEXEC);
        if (k->tfd < 0 && errno != ENOENT)
            return set_err(k, "file: cannot open '%s': %s", k->path, strerror(errno));
    }
    int64_t t = k->tfd >= 0 ? fd_size(k->tfd) : 0, p = fd_size(k->pfd), end = txn_end(k, c, l);
    if (t < 0 || p < 0) return set_err(k, "file: cannot stat '%s': %s", k->path, strerror(errno));
    if (t < c)
        return set_err(k, "file: '%s' is %lld bytes long, shorter than its %lld committed bytes at "
                          "the checkpoint: committed output was lost or the file was replaced",
                       k->path, (long long)t, (long long)c);
    uint64_t ph = FNV_INIT;
    int      redo = p >= l && copy_range(k, -1, 0, l, 0, &ph) == 0 && ph == h;
    if (redo && end > c) {   /* the commit may not have finished: do it again */
        if ((k->rolling && part_fd(k)) || ftruncate(k->tfd, (off_t)c) != 0 || txn_copy(k, c, l) != 0 ||
            fsync(k->tfd) != 0)
            return set_err(k, "file: cannot finish the interrupted commit of '%s': %s", k->path,
                           k->error[0] ? k->error : strerror(errno));
    } else if (redo || t >= end) {
        if (t > end && (ftruncate(k->tfd, (off_t)end) != 0 || fsync(k->tfd) != 0))
            return set_err(k, "file: cannot truncate '%s': %s", k->path, strerror(errno));
    } else {
        return set_err(k, "file: cannot finish the interrupted commit of '%s': its pending file "
                          "'%s' no longer holds the prepared rows",
                       k->path, k->ppath);
    }
    if (k->rolling && parts_after(k, n)) return -1;
    k->committed = end;
    k->error[0] = 0;
    if (txn_fresh_pending(k)) return -1;
    txn_maybe_roll(k);
    return 0;
}

/* ---- rolling files --------------------------------------------------------------------
 *
 * With sink.rolling-policy.file-size and/or .rollover-interval the file
 * sink's `path` is a directory and rows go to part files part-<n>.<ext>
 * (n zero-padded to 6 digits, increasing from one past the largest part
 * already there, so a restart never appends to an old part; ext = json or
 * csv). Each part starts with the CSV header (csv.header = true). A part is
 * created when its first row is written, never empty.
 *
 *   not transactional: before a row, the current part is closed and the
 *     next one opened when its bytes (written + buffered) reached file-size,
 *     or (checked once per sink_write) it is older than rollover-interval;
 *     sink_flush also closes a part that is old or full, so that it is
 *     complete on disk promptly. A part may pass file-size by one row.
 *   transactional: parts roll ONLY at commit points. Every epoch's rows go
 *     whole into the current part (copied behind its committed bytes by
 *     sink_commit, exactly as the single-file scheme above); after the
 *     copy, a part that reached file-size or rollover-interval is finished
 *     and the next epoch goes to part n+1, created by the commit that first
 *     copies rows into it (the header is written then, in front of them).
 *     So a part file only ever holds committed epochs (plus, during a
 *     commit, a prefix of the one being committed that recovery completes
 *     or removes), and a part is finished only between epochs. The blob
 *     (tag "file-parts") names the directory and the part number with C, L
 *     and H; recovery works on that part as on a single file, then removes
 *     parts after it that are empty and refuses non-empty ones, and rolls
 *     if the part is already full. A part may pass file-size by an epoch.
 *   Age is measured with the sink's clock (sink_set_clock; CLOCK_MONOTONIC
 *   by default) from when the part became current.
 */

static int64_t part_number(const char *name, const char *ext)
{
    if (strncmp(name, "part-", 5) != 0) return -1;
    const char *p = name + 5;
    int64_t     n = 0;
    int         digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 18) {
        n = n * 10 + (*p++ - '0');
        digits++;
    }
    if (digits == 0 || *p != '.' || strcmp(p + 1, ext) != 0) return -1;
    return n;
}

/* The largest part number in the directory, -1 if none, -2 on error. */
static int64_t last_part(Sink *k)
{
    DIR *d = opendir(k->dir);
    if (!d) {
        set_err(k, "file: cannot read directory '%s': %s", k->dir, strerror(errno));
        return -2;
    }
    int64_t        last = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int64_t n = part_number(e->d_name, k->ext);
        if (n > last) last = n;
    }
    closedir(d);
    return last;
}

/* Make part n the current one (k->path names it; nothing is opened). */
static int part_set(Sink *k, int64_t n)
{
    size_t need = strlen(k->dir) + 48;
    char  *p = malloc(need);
    if (!p) return set_err(k, "sink: out of memory");
    snprintf(p, need, "%s/part-%06lld.%s", k->dir, (long long)n, k->ext);
    free(k->path);
    k->path = p;
    k->part_no = n;
    k->part_t0 = now_of(k);
    return 0;
}

/* Not transactional: open the current part (a new file) and start it with the header. */
static int part_start(Sink *k)
{
    for (int tries = 0; tries < 1000; tries++) {
        int fd = open(k->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            k->fp = fdopen(fd, "w");
            if (!k->fp) {
                close(fd);
                return set_err(k, "file: cannot open '%s': %s", k->path, strerror(errno));
            }
            k->owns_fp = 1;
            k->part_bytes = 0;
            k->part_t0 = now_of(k);
            if (k->csv_header && header(k)) return set_err(k, "sink: out of memory");
            return 0;
        }
        if (errno != EEXIST) return set_err(k, "file: cannot create '%s': %s", k->path, strerror(errno));
        if (part_set(k, k->part_no + 1)) return -1;   /* someone made it meanwhile: the next one */
    }
    return set_err(k, "file: cannot find a free part file name in '%s'", k->dir);
}

/* Not transactional: finish the current part (everything written, closed). */
static int part_finish(Sink *k)
{
    if (drain(k)) return -1;
    int bad = fclose(k->fp) != 0;
    k->fp = NULL;
    k->owns_fp = 0;
    if (bad) return set_err(k, "file: cannot close '%s': %s", k->path, strerror(errno));
    return part_set(k, k->part_no + 1);
}

static int roll_before_row(Sink *k, int check_age)
{
    if (k->fp) {
        int full = k->roll_size > 0 && k->part_bytes + (int64_t)k->len >= k->roll_size;
        int old = check_age && k->roll_age > 0 && now_of(k) - k->part_t0 >= k->roll_age;
        if (!full && !old) return 0;
        if (part_finish(k)) return -1;
    }
    return part_start(k);
}

static int roll_close_if_old(Sink *k)
{
    if (!k->fp) return 0;
    int full = k->roll_size > 0 && k->part_bytes >= k->roll_size;
    int old = k->roll_age > 0 && now_of(k) - k->part_t0 >= k->roll_age;
    return full || old ? part_finish(k) : 0;
}

/* "128MB", "1 GiB", "4096": bytes (K/M/G/T are powers of 1024, as Flink's MemorySize). */
static int parse_size(const char *v, int64_t *out)
{
    char  *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || !(x > 0)) return -1;
    while (*end == ' ') end++;
    double mul = 1;
    char   u = (char)(*end | 0x20);
    if (*end && strchr("kmgt", u)) {
        mul = u == 'k' ? 1024.0 : u == 'm' ? 1048576.0 : u == 'g' ? 1073741824.0 : 1099511627776.0;
        end++;
        if ((*end | 0x20) == 'i') end++;
        if ((*end | 0x20) == 'b') end++;
    } else if (u == 'b') {
        end++;
    }
    if (*end || x * mul >= 9.2e18 || x * mul < 1) return -1;
    *out = (int64_t)(x * mul);
    return 0;
}

/* Options sink.rolling-policy.*: 1 = rolling, 0 = not, -1 = bad value. */
static int rolling_options(Sink *k, const ConnSpec *spec, char *err, size_t cap)
{
    const char *sz = conn_opt(spec, "sink.rolling-policy.file-size");
    if (sz && parse_size(sz, &k->roll_size) != 0)
        return conn_errf(err, cap, "file: option 'sink.rolling-policy.file-size' needs a size like "
                                   "'128MB' or '1 GiB' (> 0); got '%s'", sz);
    int r = conn_opt_duration(spec, "sink.rolling-policy.rollover-interval", &k->roll_age, err, cap);
    if (r < 0) return -1;
    if (r > 0 && k->roll_age <= 0)
        return conn_errf(err, cap, "file: option 'sink.rolling-policy.rollover-interval' must be > 0");
    return sz || r > 0;
}

/* ---- open ------------------------------------------------------------------------------------ */

/* mkdir -p of the directory part of path */
static int make_parents(const char *path)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf) return -1;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

static int header(Sink *k)
{
    char sep = k->fmt == OUT_CSV ? k->delim : '\t';
    for (int c = 0; c < k->ncols; c++) {
        size_t n = strlen(k->names[c]);
        if (reserve(k, n * 2 + 3)) return -1;
        if (c > 0) put(k, &sep, 1);
        if (k->fmt == OUT_CSV) csv_field(k, k->names[c], n, 0);
        else table_field(k, k->names[c], n);
    }
    if (reserve(k, 1)) return -1;
    put(k, "\n", 1);
    return 0;
}

static int build_keys(Sink *k)
{
    k->keys = calloc((size_t)(k->ncols > 0 ? k->ncols : 1), sizeof *k->keys);
    k->key_len = calloc((size_t)(k->ncols > 0 ? k->ncols : 1), sizeof *k->key_len);
    if (!k->keys || !k->key_len) return -1;
    for (int c = 0; c < k->ncols; c++) {
        size_t n = strlen(k->names[c]);
        size_t save = k->len;
        if (reserve(k, n * 6 + 4)) return -1;
        if (c > 0) put(k, ",", 1);
        json_string(k, k->names[c], n);
        put(k, ":", 1);
        k->key_len[c] = k->len - save;
        k->keys[c] = malloc(k->key_len[c]);
        if (!k->keys[c]) return -1;
        memcpy(k->keys[c], k->buf + save, k->key_len[c]);
        k->len = save;
    }
    return 0;
}

Sink *sink_open(const ConnSpec *spec, char *err, size_t cap)
{
    if (err && cap) err[0] = 0;
    if (!spec || !spec->connector) {
        conn_errf(err, cap, "sink: no connector given");
        return NULL;
    }
    int is_stdout = strcasecmp(spec->connector, "stdout") == 0;
    int is_kafka = strcasecmp(spec->connector, "kafka") == 0;
    int is_blackhole = strcasecmp(spec->connector, "blackhole") == 0;
    if (!is_stdout && !is_kafka && !is_blackhole && strcasecmp(spec->connector, "file") != 0) {
        conn_errf(err, cap, "unknown sink connector '%s' (sinks here: stdout, file, kafka, blackhole)",
                  spec->connector);
        return NULL;
    }
    Sink *k = calloc(1, sizeof *k);
    if (!k) {
        conn_errf(err, cap, "out of memory");
        return NULL;
    }
    if (is_blackhole) {   /* Flink's blackhole: accepts rows of this shape, keeps none */
        k->blackhole = 1;
        k->ncols = spec->ncols;
        k->tfd = k->pfd = -1;
        return k;
    }
    k->tfd = k->pfd = -1;
    k->clock = mono_us;
    const char *fmt = spec->format ? spec->format : conn_opt(spec, "format");
    int         want_header = 1;
    if (!fmt || strcasecmp(fmt, "json") == 0) k->fmt = OUT_JSON;
    else if (strcasecmp(fmt, "csv") == 0) k->fmt = OUT_CSV;
    else if (is_stdout && strcasecmp(fmt, "table") == 0) k->fmt = OUT_TABLE;
    else {
        conn_errf(err, cap, "%s: format must be json, csv%s; got '%s'", spec->connector,
                  is_stdout ? " or table" : "", fmt);
        goto fail;
    }
    k->delim = ',';
    const char *d = conn_opt(spec, "csv.delimiter");
    if (d) {
        if (strcmp(d, "\\t") == 0 || strcasecmp(d, "tab") == 0) k->delim = '\t';
        else if (strlen(d) == 1 && d[0] != '"' && d[0] != '\n' && d[0] != '\r') k->delim = d[0];
        else {
            conn_errf(err, cap, "%s: option 'csv.delimiter' must be one character; got '%s'",
                      spec->connector, d);
            goto fail;
        }
    }
    if (conn_opt_bool(spec, "csv.header", &want_header, err, cap) < 0) goto fail;
    k->ncols = spec->ncols;
    k->names = calloc((size_t)(k->ncols > 0 ? k->ncols : 1), sizeof *k->names);
    k->types = calloc((size_t)(k->ncols > 0 ? k->ncols : 1), sizeof *k->types);
    if (!k->names || !k->types) {
        conn_errf(err, cap, "out of memory");
        goto fail;
    }
    for (int c = 0; c < k->ncols; c++) {
        k->names[c] = strdup(spec->col_names[c]);
        k->types[c] = spec->col_types[c];
        if (!k->names[c]) {
            conn_errf(err, cap, "out of memory");
            goto fail;
        }
    }
    if (k->fmt == OUT_JSON && build_keys(k)) {
        conn_errf(err, cap, "out of memory");
        goto fail;
    }
    k->key_col = -1;
    const char *key = conn_opt(spec, "key");
    if (is_kafka && key) {
        for (int c = 0; c < k->ncols; c++)
            if (strcasecmp(k->names[c], key) == 0) k->key_col = c;
        if (k->key_col < 0) {
            conn_errf(err, cap, "kafka: option 'key' names '%s', which is not a column of the sink",
                      key);
            goto fail;
        }
    }
    if (!is_kafka && !is_stdout) {
        int r = rolling_options(k, spec, err, cap);
        if (r < 0) goto fail;
        k->rolling = r;
    }
    if (k->rolling) {
        const char *dir = conn_opt(spec, "path");
        if (!dir || !*dir) {
            conn_errf(err, cap, "file: option 'path' is required");
            goto fail;
        }
        size_t n = strlen(dir);
        k->dir = malloc(n + 2);
        if (!k->dir) {
            conn_errf(err, cap, "out of memory");
            goto fail;
        }
        memcpy(k->dir, dir, n + 1);
        while (n > 1 && k->dir[n - 1] == '/') k->dir[--n] = 0;
        memcpy(k->dir + n, "/", 2);   /* mkdir -p of the directory itself */
        make_parents(k->dir);
        k->dir[n] = 0;
        struct stat st;
        if (stat(k->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            conn_errf(err, cap, "file: with sink.rolling-policy.* option 'path' names a directory; "
                                "'%s' is not one", k->dir);
            goto fail;
        }
        k->ext = k->fmt == OUT_CSV ? "csv" : "json";
        k->csv_header = want_header && k->fmt == OUT_CSV;
        if (k->csv_header) {   /* the header text, once */
            if (header(k)) {
                conn_errf(err, cap, "out of memory");
                goto fail;
            }
            k->hdr = malloc(k->len);
            if (!k->hdr) {
                conn_errf(err, cap, "out of memory");
                goto fail;
            }
            memcpy(k->hdr, k->buf, k->len);
            k->hdr_len = k->len;
            k->len = 0;
        }
        want_header = 0;   /* per part, not here */
        if (spec->transactional) {
            if (txn_open(k, k->dir, err, cap)) goto fail;
        } else {
            int64_t last = last_part(k);
            if (last < -1 || part_set(k, last + 1)) {
                conn_errf(err, cap, "%s", k->error);
                goto fail;
            }
        }
    } else if (is_kafka) {
        k->kafka = kafka_sink_open(spec, err, cap);
        if (!k->kafka) goto fail;
        want_header = 0;   /* one message per row: no header */
    } else if (is_stdout) {
        k->fp = stdout;
    } else if (spec->transactional) {
        k->want_header = want_header && k->fmt != OUT_JSON;
        if (txn_open(k, conn_opt(spec, "path"), err, cap)) goto fail;
        want_header = 0;   /* decided by sink_recover: only when the target is empty */
    } else {
        const char *path = conn_opt(spec, "path");
        if (!path || !*path) {
            conn_errf(err, cap, "file: option 'path' is required");
            goto fail;
        }
        make_parents(path);
        k->fp = fopen(path, "a");
        if (!k->fp) {
            conn_errf(err, cap, "file: cannot open '%s' for writing: %s", path, strerror(errno));
            goto fail;
        }
        k->owns_fp = 1;
        struct stat st;
        if (fstat(fileno(k->fp), &st) == 0 && st.st_size > 0) want_header = 0;
    }
    if (k->fmt != OUT_JSON && want_header && header(k)) {
        conn_errf(err, cap, "out of memory");
        goto fail;
    }
    return k;
fail:
    if (k->owns_fp) fclose(k->fp);
    sink_free(k);
    return NULL;
}
