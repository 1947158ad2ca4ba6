/*
 * test_exec_hash.c — exec/hash: the mixer, combine order, DOUBLE and NULL
 * rules, stability (golden values), XXH3 agreement, and hash_vector against
 * per-row hashing for every type, with and without selections, NULLs,
 * combine and constant vectors.
 */
#include "tests/unit/unit.h"

#include <math.h>
#include <xxhash.h>

#include "exec/hash.h"

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static const SqlType all_types[] = {TYPE_NULL,    TYPE_BOOLEAN,   TYPE_BIGINT,  TYPE_DOUBLE,
                                    TYPE_VARCHAR, TYPE_TIMESTAMP, TYPE_INTERVAL};

/* fill rows [0, n) with pseudo-random values of v's type; NULLs at 0, 63, 64,
 * 1023 and about 1 row in 10 when with_nulls */
static void fill_random(Vector *v, int n, uint64_t *seed, int with_nulls)
{
    static const char *words[] = {"", "a", "abc", "kafka", "a much longer string key",
                                  "abc "};
    for (int r = 0; r < n; r++) {
        uint64_t x = rng_next(seed);
        switch (v->type) {
        case TYPE_NULL: break;
        case TYPE_BOOLEAN: vector_bool(v)[r] = (uint8_t)(x & 1); break;
        case TYPE_DOUBLE: vector_f64(v)[r] = (double)(int64_t)(x % 1000) / 8.0; break;
        case TYPE_VARCHAR: {
            const char *w = words[x % 6];
            vector_set_str(v, r, w, strlen(w));
            break;
        }
        case TYPE_BIGINT:
        case TYPE_TIMESTAMP:
        case TYPE_INTERVAL: vector_i64(v)[r] = (int64_t)(x % 5000) - 2500; break;
        }
        if (with_nulls && (r == 0 || r == 63 || r == 64 || r == 1023 || x % 10 == 3))
            vector_set_null(v, r);
    }
}

TEST(exec_hash_golden_values_are_stable)
{
    /* partitioning and persisted state depend on these: change them only
     * together with a state format version bump */
    CHECK(hash_i64(0) == UINT64_C(0xe220a8397b1dcdaf));
    CHECK(hash_i64(1) == UINT64_C(0x910a2dec89025cc1));
    CHECK(hash_str(str_from_cstr("abc")) == UINT64_C(0x615b85560d36e117));
    CHECK(hash_combine(hash_i64(1), hash_str(str_from_cstr("abc"))) ==
          UINT64_C(0xc7c9e0aca54c1386));
}

TEST(exec_hash_bytes_is_xxh3)
{
    const char *s = "the quick brown fox jumps over the lazy dog";
    for (size_t n = 0; n <= strlen(s); n++) {
        CHECK(hash_bytes(s, n, 0) == XXH3_64bits_withSeed(s, n, 0));
        CHECK(hash_bytes(s, n, 42) == XXH3_64bits_withSeed(s, n, 42));
    }
    CHECK(hash_bytes(NULL, 0, 7) == XXH3_64bits_withSeed("", 0, 7));
    char big[5000];
    for (int i = 0; i < 5000; i++) big[i] = (char)(i * 31);
    CHECK(hash_bytes(big, sizeof big, HASH_STR_SEED) ==
          XXH3_64bits_withSeed(big, sizeof big, HASH_STR_SEED));
}

TEST(exec_hash_i64_mixes)
{
    /* a bijection: no collisions, and neighbours differ in ~half their bits */
    enum { N = 4096 };
    static uint64_t h[N];
    long            flips = 0;
    for (int i = 0; i < N; i++) h[i] = hash_i64(i);
    for (int i = 1; i < N; i++) flips += __builtin_popcountll(h[i] ^ h[i - 1]);
    int collisions = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j += 97) collisions += h[i] == h[j];
    CHECK_EQ_INT(collisions, 0);
    CHECK(flips / (N - 1) >= 28 && flips / (N - 1) <= 36);
    CHECK(hash_i64(0) != 0);
    CHECK(hash_i64(-1) != hash_i64(1));

    /* sequential keys spread evenly over 16 partitions */
    int bucket[16] = {0};
    for (int i = 0; i < 160000; i++) bucket[hash_i64(i) & 15]++;
    int spread_ok = 1;
    for (int b = 0; b < 16; b++) spread_ok &= bucket[b] > 9500 && bucket[b] < 10500;
    CHECK(spread_ok);
}

