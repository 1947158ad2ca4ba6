/*
 * kernels_arith.c — numeric and time arithmetic, comparisons, ABS / ROUND /
 * FLOOR / CEIL and NOT (strict kernels; see expr_kernels.h for how they are
 * called and expr_eval.c for the semantics).
 *
 * Every binary kernel is one BIN_LOOP: four loops, chosen once per vector —
 * flat with flat, flat with constant, constant with flat without a
 * selection (plain counted loops over slots 0..count-1 that gcc
 * vectorizes; a constant operand is hoisted out of the loop), and one loop
 * through the selection with masked indexes for the rest.
 *
 * BIGINT overflow without branches in the hot loop: + and - compute the
 * wrapped result in unsigned arithmetic and OR the overflow predicate's sign
 * bit into an accumulator; only when it is set does a second pass find the
 * rows (with __builtin_*_overflow) and make them NULL. * uses
 * __builtin_mul_overflow directly (no vector multiply-high on x86 anyway).
 */
#include <math.h>
#include <string.h>

#include "exec/expr_kernels.h"

/* for each live row r: xv = x[r & mx], yv = y[r & my]; body writes o[r] */
#define BIN_LOOP(TX, TY, ...)                                                    \
    do {                                                                         \
        if (!sel && mx && my) {                                                  \
            for (int r = 0; r < count; r++) {                                    \
                TX xv = x[r];                                                    \
                TY yv = y[r];                                                    \
                __VA_ARGS__;                                                     \
            }                                                                    \
        } else if (!sel && mx) {                                                 \
            TY yv = y[0];                                                        \
            for (int r = 0; r < count; r++) {                                    \
                TX xv = x[r];                                                    \
                __VA_ARGS__;                                                     \
            }                                                                    \
        } else if (!sel && my) {                                                 \
            TX xv = x[0];                                                        \
            for (int r = 0; r < count; r++) {                                    \
                TY yv = y[r];                                                    \
                __VA_ARGS__;                                                     \
            }                                                                    \
        } else {                                                                 \
            for (int i = 0; i < count; i++) {                                    \
                int r = sel ? (int)sel[i] : i;                                   \
                TX  xv = x[r & mx];                                              \
                TY  yv = y[r & my];                                              \
                __VA_ARGS__;                                                     \
            }                                                                    \
        }                                                                        \
    } while (0)

/* for each live row r: xv = x[r & mx]; body writes o[r] */
#define UN_LOOP(TX, ...)                                                         \
    do {                                                                         \
        if (!sel && mx) {                                                        \
            for (int r = 0; r < count; r++) {                                    \
                TX xv = x[r];                                                    \
                __VA_ARGS__;                                                     \
            }                                                                    \
        } else {                                                                 \
            for (int i = 0; i < count; i++) {                                    \
                int r = sel ? (int)sel[i] : i;                                   \
                TX  xv = x[r & mx];                                              \
                __VA_ARGS__;                                                     \
            }                                                                    \
        }                                                                        \
    } while (0)

#define TWO_P63 9223372036854775808.0   /* 2^63 */

/* round half away from zero into an int64; 0 when NaN or out of range */
static inline int f64_to_i64(double d, int64_t *out)
{
    double r = round(d);
    if (!(r >= -TWO_P63 && r < TWO_P63)) return 0;
    *out = (int64_t)r;
    return 1;
}

/* ---- + - * / % ------------------------------------------------------------ */

