/*
 * test_exec_arena.c — exec/arena: alignment, chunks, big allocations, reset
 * reuse (steady state allocates nothing), free.
 */
#include "tests/unit/unit.h"

#include <stdint.h>

#include "exec/arena.h"

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

TEST(exec_arena_init_allocates_nothing)
{
    Arena a;
    arena_init(&a, 1024);
    CHECK_EQ_INT(arena_bytes_reserved(&a), 0);
    CHECK_EQ_INT(arena_bytes_used(&a), 0);
    arena_reset(&a);                      /* reset and free of an unused arena */
    CHECK_EQ_INT(arena_bytes_reserved(&a), 0);
    arena_free(&a);
    CHECK_EQ_INT(arena_bytes_reserved(&a), 0);
}

TEST(exec_arena_alignment_and_no_overlap)
{
    Arena a;
    arena_init(&a, 256);
    enum { N = 500 };
    unsigned char *ptrs[N];
    size_t         sizes[N];
    uint64_t       seed = 42;
    for (int i = 0; i < N; i++) {
        sizes[i] = (size_t)(rng_next(&seed) % 100) + (i % 7 == 0 ? 0 : 1);
        if (i % 3 == 0) {
            ptrs[i] = arena_alloc_bytes(&a, sizes[i]);
        } else {
            ptrs[i] = arena_alloc(&a, sizes[i]);
            REQUIRE(ptrs[i] != NULL);
            CHECK_EQ_INT((uintptr_t)ptrs[i] % ARENA_ALIGN, 0);
        }
        REQUIRE(ptrs[i] != NULL);
        memset(ptrs[i], i & 0xff, sizes[i]);
    }
    /* every allocation kept its own bytes: nothing overlapped */
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < sizes[i]; k++)
            if (ptrs[i][k] != (unsigned char)(i & 0xff)) {
                CHECK(ptrs[i][k] == (unsigned char)(i & 0xff));
                break;
            }
    CHECK(arena_bytes_used(&a) >= 100);
    CHECK(arena_bytes_reserved(&a) >= arena_bytes_used(&a));
    arena_free(&a);
}

TEST(exec_arena_zero_size_allocs_are_distinct)
{
    Arena a;
    arena_init(&a, 0);
    char *p = arena_alloc(&a, 0), *q = arena_alloc(&a, 0);
    CHECK(p != NULL && q != NULL && p != q);
    char *r = arena_alloc_bytes(&a, 0), *s = arena_alloc_bytes(&a, 0);
    CHECK(r != NULL && s != NULL && r != s);
    arena_free(&a);
}

TEST(exec_arena_calloc_zeroes_reused_memory)
{
    Arena a;
    arena_init(&a, 1024);
    unsigned char *p = arena_alloc(&a, 512);
    REQUIRE(p != NULL);
    memset(p, 0xab, 512);
    arena_reset(&a);
    unsigned char *z = arena_calloc(&a, 64, 8);
    REQUIRE(z != NULL);
    CHECK(z == p);                        /* same memory, handed out again */
    int nonzero = 0;
    for (int i = 0; i < 512; i++) nonzero += z[i] != 0;
    CHECK_EQ_INT(nonzero, 0);
    CHECK(arena_calloc(&a, SIZE_MAX / 2, 4) == NULL);    /* count * size overflows */
    CHECK(arena_alloc(&a, SIZE_MAX - 8) == NULL);        /* malloc cannot serve it */
    CHECK(arena_calloc(&a, 0, 16) != NULL);
    arena_free(&a);
}

TEST(exec_arena_strndup_copies_exactly_n)
{
    Arena a;
    arena_init(&a, 64);
    char src[] = "ab\0cd-rest";
    char *s = arena_strndup(&a, src, 5);
    REQUIRE(s != NULL);
    CHECK(memcmp(s, "ab\0cd", 5) == 0);   /* embedded NUL copied */
    CHECK_EQ_INT(s[5], '\0');
    char *e = arena_strndup(&a, NULL, 0);
    REQUIRE(e != NULL);
    CHECK_EQ_STR(e, "");
    memset(src, 'x', sizeof src - 1);     /* the copy does not alias the source */
    CHECK(memcmp(s, "ab\0cd", 5) == 0);
    CHECK(arena_strndup(&a, src, SIZE_MAX) == NULL);
    arena_free(&a);
}

