/*
 * test_spill.c — the spill store (runtime/spill.h): the temporary store as
 * a plain key-value map, drains (order, prefix, stop), and the versioned
 * store inside a real StateStore: the header's checkpoint scenarios, the GC
 * rule (raw keys counted through state_leveldb), drop, durability across a
 * reopen, concurrent tasks, and that state_scan never sees spill entries.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <leveldb/c.h>

#include "runtime/spill.h"
#include "runtime/state.h"
#include "tests/unit/unit.h"

/* ---- helpers ------------------------------------------------------------------------ */

static void tmpdir(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/sluice-spilltest-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(buf)) buf[0] = 0;
}

static void rmrf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) { /* best effort */ }
}

/* entries of a directory, but . and .. (-1 when it cannot be read) */
static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int            n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

typedef struct Seen {
    int  n;
    int  stop_at;   /* return 1 from the call number stop_at (1-based); 0 never */
    char keys[32][32];
    char vals[32][32];
} Seen;

static int collect(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Seen *s = ctx;
    if (s->n >= 32) return 1;
    snprintf(s->keys[s->n], 32, "%.*s", (int)kl, (const char *)k);
    snprintf(s->vals[s->n], 32, "%.*s", (int)vl, (const char *)v);
    s->n++;
    return s->stop_at && s->n == s->stop_at;
}

/* raw 'x' entries of (op, part) in the database, and how many of them are tombstones */
/* the versions stored for (op, part), and how many are tombstones */
static int raw_count(StateStore *st, int op, int part, int *tombs)
{
    unsigned char prefix[5] = {'x', (unsigned char)(op >> 8), (unsigned char)op, (unsigned char)(part >> 8),
                               (unsigned char)part};
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    leveldb_iterator_t    *it = leveldb_create_iterator(state_leveldb(st), ro);
    int                    n = 0, t = 0;
    for (leveldb_iter_seek(it, (const char *)prefix, 5); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t      kl, vl;
        const char *k = leveldb_iter_key(it, &kl);
        if (kl < 5 || memcmp(k, prefix, 5) != 0) break;
        /* one record per gkey: varint count, then per version be64 tag,
         * varint length (0: a tombstone), the bytes */
        const unsigned char *v = (const unsigned char *)leveldb_iter_value(it, &vl), *e = v + vl;
        uint64_t             cnt = 0;
        for (int sh = 0; v < e; sh += 7) {
            cnt |= (uint64_t)(*v & 0x7f) << sh;
            if (!(*v++ & 0x80)) break;
        }
        for (uint64_t i = 0; i < cnt && v + 8 < e; i++) {
            uint64_t len = 0;
            v += 8;
            for (int sh = 0; v < e; sh += 7) {
                len |= (uint64_t)(*v & 0x7f) << sh;
                if (!(*v++ & 0x80)) break;
            }
            v += len;
            n++;
            t += len == 0;
        }
    }
    leveldb_iter_destroy(it);
    leveldb_readoptions_destroy(ro);
    if (tombs) *tombs = t;
    return n;
}

static void commit_epoch(StateStore *st, int64_t epoch)
{
    char      err[256];
    StateTxn *tx = state_txn_new(st);
    CHECK(state_txn_commit(tx, epoch, err, sizeof err) == 0);
}

/* take gkey: the value as a string in out ("" when not spilled); the return of spill_take */
static int take_str(SpillStore *sp, int op, int part, const char *gkey, int64_t tag, int64_t committed,
                    char *out, size_t outcap)
{
    char   err[256];
    void  *buf = NULL;
    size_t bufcap = 0, vlen = 0;
    int    r = spill_take(sp, op, part, gkey, strlen(gkey), tag, committed, &buf, &bufcap, &vlen, err, sizeof err);
    snprintf(out, outcap, "%.*s", r == 1 ? (int)vlen : 0, r == 1 ? (const char *)buf : "");
    free(buf);
    return r;
}

static int put_str(SpillStore *sp, int op, int part, const char *gkey, const char *val, int64_t tag,
                   int64_t committed)
{
    char err[256];
    return spill_put(sp, op, part, gkey, strlen(gkey), val, strlen(val), tag, committed, err, sizeof err);
}

