/*
 * conn_util.c — helpers shared by the connectors: options, errors, bad
 * records, the alias table, and text → value conversion.
 */
#include "runtime/connectors/conn_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec/timefmt.h"
#include "exec/vector.h"

/* ---- errors ----------------------------------------------------------------- */

int conn_errf(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void conn_set_error(Source *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
}

void conn_bad_record(Source *s, const char *msg)
{
    SourceStats *st = &s->stats;
    st->bad_records++;
    if (st->nbad_msgs < SOURCE_BAD_KEEP)
        snprintf(st->bad_msgs[st->nbad_msgs++], SOURCE_BAD_MSG_LEN, "%s", msg);
}

/* ---- options ---------------------------------------------------------------- */

const char *conn_opt(const ConnSpec *spec, const char *key)
{
    for (int i = 0; i < spec->nopts; i++)
        if (spec->opt_keys[i] && strcasecmp(spec->opt_keys[i], key) == 0)
            return spec->opt_values[i] ? spec->opt_values[i] : "";
    return NULL;
}

int conn_opt_count(const ConnSpec *spec, const char *key, int64_t *out, char *err, size_t cap)
{
    const char *v = conn_opt(spec, key);
    if (!v) return 0;
    int64_t n;
    if (conn_parse_i64(v, strlen(v), &n) != 0 || n < 0)
        return conn_errf(err, cap, "%s: option '%s' needs a whole number >= 0; got '%s'",
                         spec->connector, key, v);
    *out = n;
    return 1;
}

int conn_opt_number(const ConnSpec *spec, const char *key, double *out, char *err, size_t cap)
{
    const char *v = conn_opt(spec, key);
    if (!v) return 0;
    double x;
    if (conn_parse_f64(v, strlen(v), &x) != 0 || !isfinite(x))
        return conn_errf(err, cap, "%s: option '%s' needs a number; got '%s'", spec->connector,
                         key, v);
    *out = x;
    return 1;
}

int conn_opt_bool(const ConnSpec *spec, const char *key, int *out, char *err, size_t cap)
{
    const char *v = conn_opt(spec, key);
    if (!v) return 0;
    if (strcasecmp(v, "true") == 0) *out = 1;
    else if (strcasecmp(v, "false") == 0) *out = 0;
    else
        return conn_errf(err, cap, "%s: option '%s' needs true or false; got '%s'",
                         spec->connector, key, v);
    return 1;
}

int conn_opt_duration(const ConnSpec *spec, const char *key, int64_t *out, char *err, size_t cap)
{
    const char *v = conn_opt(spec, key);
    if (!v) return 0;
    int64_t us;
    if (interval_parse(v, strlen(v), &us) != 0 || us < 0)
        return conn_errf(err, cap, "%s: option '%s' needs a duration like '5s' or '200ms'; got '%s'",
                         spec->connector, key, v);
    *out = us;
    return 1;
}

int conn_check_task(const ConnSpec *spec, int *task, int *ntasks, char *err, size_t cap)
{
    int n = spec->ntasks <= 0 ? 1 : spec->ntasks;
    if (spec->task < 0 || spec->task >= n)
        return conn_errf(err, cap, "%s: task %d is not in 0..%d", spec->connector, spec->task,
                         n - 1);
    *task = spec->task;
    *ntasks = n;
    return 0;
}

/* ---- random numbers ---------------------------------------------------------- */

uint64_t conn_stream_key(uint64_t seed, const char *name)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);          /* FNV-1a of the name */
    for (const char *p = name; *p; p++) {
        h ^= (unsigned char)*p;
        h *= UINT64_C(0x100000001b3);
    }
    return conn_mix64(conn_mix64(seed ^ UINT64_C(0x5851f42d4c957f2d)) ^ h);
}

int conn_alias_init(AliasTable *t, const double *w, uint32_t n)
{
    t->n = n;
    t->e = malloc((size_t)n * sizeof *t->e);
    double   *p = malloc((size_t)n * sizeof *p);
    uint32_t *small = malloc((size_t)n * sizeof *small);
    uint32_t *large = malloc((size_t)n * sizeof *large);
    if (!t->e || !p || !small || !large) {
        free(p);
        free(small);
        free(large);
        conn_alias_free(t);
        return -1;
    }
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += w[i];
    uint32_t ns = 0, nl = 0;
    for (uint32_t i = 0; i < n; i++) {
        p[i] = w[i] * n / sum;
        t->e[i] = (uint64_t)i << 32 | UINT32_MAX;   /* full: itself either way */
        if (p[i] < 1.0) small[ns++] = i;
        else large[nl++] = i;
    }
    /* Vose: pair each under-full slot with an over-full one */
    while (ns > 0 && nl > 0) {
        uint32_t s = small[--ns], l = large[--nl];
        double   thr = p[s] * 4294967296.0;
        t->e[s] = (uint64_t)l << 32 | (thr >= 4294967295.0 ? UINT32_MAX : (uint32_t)llround(thr));
        p[l] = (p[l] + p[s]) - 1.0;
        if (p[l] < 1.0) small[ns++] = l;
        else large[nl++] = l;
    }
    /* what is left (rounding leftovers) stays full */
    free(p);
    free(small);
    free(large);
    return 0;
}

