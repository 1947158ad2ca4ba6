/*
 * hash.c — key hashing (see hash.h for the contract).
 *
 * hash_vector is the hot path: one switch on the type outside the loop, then
 * a loop specialized four ways (with or without a validity bitmap, writing or
 * combining) by the HASH_LOOP macro. The selection is read as sel ? sel[i] : i
 * inside the loop, the usual kernel convention; the branch is loop-invariant
 * and predicts perfectly. Strings go through XXH3, compiled inline here
 * (XXH_INLINE_ALL) so short keys do not pay a library call.
 */
#include "exec/hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
    static const char empty[1] = {0};
    return XXH3_64bits_withSeed(n ? p : empty, n, seed);
}

uint64_t hash_value(const Vector *v, int row)
{
    int slot = vector_index(v, row);
    if (v->type == TYPE_NULL || !vector_validity_get(v->validity, slot)) return HASH_NULL;
    switch (v->type) {
    case TYPE_NULL:      return HASH_NULL;
    case TYPE_BOOLEAN:   return hash_i64(vector_bool(v)[slot]);
    case TYPE_DOUBLE:    return hash_f64(vector_f64(v)[slot]);
    case TYPE_VARCHAR:   return hash_str(vector_str(v)[slot]);
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL:  return hash_i64(vector_i64(v)[slot]);
    }
    return HASH_NULL;
}

/* hashes[i] (=|combine) HASHFN(data[r]) over the live rows, NULLs → HASH_NULL */
#define HASH_LOOP(T, HASHFN)                                                        \
    do {                                                                            \
        const T        *d_ = (const T *)v->data;                                    \
        const uint64_t *m_ = v->validity;                                           \
        if (!m_ && !combine) {                                                      \
            for (int i = 0; i < count; i++) hashes[i] = HASHFN(d_[sel ? (int)sel[i] : i]); \
        } else if (!m_) {                                                           \
            for (int i = 0; i < count; i++)                                         \
                hashes[i] = hash_combine(hashes[i], HASHFN(d_[sel ? (int)sel[i] : i]));  \
        } else {                                                                    \
            for (int i = 0; i < count; i++) {                                       \
                int      r_ = sel ? (int)sel[i] : i;                                \
                uint64_t h_ = vector_validity_get(m_, r_) ? HASHFN(d_[r_]) : HASH_NULL; \
                hashes[i] = combine ? hash_combine(hashes[i], h_) : h_;             \
            }                                                                       \
        }                                                                           \
    } while (0)

static uint64_t hash_u8(uint8_t b)
{
    return hash_i64(b);
}

void hash_vector(const Vector *v, const uint32_t *sel, int count, uint64_t *hashes,
                 int combine)
{
    if (v->kind == VECTOR_CONSTANT || v->type == TYPE_NULL) {
        uint64_t h = hash_value(v, 0);
        if (combine)
            for (int i = 0; i < count; i++) hashes[i] = hash_combine(hashes[i], h);
        else
            for (int i = 0; i < count; i++) hashes[i] = h;
        return;
    }
    switch (v->type) {
    case TYPE_NULL:
        break;
    case TYPE_BOOLEAN:
        HASH_LOOP(uint8_t, hash_u8);
        break;
    case TYPE_DOUBLE:
        HASH_LOOP(double, hash_f64);
        break;
    case TYPE_VARCHAR:
        HASH_LOOP(Str, hash_str);
        break;
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL:
        HASH_LOOP(int64_t, hash_i64);
        break;
    }
}
