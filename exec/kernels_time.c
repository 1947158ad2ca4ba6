/*
 * kernels_time.c — EXTRACT, DATE_TRUNC and TO_TIMESTAMP.
 *
 * The field of EXTRACT and the unit of DATE_TRUNC are almost always
 * constants: kern_time_prepare() looks them up once (an unknown constant is
 * a build error) and the kernel runs one loop per field. A field that comes
 * from a column is looked up per row (unknown → NULL) on a slower path.
 *
 * Calendar math is timefmt.h's (proleptic Gregorian, exact before 1970).
 * Every step that could leave the int64 range near its ends is checked and
 * gives NULL instead.
 */
#include <math.h>
#include <stdio.h>

#include "exec/expr_kernels.h"
#include "exec/timefmt.h"

#define TWO_P63 9223372036854775808.0

/* floor division for b > 0 (no overflow: b is never -1) */
static inline int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

static inline int64_t floor_mod(int64_t a, int64_t b)
{
    int64_t m = a % b;
    return m < 0 ? m + b : m;
}

/* ---- EXTRACT ---------------------------------------------------------------------- */

/* 0 = Sunday (1970-01-01 was a Thursday) */
static inline int64_t dow_of_days(int64_t days)
{
    return floor_mod(days + 4, 7);
}

static inline int64_t iso_week(int64_t ts)
{
    int64_t days = floor_div(ts, USEC_PER_DAY);
    int64_t isodow = dow_of_days(days);
    if (isodow == 0) isodow = 7;
    /* the ISO year of a week is the year of its Thursday */
    int64_t   thu = days - isodow + 4;
    CivilTime c;
    int64_t   thu_ts;
    if (__builtin_mul_overflow(thu, USEC_PER_DAY, &thu_ts)) thu_ts = ts;
    ts_to_civil(thu_ts, &c);
    return (thu - ts_days_from_civil(c.year, 1, 1)) / 7 + 1;
}

/* value of field for ts; 0 when field is not a field (never reached) */
static inline int64_t extract_one(int field, int64_t ts)
{
    CivilTime c;
    switch (field) {
    case EXTRACT_EPOCH:  return floor_div(ts, USEC_PER_SEC);
    case EXTRACT_DOW:    return dow_of_days(floor_div(ts, USEC_PER_DAY));
    case EXTRACT_ISODOW: {
        int64_t d = dow_of_days(floor_div(ts, USEC_PER_DAY));
        return d == 0 ? 7 : d;
    }
    case EXTRACT_WEEK:   return iso_week(ts);
    default:             break;
    }
    ts_to_civil(ts, &c);
    switch (field) {
    case EXTRACT_YEAR:        return c.year;
    case EXTRACT_QUARTER:     return (c.month - 1) / 3 + 1;
    case EXTRACT_MONTH:       return c.month;
    case EXTRACT_DAY:         return c.day;
    case EXTRACT_DOY:
        return floor_div(ts, USEC_PER_DAY) - ts_days_from_civil(c.year, 1, 1) + 1;
    case EXTRACT_HOUR:        return c.hour;
    case EXTRACT_MINUTE:      return c.minute;
    case EXTRACT_SECOND:      return c.second;
    case EXTRACT_MILLISECOND: return (int64_t)c.second * 1000 + c.usec / 1000;
    case EXTRACT_MICROSECOND: return (int64_t)c.second * USEC_PER_SEC + c.usec;
    }
    return 0;
}

/* ---- DATE_TRUNC --------------------------------------------------------------------- */

/* floor ts to a multiple of unit; 0 when that leaves the int64 range */
static inline int trunc_to(int64_t ts, int64_t unit, int64_t *out)
{
    return !__builtin_sub_overflow(ts, floor_mod(ts, unit), out);
}

static inline int trunc_one(int unit, int64_t ts, int64_t *out)
{
    CivilTime c;
    int64_t   day;
    switch (unit) {
    case TRUNC_MICROSECOND: *out = ts; return 1;
    case TRUNC_MILLISECOND: return trunc_to(ts, USEC_PER_MSEC, out);
    case TRUNC_SECOND:      return trunc_to(ts, USEC_PER_SEC, out);
    case TRUNC_MINUTE:      return trunc_to(ts, USEC_PER_MINUTE, out);
    case TRUNC_HOUR:        return trunc_to(ts, USEC_PER_HOUR, out);
    case TRUNC_DAY:         return trunc_to(ts, USEC_PER_DAY, out);
    case TRUNC_WEEK: {
        int64_t days = floor_div(ts, USEC_PER_DAY);
        int64_t back = (dow_of_days(days) + 6) % 7;      /* days since Monday */
        return !__builtin_mul_overflow(days - back, USEC_PER_DAY, out);
    }
    default:
        break;
    }
    ts_to_civil(ts, &c);
    switch (unit) {
    case TRUNC_MONTH:   day = ts_days_from_civil(c.year, c.month, 1); break;
    case TRUNC_QUARTER: day = ts_days_from_civil(c.year, (c.month - 1) / 3 * 3 + 1, 1); break;
    case TRUNC_YEAR:    day = ts_days_from_civil(c.year, 1, 1); break;
    default:            return 0;
    }
    return !__builtin_mul_overflow(day, USEC_PER_DAY, out);
}

/* ---- kernels -------------------------------------------------------------------------- */

