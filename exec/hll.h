/*
 * hll.h — HyperLogLog sketches for APPROX_COUNT_DISTINCT.
 *
 * A sketch is HLL_M = 2^HLL_P one-byte registers (dense; precision 12, so
 * 4096 bytes). A value is added by its 64-bit hash (exec/hash.h: the same
 * hash GROUP BY uses, so equal values count once whatever their vector):
 * the top HLL_P bits pick a register, which keeps the maximum "rank" seen —
 * the number of leading zeros of the remaining 52 bits plus one (1..53).
 * Two sketches merge by the register-wise maximum, so partial sketches of
 * a two-phase aggregate combine exactly into the sketch of all the rows.
 *
 * The estimate is Otmar Ertl's improved estimator ("New cardinality
 * estimation algorithms for HyperLogLog sketches", 2017, Algorithm 6): one
 * formula over the register histogram, without bias tables and without a
 * switch to linear counting, unbiased from 0 to far beyond 2^40. Its
 * relative standard error is 1.04/sqrt(4096) ≈ 1.6% (precision 14 would
 * give 0.8% at 16 KiB per sketch); small sets (up to a few hundred
 * values) come out nearly exact. An empty sketch estimates 0.
 *
 * Serialized form (the partial state of APPROX_COUNT_DISTINCT, a binary
 * VARCHAR):
 *   byte 0      HLL_P (12); anything else is rejected
 *   byte 1      0 = dense: HLL_M register bytes follow
 *               1 = sparse: u16 n (little endian), then n entries of
 *                   u16 register index (LE, strictly increasing) and
 *                   u8 value (1..53); registers not listed are 0
 * The writer picks whichever is shorter (sparse while fewer than about
 * 1365 registers are set). A reader checks every length, index and value.
 *
 * Ownership: sketches are caller memory of HLL_M bytes (the aggregate
 * keeps them in its state arena). Nothing here allocates.
 */
#ifndef SLUICE_EXEC_HLL_H
#define SLUICE_EXEC_HLL_H

#include <stddef.h>
#include <stdint.h>

#define HLL_P        12
#define HLL_M        (1 << HLL_P)
#define HLL_MAX_RANK (64 - HLL_P + 1)                 /* 53                  */
#define HLL_MAX_BLOB (2 + HLL_M)                       /* dense form           */

/* Add one value, given its 64-bit hash. */
static inline void hll_add_hash(uint8_t *reg, uint64_t h)
{
    uint32_t idx  = (uint32_t)(h >> (64 - HLL_P));
    uint64_t rest = h << HLL_P;
    uint8_t  rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)HLL_MAX_RANK;
    if (rank > reg[idx]) reg[idx] = rank;
}

/* dst = max(dst, src) register-wise. */
void hll_merge(uint8_t *dst, const uint8_t *src);

/* The estimated number of distinct values (0 for an empty sketch). */
double hll_estimate(const uint8_t *reg);

/* Bytes hll_serialize will write for this sketch (<= HLL_MAX_BLOB). */
size_t hll_serialized_size(const uint8_t *reg);

/* Write the serialized form into out (hll_serialized_size bytes); returns
 * the number of bytes written. */
size_t hll_serialize(const uint8_t *reg, uint8_t *out);

/* Merge the serialized sketch p[0..n) into reg (max). 0, or -1 when the
 * bytes are not a valid sketch (reg may then be partly merged). */
int hll_merge_serialized(uint8_t *reg, const uint8_t *p, size_t n);

#endif
