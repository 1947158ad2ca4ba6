/*
 * unit.h — sluice's small C unit-test harness.
 *
 * A test is a function declared with TEST(name). It registers itself at load
 * time (a constructor), so adding tests/unit/test_foo.c is all it takes: the
 * Makefile links every tests/unit/ C file into build/unit_tests.
 *
 *   #include "tests/unit/unit.h"
 *   TEST(vector_set_get) {
 *       CHECK(x == 1);
 *       CHECK_EQ_INT(a, b);
 *       CHECK_EQ_STR(s, "abc");
 *   }
 *
 * A failing CHECK prints "file:line: test: what" and marks the test failed;
 * the test goes on (so one run shows every broken check). REQUIRE stops the
 * test at the first failure. build/unit_tests [FILTER] runs the tests whose
 * name contains FILTER and ends with "N passed, M failed".
 */
#ifndef SLUICE_TESTS_UNIT_H
#define SLUICE_TESTS_UNIT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct UnitTest {
    const char      *name;
    const char      *file;
    void           (*fn)(void);
    struct UnitTest *next;
} UnitTest;

void unit_register(UnitTest *t);
void unit_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int  unit_failed_now(void);   /* has the running test failed so far? */

#define TEST(name)                                                       \
    static void test_##name(void);                                       \
    static UnitTest unit_##name = {#name, __FILE__, test_##name, NULL};  \
    __attribute__((constructor)) static void unit_reg_##name(void)       \
    {                                                                    \
        unit_register(&unit_##name);                                     \
    }                                                                    \
    static void test_##name(void)

#define CHECK(cond)                                                      \
    do {                                                                 \
        if (!(cond)) unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);  \
    } while (0)

#define REQUIRE(cond)                                                      \
    do {                                                                   \
        if (!(cond)) {                                                     \
            unit_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);           \
            return;                                                        \
        }                                                                  \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                    \
    do {                                                                      \
        long long a_ = (long long)(a), b_ = (long long)(b);                   \
        if (a_ != b_)                                                         \
            unit_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, \
                      a_, b_);                                                \
    } while (0)

#define CHECK_EQ_DBL(a, b)                                                   \
    do {                                                                     \
        double a_ = (double)(a), b_ = (double)(b);                           \
        if (!(a_ == b_))                                                     \
            unit_fail(__FILE__, __LINE__, "%s == %s: %.17g != %.17g", #a, #b, \
                      a_, b_);                                               \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                    \
    do {                                                                      \
        const char *a_ = (a), *b_ = (b);                                      \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                  \
            unit_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a,  \
                      #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");            \
    } while (0)

/* compare a (ptr, len) slice with a C string */
#define CHECK_EQ_MEM(p, n, s)                                                 \
    do {                                                                      \
        const char *p_ = (const char *)(p), *s_ = (s);                        \
        size_t n_ = (size_t)(n);                                              \
        if (n_ != strlen(s_) || memcmp(p_, s_, n_) != 0)                      \
            unit_fail(__FILE__, __LINE__, "%s == \"%s\": \"%.*s\"", #p, s_, \
                      (int)n_, p_);                                           \
    } while (0)

#endif