#define LIVE_ROWS(...)                                                           \
    do {                                                                         \
        for (int i = 0; i < count; i++) {                                        \
            int r = sel ? (int)sel[i] : i;                                       \
            if (!KVALID(rv, r)) continue;                                        \
            __VA_ARGS__;                                                         \
        }                                                                        \
    } while (0)

int kern_time_prepare(ENode *n, char *why, size_t cap)
{
    const ENode *f = n->args[0];
    n->flag = -1;                                    /* per-row lookup */
    if (!f->folded || vector_is_null(f->out, 0)) return 0;
    Str s = vector_str(f->out)[0];
    int code = n->kernel == K_EXTRACT ? func_extract_field(s.ptr, s.len)
                                      : func_trunc_unit(s.ptr, s.len);
    if (code < 0) {
        snprintf(why, cap, "unknown %s '%.*s'",
                 n->kernel == K_EXTRACT ? "EXTRACT field" : "DATE_TRUNC unit",
                 (int)(s.len > 64 ? 64 : s.len), s.ptr ? s.ptr : "");
        return -1;
    }
    n->flag = code;
    return 0;
}

static int extract(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    Vector         *res = &n->res;
    const uint64_t *rv = res->validity;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[1]);
    const int64_t  *x = vector_i64(a[1]);
    int64_t        *o = vector_i64(res);
    if (n->flag < 0) {
        const Str *f = vector_str(a[0]);
        int        mf = KMASK(a[0]);
        LIVE_ROWS({
            int field = func_extract_field(f[r & mf].ptr, f[r & mf].len);
            if (field < 0) vector_set_null(res, r);
            else o[r] = extract_one(field, x[r & mx]);
        });
        return 0;
    }
    /* one loop per field: extract_one is inlined with a constant field */
#define FIELD_CASE(F)                                                            \
    case F:                                                                      \
        LIVE_ROWS(o[r] = extract_one(F, x[r & mx]));                             \
        break;
    switch (n->flag) {
        FIELD_CASE(EXTRACT_YEAR)
        FIELD_CASE(EXTRACT_QUARTER)
        FIELD_CASE(EXTRACT_MONTH)
        FIELD_CASE(EXTRACT_WEEK)
        FIELD_CASE(EXTRACT_DAY)
        FIELD_CASE(EXTRACT_DOW)
        FIELD_CASE(EXTRACT_ISODOW)
        FIELD_CASE(EXTRACT_DOY)
        FIELD_CASE(EXTRACT_HOUR)
        FIELD_CASE(EXTRACT_MINUTE)
        FIELD_CASE(EXTRACT_SECOND)
        FIELD_CASE(EXTRACT_MILLISECOND)
        FIELD_CASE(EXTRACT_MICROSECOND)
        FIELD_CASE(EXTRACT_EPOCH)
    default:
        return -1;
    }
#undef FIELD_CASE
    return 0;
}

static int date_trunc(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    Vector         *res = &n->res;
    const uint64_t *rv = res->validity;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[1]);
    const int64_t  *x = vector_i64(a[1]);
    int64_t        *o = vector_i64(res);
    if (n->flag < 0) {
        const Str *f = vector_str(a[0]);
        int        mf = KMASK(a[0]);
        LIVE_ROWS({
            int unit = func_trunc_unit(f[r & mf].ptr, f[r & mf].len);
            if (unit < 0 || !trunc_one(unit, x[r & mx], &o[r])) vector_set_null(res, r);
        });
        return 0;
    }
#define UNIT_CASE(U)                                                             \
    case U:                                                                      \
        LIVE_ROWS(if (!trunc_one(U, x[r & mx], &o[r])) vector_set_null(res, r)); \
        break;
    switch (n->flag) {
        UNIT_CASE(TRUNC_MICROSECOND)
        UNIT_CASE(TRUNC_MILLISECOND)
        UNIT_CASE(TRUNC_SECOND)
        UNIT_CASE(TRUNC_MINUTE)
        UNIT_CASE(TRUNC_HOUR)
        UNIT_CASE(TRUNC_DAY)
        UNIT_CASE(TRUNC_WEEK)
        UNIT_CASE(TRUNC_MONTH)
        UNIT_CASE(TRUNC_QUARTER)
        UNIT_CASE(TRUNC_YEAR)
    default:
        return -1;
    }
#undef UNIT_CASE
    return 0;
}

int kern_time(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    Vector         *res = &n->res;
    const uint64_t *rv = res->validity;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[0]);
    int64_t        *o = vector_i64(res);
    switch (n->kernel) {
    case K_EXTRACT:
        return extract(n, a, cx);
    case K_DATE_TRUNC:
        return date_trunc(n, a, cx);
    case K_TO_TS_STR: {
        const Str *x = vector_str(a[0]);
        LIVE_ROWS({
            Str s = x[r & mx];
            if (ts_parse(s.len ? s.ptr : "", s.len, &o[r]) < 0) vector_set_null(res, r);
        });
        return 0;
    }
    case K_TO_TS_I64: {
        const int64_t *x = vector_i64(a[0]);
        LIVE_ROWS({
            if (__builtin_mul_overflow(x[r & mx], USEC_PER_SEC, &o[r])) vector_set_null(res, r);
        });
        return 0;
    }
    case K_TO_TS_F64: {
        const double *x = vector_f64(a[0]);
        LIVE_ROWS({
            double us = round(x[r & mx] * 1e6);
            if (us >= -TWO_P63 && us < TWO_P63) o[r] = (int64_t)us;
            else vector_set_null(res, r);
        });
        return 0;
    }
    }
    return -1;
}
