/*
 * hll.c — HyperLogLog merge, estimate and serialization (see hll.h).
 */
#include "exec/hll.h"

#include <math.h>
#include <string.h>

/* ---- Ertl's estimator helpers ------------------------------------------- */

/* sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1), for the zero registers */
static double ertl_sigma(double x)
{
    if (x == 1.0) return INFINITY;
    double y = 1.0, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (z != prev);
    return z;
}

/* tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3, for saturated registers */
static double ertl_tau(double x)
{
    if (x == 0.0 || x == 1.0) return 0.0;
    double y = 1.0, z = 1.0 - x, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (z != prev);
    return z / 3.0;
}

/* registers i..i+7 as one word: sketches of small sets are mostly zero
 * words, which the scans below skip */
static inline uint64_t reg_word(const uint8_t *reg, int i)
{
    uint64_t w;
    memcpy(&w, reg + i, sizeof w);
    return w;
}

/* ---- API -------------------------------------------------------------------- */

void hll_merge(uint8_t *dst, const uint8_t *src)
{
    for (int i = 0; i < HLL_M; i++) dst[i] = dst[i] > src[i] ? dst[i] : src[i];
}

double hll_estimate(const uint8_t *reg)
{
    uint32_t hist[HLL_MAX_RANK + 1];
    memset(hist, 0, sizeof hist);
    for (int i = 0; i < HLL_M; i += 8) {
        if (!reg_word(reg, i)) {
            hist[0] += 8;
            continue;
        }
        for (int b = i; b < i + 8; b++) hist[reg[b] <= HLL_MAX_RANK ? reg[b] : HLL_MAX_RANK]++;
    }
    if (hist[0] == HLL_M) return 0.0;

    const double m = HLL_M;
    const int    q = 64 - HLL_P;   /* registers hold 0..q+1 */
    double       z = m * ertl_tau(1.0 - hist[q + 1] / m);
    for (int k = q; k >= 1; k--) {
        z += hist[k];
        z *= 0.5;
    }
    z += m * ertl_sigma(hist[0] / m);
    return m * m / (2.0 * log(2.0)) / z;
}

size_t hll_serialized_size(const uint8_t *reg)
{
    size_t set = 0;
    for (int i = 0; i < HLL_M; i += 8)
        if (reg_word(reg, i))
            for (int b = i; b < i + 8; b++) set += reg[b] != 0;
    size_t sparse = 4 + 3 * set;
    return sparse < HLL_MAX_BLOB ? sparse : HLL_MAX_BLOB;
}

size_t hll_serialize(const uint8_t *reg, uint8_t *out)
{
    size_t n = hll_serialized_size(reg);
    out[0] = HLL_P;
    if (n == HLL_MAX_BLOB) {
        out[1] = 0;
        memcpy(out + 2, reg, HLL_M);
        return n;
    }
    out[1] = 1;
    uint16_t cnt = (uint16_t)((n - 4) / 3);
    out[2] = (uint8_t)(cnt & 0xff);
    out[3] = (uint8_t)(cnt >> 8);
    uint8_t *p = out + 4;
    for (int i = 0; i < HLL_M; i++) {
        if ((i & 7) == 0 && !reg_word(reg, i)) {
            i += 7;
            continue;
        }
        if (!reg[i]) continue;
        p[0] = (uint8_t)(i & 0xff);
        p[1] = (uint8_t)(i >> 8);
        p[2] = reg[i];
        p += 3;
    }
    return n;
}

int hll_merge_serialized(uint8_t *reg, const uint8_t *p, size_t n)
{
    if (n < 2 || p[0] != HLL_P) return -1;
    if (p[1] == 0) {
        if (n != HLL_MAX_BLOB) return -1;
        for (int i = 0; i < HLL_M; i++) {
            uint8_t v = p[2 + i];
            if (v > HLL_MAX_RANK) return -1;
            if (v > reg[i]) reg[i] = v;
        }
        return 0;
    }
    if (p[1] != 1 || n < 4) return -1;
    size_t cnt = (size_t)p[2] | (size_t)p[3] << 8;
    if (n != 4 + 3 * cnt) return -1;
    int last = -1;
    for (size_t k = 0; k < cnt; k++) {
        const uint8_t *e = p + 4 + 3 * k;
        int            idx = e[0] | e[1] << 8;
        uint8_t        v = e[2];
        if (idx <= last || idx >= HLL_M || v == 0 || v > HLL_MAX_RANK) return -1;
        last = idx;
        if (v > reg[idx]) reg[idx] = v;
    }
    return 0;
}