static void arith_i64(int op, Vector *res, const Vector *a, const Vector *b,
                      const uint32_t *sel, int count)
{
    const int64_t *x = vector_i64(a), *y = vector_i64(b);
    int64_t       *o = vector_i64(res);
    int            mx = KMASK(a), my = KMASK(b);
    switch (op) {
    case FN_ADD: {
        int64_t bad = 0;
        BIN_LOOP(int64_t, int64_t, {
            int64_t z = (int64_t)((uint64_t)xv + (uint64_t)yv);
            o[r] = z;
            bad |= (xv ^ z) & (yv ^ z);
        });
        if (bad < 0)
            BIN_LOOP(int64_t, int64_t, {
                int64_t z;
                if (__builtin_add_overflow(xv, yv, &z)) vector_set_null(res, r);
            });
        break;
    }
    case FN_SUB: {
        int64_t bad = 0;
        BIN_LOOP(int64_t, int64_t, {
            int64_t z = (int64_t)((uint64_t)xv - (uint64_t)yv);
            o[r] = z;
            bad |= (xv ^ yv) & (xv ^ z);
        });
        if (bad < 0)
            BIN_LOOP(int64_t, int64_t, {
                int64_t z;
                if (__builtin_sub_overflow(xv, yv, &z)) vector_set_null(res, r);
            });
        break;
    }
    case FN_MUL: {
        int bad = 0;
        BIN_LOOP(int64_t, int64_t, {
            int64_t z;
            bad |= __builtin_mul_overflow(xv, yv, &z);
            o[r] = z;
        });
        if (bad)
            BIN_LOOP(int64_t, int64_t, {
                int64_t z;
                if (__builtin_mul_overflow(xv, yv, &z)) vector_set_null(res, r);
            });
        break;
    }
    case FN_DIV:
        BIN_LOOP(int64_t, int64_t, {
            if (yv == 0 || (yv == -1 && xv == INT64_MIN)) {
                o[r] = 0;
                vector_set_null(res, r);
            } else {
                o[r] = xv / yv;
            }
        });
        break;
    case FN_MOD:
        BIN_LOOP(int64_t, int64_t, {
            if (yv == 0) {
                o[r] = 0;
                vector_set_null(res, r);
            } else {
                o[r] = yv == -1 ? 0 : xv % yv;
            }
        });
        break;
    }
}

static void arith_f64(int op, Vector *res, const Vector *a, const Vector *b,
                      const uint32_t *sel, int count)
{
    const double *x = vector_f64(a), *y = vector_f64(b);
    double       *o = vector_f64(res);
    int           mx = KMASK(a), my = KMASK(b);
    switch (op) {
    case FN_ADD:
        BIN_LOOP(double, double, o[r] = xv + yv);
        break;
    case FN_SUB:
        BIN_LOOP(double, double, o[r] = xv - yv);
        break;
    case FN_MUL:
        BIN_LOOP(double, double, o[r] = xv * yv);
        break;
    case FN_DIV:
        BIN_LOOP(double, double, {
            if (yv == 0.0) {
                o[r] = 0.0;
                vector_set_null(res, r);
            } else {
                o[r] = xv / yv;
            }
        });
        break;
    case FN_MOD:
        BIN_LOOP(double, double, {
            if (yv == 0.0) {
                o[r] = 0.0;
                vector_set_null(res, r);
            } else {
                o[r] = fmod(xv, yv);
            }
        });
        break;
    }
}

/* INTERVAL * DOUBLE (iv the interval operand), INTERVAL / DOUBLE */
static void ivl_f64(int div, Vector *res, const Vector *iv, const Vector *dv,
                    const uint32_t *sel, int count)
{
    const int64_t *x = vector_i64(iv);
    const double  *y = vector_f64(dv);
    int64_t       *o = vector_i64(res);
    int            mx = KMASK(iv), my = KMASK(dv);
    BIN_LOOP(int64_t, double, {
        int64_t z = 0;
        int     ok = div ? yv != 0.0 && f64_to_i64((double)xv / yv, &z)
                         : f64_to_i64((double)xv * yv, &z);
        o[r] = z;
        if (!ok) vector_set_null(res, r);
    });
}

int kern_arith(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    switch (n->kernel) {
    case K_ARITH_I64:
        arith_i64(n->flag, &n->res, a[0], a[1], cx->sel, cx->count);
        break;
    case K_ARITH_F64:
        arith_f64(n->flag, &n->res, a[0], a[1], cx->sel, cx->count);
        break;
    case K_IVL_MUL_F64:
        if (n->flag) ivl_f64(0, &n->res, a[1], a[0], cx->sel, cx->count);
        else ivl_f64(0, &n->res, a[0], a[1], cx->sel, cx->count);
        break;
    case K_IVL_DIV_F64:
        ivl_f64(1, &n->res, a[0], a[1], cx->sel, cx->count);
        break;
    default:
        return -1;
    }
    return 0;
}

