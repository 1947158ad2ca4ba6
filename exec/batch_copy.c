/*
 * batch_copy.c — bulk row copies (see batch_copy.h).
 */
#include "exec/batch_copy.h"

#include <string.h>

static int same_physical(SqlType a, SqlType b)
{
    return a == b || (sql_type_is_i64(a) && sql_type_is_i64(b));
}

int vector_gather(Vector *dst, int at, const Vector *src, const uint32_t *rows, int n)
{
    if (n <= 0) return 0;
    if (dst->kind != VECTOR_FLAT || at + n > dst->capacity) return -1;
    if (src->type == TYPE_NULL) {
        if (dst->type == TYPE_NULL) return 0;
        for (int i = 0; i < n; i++) vector_set_null(dst, at + i);
        return 0;
    }
    if (!same_physical(dst->type, src->type)) return -1;
    int             cst = src->kind == VECTOR_CONSTANT;
    const uint64_t *val = src->validity;

    switch (src->type) {
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL: {
        int64_t       *d = vector_i64(dst) + at;
        const int64_t *s = vector_i64(src);
        if (cst) for (int i = 0; i < n; i++) d[i] = s[0];
        else if (rows) for (int i = 0; i < n; i++) d[i] = s[rows[i]];
        else memcpy(d, s, (size_t)n * sizeof *d);
        break;
    }
    case TYPE_DOUBLE: {
        double       *d = vector_f64(dst) + at;
        const double *s = vector_f64(src);
        if (cst) for (int i = 0; i < n; i++) d[i] = s[0];
        else if (rows) for (int i = 0; i < n; i++) d[i] = s[rows[i]];
        else memcpy(d, s, (size_t)n * sizeof *d);
        break;
    }
    case TYPE_BOOLEAN: {
        uint8_t       *d = vector_bool(dst) + at;
        const uint8_t *s = vector_bool(src);
        if (cst) for (int i = 0; i < n; i++) d[i] = s[0];
        else if (rows) for (int i = 0; i < n; i++) d[i] = s[rows[i]];
        else memcpy(d, s, (size_t)n * sizeof *d);
        break;
    }
    case TYPE_VARCHAR: {
        const Str *s = vector_str(src);
        for (int i = 0; i < n; i++) {
            int slot = cst ? 0 : rows ? (int)rows[i] : i;
            if (!vector_validity_get(val, slot)) {
                vector_set_null(dst, at + i);
                continue;
            }
            if (vector_set_str(dst, at + i, s[slot].ptr, s[slot].len) != 0) return -1;
        }
        return 0;
    }
    default:
        return -1;
    }
    /* validity: the common case (no NULLs on either side) costs nothing */
    if (val) {
        for (int i = 0; i < n; i++) {
            int slot = cst ? 0 : rows ? (int)rows[i] : i;
            if (vector_validity_get(val, slot)) vector_set_valid(dst, at + i);
            else vector_set_null(dst, at + i);
        }
    } else if (dst->validity) {
        for (int i = 0; i < n; i++) vector_set_valid(dst, at + i);
    }
    return 0;
}

int vector_gather_live(Vector *dst, int at, const Vector *src, const Batch *b)
{
    return vector_gather(dst, at, src, b->sel, b->count);
}

int batch_append_rows(Batch *dst, const Batch *src, const uint32_t *rows, int n)
{
    if (dst->sel || dst->ncols != src->ncols || dst->nrows + n > dst->capacity) return -1;
    for (int c = 0; c < dst->ncols; c++) {
        Vector *v = &dst->cols[c];
        if (v->kind == VECTOR_CONSTANT) vector_flatten(v, dst->nrows);
        if (vector_gather(v, dst->nrows, &src->cols[c], rows, n) != 0) return -1;
    }
    /* changelog marks travel with their rows */
    if (src->ops || dst->ops) {
        uint8_t *ops = batch_ops_buf(dst);
        if (!ops) return -1;
        if (!dst->ops) memset(ops, BATCH_OP_INSERT, (size_t)dst->nrows);
        for (int i = 0; i < n; i++)
            ops[dst->nrows + i] = src->ops ? src->ops[rows ? rows[i] : (uint32_t)i] : BATCH_OP_INSERT;
        dst->ops = ops;
    }
    dst->nrows += n;
    dst->count = dst->nrows;
    return 0;
}

int batch_append_live(Batch *dst, const Batch *src)
{
    return batch_append_rows(dst, src, src->sel, src->count);
}
