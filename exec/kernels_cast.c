/*
 * kernels_cast.c — CAST between the SQL types (strict; the allowed pairs are
 * func.h's cast_allowed, the meaning is in expr_eval.c).
 *
 * To VARCHAR: the text of vector_format_value, so a cast value prints the
 * way the column would. BOOLEAN text is a static string (no copy); BIGINT is
 * formatted inline; DOUBLE, TIMESTAMP and INTERVAL go through the core
 * formatters. The bytes land in the node's arena (bump allocation).
 *
 * From VARCHAR: parsers that take (ptr, len) — the bytes are not
 * NUL-terminated — and reject anything but the whole text (surrounding
 * blanks allowed): malformed text gives NULL, never an error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/expr_kernels.h"
#include "exec/timefmt.h"

#define TWO_P63 9223372036854775808.0

#define LIVE_ROWS(...)                                                           \
    do {                                                                         \
        for (int i = 0; i < count; i++) {                                        \
            int r = sel ? (int)sel[i] : i;                                       \
            if (!KVALID(rv, r)) continue;                                        \
            __VA_ARGS__;                                                         \
        }                                                                        \
    } while (0)

static inline int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline void trim(const char **p, const char **e)
{
    while (*p < *e && is_blank(**p)) (*p)++;
    while (*e > *p && is_blank((*e)[-1])) (*e)--;
}

/* [blanks][+|-]digits[blanks], within int64 */
static int parse_i64(Str s, int64_t *out)
{
    const char *p = s.ptr, *e = s.ptr + s.len;
    if (!s.len) return -1;
    trim(&p, &e);
    int neg = 0;
    if (p < e && (*p == '+' || *p == '-')) neg = *p++ == '-';
    if (p == e) return -1;
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9') return -1;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (limit - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* decimal text strtod accepts (Infinity and NaN included), no hex */
static int parse_f64(Str s, double *out)
{
    char        small[128];
    const char *p = s.ptr, *e = s.ptr + s.len;
    if (!s.len) return -1;
    trim(&p, &e);
    size_t n = (size_t)(e - p);
    if (n == 0 || n >= sizeof small) return -1;   /* 127 chars: any double and then some */
    memcpy(small, p, n);
    small[n] = '\0';
    for (size_t k = 0; k < n; k++)
        if (small[k] == 'x' || small[k] == 'X') return -1;
    char  *end;
    double d = strtod(small, &end);
    if (end != small + n) return -1;
    *out = d;
    return 0;
}

static int parse_bool(Str s, uint8_t *out)
{
    static const struct {
        const char *text;
        uint8_t     value;
    } words[] = {{"true", 1}, {"t", 1},  {"yes", 1}, {"y", 1},   {"on", 1},  {"1", 1},
                 {"false", 0}, {"f", 0}, {"no", 0},  {"n", 0},   {"off", 0}, {"0", 0}};
    const char *p = s.ptr, *e = s.ptr + s.len;
    if (!s.len) return -1;
    trim(&p, &e);
    size_t n = (size_t)(e - p);
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        const char *t = words[w].text;
        if (strlen(t) != n) continue;
        size_t k = 0;
        while (k < n && (p[k] >= 'A' && p[k] <= 'Z' ? p[k] + 32 : p[k]) == t[k]) k++;
        if (k == n) {
            *out = words[w].value;
            return 0;
        }
    }
    return -1;
}

/* decimal text of x into buf (>= 21 bytes); returns the length */
static int format_i64(int64_t x, char *buf)
{
    char     tmp[24];
    int      n = 0, len = 0;
    uint64_t v = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (x < 0) buf[len++] = '-';
    while (n) buf[len++] = tmp[--n];
    return len;
}

