/*
 * types.h — the SQL types of sluice and their physical representation.
 *
 * Every value of a column lives in a typed array (see vector.h). The logical
 * SQL type decides which C type that array holds:
 *
 *   SQL type    C type     meaning
 *   BOOLEAN     uint8_t    0 or 1
 *   BIGINT      int64_t    two's complement
 *   DOUBLE      double     IEEE 754 binary64
 *   VARCHAR     Str        (pointer, length) into an arena; not NUL-terminated
 *   TIMESTAMP   int64_t    microseconds since 1970-01-01 00:00:00 UTC
 *   INTERVAL    int64_t    microseconds (a fixed length: no months or years)
 *   NULL        —          the type of the NULL literal; every value is NULL
 *
 * BIGINT, TIMESTAMP and INTERVAL share one physical layout, so kernels that
 * only move or compare int64 values (copy, hash, min/max) serve all three.
 *
 * Ownership: nothing here allocates. A Str never owns its bytes: whoever made
 * it says who does (usually the arena of the batch the value belongs to).
 */
#ifndef SLUICE_EXEC_TYPES_H
#define SLUICE_EXEC_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* rows per batch (and per vector) unless a caller asks for another capacity */
#define SLUICE_VECTOR_SIZE 1024

typedef enum SqlType {
    TYPE_NULL,
    TYPE_BOOLEAN,
    TYPE_BIGINT,
    TYPE_DOUBLE,
    TYPE_VARCHAR,
    TYPE_TIMESTAMP,
    TYPE_INTERVAL
} SqlType;

#define SQL_TYPE_COUNT 7

/* A string value: a slice of bytes owned by someone else (an arena). */
typedef struct Str {
    const char *ptr;   /* first byte; may be NULL when len == 0       */
    uint32_t    len;   /* length in bytes; no terminating NUL counted */
} Str;

/* "BIGINT", "VARCHAR", ...; "UNKNOWN" for a value outside the enum. */
const char *sql_type_name(SqlType t);

/* Bytes per value in a vector's data array; 0 for TYPE_NULL and unknown types. */
size_t sql_type_size(SqlType t);

/* Is t stored as int64_t (BIGINT, TIMESTAMP, INTERVAL)? */
static inline int sql_type_is_i64(SqlType t)
{
    return t == TYPE_BIGINT || t == TYPE_TIMESTAMP || t == TYPE_INTERVAL;
}

/* A Str over a C string (no copy: s must outlive the Str). */
static inline Str str_from_cstr(const char *s)
{
    Str r = {s, s ? (uint32_t)strlen(s) : 0};
    return r;
}

static inline int str_eq(Str a, Str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Byte-wise order (memcmp, then shorter first): <0, 0 or >0. */
static inline int str_cmp(Str a, Str b)
{
    uint32_t n = a.len < b.len ? a.len : b.len;
    int      c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c != 0) return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

#endif