/* ---- temporary store ---------------------------------------------------------------- */

TEST(spill_temp_put_take)
{
    char parent[256], err[256], v[64];
    tmpdir(parent, sizeof parent);
    REQUIRE(parent[0]);
    SpillStore *sp = spill_open_temp(parent, err, sizeof err);
    REQUIRE(sp);
    CHECK_EQ_INT(dir_entries(parent), 1);   /* its own directory */

    CHECK_EQ_INT(put_str(sp, 1, 0, "Gk1", "one", 0, 0), 0);
    CHECK_EQ_INT(put_str(sp, 1, 0, "Gk2", "two", 0, 0), 0);
    CHECK_EQ_INT(put_str(sp, 1, 1, "Gk1", "other part", 0, 0), 0);
    CHECK_EQ_INT(put_str(sp, 1, 0, "Gk2", "two again", 0, 0), 0);   /* overwrite */
    CHECK_EQ_INT(spill_writes(sp), 4);

    CHECK_EQ_INT(take_str(sp, 1, 0, "Gk1", 0, 0, v, sizeof v), 1);
    CHECK_EQ_STR(v, "one");
    CHECK_EQ_INT(take_str(sp, 1, 0, "Gk1", 0, 0, v, sizeof v), 0);   /* taken: gone */
    CHECK_EQ_INT(take_str(sp, 1, 0, "Gk2", 0, 0, v, sizeof v), 1);
    CHECK_EQ_STR(v, "two again");
    CHECK_EQ_INT(take_str(sp, 1, 0, "Gk2", 0, 0, v, sizeof v), 0);
    CHECK_EQ_INT(take_str(sp, 1, 0, "Gk3", 0, 0, v, sizeof v), 0);   /* never spilled */
    CHECK_EQ_INT(take_str(sp, 1, 1, "Gk1", 0, 0, v, sizeof v), 1);
    CHECK_EQ_STR(v, "other part");
    CHECK_EQ_INT(spill_reads(sp), 3);

    /* a value larger than the buffer: take grows it */
    char big[5000];
    memset(big, 'b', sizeof big);
    CHECK_EQ_INT(spill_put(sp, 2, 0, "K", 1, big, sizeof big, 0, 0, err, sizeof err), 0);
    void  *buf = malloc(4);
    size_t cap = 4, vlen = 0;
    CHECK_EQ_INT(spill_take(sp, 2, 0, "K", 1, 0, 0, &buf, &cap, &vlen, err, sizeof err), 1);
    CHECK_EQ_INT(vlen, sizeof big);
    CHECK(cap >= sizeof big);
    CHECK(memcmp(buf, big, sizeof big) == 0);
    free(buf);

    /* an empty value is refused (it would be a tombstone) */
    CHECK_EQ_INT(spill_put(sp, 2, 0, "E", 1, "", 0, 0, 0, err, sizeof err), -1);
    CHECK(strstr(err, "spill store") != NULL);

    spill_close(sp);
    CHECK_EQ_INT(dir_entries(parent), 0);   /* the temporary directory is gone */
    spill_close(NULL);
    rmrf(parent);
}

