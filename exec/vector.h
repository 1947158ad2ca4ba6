/*
 * vector.h — a column of up to `capacity` values of one SQL type.
 *
 * A Vector is the unit every kernel works on: a typed data array, a validity
 * bitmap, and (for VARCHAR) the arena that owns the string bytes. Kernels take
 * the data array once (vector_i64(v), vector_f64(v), ...) and loop over it;
 * nothing on the per-row path calls through a function pointer or allocates.
 *
 * Kinds (DuckDB's VectorType, without dictionaries yet):
 *   VECTOR_FLAT      row r's value is data[r], its validity bit r.
 *   VECTOR_CONSTANT  one value, at index 0 (data[0], validity bit 0), stands
 *                    for every row. A literal, or a column that is the same
 *                    for the whole batch (a window start), costs one slot and
 *                    lets a kernel compute once. Kernels branch on the kind
 *                    once, outside the loop; vector_index(v, r) maps a row to
 *                    its slot for code that does not care. vector_flatten()
 *                    expands a constant into a flat vector.
 *
 * Validity. Bit r of `validity` (word r/64, bit r%64) is 1 when row r holds a
 * value and 0 when it is NULL. `validity == NULL` means "no NULLs", the common
 * case, so kernels test the pointer once and take a loop with no NULL checks.
 * The bitmap memory (validity_buf) is allocated with the vector; the first
 * vector_set_null() points `validity` at it and fills it with ones, and
 * vector_reset() sets it back to NULL, so NULL tracking never allocates.
 * A TYPE_NULL vector has no data array and every row is NULL: its validity is
 * the zeroed buffer, always.
 *
 * Strings. A VARCHAR slot is a Str (ptr, len). vector_set_str() copies the
 * bytes into v->arena (NUL-terminated, though readers must use len);
 * vector_set_str_ref() stores the pointer as is, for bytes that outlive the
 * vector's current contents (the same arena, or static text).
 *
 * Value setters that take a value (vector_set_str, vector_set_str_ref,
 * vector_copy_row) also set the row's validity; raw writes into the data
 * array (vector_i64(v)[r] = x) do not, so a kernel that writes values over a
 * reused vector resets it first (vector_reset) or sets validity itself.
 *
 * Text. vector_format_value() renders one value for output and tests:
 *   NULL       NULL
 *   BOOLEAN    true | false
 *   BIGINT     decimal
 *   DOUBLE     the shortest of %.15g, %.16g, %.17g that reads back to the
 *              same double; like sqlite3, the mantissa always has a '.'
 *              (3.0, 0.5, 1.0e+20, 1.5e-07); Infinity, -Infinity, NaN;
 *              -0.0 stays -0.0. Assumes the C locale for LC_NUMERIC.
 *   VARCHAR    the raw bytes
 *   TIMESTAMP  2024-01-01 00:00:10[.25]       (ts_format, iso 0)
 *   INTERVAL   10 seconds, 1 hour 30 minutes  (interval_format)
 *
 * Ownership: the Vector struct is caller memory; vector_init() allocates the
 * data array and the bitmap, owned by the vector and freed by
 * vector_destroy(). String bytes are not owned by the vector: they belong to
 * v->arena (borrowed, normally the arena of the vector's batch, which must
 * outlive the vector's use) or, for references, to whoever made them.
 */
#ifndef SLUICE_EXEC_VECTOR_H
#define SLUICE_EXEC_VECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "exec/arena.h"
#include "exec/types.h"

typedef enum VectorKind {
    VECTOR_FLAT,
    VECTOR_CONSTANT
} VectorKind;

typedef struct Vector {
    SqlType     type;           /* logical type; decides the C type of data        */
    VectorKind  kind;           /* FLAT or CONSTANT (value at index 0)             */
    void       *data;           /* capacity values, owned; NULL for TYPE_NULL      */
    uint64_t   *validity;       /* NULL: no NULLs; else validity_buf (1 = valid)   */
    uint64_t   *validity_buf;   /* owned bitmap storage, VECTOR_VALIDITY_WORDS     */
    int         capacity;       /* rows the data array and bitmap can hold         */
    Arena      *arena;          /* VARCHAR: owns copied string bytes; borrowed     */
} Vector;

