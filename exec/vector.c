/*
 * vector.c — vector lifecycle, kinds, string storage and value text.
 *
 * Everything per-row that a kernel needs is inline in vector.h; this file
 * holds what runs once per vector (init, reset, flatten), the string copy
 * into the arena, the generic row copy used by batch building, and value
 * formatting for output and tests. See vector.h for the design.
 */
#include "exec/vector.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/timefmt.h"

/* ---- private helpers ---------------------------------------------------- */

static int copy_out(char *buf, size_t cap, const char *text, size_t len)
{
    if (cap > 0) {
        size_t n = len < cap - 1 ? len : cap - 1;
        if (n) memcpy(buf, text, n);
        buf[n] = '\0';
    }
    return (int)len;
}

static int same_layout(SqlType a, SqlType b)
{
    return a == b || (sql_type_is_i64(a) && sql_type_is_i64(b));
}

/* shortest round-trip %g, then sqlite3's "always a '.' in the mantissa" */
static int format_double(double x, char *text, size_t cap)
{
    if (isnan(x)) return snprintf(text, cap, "NaN");
    if (isinf(x)) return snprintf(text, cap, x < 0 ? "-Infinity" : "Infinity");
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(text, cap, "%.*g", prec, x);
        if (strtod(text, NULL) == x) break;
    }
    if (!strchr(text, '.')) {
        char *e = strchr(text, 'e');
        if (e) {
            memmove(e + 2, e, strlen(e) + 1);
            e[0] = '.';
            e[1] = '0';
        } else {
            memcpy(text + len, ".0", 3);
        }
        len += 2;
    }
    return len;
}

/* ---- API -------------------------------------------------------------------- */

int vector_init(Vector *v, SqlType type, int capacity)
{
    memset(v, 0, sizeof *v);
    if ((unsigned)type >= SQL_TYPE_COUNT) return -1;
    if (capacity <= 0) capacity = SLUICE_VECTOR_SIZE;
    size_t width = sql_type_size(type);
    v->type = type;
    v->kind = VECTOR_FLAT;
    v->capacity = capacity;
    v->validity_buf = calloc(VECTOR_VALIDITY_WORDS(capacity), sizeof(uint64_t));
    if (width) v->data = calloc((size_t)capacity, width);
    if (!v->validity_buf || (width && !v->data)) {
        vector_destroy(v);
        return -1;
    }
    vector_reset(v);
    return 0;
}

void vector_destroy(Vector *v)
{
    free(v->data);
    free(v->validity_buf);
    memset(v, 0, sizeof *v);
}

void vector_reset(Vector *v)
{
    v->kind = VECTOR_FLAT;
    if (v->type == TYPE_NULL) {
        v->validity = v->validity_buf;
        if (v->validity)
            memset(v->validity, 0, VECTOR_VALIDITY_WORDS(v->capacity) * sizeof(uint64_t));
    } else {
        v->validity = NULL;
    }
}

void vector_validity_materialize(Vector *v)
{
    if (v->validity) return;
    memset(v->validity_buf, 0xff, VECTOR_VALIDITY_WORDS(v->capacity) * sizeof(uint64_t));
    v->validity = v->validity_buf;
}

void vector_make_constant(Vector *v)
{
    v->kind = VECTOR_CONSTANT;
}

void vector_flatten(Vector *v, int count)
{
    if (v->kind != VECTOR_CONSTANT) return;
    v->kind = VECTOR_FLAT;
    if (count > v->capacity) count = v->capacity;
    if (count <= 0 || v->type == TYPE_NULL) return;

    if (!vector_validity_get(v->validity, 0)) {
        /* a NULL constant: every row NULL (values are irrelevant) */
        memset(v->validity, 0, VECTOR_VALIDITY_WORDS(v->capacity) * sizeof(uint64_t));
        return;
    }
    v->validity = NULL;
    size_t width = sql_type_size(v->type);
    char  *d = v->data;
    for (int r = 1; r < count; r++) memcpy(d + (size_t)r * width, d, width);
}

int vector_set_str(Vector *v, int row, const char *p, size_t n)
{
    if (!v->arena || n > UINT32_MAX) return -1;
    char *copy = arena_strndup(v->arena, p, n);
    if (!copy) return -1;
    vector_set_str_ref(v, row, copy, (uint32_t)n);
    return 0;
}

int vector_copy_row(Vector *dst, int dst_row, const Vector *src, int src_row)
{
    if (!same_layout(dst->type, src->type)) return -1;
    int slot = vector_index(src, src_row);
    if (!vector_validity_get(src->validity, slot)) {
        vector_set_null(dst, dst_row);
        return 0;
    }
    switch (src->type) {
    case TYPE_NULL:
        return 0;
    case TYPE_BOOLEAN:
        vector_bool(dst)[dst_row] = vector_bool(src)[slot];
        break;
    case TYPE_DOUBLE:
        vector_f64(dst)[dst_row] = vector_f64(src)[slot];
        break;
    case TYPE_VARCHAR: {
        Str s = vector_str(src)[slot];
        if (dst->arena == src->arena) {
            vector_set_str_ref(dst, dst_row, s.ptr, s.len);
            return 0;
        }
        return vector_set_str(dst, dst_row, s.ptr, s.len);
    }
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL:
        vector_i64(dst)[dst_row] = vector_i64(src)[slot];
        break;
    }
    vector_set_valid(dst, dst_row);
    return 0;
}

int vector_format_value(const Vector *v, int row, char *buf, size_t cap)
{
    int  slot = vector_index(v, row);
    char text[64];
    if (v->type == TYPE_NULL || !vector_validity_get(v->validity, slot))
        return copy_out(buf, cap, "NULL", 4);

    switch (v->type) {
    case TYPE_NULL:
        break;
    case TYPE_BOOLEAN:
        return vector_bool(v)[slot] ? copy_out(buf, cap, "true", 4)
                                    : copy_out(buf, cap, "false", 5);
    case TYPE_BIGINT: {
        /* without printf: output formatting is hot */
        int64_t  x = vector_i64(v)[slot];
        uint64_t u = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
        char    *e = text + sizeof text, *p = e;
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (x < 0) *--p = '-';
        return copy_out(buf, cap, p, (size_t)(e - p));
    }
    case TYPE_DOUBLE:
        return copy_out(buf, cap, text,
                        (size_t)format_double(vector_f64(v)[slot], text, sizeof text));
    case TYPE_VARCHAR: {
        Str s = vector_str(v)[slot];
        return copy_out(buf, cap, s.ptr, s.len);
    }
    case TYPE_TIMESTAMP:
        return ts_format(vector_i64(v)[slot], buf, cap, 0);
    case TYPE_INTERVAL:
        return interval_format(vector_i64(v)[slot], buf, cap);
    }
    return copy_out(buf, cap, "NULL", 4);
}