TEST(spill_temp_drain_order_stop)
{
    char parent[256], err[256], v[64];
    tmpdir(parent, sizeof parent);
    REQUIRE(parent[0]);
    SpillStore *sp = spill_open_temp(parent, err, sizeof err);
    REQUIRE(sp);
    /* window tables "W1" and "W2", the global table "G", another op and part */
    const char *keys[] = {"W2c", "W1b", "W1d", "G1", "W1a", "W2a", "W1c"};
    for (int i = 0; i < 7; i++) CHECK_EQ_INT(put_str(sp, 3, 2, keys[i], keys[i], 0, 0), 0);
    CHECK_EQ_INT(put_str(sp, 3, 1, "W1z", "other part", 0, 0), 0);
    CHECK_EQ_INT(put_str(sp, 4, 2, "W1z", "other op", 0, 0), 0);

    /* stop at the second: both are taken, 1 is returned */
    Seen s = {.stop_at = 2};
    CHECK_EQ_INT(spill_drain(sp, 3, 2, "W1", 2, 0, 0, collect, &s, err, sizeof err), 1);
    CHECK_EQ_INT(s.n, 2);
    CHECK_EQ_STR(s.keys[0], "W1a");
    CHECK_EQ_STR(s.keys[1], "W1b");
    CHECK_EQ_INT(take_str(sp, 3, 2, "W1a", 0, 0, v, sizeof v), 0);
    CHECK_EQ_INT(take_str(sp, 3, 2, "W1b", 0, 0, v, sizeof v), 0);

    /* the rest of W1, in key order */
    Seen r = {0};
    CHECK_EQ_INT(spill_drain(sp, 3, 2, "W1", 2, 0, 0, collect, &r, err, sizeof err), 0);
    CHECK_EQ_INT(r.n, 2);
    CHECK_EQ_STR(r.keys[0], "W1c");
    CHECK_EQ_STR(r.vals[0], "W1c");
    CHECK_EQ_STR(r.keys[1], "W1d");
    Seen e = {0};
    CHECK_EQ_INT(spill_drain(sp, 3, 2, "W1", 2, 0, 0, collect, &e, err, sizeof err), 0);
    CHECK_EQ_INT(e.n, 0);
    CHECK_EQ_INT(spill_reads(sp), 4);

    /* everything else of (3, 2) is still there; other ops and parts untouched */
    Seen all = {0};
    CHECK_EQ_INT(spill_drain(sp, 3, 2, NULL, 0, 0, 0, collect, &all, err, sizeof err), 0);
    CHECK_EQ_INT(all.n, 3);
    CHECK_EQ_STR(all.keys[0], "G1");
    CHECK_EQ_STR(all.keys[1], "W2a");
    CHECK_EQ_STR(all.keys[2], "W2c");
    CHECK_EQ_INT(take_str(sp, 3, 1, "W1z", 0, 0, v, sizeof v), 1);
    CHECK_EQ_INT(take_str(sp, 4, 2, "W1z", 0, 0, v, sizeof v), 1);
    spill_close(sp);
    rmrf(parent);
}

/* fn may put and take OTHER gkeys during a drain */
typedef struct Reenter {
    SpillStore *sp;
    int         n;
} Reenter;

static int reenter(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)v, (void)vl;
    Reenter *r = ctx;
    char     out[64];
    r->n++;
    if (kl == 3 && memcmp(k, "W1a", 3) == 0) {
        if (put_str(r->sp, 5, 0, "W9x", "put during drain", 0, 0) != 0) return 1;
        if (take_str(r->sp, 5, 0, "W0y", 0, 0, out, sizeof out) != 1) return 1;
    }
    return 0;
}

TEST(spill_drain_reentrant)
{
    char parent[256], err[256], v[64];
    tmpdir(parent, sizeof parent);
    REQUIRE(parent[0]);
    SpillStore *sp = spill_open_temp(parent, err, sizeof err);
    REQUIRE(sp);
    CHECK_EQ_INT(put_str(sp, 5, 0, "W1a", "a", 0, 0), 0);
    CHECK_EQ_INT(put_str(sp, 5, 0, "W1b", "b", 0, 0), 0);
    CHECK_EQ_INT(put_str(sp, 5, 0, "W0y", "y", 0, 0), 0);
    Reenter r = {sp, 0};
    CHECK_EQ_INT(spill_drain(sp, 5, 0, "W1", 2, 0, 0, reenter, &r, err, sizeof err), 0);
    CHECK_EQ_INT(r.n, 2);
    CHECK_EQ_INT(take_str(sp, 5, 0, "W9x", 0, 0, v, sizeof v), 1);
    CHECK_EQ_STR(v, "put during drain");
    CHECK_EQ_INT(take_str(sp, 5, 0, "W0y", 0, 0, v, sizeof v), 0);
    spill_close(sp);
    rmrf(parent);
}

/* ---- versioned store ---------------------------------------------------------------- */