#define VECTOR_VALIDITY_WORDS(capacity) (((size_t)(capacity) + 63) / 64)

/* Allocate a vector of `capacity` rows (<= 0: SLUICE_VECTOR_SIZE), flat, all
 * valid, values zeroed, no arena. 0, or -1 on OOM or an unknown type (then v
 * is left empty and vector_destroy(v) is still safe). */
int vector_init(Vector *v, SqlType type, int capacity);

/* Free the data array and bitmap (not the arena). Safe on a zeroed vector. */
void vector_destroy(Vector *v);

/* Flat and all valid again (a TYPE_NULL vector stays all NULL). O(1). */
void vector_reset(Vector *v);

/* Turn the vector into a constant: slot 0 (data[0] and validity bit 0), as
 * currently set, stands for every row. */
void vector_make_constant(Vector *v);

/* Expand a constant vector into a flat one over rows [0, count); no-op on a
 * flat vector. count is clamped to the capacity. */
void vector_flatten(Vector *v, int count);

/* Copy the bytes p[0..n) into v->arena and store them at row r (flat), valid.
 * 0, or -1 on OOM, no arena, or n > UINT32_MAX. */
int vector_set_str(Vector *v, int row, const char *p, size_t n);

/* Copy the value and validity of src's row src_row (mapped through the
 * constant kind) into dst's row dst_row. Types must share a physical layout
 * (BIGINT/TIMESTAMP/INTERVAL are interchangeable). Strings are shared when
 * both vectors use the same arena and copied into dst->arena otherwise.
 * 0, or -1 on a type mismatch, OOM, or a string with no dst arena. */
int vector_copy_row(Vector *dst, int dst_row, const Vector *src, int src_row);

/* Render the value at row (mapped through the constant kind) as text; see
 * above. snprintf rules: writes at most cap bytes with a NUL when cap > 0 and
 * returns the full text length. */
int vector_format_value(const Vector *v, int row, char *buf, size_t cap);

/* Point `validity` at the bitmap buffer, all rows valid (the slow path of the
 * first vector_set_null). */
void vector_validity_materialize(Vector *v);

/* ---- per-row inline accessors -------------------------------------------- */

static inline int64_t *vector_i64(const Vector *v)  { return (int64_t *)v->data; }
static inline double  *vector_f64(const Vector *v)  { return (double *)v->data; }
static inline uint8_t *vector_bool(const Vector *v) { return (uint8_t *)v->data; }
static inline Str     *vector_str(const Vector *v)  { return (Str *)v->data; }

static inline int vector_is_constant(const Vector *v)
{
    return v->kind == VECTOR_CONSTANT;
}

/* the slot that holds row's value: 0 for a constant vector, row otherwise */
static inline int vector_index(const Vector *v, int row)
{
    return v->kind == VECTOR_CONSTANT ? 0 : row;
}

/* raw bitmap test for kernels that hoisted v->validity: 1 = valid */
static inline int vector_validity_get(const uint64_t *validity, int slot)
{
    return !validity || (int)((validity[slot >> 6] >> (slot & 63)) & 1);
}

/* Is the value of row NULL? (Constant vectors answer for slot 0.) */
static inline int vector_is_null(const Vector *v, int row)
{
    return !vector_validity_get(v->validity, vector_index(v, row));
}

/* Mark physical slot `row` NULL (on a constant vector: slot 0). */
static inline void vector_set_null(Vector *v, int row)
{
    if (!v->validity) vector_validity_materialize(v);
    v->validity[row >> 6] &= ~((uint64_t)1 << (row & 63));
}

/* Mark physical slot `row` valid. No-op for TYPE_NULL. */
static inline void vector_set_valid(Vector *v, int row)
{
    if (v->validity && v->type != TYPE_NULL)
        v->validity[row >> 6] |= (uint64_t)1 << (row & 63);
}

/* Store a reference to p[0..n) at row, valid; no copy: the bytes must stay
 * alive and unchanged as long as the vector's contents are used. */
static inline void vector_set_str_ref(Vector *v, int row, const char *p, uint32_t n)
{
    Str s = {p, n};
    vector_str(v)[row] = s;
    vector_set_valid(v, row);
}

#endif