static int to_varchar(ENode *n, const Vector *a, const EvalCtx *cx)
{
    Vector         *res = &n->res;
    const uint64_t *rv = res->validity;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a);
    char            text[INTERVAL_FORMAT_MAX + TS_FORMAT_MAX];
    switch (n->from) {
    case TYPE_BOOLEAN: {
        const uint8_t *x = vector_bool(a);
        LIVE_ROWS({
            if (x[r & mx]) vector_set_str_ref(res, r, "true", 4);
            else vector_set_str_ref(res, r, "false", 5);
        });
        return 0;
    }
    case TYPE_BIGINT: {
        const int64_t *x = vector_i64(a);
        LIVE_ROWS({
            int len = format_i64(x[r & mx], text);
            if (vector_set_str(res, r, text, (size_t)len) < 0) return -1;
        });
        return 0;
    }
    case TYPE_DOUBLE:
        LIVE_ROWS({
            int len = vector_format_value(a, r, text, sizeof text);
            if (vector_set_str(res, r, text, (size_t)len) < 0) return -1;
        });
        return 0;
    case TYPE_TIMESTAMP: {
        const int64_t *x = vector_i64(a);
        LIVE_ROWS({
            int len = ts_format(x[r & mx], text, sizeof text, 0);
            if (vector_set_str(res, r, text, (size_t)len) < 0) return -1;
        });
        return 0;
    }
    case TYPE_INTERVAL: {
        const int64_t *x = vector_i64(a);
        LIVE_ROWS({
            int len = interval_format(x[r & mx], text, sizeof text);
            if (vector_set_str(res, r, text, (size_t)len) < 0) return -1;
        });
        return 0;
    }
    default:
        break;
    }
    return -1;
}

static int from_varchar(ENode *n, const Vector *a, const EvalCtx *cx)
{
    Vector         *res = &n->res;
    const uint64_t *rv = res->validity;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a);
    const Str      *x = vector_str(a);
    switch (n->type) {
    case TYPE_BIGINT: {
        int64_t *o = vector_i64(res);
        LIVE_ROWS(if (parse_i64(x[r & mx], &o[r]) < 0) vector_set_null(res, r));
        return 0;
    }
    case TYPE_DOUBLE: {
        double *o = vector_f64(res);
        LIVE_ROWS(if (parse_f64(x[r & mx], &o[r]) < 0) vector_set_null(res, r));
        return 0;
    }
    case TYPE_BOOLEAN: {
        uint8_t *o = vector_bool(res);
        LIVE_ROWS(if (parse_bool(x[r & mx], &o[r]) < 0) vector_set_null(res, r));
        return 0;
    }
    case TYPE_TIMESTAMP: {
        int64_t *o = vector_i64(res);
        LIVE_ROWS({
            Str s = x[r & mx];
            if (ts_parse(s.len ? s.ptr : "", s.len, &o[r]) < 0) vector_set_null(res, r);
        });
        return 0;
    }
    case TYPE_INTERVAL: {
        int64_t *o = vector_i64(res);
        LIVE_ROWS({
            Str s = x[r & mx];
            if (interval_parse(s.len ? s.ptr : "", s.len, &o[r]) < 0) vector_set_null(res, r);
        });
        return 0;
    }
    default:
        return -1;
    }
}

int kern_cast(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    Vector         *res = &n->res;
    const uint64_t *rv = res->validity;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[0]);
    if (n->type == TYPE_VARCHAR) return to_varchar(n, a[0], cx);
    if (n->from == TYPE_VARCHAR) return from_varchar(n, a[0], cx);
    if (n->from == TYPE_BIGINT && n->type == TYPE_DOUBLE) {
        const int64_t *x = vector_i64(a[0]);
        double        *o = vector_f64(res);
        for (int i = 0; i < count; i++) {
            int r = sel ? (int)sel[i] : i;
            o[r] = (double)x[r & mx];
        }
        return 0;
    }
    if (n->from == TYPE_DOUBLE && n->type == TYPE_BIGINT) {
        const double *x = vector_f64(a[0]);
        int64_t      *o = vector_i64(res);
        LIVE_ROWS({
            double d = round(x[r & mx]);
            if (d >= -TWO_P63 && d < TWO_P63) o[r] = (int64_t)d;
            else vector_set_null(res, r);
        });
        return 0;
    }
    if (n->from == TYPE_BIGINT && n->type == TYPE_BOOLEAN) {
        const int64_t *x = vector_i64(a[0]);
        uint8_t       *o = vector_bool(res);
        for (int i = 0; i < count; i++) {
            int r = sel ? (int)sel[i] : i;
            o[r] = x[r & mx] != 0;
        }
        return 0;
    }
    if (n->from == TYPE_BOOLEAN && n->type == TYPE_BIGINT) {
        const uint8_t *x = vector_bool(a[0]);
        int64_t       *o = vector_i64(res);
        for (int i = 0; i < count; i++) {
            int r = sel ? (int)sel[i] : i;
            o[r] = x[r & mx] != 0;
        }
        return 0;
    }
    return -1;
}
