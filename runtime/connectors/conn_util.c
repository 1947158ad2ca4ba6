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
