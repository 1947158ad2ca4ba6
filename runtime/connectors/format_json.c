/*
 * format_json.c — JSON lines → batch rows, with jansson.
 *
 * json_decode_line, the hot path, is the schema-directed re2c decoder of
 * json_fast.re. This file keeps the reference decoder with jansson,
 * json_decode_line_jansson: json_loadb parses the line into a tree, then
 * each requested column looks its field up by name. It is correct (the whole
 * JSON grammar, escapes, \u surrogate pairs, UTF-8 validation (invalid UTF-8
 * rejects the record), duplicate keys → the last wins) but allocates per
 * line; json_fast.re reproduces its results exactly (differential test in
 * tests/unit/test_conn_json_fast.c).
 *
 * Conversions (anything else is a bad record):
 *   BOOLEAN    true / false
 *   BIGINT     an integer, or a real with an integral value in range (1e3, 2.0)
 *   DOUBLE     any number
 *   VARCHAR    a string
 *   TIMESTAMP  a string ts_parse accepts ("2024-01-01T00:00:10.250Z"), or a
 *              number of epoch milliseconds in years 1..9999 (CONN_TS_MIN_US
 *              .. CONN_TS_MAX_US)
 *   INTERVAL   a string interval_parse accepts ("10 seconds"), or a number
 *              of milliseconds
 *   null or a missing field → NULL, for every type
 */
#include "runtime/connectors/formats.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exec/timefmt.h"
#include "exec/vector.h"
#include "runtime/connectors/conn_internal.h"

static const char *json_kind(const json_t *x)
{
    switch (json_typeof(x)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

static json_t *lookup(json_t *obj, const char *name)
{
    json_t *x = json_object_get(obj, name);
    if (x) return x;
    const char *key;
    json_t     *val;
    json_object_foreach(obj, key, val)
        if (strcasecmp(key, name) == 0) return val;
    return NULL;
}

/* a JSON number as an exact int64 (integers, integral reals in range) */
static int json_to_i64(const json_t *x, int64_t *out)
{
    if (json_is_integer(x)) {
        *out = (int64_t)json_integer_value(x);
        return 0;
    }
    if (json_is_real(x)) {
        double d = json_real_value(x);
        if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
            *out = (int64_t)d;
            return 0;
        }
    }
    return -1;
}

/* milliseconds (a JSON number) → µs */
static int json_ms_to_us(const json_t *x, int64_t *out)
{
    if (json_is_integer(x)) {
        int64_t v = (int64_t)json_integer_value(x);
        if (v > INT64_MAX / 1000 || v < INT64_MIN / 1000) return -1;
        *out = v * 1000;
        return 0;
    }
    double us = json_real_value(x) * 1000.0;
    if (!(us >= -9.2e18 && us <= 9.2e18)) return -1;
    *out = (int64_t)llround(us);
    return 0;
}

static int store(Vector *v, int row, const json_t *x, const char *col, char *why, size_t cap)
{
    switch (v->type) {
    case TYPE_BOOLEAN:
        if (!json_is_boolean(x)) break;
        vector_bool(v)[row] = json_is_true(x);
        vector_set_valid(v, row);
        return 0;
    case TYPE_BIGINT: {
        int64_t i;
        if (json_to_i64(x, &i) != 0) {
            if (json_is_number(x))
                return conn_errf(why, cap, "field '%s': %g is not a BIGINT", col,
                                 json_number_value(x));
            break;
        }
        vector_i64(v)[row] = i;
        vector_set_valid(v, row);
        return 0;
    }
    case TYPE_DOUBLE:
        if (!json_is_number(x)) break;
        vector_f64(v)[row] = json_number_value(x);
        vector_set_valid(v, row);
        return 0;
    case TYPE_VARCHAR:
        if (!json_is_string(x)) break;
        if (vector_set_str(v, row, json_string_value(x), json_string_length(x)) != 0)
            return conn_errf(why, cap, "out of memory");
        return 0;
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL: {
        int64_t us;
        if (json_is_number(x)) {
            if (json_ms_to_us(x, &us) != 0 ||
                (v->type == TYPE_TIMESTAMP && (us < CONN_TS_MIN_US || us > CONN_TS_MAX_US)))
                return conn_errf(why, cap, "field '%s': %g milliseconds is out of range", col,
                                 json_number_value(x));
        } else if (json_is_string(x)) {
            const char *s = json_string_value(x);
            size_t      n = json_string_length(x);
            int rc = v->type == TYPE_TIMESTAMP ? ts_parse(s, n, &us) : interval_parse(s, n, &us);
            if (rc != 0)
                return conn_errf(why, cap, "field '%s': '%.*s' is not a valid %s", col,
                                 n > 40 ? 40 : (int)n, s, sql_type_name(v->type));
        } else {
            break;
        }
        vector_i64(v)[row] = us;
        vector_set_valid(v, row);
        return 0;
    }
    case TYPE_NULL:
        vector_set_null(v, row);
        return 0;
    }
    return conn_errf(why, cap, "field '%s': expected %s, got %s", col, sql_type_name(v->type),
                     json_kind(x));
}

int json_decode_line(const char *p, size_t n, int ncols, const char *const *names, Batch *b,
                     int row, char *why, size_t cap)
{
    return json_fast_decode_line(p, n, ncols, names, b, row, why, cap);
}

int json_decode_line_jansson(const char *p, size_t n, int ncols, const char *const *names,
                             Batch *b, int row, char *why, size_t cap)
{
    json_error_t jerr;
    json_t      *root = json_loadb(p, n, JSON_ALLOW_NUL, &jerr);
    int          ints_as_reals = 0;
    if (!root && json_error_code(&jerr) == json_error_numeric_overflow) {
        /* jansson rejects integers beyond int64; read them as doubles (a
         * DOUBLE column may hold one) and let BIGINT columns refuse any
         * value they could not read exactly */
        root = json_loadb(p, n, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
        ints_as_reals = 1;
    }
    if (!root) return conn_errf(why, cap, "invalid JSON at column %d: %s", jerr.column, jerr.text);
    if (!json_is_object(root)) {
        const char *k = json_kind(root);
        json_decref(root);
        return conn_errf(why, cap, "expected a JSON object, got %s", k);
    }
    int rc = 0;
    for (int c = 0; c < ncols && rc == 0; c++) {
        Vector *v = &b->cols[c];
        json_t *x = lookup(root, names[c]);
        if (!x || json_is_null(x)) vector_set_null(v, row);
        else if (ints_as_reals && v->type != TYPE_DOUBLE && json_is_real(x) &&
                 fabs(json_real_value(x)) >= 9007199254740992.0)
            rc = conn_errf(why, cap, "field '%s': %g is too large for %s", names[c],
                           json_real_value(x), sql_type_name(v->type));
        else rc = store(v, row, x, names[c], why, cap);
    }
    json_decref(root);
    return rc;
}