int kern_neg(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[0]);
    Vector         *res = &n->res;
    if (n->kernel == K_NEG_F64) {
        const double *x = vector_f64(a[0]);
        double       *o = vector_f64(res);
        UN_LOOP(double, o[r] = -xv);
        return 0;
    }
    const int64_t *x = vector_i64(a[0]);
    int64_t       *o = vector_i64(res);
    int            bad = 0;
    UN_LOOP(int64_t, {
        o[r] = (int64_t)(0 - (uint64_t)xv);
        bad |= xv == INT64_MIN;
    });
    if (bad) UN_LOOP(int64_t, if (xv == INT64_MIN) vector_set_null(res, r));
    return 0;
}

/* ---- comparisons ------------------------------------------------------------ */

/* the six comparisons of xv and yv of type T (ints, booleans, doubles: IEEE,
 * so every comparison with NaN but <> is FALSE) */
#define CMP_SWITCH(T)                                                            \
    do {                                                                         \
        switch (op) {                                                            \
        case FN_EQ: BIN_LOOP(T, T, o[r] = xv == yv); break;                      \
        case FN_NE: BIN_LOOP(T, T, o[r] = xv != yv); break;                      \
        case FN_LT: BIN_LOOP(T, T, o[r] = xv < yv); break;                       \
        case FN_LE: BIN_LOOP(T, T, o[r] = xv <= yv); break;                      \
        case FN_GT: BIN_LOOP(T, T, o[r] = xv > yv); break;                       \
        case FN_GE: BIN_LOOP(T, T, o[r] = xv >= yv); break;                      \
        }                                                                        \
    } while (0)

static void cmp_i64(int op, uint8_t *o, const Vector *a, const Vector *b, const uint32_t *sel,
                    int count)
{
    const int64_t *x = vector_i64(a), *y = vector_i64(b);
    int            mx = KMASK(a), my = KMASK(b);
    CMP_SWITCH(int64_t);
}

static void cmp_bool(int op, uint8_t *o, const Vector *a, const Vector *b, const uint32_t *sel,
                     int count)
{
    const uint8_t *x = vector_bool(a), *y = vector_bool(b);
    int            mx = KMASK(a), my = KMASK(b);
    CMP_SWITCH(uint8_t);
}

static void cmp_f64(int op, uint8_t *o, const Vector *a, const Vector *b, const uint32_t *sel,
                    int count)
{
    const double *x = vector_f64(a), *y = vector_f64(b);
    int           mx = KMASK(a), my = KMASK(b);
    CMP_SWITCH(double);
}

