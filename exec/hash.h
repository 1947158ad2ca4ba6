/*
 * hash.h — hashing of keys, for exchanges (which partition gets a row) and
 * aggregate/join hash tables (which bucket).
 *
 * A row's key hash is built column by column over a whole batch:
 *
 *   hash_vector(&key0, b->sel, b->count, hashes, 0);   // hashes[i] = h(key0)
 *   hash_vector(&key1, b->sel, b->count, hashes, 1);   // mixed with h(key1)
 *
 * hashes[i] belongs to the i-th live row (dense, like the selection), and is
 * hash_combine(... hash_combine(h(key0), h(key1)) ..., h(keyN)), where h is
 * hash_value() of one value. hash_vector switches on the type and the vector
 * kind once and runs one tight loop per case; a constant vector is hashed
 * once.
 *
 * Contract (what partitioning and tables may rely on):
 *   - equal values hash equal, whatever the vector kind (flat or constant);
 *   - a NULL hashes to HASH_NULL (mixed like any value under combine), so
 *     GROUP BY puts all NULLs of a key in one group;
 *   - BIGINT, TIMESTAMP and INTERVAL hash the int64 (equal ints hash equal);
 *     BOOLEAN hashes as the int64 0 or 1;
 *   - DOUBLE: -0.0 hashes like 0.0, and every NaN alike (SQL GROUP BY
 *     semantics); otherwise the bit pattern is hashed;
 *   - VARCHAR: the bytes (XXH3 with a fixed seed), independent of where they
 *     live;
 *   - hashes are stable across runs and machines (fixed seeds, no pointer
 *     values), so a checkpoint or a Kafka repartition topic can rely on them.
 *
 * Ownership: nothing allocates; hashes[] is caller memory of >= count entries.
 */
#ifndef SLUICE_EXEC_HASH_H
#define SLUICE_EXEC_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "exec/types.h"
#include "exec/vector.h"

#define HASH_NULL     UINT64_C(0x6c62272e07bb0142)  /* hash of a NULL value   */
#define HASH_STR_SEED UINT64_C(0x27d4eb2f165667c5)  /* XXH3 seed for strings */

/* XXH3_64bits_withSeed over n bytes (p may be NULL when n == 0). */
uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);

/* A bijective 64-bit mixer (splitmix64: the golden-ratio increment, so 0
 * does not map to 0, then its finalizer): every input bit affects every
 * output bit. */
static inline uint64_t hash_mix64(uint64_t z)
{
    z += UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline uint64_t hash_i64(int64_t x)
{
    return hash_mix64((uint64_t)x);
}

/* Mix the hash of the next key column into a running row hash. Order
 * matters: hash_combine(a, b) != hash_combine(b, a) in general. */
static inline uint64_t hash_combine(uint64_t h1, uint64_t h2)
{
    return hash_mix64(h1 * UINT64_C(0x9e3779b97f4a7c15) + h2);
}

/* A double, with -0.0 == 0.0 and all NaNs equal. */
static inline uint64_t hash_f64(double x)
{
    uint64_t bits;
    if (x == 0.0) x = 0.0;                              /* -0.0 -> 0.0   */
    if (x != x) bits = UINT64_C(0x7ff8000000000000);   /* canonical NaN */
    else memcpy(&bits, &x, sizeof bits);
    return hash_mix64(bits);
}

static inline uint64_t hash_str(Str s)
{
    return hash_bytes(s.ptr, s.len, HASH_STR_SEED);
}

/* Hash of the value at row (mapped through the constant kind); HASH_NULL for
 * NULL. The per-row reference that hash_vector agrees with. */
uint64_t hash_value(const Vector *v, int row);

/* For i in [0, count): the i-th live row is r = sel ? sel[i] : i; set
 * hashes[i] = hash_value(v, r), or with combine,
 * hashes[i] = hash_combine(hashes[i], hash_value(v, r)). */
void hash_vector(const Vector *v, const uint32_t *sel, int count, uint64_t *hashes,
                 int combine);

#endif