void conn_alias_free(AliasTable *t)
{
    free(t->e);
    t->e = NULL;
    t->n = 0;
}

/* ---- text → values -------------------------------------------------------------- */

int conn_parse_i64(const char *p, size_t n, int64_t *out)
{
    size_t i = 0;
    int    neg = 0;
    if (i < n && (p[i] == '+' || p[i] == '-')) neg = p[i++] == '-';
    if (i == n) return -1;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d > 9) return -1;
        if (v > (lim - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int conn_parse_f64(const char *p, size_t n, double *out)
{
    char buf[512];
    if (n == 0 || n >= sizeof buf) return -1;
    /* strtod would skip leading blanks and accept hex; take decimal text only */
    if (p[0] == ' ' || p[0] == '\t' || memchr(p, 'x', n) || memchr(p, 'X', n)) return -1;
    memcpy(buf, p, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    double x = strtod(buf, &end);
    if (end != buf + n) return -1;
    if (errno == ERANGE && isinf(x)) return -1;   /* overflow; underflow to 0 is fine */
    *out = x;
    return 0;
}

int conn_parse_bool(const char *p, size_t n, uint8_t *out)
{
    if ((n == 4 && strncasecmp(p, "true", 4) == 0) || (n == 1 && (p[0] == 't' || p[0] == 'T' || p[0] == '1'))) {
        *out = 1;
        return 0;
    }
    if ((n == 5 && strncasecmp(p, "false", 5) == 0) || (n == 1 && (p[0] == 'f' || p[0] == 'F' || p[0] == '0'))) {
        *out = 0;
        return 0;
    }
    return -1;
}

static int all_digits(const char *p, size_t n)
{
    size_t i = (n > 0 && (p[0] == '-' || p[0] == '+')) ? 1 : 0;
    if (i == n) return 0;
    for (; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return 0;
    return 1;
}

int conn_store_text(Vector *v, int row, const char *p, size_t n, char *why, size_t cap)
{
    switch (v->type) {
    case TYPE_VARCHAR:
        if (vector_set_str(v, row, p, n) != 0) return conn_errf(why, cap, "out of memory");
        return 0;
    case TYPE_BIGINT: {
        int64_t x;
        if (conn_parse_i64(p, n, &x) != 0) break;
        vector_i64(v)[row] = x;
        vector_set_valid(v, row);
        return 0;
    }
    case TYPE_DOUBLE: {
        double x;
        if (conn_parse_f64(p, n, &x) != 0) break;
        vector_f64(v)[row] = x;
        vector_set_valid(v, row);
        return 0;
    }
    case TYPE_BOOLEAN: {
        uint8_t x;
        if (conn_parse_bool(p, n, &x) != 0) break;
        vector_bool(v)[row] = x;
        vector_set_valid(v, row);
        return 0;
    }
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL: {
        int64_t x;
        if (all_digits(p, n)) {          /* epoch milliseconds / milliseconds */
            if (conn_parse_i64(p, n, &x) != 0 || x > INT64_MAX / 1000 || x < INT64_MIN / 1000)
                break;
            x *= 1000;
            if (v->type == TYPE_TIMESTAMP && (x < CONN_TS_MIN_US || x > CONN_TS_MAX_US))
                return conn_errf(why, cap, "%.*s milliseconds is out of the TIMESTAMP range "
                                 "(years 1 to 9999)", n > 40 ? 40 : (int)n, p);
        } else if (v->type == TYPE_TIMESTAMP ? ts_parse(p, n, &x) != 0
                                             : interval_parse(p, n, &x) != 0) {
            break;
        }
        vector_i64(v)[row] = x;
        vector_set_valid(v, row);
        return 0;
    }
    case TYPE_NULL:
        vector_set_null(v, row);
        return 0;
    }
    return conn_errf(why, cap, "'%.*s' is not a valid %s", n > 40 ? 40 : (int)n, p,
                     sql_type_name(v->type));
}

int conn_utf8_valid(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t               i = 0;
    while (i < n) {
        if (i + 8 <= n) {   /* a run of ASCII, 8 bytes at a time */
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ULL)) {
                i += 8;
                continue;
            }
        }
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t   len;
        unsigned lo = 0x80, hi = 0xBF;   /* the range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;          /* no overlong forms */
            else if (c == 0xED) hi = 0x9F;     /* no surrogates     */
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;          /* no overlong forms */
            else if (c == 0xF4) hi = 0x8F;     /* ≤ U+10FFFF        */
        } else {
            return 0;
        }
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return 0;
        i += len;
    }
    return 1;
}

void conn_mark_valid(Vector *v, int from, int to)
{
    if (!v->validity || v->type == TYPE_NULL) return;
    for (int r = from; r < to; r++) v->validity[r >> 6] |= (uint64_t)1 << (r & 63);
}

int event_cycle_init(EventCycle *c, const int64_t *parts, int m, int64_t P, int64_t eps)
{
    memset(c, 0, sizeof *c);
    c->eps = eps;
    if (m <= 0) return 0;
    c->stride = malloc((size_t)m * sizeof *c->stride);
    c->dq = malloc((size_t)m * sizeof *c->dq);
    c->dr = malloc((size_t)m * sizeof *c->dr);
    if (!c->stride || !c->dq || !c->dr) {
        event_cycle_free(c);
        return -1;
    }
    c->m = m;
    for (int j = 0; j < m; j++) {
        int64_t d = j + 1 < m ? parts[j + 1] - parts[j] : P - parts[j] + parts[0];
        c->stride[j] = d;
        c->dq[j] = d * USEC_PER_SEC / eps;
        c->dr[j] = d * USEC_PER_SEC % eps;
    }
    c->P = P;
    c->first = parts[0];
    c->pos.k = parts[0];
    c->pos.q = parts[0] * USEC_PER_SEC / eps;
    c->pos.r = parts[0] * USEC_PER_SEC % eps;
    c->pos.j = 0;
    return 0;
}

void event_cycle_free(EventCycle *c)
{
    free(c->stride);
    free(c->dq);
    free(c->dr);
    c->stride = c->dq = c->dr = NULL;
    c->m = 0;
}

/* ---- checkpoint blobs -------------------------------------------------------------- */

#define CKPT_MAGIC "SLCK"
#define CKPT_TAG   16

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    return h;
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void out_bytes(CkptOut *w, const void *p, size_t n)
{
    if (w->len + n <= w->cap && n) memcpy(w->p + w->len, p, n);
    w->len += n;   /* counts on past cap: ckpt_out_end reports the need */
}

void ckpt_out_begin(CkptOut *w, void *buf, size_t cap, const char *tag, uint32_t version)
{
    w->p = buf;
    w->cap = buf ? cap : 0;
    w->len = 0;
    unsigned char h[CKPT_HEADER] = {0};
    memcpy(h, CKPT_MAGIC, 4);
    size_t tl = strlen(tag);
    memcpy(h + 4, tag, tl < CKPT_TAG ? tl : CKPT_TAG - 1);
    put_le(h + 20, version, 4);
    out_bytes(w, h, sizeof h);   /* body length filled in at the end */
}

void ckpt_put_u64(CkptOut *w, uint64_t v)
{
    unsigned char b[8];
    put_le(b, v, 8);
    out_bytes(w, b, 8);
}

void ckpt_put_i64(CkptOut *w, int64_t v)
{
    ckpt_put_u64(w, (uint64_t)v);
}

void ckpt_put_str(CkptOut *w, const char *s)
{
    size_t        n = strlen(s);
    unsigned char b[4];
    put_le(b, n, 4);
    out_bytes(w, b, 4);
    out_bytes(w, s, n);
}

long ckpt_out_end(CkptOut *w, size_t *need)
{
    size_t total = w->len + CKPT_TRAILER;
    if (need) *need = total;
    if (total > w->cap || total > (size_t)INT32_MAX) return -1;
    put_le(w->p + 24, w->len - CKPT_HEADER, 4);
    put_le(w->p + w->len, fnv1a(w->p, w->len), 8);
    return (long)total;
}

long conn_ckpt_finish(Source *s, CkptOut *w, const char *who)
{
    size_t need, cap = w->cap;
    int    query = w->p == NULL;
    long   n = ckpt_out_end(w, &need);
    if (n >= 0) return n;
    if (query) return need <= (size_t)INT32_MAX ? (long)need : -1;
    conn_set_error(s, "%s: a checkpoint needs %zu bytes, the buffer has %zu", who, need, cap);
    return -1;
}

int ckpt_in_begin(CkptIn *r, const void *buf, size_t len, const char *tag, uint32_t version,
                  char *err, size_t cap)
{
    const unsigned char *p = buf;
    memset(r, 0, sizeof *r);
    if (!p || len == 0) return conn_errf(err, cap, "%s: the checkpoint blob is empty", tag);
    if (len < 4 || memcmp(p, CKPT_MAGIC, 4) != 0)
        return conn_errf(err, cap, "%s: not a connector checkpoint blob (bad magic)", tag);
    if (len < CKPT_HEADER + CKPT_TRAILER)
        return conn_errf(err, cap, "%s: the checkpoint blob is truncated (%zu bytes)", tag, len);
    char got[CKPT_TAG + 1];
    memcpy(got, p + 4, CKPT_TAG);
    got[CKPT_TAG] = 0;
    for (int i = 0; got[i]; i++)
        if ((unsigned char)got[i] < 0x20 || (unsigned char)got[i] > 0x7e) got[i] = '?';
    if (strcmp(got, tag) != 0)
        return conn_errf(err, cap, "%s: the checkpoint was written by the '%s' connector", tag, got);
    uint32_t v = (uint32_t)get_le(p + 20, 4);
    if (v != version)
        return conn_errf(err, cap, "%s: checkpoint blob version %u is not supported (this build reads version %u)",
                         tag, v, version);
    uint64_t body = get_le(p + 24, 4);
    if (body + CKPT_HEADER + CKPT_TRAILER != len)
        return conn_errf(err, cap, "%s: the checkpoint blob is truncated or has trailing bytes (%zu bytes, expected %llu)",
                         tag, len, (unsigned long long)(body + CKPT_HEADER + CKPT_TRAILER));
    if (fnv1a(p, len - CKPT_TRAILER) != get_le(p + len - CKPT_TRAILER, 8))
        return conn_errf(err, cap, "%s: the checkpoint blob is corrupt (checksum mismatch)", tag);
    r->p = p + CKPT_HEADER;
    r->len = (size_t)body;
    return 0;
}

uint64_t ckpt_get_u64(CkptIn *r)
{
    if (r->bad || r->len - r->off < 8) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = get_le(r->p + r->off, 8);
    r->off += 8;
    return v;
}

int64_t ckpt_get_i64(CkptIn *r)
{
    return (int64_t)ckpt_get_u64(r);
}

const char *ckpt_get_str(CkptIn *r, size_t *n)
{
    *n = 0;
    if (r->bad || r->len - r->off < 4) {
        r->bad = 1;
        return "";
    }
    size_t k = (size_t)get_le(r->p + r->off, 4);
    if (r->len - r->off - 4 < k) {
        r->bad = 1;
        return "";
    }
    const char *s = (const char *)r->p + r->off + 4;
    r->off += 4 + k;
    *n = k;
    return s;
}

int ckpt_str_is(const char *p, size_t n, const char *s)
{
    return strlen(s) == n && memcmp(p, s, n) == 0;
}

int ckpt_in_end(CkptIn *r, const char *who, char *err, size_t cap)
{
    if (r->bad || r->off != r->len)
        return conn_errf(err, cap, "%s: the checkpoint blob is malformed", who);
    return 0;
}

/* ---- generator schedules in checkpoints ----------------------------------------------- */

void event_cycle_save(const EventCycle *c, CkptOut *w)
{
    ckpt_put_i64(w, c->P);
    ckpt_put_i64(w, c->m);
    ckpt_put_i64(w, c->m > 0 ? c->first : -1);
    ckpt_put_i64(w, c->m > 0 ? c->pos.k : -1);
}

int event_cycle_restore(EventCycle *c, CkptIn *r, const char *who, char *err, size_t cap)
{
    int64_t P = ckpt_get_i64(r), m = ckpt_get_i64(r), first = ckpt_get_i64(r), k = ckpt_get_i64(r);
    if (r->bad) return conn_errf(err, cap, "%s: the checkpoint blob is malformed", who);
    if (P != c->P && c->m > 0)
        return conn_errf(err, cap, "%s: the checkpoint was taken with %lld partitions, this source has %lld",
                         who, (long long)P, (long long)c->P);
    if (m != c->m || (m > 0 && first != c->first))
        return conn_errf(err, cap,
                         "%s: the checkpoint is of another partition set (%lld partition(s) from %lld; "
                         "this task reads %d from %lld): partitions or parallelism changed",
                         who, (long long)m, (long long)first, c->m, (long long)(c->m > 0 ? c->first : -1));
    if (m == 0) return 0;
    if (k < 0) return conn_errf(err, cap, "%s: the checkpoint blob is malformed", who);
    int64_t want = k % P, p = c->first;
    int     j = 0;
    while (j < c->m && p != want) p += c->stride[j++];
    if (j == c->m)
        return conn_errf(err, cap, "%s: event %lld of the checkpoint is not one of this task's partitions",
                         who, (long long)k);
    unsigned __int128 t = (unsigned __int128)k * USEC_PER_SEC;
    c->pos.k = k;
    c->pos.q = (int64_t)(t / (uint64_t)c->eps);
    c->pos.r = (int64_t)(t % (uint64_t)c->eps);
    c->pos.j = j;
    return 0;
}