/* the header's scenario on (op, part): evict at tag 1, checkpoint 1, take at tag 2 */
static void evict_commit_take(SpillStore *sp, int op, int part)
{
    char v[64];
    CHECK_EQ_INT(put_str(sp, op, part, "Gkey", "value@1", 1, 0), 0);
    CHECK_EQ_INT(take_str(sp, op, part, "Gkey", 2, 1, v, sizeof v), 1);
    CHECK_EQ_STR(v, "value@1");
    CHECK_EQ_INT(take_str(sp, op, part, "Gkey", 2, 1, v, sizeof v), 0);   /* taken at 2 */
}

TEST(spill_versioned_checkpoints)
{
    char dir[256], err[256], v[64];
    tmpdir(dir, sizeof dir);
    REQUIRE(dir[0]);
    StateStore *st = state_open(dir, "plan-spill", 0, err, sizeof err);
    REQUIRE(st);
    SpillStore *sp = spill_open_shared(st, err, sizeof err);
    REQUIRE(sp);

    /* no checkpoint yet: evict at tag 1 then take at tag 1 leaves nothing */
    CHECK_EQ_INT(put_str(sp, 7, 9, "Gfresh", "v", 1, 0), 0);
    CHECK_EQ_INT(raw_count(st, 7, 9, NULL), 1);
    CHECK_EQ_INT(take_str(sp, 7, 9, "Gfresh", 1, 0, v, sizeof v), 1);
    CHECK_EQ_INT(raw_count(st, 7, 9, NULL), 0);

    /* parts 0..3 get the evict at 1; checkpoint 1 commits */
    for (int p = 0; p < 4; p++) CHECK_EQ_INT(put_str(sp, 7, p, "Gkey", "value@1", 1, 0), 0);
    commit_epoch(st, 1);
    for (int p = 0; p < 4; p++) {
        CHECK_EQ_INT(take_str(sp, 7, p, "Gkey", 2, 1, v, sizeof v), 1);
        CHECK_EQ_STR(v, "value@1");
        CHECK_EQ_INT(take_str(sp, 7, p, "Gkey", 2, 1, v, sizeof v), 0);
        int tombs = 0;
        CHECK_EQ_INT(raw_count(st, 7, p, &tombs), 2);   /* tombstone@2, value@1 */
        CHECK_EQ_INT(tombs, 1);
    }
    /* parts 2 and 3: re-evicted at tag 2 (replaces the tombstone@2) */
    CHECK_EQ_INT(put_str(sp, 7, 2, "Gkey", "value@2", 2, 1), 0);
    CHECK_EQ_INT(put_str(sp, 7, 3, "Gkey", "value@2", 2, 1), 0);
    CHECK_EQ_INT(raw_count(st, 7, 2, NULL), 2);

    /* restart from checkpoint 1: the take after it is undone */
    Seen s0 = {0};
    CHECK_EQ_INT(spill_recover(sp, 7, 0, 1, collect, &s0, err, sizeof err), 0);
    CHECK_EQ_INT(s0.n, 1);
    CHECK_EQ_STR(s0.keys[0], "Gkey");
    CHECK_EQ_STR(s0.vals[0], "value@1");
    CHECK_EQ_INT(raw_count(st, 7, 0, NULL), 1);
    CHECK_EQ_INT(take_str(sp, 7, 0, "Gkey", 2, 1, v, sizeof v), 1);   /* spilled again */
    /* restart from checkpoint 2: the group was not spilled then */
    Seen s1 = {0};
    CHECK_EQ_INT(spill_recover(sp, 7, 1, 2, collect, &s1, err, sizeof err), 0);
    CHECK_EQ_INT(s1.n, 0);
    CHECK_EQ_INT(raw_count(st, 7, 1, NULL), 0);
    CHECK_EQ_INT(take_str(sp, 7, 1, "Gkey", 3, 2, v, sizeof v), 0);
    /* re-evicted: checkpoint 1 sees value@1, checkpoint 2 value@2 */
    Seen s2 = {0}, s3 = {0};
    CHECK_EQ_INT(spill_recover(sp, 7, 2, 1, collect, &s2, err, sizeof err), 0);
    CHECK_EQ_INT(s2.n, 1);
    CHECK_EQ_STR(s2.vals[0], "value@1");
    CHECK_EQ_INT(raw_count(st, 7, 2, NULL), 1);
    CHECK_EQ_INT(spill_recover(sp, 7, 3, 2, collect, &s3, err, sizeof err), 0);
    CHECK_EQ_INT(s3.n, 1);
    CHECK_EQ_STR(s3.vals[0], "value@2");
    CHECK_EQ_INT(raw_count(st, 7, 3, NULL), 1);
    /* a restart with no checkpoint (epoch 0): nothing was spilled */
    Seen s4 = {0};
    CHECK_EQ_INT(spill_recover(sp, 7, 3, 0, collect, &s4, err, sizeof err), 0);
    CHECK_EQ_INT(s4.n, 0);
    CHECK_EQ_INT(raw_count(st, 7, 3, NULL), 0);

    /* the helper sequence on a fresh part, for the record */
    evict_commit_take(sp, 8, 0);
    spill_close(sp);
    state_close(st);
    rmrf(dir);
}