static inline int str_eq_fast(Str a, Str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* strings: NULL rows are skipped (their Str may point at freed bytes) */
static void cmp_str(int op, Vector *res, const Vector *a, const Vector *b, const uint32_t *sel,
                    int count)
{
    const Str      *x = vector_str(a), *y = vector_str(b);
    uint8_t        *o = vector_bool(res);
    const uint64_t *rv = res->validity;
    int             mx = KMASK(a), my = KMASK(b);
#define STR_CMP_LOOP(EXPR) BIN_LOOP(Str, Str, if (KVALID(rv, r)) o[r] = (uint8_t)(EXPR))
    switch (op) {
    case FN_EQ: STR_CMP_LOOP(str_eq_fast(xv, yv)); break;
    case FN_NE: STR_CMP_LOOP(!str_eq_fast(xv, yv)); break;
    case FN_LT: STR_CMP_LOOP(str_cmp(xv, yv) < 0); break;
    case FN_LE: STR_CMP_LOOP(str_cmp(xv, yv) <= 0); break;
    case FN_GT: STR_CMP_LOOP(str_cmp(xv, yv) > 0); break;
    case FN_GE: STR_CMP_LOOP(str_cmp(xv, yv) >= 0); break;
    }
#undef STR_CMP_LOOP
}

int kern_cmp(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    uint8_t *o = vector_bool(&n->res);
    switch (n->kernel) {
    case K_CMP_I64:  cmp_i64(n->flag, o, a[0], a[1], cx->sel, cx->count); break;
    case K_CMP_F64:  cmp_f64(n->flag, o, a[0], a[1], cx->sel, cx->count); break;
    case K_CMP_BOOL: cmp_bool(n->flag, o, a[0], a[1], cx->sel, cx->count); break;
    case K_CMP_STR:  cmp_str(n->flag, &n->res, a[0], a[1], cx->sel, cx->count); break;
    default:         return -1;
    }
    return 0;
}

/* ---- ABS ROUND FLOOR CEIL ------------------------------------------------------- */

/* ROUND(x, d) for doubles: half away from zero at 10^-d */
static inline double round_digits(double x, int64_t d)
{
    if (!isfinite(x)) return x;
    if (d >= 0) {
        if (d > 308) return x;
        double s = pow(10.0, (double)d), y = x * s;
        if (!isfinite(y)) return x;            /* no digits beyond 10^-d to drop */
        return round(y) / s;
    }
    if (d < -308) return copysign(0.0, x);
    double s = pow(10.0, (double)-d);
    return round(x / s) * s;
}

/* ROUND(x, d) for BIGINT: d >= 0 keeps x; d < 0 rounds to a multiple of 10^-d,
 * half away from zero; 0 when the result does not fit */
static inline int round_i64(int64_t x, int64_t d, int64_t *out)
{
    if (d >= 0) {
        *out = x;
        return 1;
    }
    if (d < -18) {                              /* 10^19 > INT64_MAX: rounds to 0 */
        *out = 0;
        return 1;
    }
    int64_t s = 1;
    for (int64_t k = 0; k < -d; k++) s *= 10;
    int64_t q = x / s, rem = x % s;             /* s >= 10: no INT64_MIN / -1 */
    if (rem >= (s + 1) / 2) q++;
    else if (rem <= -((s + 1) / 2)) q--;
    return !__builtin_mul_overflow(q, s, out);
}

int kern_math(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[0]);
    Vector         *res = &n->res;
    switch (n->kernel) {
    case K_ABS_I64: {
        const int64_t *x = vector_i64(a[0]);
        int64_t       *o = vector_i64(res);
        int            bad = 0;
        UN_LOOP(int64_t, {
            o[r] = xv < 0 ? (int64_t)(0 - (uint64_t)xv) : xv;
            bad |= xv == INT64_MIN;
        });
        if (bad) UN_LOOP(int64_t, if (xv == INT64_MIN) vector_set_null(res, r));
        return 0;
    }
    case K_ABS_F64: {
        const double *x = vector_f64(a[0]);
        double       *o = vector_f64(res);
        UN_LOOP(double, o[r] = fabs(xv));
        return 0;
    }
    case K_FLOOR_F64: {
        const double *x = vector_f64(a[0]);
        double       *o = vector_f64(res);
        UN_LOOP(double, o[r] = floor(xv));
        return 0;
    }
    case K_CEIL_F64: {
        const double *x = vector_f64(a[0]);
        double       *o = vector_f64(res);
        UN_LOOP(double, o[r] = ceil(xv));
        return 0;
    }
    case K_ROUND_F64: {
        const double *x = vector_f64(a[0]);
        double       *o = vector_f64(res);
        if (n->nargs == 1) {
            UN_LOOP(double, o[r] = round(xv));
            return 0;
        }
        const int64_t *y = vector_i64(a[1]);
        int            my = KMASK(a[1]);
        BIN_LOOP(double, int64_t, o[r] = round_digits(xv, yv));
        return 0;
    }
    case K_ROUND_I64: {
        const int64_t *x = vector_i64(a[0]), *y = vector_i64(a[1]);
        int64_t       *o = vector_i64(res);
        int            my = KMASK(a[1]);
        BIN_LOOP(int64_t, int64_t, {
            int64_t z = 0;
            if (!round_i64(xv, yv, &z)) vector_set_null(res, r);
            o[r] = z;
        });
        return 0;
    }
    }
    return -1;
}

int kern_not(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[0]);
    const uint8_t  *x = vector_bool(a[0]);
    uint8_t        *o = vector_bool(&n->res);
    UN_LOOP(uint8_t, o[r] = (uint8_t)!xv);
    return 0;
}