TEST(exec_hash_combine_is_ordered)
{
    uint64_t a = hash_i64(1), b = hash_i64(2);
    CHECK(hash_combine(a, b) != hash_combine(b, a));
    CHECK(hash_combine(a, b) != a && hash_combine(a, b) != b);
    CHECK(hash_combine(a, HASH_NULL) != hash_combine(HASH_NULL, a));
    /* (1, NULL) and (NULL, 1) are different keys */
    CHECK(hash_combine(hash_i64(1), HASH_NULL) != hash_combine(HASH_NULL, hash_i64(1)));
}

TEST(exec_hash_double_zero_and_nan)
{
    CHECK(hash_f64(0.0) == hash_f64(-0.0));
    double nan1 = NAN, nan2 = -NAN, nan3;
    uint64_t payload = UINT64_C(0x7ff0000000000123);   /* a signalling-pattern NaN */
    memcpy(&nan3, &payload, sizeof nan3);
    CHECK(isnan(nan3));
    CHECK(hash_f64(nan1) == hash_f64(nan2));
    CHECK(hash_f64(nan1) == hash_f64(nan3));
    CHECK(hash_f64(1.0) != hash_f64(-1.0));
    CHECK(hash_f64(0.1) != hash_f64(0.2));
    CHECK(hash_f64(INFINITY) != hash_f64(-INFINITY));
    CHECK(hash_f64(nan1) != hash_f64(INFINITY));

    Vector v;
    REQUIRE(vector_init(&v, TYPE_DOUBLE, 4) == 0);
    vector_f64(&v)[0] = 0.0;
    vector_f64(&v)[1] = -0.0;
    vector_f64(&v)[2] = nan1;
    vector_f64(&v)[3] = nan3;
    uint64_t h[4];
    hash_vector(&v, NULL, 4, h, 0);
    CHECK(h[0] == h[1]);
    CHECK(h[2] == h[3]);
    vector_destroy(&v);
}

TEST(exec_hash_equal_values_hash_equal)
{
    /* strings: the bytes, wherever they live */
    Arena  a;
    Vector s;
    arena_init(&a, 0);
    REQUIRE(vector_init(&s, TYPE_VARCHAR, 3) == 0);
    s.arena = &a;
    char buf[] = "xxkafkaxx";
    REQUIRE(vector_set_str(&s, 0, "kafka", 5) == 0);
    vector_set_str_ref(&s, 1, buf + 2, 5);
    vector_set_str_ref(&s, 2, "kafkaesque", 5);
    CHECK(hash_value(&s, 0) == hash_value(&s, 1));
    CHECK(hash_value(&s, 0) == hash_value(&s, 2));
    CHECK(hash_value(&s, 0) == hash_str(str_from_cstr("kafka")));

    /* BIGINT and TIMESTAMP of the same int64 */
    Vector i, t;
    REQUIRE(vector_init(&i, TYPE_BIGINT, 1) == 0);
    REQUIRE(vector_init(&t, TYPE_TIMESTAMP, 1) == 0);
    vector_i64(&i)[0] = 1700000000000000;
    vector_i64(&t)[0] = 1700000000000000;
    CHECK(hash_value(&i, 0) == hash_value(&t, 0));
    CHECK(hash_value(&i, 0) == hash_i64(1700000000000000));

    /* NULLs: every type, the same constant */
    for (size_t k = 0; k < sizeof all_types / sizeof all_types[0]; k++) {
        Vector n;
        REQUIRE(vector_init(&n, all_types[k], 2) == 0);
        n.arena = &a;
        vector_set_null(&n, 1);
        CHECK(hash_value(&n, 1) == HASH_NULL);
        vector_destroy(&n);
    }
    vector_destroy(&s);
    vector_destroy(&i);
    vector_destroy(&t);
    arena_free(&a);
}