TEST(spill_versioned_gc)
{
    char dir[256], err[256], v[64];
    tmpdir(dir, sizeof dir);
    REQUIRE(dir[0]);
    StateStore *st = state_open(dir, "plan-spill", 0, err, sizeof err);
    REQUIRE(st);
    SpillStore *sp = spill_open_shared(st, err, sizeof err);
    REQUIRE(sp);
    int tombs;

    CHECK_EQ_INT(put_str(sp, 1, 0, "Gk", "v1", 1, 0), 0);
    commit_epoch(st, 1);
    CHECK_EQ_INT(put_str(sp, 1, 0, "Gk", "v2", 2, 1), 0);   /* v2@2 v1@1 */
    CHECK_EQ_INT(raw_count(st, 1, 0, NULL), 2);
    /* checkpoint 2 in flight while the task already writes for 3 */
    CHECK_EQ_INT(put_str(sp, 1, 0, "Gk", "v3", 3, 1), 0);   /* v3@3 v2@2 v1@1: all needed */
    CHECK_EQ_INT(raw_count(st, 1, 0, NULL), 3);
    commit_epoch(st, 2);
    CHECK_EQ_INT(take_str(sp, 1, 0, "Gk", 3, 2, v, sizeof v), 1);   /* tomb@3 v2@2 (v1 collected) */
    CHECK_EQ_STR(v, "v3");
    CHECK_EQ_INT(raw_count(st, 1, 0, &tombs), 2);
    CHECK_EQ_INT(tombs, 1);
    commit_epoch(st, 3);
    CHECK_EQ_INT(put_str(sp, 1, 0, "Gk", "v4", 4, 3), 0);   /* v4@4; tomb@3 is oldest: gone */
    CHECK_EQ_INT(raw_count(st, 1, 0, &tombs), 1);
    CHECK_EQ_INT(tombs, 0);
    CHECK_EQ_INT(take_str(sp, 1, 0, "Gk", 4, 3, v, sizeof v), 1);   /* nothing left */
    CHECK_EQ_STR(v, "v4");
    CHECK_EQ_INT(raw_count(st, 1, 0, NULL), 0);

    /* without checkpoints (tag = committed = 0): a plain map, <= 1 version */
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(put_str(sp, 2, 0, "Gk", i == 2 ? "last" : "x", 0, 0), 0);
    CHECK_EQ_INT(raw_count(st, 2, 0, NULL), 1);
    CHECK_EQ_INT(take_str(sp, 2, 0, "Gk", 0, 0, v, sizeof v), 1);
    CHECK_EQ_STR(v, "last");
    CHECK_EQ_INT(raw_count(st, 2, 0, NULL), 0);

    /* a drain in the versioned store: tombstones at tag, visible to a restart */
    CHECK_EQ_INT(put_str(sp, 3, 0, "W1a", "a", 4, 3), 0);
    CHECK_EQ_INT(put_str(sp, 3, 0, "W1b", "b", 4, 3), 0);
    commit_epoch(st, 4);
    CHECK_EQ_INT(take_str(sp, 3, 0, "W1a", 5, 4, v, sizeof v), 1);   /* a at 4: tomb@5 a@4 */
    Seen d = {0};
    CHECK_EQ_INT(spill_drain(sp, 3, 0, "W1", 2, 5, 4, collect, &d, err, sizeof err), 0);
    CHECK_EQ_INT(d.n, 1);
    CHECK_EQ_STR(d.keys[0], "W1b");
    CHECK_EQ_INT(raw_count(st, 3, 0, &tombs), 4);
    CHECK_EQ_INT(tombs, 2);
    Seen again = {0};
    CHECK_EQ_INT(spill_drain(sp, 3, 0, "W1", 2, 5, 4, collect, &again, err, sizeof err), 0);
    CHECK_EQ_INT(again.n, 0);
    Seen rec = {0};
    CHECK_EQ_INT(spill_recover(sp, 3, 0, 4, collect, &rec, err, sizeof err), 0);
    CHECK_EQ_INT(rec.n, 2);
    CHECK_EQ_STR(rec.keys[0], "W1a");
    CHECK_EQ_STR(rec.keys[1], "W1b");
    CHECK_EQ_INT(raw_count(st, 3, 0, &tombs), 2);
    CHECK_EQ_INT(tombs, 0);

    /* recover's fn stopping: -1, "stopped" */
    Seen stop = {.stop_at = 1};
    CHECK_EQ_INT(spill_recover(sp, 3, 0, 4, collect, &stop, err, sizeof err), -1);
    CHECK(strstr(err, "stopped") != NULL);
    CHECK_EQ_INT(stop.n, 1);

    spill_close(sp);
    state_close(st);
    rmrf(dir);
}