TEST(exec_arena_big_allocation_gets_own_chunk)
{
    Arena a;
    arena_init(&a, 256);
    char *p1 = arena_alloc(&a, 16);
    REQUIRE(p1 != NULL);
    size_t reserved1 = arena_bytes_reserved(&a);
    CHECK(reserved1 >= 256 && reserved1 < 512);

    char *big = arena_alloc(&a, 100000);
    REQUIRE(big != NULL);
    CHECK_EQ_INT((uintptr_t)big % ARENA_ALIGN, 0);
    memset(big, 7, 100000);
    size_t reserved2 = arena_bytes_reserved(&a);
    CHECK(reserved2 >= reserved1 + 100000 && reserved2 < reserved1 + 100000 + 256);

    /* the first chunk's free tail is still used after the big one */
    char *p2 = arena_alloc(&a, 16);
    CHECK(p2 == p1 + 16);
    CHECK_EQ_INT(arena_bytes_reserved(&a), reserved2);
    CHECK_EQ_INT(big[99999], 7);

    /* a big allocation as the very first one */
    Arena b;
    arena_init(&b, 128);
    char *q = arena_alloc(&b, 5000);
    REQUIRE(q != NULL);
    memset(q, 1, 5000);
    CHECK(arena_alloc(&b, 8) != NULL);
    arena_free(&b);
    arena_free(&a);
}

TEST(exec_arena_regular_chunks_grow_geometrically)
{
    Arena a;
    arena_init(&a, 64);
    for (int i = 0; i < 10000; i++) REQUIRE(arena_alloc(&a, 32) != NULL);
    /* 320 KB used: doubling chunks keep the waste (and chunk count) small */
    CHECK(arena_bytes_used(&a) >= 320000);
    CHECK(arena_bytes_reserved(&a) < 2 * arena_bytes_used(&a) + 4096);
    arena_free(&a);
}

TEST(exec_arena_reset_keeps_largest_chunk)
{
    Arena a;
    arena_init(&a, 256);
    for (int i = 0; i < 100; i++) REQUIRE(arena_alloc(&a, 100) != NULL);
    char *big = arena_alloc(&a, 50000);
    REQUIRE(big != NULL);
    arena_reset(&a);
    CHECK_EQ_INT(arena_bytes_used(&a), 0);
    /* only the largest chunk (the 50000-byte one) is left, reused from its start */
    CHECK(arena_bytes_reserved(&a) >= 50000 && arena_bytes_reserved(&a) < 50000 + 64);
    char *p = arena_alloc(&a, 10);
    CHECK(p == big);
    arena_free(&a);
    CHECK_EQ_INT(arena_bytes_reserved(&a), 0);
    CHECK_EQ_INT(arena_bytes_used(&a), 0);
    /* usable again after free */
    CHECK(arena_alloc(&a, 10) != NULL);
    arena_free(&a);
}

TEST(exec_arena_reset_cycles_reach_steady_state)
{
    Arena a;
    arena_init(&a, 1024);
    uint64_t seed = 7;
    size_t   steady = 0;
    int      grew = 0;
    for (int cycle = 0; cycle < 1000; cycle++) {
        /* a per-batch load: ~1000 short strings, some aligned values, and a
         * big value now and then (always the same bound) */
        for (int i = 0; i < 1000; i++) {
            size_t n = (size_t)(rng_next(&seed) % 24) + 1;
            char  *s = arena_alloc_bytes(&a, n);
            REQUIRE(s != NULL);
            memset(s, 'x', n);
            if (i % 100 == 0) REQUIRE(arena_alloc(&a, 64) != NULL);
        }
        if (cycle % 10 == 3) REQUIRE(arena_alloc(&a, 30000) != NULL);
        arena_reset(&a);
        /* the peak cycle (every 10th) has been seen twice by cycle 20 */
        if (cycle == 20) steady = arena_bytes_reserved(&a);
        if (cycle > 20 && arena_bytes_reserved(&a) != steady) grew = 1;
    }
    CHECK(steady > 0);
    CHECK(!grew);
    /* one chunk holding a whole peak cycle (~43 KB), not much more */
    CHECK(steady >= 43000 && steady < 2 * 43000);
    arena_free(&a);
}