TEST(exec_hash_vector_matches_per_row)
{
    Arena    a;
    uint64_t seed = 31337;
    arena_init(&a, 0);
    static uint64_t  got[1024], want[1024], prior[1024];
    static uint32_t  sel[1024];
    int              mismatches = 0;
    for (size_t k = 0; k < sizeof all_types / sizeof all_types[0]; k++) {
        for (int nulls = 0; nulls < 2; nulls++) {
            Vector v;
            REQUIRE(vector_init(&v, all_types[k], 1024) == 0);
            v.arena = &a;
            fill_random(&v, 1024, &seed, nulls);

            /* selections: identity, a random increasing subset, a permutation
             * with repeats, and an empty one */
            for (int shape = 0; shape < 4; shape++) {
                const uint32_t *s = NULL;
                int             count = 1024;
                if (shape == 1) {
                    count = 0;
                    for (int r = 0; r < 1024; r++)
                        if (rng_next(&seed) % 3 == 0 || r == 63 || r == 64 || r == 1023)
                            sel[count++] = (uint32_t)r;
                    s = sel;
                } else if (shape == 2) {
                    count = 700;
                    for (int i = 0; i < count; i++) sel[i] = (uint32_t)(rng_next(&seed) % 1024);
                    s = sel;
                } else if (shape == 3) {
                    count = 0;
                    s = sel;
                }
                for (int combine = 0; combine < 2; combine++) {
                    for (int i = 0; i < count; i++) {
                        prior[i] = rng_next(&seed);
                        got[i] = prior[i];
                        int r = s ? (int)s[i] : i;
                        want[i] = combine ? hash_combine(prior[i], hash_value(&v, r))
                                          : hash_value(&v, r);
                    }
                    hash_vector(&v, s, count, got, combine);
                    for (int i = 0; i < count; i++) mismatches += got[i] != want[i];
                }
            }
            /* a NULL really hashes as HASH_NULL inside the vector loop */
            if (nulls) {
                hash_vector(&v, NULL, 1024, got, 0);
                CHECK(got[63] == HASH_NULL && got[1023] == HASH_NULL);
            }
            vector_destroy(&v);
            arena_reset(&a);
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    arena_free(&a);
}

TEST(exec_hash_constant_equals_flat)
{
    Arena a;
    arena_init(&a, 0);
    for (size_t k = 0; k < sizeof all_types / sizeof all_types[0]; k++) {
        for (int null = 0; null < 2; null++) {
            Vector flat, cst;
            REQUIRE(vector_init(&flat, all_types[k], 256) == 0);
            REQUIRE(vector_init(&cst, all_types[k], 256) == 0);
            flat.arena = cst.arena = &a;
            uint64_t seed = 5 + k;
            fill_random(&cst, 1, &seed, 0);
            if (null) vector_set_null(&cst, 0);
            for (int r = 0; r < 256; r++) REQUIRE(vector_copy_row(&flat, r, &cst, 0) == 0);
            vector_make_constant(&cst);

            static uint64_t hf[256], hc[256];
            static const uint32_t sel[] = {255, 3, 3, 128};
            hash_vector(&flat, NULL, 256, hf, 0);
            hash_vector(&cst, NULL, 256, hc, 0);
            CHECK(memcmp(hf, hc, sizeof hf) == 0);
            CHECK(hc[200] == hash_value(&cst, 200));
            hash_vector(&flat, sel, 4, hf, 1);      /* combine over a selection */
            hash_vector(&cst, sel, 4, hc, 1);
            CHECK(memcmp(hf, hc, 4 * sizeof hf[0]) == 0);
            if (null) CHECK(hc[100] == HASH_NULL);

            /* and after flattening, still the same */
            vector_flatten(&cst, 256);
            hash_vector(&cst, NULL, 256, hc, 0);
            hash_vector(&flat, NULL, 256, hf, 0);
            CHECK(memcmp(hf, hc, sizeof hf) == 0);
            vector_destroy(&flat);
            vector_destroy(&cst);
        }
    }
    arena_free(&a);
}

TEST(exec_hash_multi_column_keys_partition)
{
    /* rows (k, k % 7) for k in [0, 4096): distinct keys, distinct row hashes,
     * and an even spread over 8 partitions */
    Vector c0, c1;
    REQUIRE(vector_init(&c0, TYPE_BIGINT, 4096) == 0);
    REQUIRE(vector_init(&c1, TYPE_BIGINT, 4096) == 0);
    for (int k = 0; k < 4096; k++) {
        vector_i64(&c0)[k] = k;
        vector_i64(&c1)[k] = k % 7;
    }
    static uint64_t h[4096];
    hash_vector(&c0, NULL, 4096, h, 0);
    hash_vector(&c1, NULL, 4096, h, 1);
    int part[8] = {0}, dup = 0, wrong = 0;
    for (int k = 0; k < 4096; k++) {
        part[h[k] % 8]++;
        if (k && h[k] == h[k - 1]) dup++;
        wrong += h[k] != hash_combine(hash_i64(k), hash_i64(k % 7));
    }
    CHECK_EQ_INT(dup, 0);
    CHECK_EQ_INT(wrong, 0);
    int even = 1;
    for (int p = 0; p < 8; p++) even &= part[p] > 420 && part[p] < 600;
    CHECK(even);
    vector_destroy(&c0);
    vector_destroy(&c1);
}