TEST(spill_drop_prefix)
{
    char dir[256], err[256], v[64];
    tmpdir(dir, sizeof dir);
    REQUIRE(dir[0]);
    StateStore *st = state_open(dir, "plan-spill", 0, err, sizeof err);
    REQUIRE(st);
    SpillStore *sp = spill_open_shared(st, err, sizeof err);
    REQUIRE(sp);
    char key[32];
    /* enough for more than one delete batch */
    for (int i = 0; i < 2500; i++) {
        snprintf(key, sizeof key, "W1%05d", i);
        CHECK_EQ_INT(put_str(sp, 4, 1, key, "v", 1, 0), 0);
    }
    commit_epoch(st, 1);
    CHECK_EQ_INT(take_str(sp, 4, 1, "W100007", 2, 1, v, sizeof v), 1);   /* two versions */
    CHECK_EQ_INT(put_str(sp, 4, 1, "W2x", "keep", 2, 1), 0);
    CHECK_EQ_INT(put_str(sp, 4, 2, "W1x", "other part", 2, 1), 0);
    CHECK_EQ_INT(raw_count(st, 4, 1, NULL), 2502);
    CHECK_EQ_INT(spill_drop(sp, 4, 1, "W1", 2, err, sizeof err), 0);
    CHECK_EQ_INT(raw_count(st, 4, 1, NULL), 1);
    CHECK_EQ_INT(take_str(sp, 4, 1, "W2x", 2, 1, v, sizeof v), 1);
    CHECK_EQ_INT(raw_count(st, 4, 2, NULL), 1);
    CHECK_EQ_INT(spill_drop(sp, 4, 2, NULL, 0, err, sizeof err), 0);
    CHECK_EQ_INT(raw_count(st, 4, 2, NULL), 0);
    spill_close(sp);
    state_close(st);
    rmrf(dir);
}

static int count_entries(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)k, (void)kl, (void)v, (void)vl;
    ++*(int *)ctx;
    return 0;
}

