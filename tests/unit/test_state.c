/*
 * test_state.c — the LevelDB state store: atomic checkpoints, reopen,
 * prefix scans, offsets, fingerprints, corrupt directories.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/state.h"
#include "tests/unit/unit.h"

static void tmpdir(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/sluice-state-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(buf)) buf[0] = 0;
}

static void rmrf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) { /* best effort */ }
}

typedef struct Seen {
    int  n;
    char keys[16][32];
    char vals[16][32];
} Seen;

static int collect(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Seen *s = ctx;
    if (s->n >= 16) return 1;
    snprintf(s->keys[s->n], 32, "%.*s", (int)kl, (const char *)k);
    snprintf(s->vals[s->n], 32, "%.*s", (int)vl, (const char *)v);
    s->n++;
    return 0;
}

TEST(state_commit_reopen_scan)
{
    char dir[256], err[512];
    tmpdir(dir, sizeof dir);
    REQUIRE(dir[0]);
    StateStore *st = state_open(dir, "plan-A", 0, err, sizeof err);
    REQUIRE(st);
    CHECK_EQ_INT(state_epoch(st), 0);
    CHECK_EQ_INT(state_offset(st, 0, 1), -1);

    StateTxn *tx = state_txn_new(st);
    state_txn_put(tx, 3, 1, "user:2", 6, "20", 2);
    state_txn_put(tx, 3, 1, "user:1", 6, "10", 2);
    state_txn_put(tx, 3, 0, "user:9", 6, "other partition", 15);
    state_txn_put(tx, 4, 1, "user:1", 6, "other operator", 14);
    state_txn_offset(tx, 0, 1, 12345);
    CHECK(state_txn_bytes(tx) > 0);
    REQUIRE(state_txn_commit(tx, 1, err, sizeof err) == 0);

    /* a second checkpoint: one change, one delete */
    tx = state_txn_new(st);
    state_txn_put(tx, 3, 1, "user:1", 6, "11", 2);
    state_txn_delete(tx, 3, 1, "user:2", 6);
    state_txn_offset(tx, 0, 1, 20000);
    REQUIRE(state_txn_commit(tx, 2, err, sizeof err) == 0);

    /* a third one never committed: it must leave no trace */
    tx = state_txn_new(st);
    state_txn_put(tx, 3, 1, "user:3", 6, "ghost", 5);
    state_txn_offset(tx, 0, 1, 99999);
    state_txn_abort(tx);

    /* an epoch must move forward */
    tx = state_txn_new(st);
    CHECK(state_txn_commit(tx, 2, err, sizeof err) == -1);
    CHECK(strstr(err, "not after the last one") != NULL);
    state_close(st);

    st = state_open(dir, "plan-A", 0, err, sizeof err);
    REQUIRE(st);
    CHECK_EQ_INT(state_epoch(st), 2);
    CHECK_EQ_INT(state_offset(st, 0, 1), 20000);
    CHECK_EQ_INT(state_offset(st, 1, 1), -1);
    Seen s = {0};
    REQUIRE(state_scan(st, 3, 1, collect, &s, err, sizeof err) == 0);
    CHECK_EQ_INT(s.n, 1);
    CHECK_EQ_STR(s.keys[0], "user:1");
    CHECK_EQ_STR(s.vals[0], "11");
    Seen o = {0};
    REQUIRE(state_scan(st, 4, 1, collect, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(o.n, 1);
    CHECK_EQ_STR(o.vals[0], "other operator");
    state_close(st);
    rmrf(dir);
}

TEST(state_scan_order_and_long_keys)
{
    char dir[256], err[512];
    tmpdir(dir, sizeof dir);
    StateStore *st = state_open(dir, "p", 0, err, sizeof err);
    REQUIRE(st);
    StateTxn *tx = state_txn_new(st);
    char      big[600];
    memset(big, 'k', sizeof big);
    state_txn_put(tx, 1, 0, "b", 1, "2", 1);
    state_txn_put(tx, 1, 0, "a", 1, "1", 1);
    state_txn_put(tx, 1, 0, big, sizeof big, "long", 4);   /* a key longer than the stack buffer */
    REQUIRE(state_txn_commit(tx, 7, err, sizeof err) == 0);
    Seen s = {0};
    REQUIRE(state_scan(st, 1, 0, collect, &s, err, sizeof err) == 0);
    CHECK_EQ_INT(s.n, 3);
    CHECK_EQ_STR(s.keys[0], "a");
    CHECK_EQ_STR(s.keys[1], "b");
    CHECK_EQ_STR(s.vals[2], "long");
    state_close(st);
    rmrf(dir);
}

TEST(state_other_plan_and_reset)
{
    char dir[256], err[512];
    tmpdir(dir, sizeof dir);
    StateStore *st = state_open(dir, "plan-A", 0, err, sizeof err);
    REQUIRE(st);
    StateTxn *tx = state_txn_new(st);
    state_txn_put(tx, 1, 0, "x", 1, "1", 1);
    REQUIRE(state_txn_commit(tx, 1, err, sizeof err) == 0);
    state_close(st);

    CHECK(state_open(dir, "plan-B", 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "different query") != NULL);
    CHECK(strstr(err, "--reset-state") != NULL);

    st = state_open(dir, "plan-B", 1, err, sizeof err);   /* reset */
    REQUIRE(st);
    CHECK_EQ_INT(state_epoch(st), 0);
    Seen s = {0};
    REQUIRE(state_scan(st, 1, 0, collect, &s, err, sizeof err) == 0);
    CHECK_EQ_INT(s.n, 0);
    state_close(st);
    rmrf(dir);
}

TEST(state_corrupt_directory_is_an_error)
{
    char dir[256], err[512], path[400];
    tmpdir(dir, sizeof dir);
    StateStore *st = state_open(dir, "p", 0, err, sizeof err);
    REQUIRE(st);
    state_close(st);
    /* a CURRENT file naming a manifest that does not exist */
    snprintf(path, sizeof path, "%s/CURRENT", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("MANIFEST-999999\n", f);
    fclose(f);
    st = state_open(dir, "p", 0, err, sizeof err);
    CHECK(st == NULL);
    CHECK(strstr(err, "cannot open the state") != NULL);
    state_close(st);
    /* a path that is a file, not a directory */
    snprintf(path, sizeof path, "%s/afile", dir);
    f = fopen(path, "w");
    REQUIRE(f);
    fclose(f);
    CHECK(state_open(path, "p", 0, err, sizeof err) == NULL);
    rmrf(dir);
}

TEST(state_mismatch_names_the_first_differing_plan_line)
{
    char dir[256], err[512];
    tmpdir(dir, sizeof dir);
    StateStore *st = state_open(dir, "Output: sink out\n└─ Stage 0 · 2 tasks\n   │ Scan logs\n", 0, err, sizeof err);
    REQUIRE(st);
    state_close(st);
    CHECK(state_open(dir, "Output: sink out\n└─ Stage 0 · 1 tasks\n   │ Scan logs\n", 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "plan line 2 was '└─ Stage 0 · 2 tasks', now '└─ Stage 0 · 1 tasks'") != NULL);
    /* one plan is a prefix of the other */
    CHECK(state_open(dir, "Output: sink out\n└─ Stage 0 · 2 tasks\n", 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "plan line 3 was '│ Scan logs', now ''") != NULL);
    rmrf(dir);
}

TEST(state_get_and_txn_append)
{
    char dir[256], err[512];
    tmpdir(dir, sizeof dir);
    StateStore *st = state_open(dir, "p", 0, err, sizeof err);
    REQUIRE(st);
    StateTxn *a = state_txn_new(st), *b = state_txn_new(st), *all = state_txn_new(st);
    state_txn_put(a, 7, 1, "k1", 2, "v1", 2);
    state_txn_put(b, 7, 2, "k2", 2, "v22", 3);
    state_txn_put(b, 7, 1, "gone", 4, "x", 1);
    state_txn_delete(b, 7, 1, "gone", 4);
    state_txn_append(all, a);
    state_txn_append(all, b);
    CHECK(state_txn_bytes(all) == state_txn_bytes(a) + state_txn_bytes(b));
    state_txn_abort(a);
    state_txn_clear(b);
    CHECK(state_txn_bytes(b) == 0);
    state_txn_abort(b);
    REQUIRE(state_txn_commit(all, 1, err, sizeof err) == 0);
    void  *v;
    size_t vl;
    CHECK_EQ_INT(state_get(st, 7, 1, "k1", 2, &v, &vl, err, sizeof err), 1);
    CHECK(vl == 2 && memcmp(v, "v1", 2) == 0);
    free(v);
    CHECK_EQ_INT(state_get(st, 7, 2, "k2", 2, &v, &vl, err, sizeof err), 1);
    CHECK(vl == 3 && memcmp(v, "v22", 3) == 0);
    free(v);
    CHECK_EQ_INT(state_get(st, 7, 1, "gone", 4, &v, &vl, err, sizeof err), 0);
    CHECK(v == NULL);
    state_close(st);
    rmrf(dir);
}
