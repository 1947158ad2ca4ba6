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
 */
#include "runtime/connectors/sink.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/timefmt.h"
#include "exec/vector.h"
#include "runtime/connectors/conn_internal.h"
#include "runtime/connectors/kafka.h"

#define FLUSH_AT (64 * 1024)

enum { OUT_JSON, OUT_CSV, OUT_TABLE };

struct Sink {
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

static int drain(Sink *k)
{
    if (k->len == 0) return 0;
    size_t put_n = fwrite(k->buf, 1, k->len, k->fp);
    if (put_n != k->len) {
        k->len = 0;
        return set_err(k, "write failed: %s", strerror(errno));
    }
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
    char sep = k->fmt == OUT_CSV ? k->delim : '\t';
    for (int i = 0; i < b->count; i++) {
        int r = batch_row(b, i);
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

int sink_flush(Sink *k)
{
    if (k->kafka) return kafka_sink_flush(k->kafka, k->error, sizeof k->error);
    if (drain(k)) return -1;
    if (fflush(k->fp) != 0) return set_err(k, "flush failed: %s", strerror(errno));
    return 0;
}

const char *sink_error(const Sink *k)
{
    return k->error;
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
    free(k);
}

void sink_close(Sink *k)
{
    if (!k) return;
    if (k->kafka) sink_flush(k);
    if (k->fp) {
        sink_flush(k);
        if (k->owns_fp) fclose(k->fp);
    }
    sink_free(k);
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
    if (!is_stdout && !is_kafka && strcasecmp(spec->connector, "file") != 0) {
        conn_errf(err, cap, "unknown sink connector '%s' (sinks here: stdout, file, kafka)",
                  spec->connector);
        return NULL;
    }
    Sink *k = calloc(1, sizeof *k);
    if (!k) {
        conn_errf(err, cap, "out of memory");
        return NULL;
    }
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
    if (is_kafka) {
        k->kafka = kafka_sink_open(spec, err, cap);
        if (!k->kafka) goto fail;
        want_header = 0;   /* one message per row: no header */
    } else if (is_stdout) {
        k->fp = stdout;
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