TEST(spill_shared_durable_and_apart_from_state)
{
    char dir[256], err[256], v[64];
    tmpdir(dir, sizeof dir);
    REQUIRE(dir[0]);
    StateStore *st = state_open(dir, "plan-spill", 0, err, sizeof err);
    REQUIRE(st);
    SpillStore *sp = spill_open_shared(st, err, sizeof err);
    REQUIRE(sp);
    CHECK_EQ_INT(put_str(sp, 6, 0, "Gspilled", "cold group", 1, 0), 0);
    CHECK_EQ_INT(put_str(sp, 6, 0, "Gtaken", "came back", 1, 0), 0);
    StateTxn *tx = state_txn_new(st);
    state_txn_put(tx, 6, 0, "Ghot", 4, "in memory", 9);
    REQUIRE(state_txn_commit(tx, 1, err, sizeof err) == 0);
    CHECK_EQ_INT(take_str(sp, 6, 0, "Gtaken", 2, 1, v, sizeof v), 1);

    /* state_scan sees only its own 's' entries */
    int n = 0;
    CHECK_EQ_INT(state_scan(st, 6, 0, count_entries, &n, err, sizeof err), 0);
    CHECK_EQ_INT(n, 1);
    spill_close(sp);
    state_close(st);

    /* reopened: the spilled entries are there (through the state database) */
    st = state_open(dir, "plan-spill", 0, err, sizeof err);
    REQUIRE(st);
    CHECK_EQ_INT(state_epoch(st), 1);
    sp = spill_open_shared(st, err, sizeof err);
    REQUIRE(sp);
    Seen s = {0};
    CHECK_EQ_INT(spill_recover(sp, 6, 0, state_epoch(st), collect, &s, err, sizeof err), 0);
    CHECK_EQ_INT(s.n, 2);   /* both were spilled at checkpoint 1 */
    CHECK_EQ_STR(s.keys[0], "Gspilled");
    CHECK_EQ_STR(s.vals[0], "cold group");
    CHECK_EQ_STR(s.keys[1], "Gtaken");
    CHECK_EQ_STR(s.vals[1], "came back");
    CHECK_EQ_INT(take_str(sp, 6, 0, "Gspilled", 2, 1, v, sizeof v), 1);
    CHECK_EQ_STR(v, "cold group");
    n = 0;
    CHECK_EQ_INT(state_scan(st, 6, 0, count_entries, &n, err, sizeof err), 0);
    CHECK_EQ_INT(n, 1);
    spill_close(sp);
    state_close(st);
    rmrf(dir);
}

/* ---- concurrent tasks --------------------------------------------------------------- */

typedef struct Task {
    SpillStore *sp;
    int         part;
    int         bad;
} Task;

static void *task_run(void *arg)
{
    Task  *t = arg;
    char   key[32], val[32], err[256];
    void  *buf = NULL;
    size_t cap = 0, vlen;
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof key, "G%04d", i);
        snprintf(val, sizeof val, "p%d-%d", t->part, i);
        if (spill_put(t->sp, 1, t->part, key, strlen(key), val, strlen(val), 1, 0, err, sizeof err) != 0) t->bad++;
    }
    for (int i = 0; i < 500; i += 2) {
        snprintf(key, sizeof key, "G%04d", i);
        snprintf(val, sizeof val, "p%d-%d", t->part, i);
        int r = spill_take(t->sp, 1, t->part, key, strlen(key), 1, 0, &buf, &cap, &vlen, err, sizeof err);
        if (r != 1 || vlen != strlen(val) || memcmp(buf, val, vlen) != 0) t->bad++;
    }
    free(buf);
    return NULL;
}

TEST(spill_concurrent_tasks)
{
    char dir[256], err[256];
    tmpdir(dir, sizeof dir);
    REQUIRE(dir[0]);
    StateStore *st = state_open(dir, "plan-spill", 0, err, sizeof err);
    REQUIRE(st);
    SpillStore *sp = spill_open_shared(st, err, sizeof err);
    REQUIRE(sp);
    Task      t[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (Task){sp, i, 0};
        REQUIRE(pthread_create(&th[i], NULL, task_run, &t[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(t[i].bad, 0);
        CHECK_EQ_INT(raw_count(st, 1, i, NULL), 250);
    }
    CHECK_EQ_INT(spill_writes(sp), 2000);
    CHECK_EQ_INT(spill_reads(sp), 1000);
    spill_close(sp);
    state_close(st);
    rmrf(dir);
}
