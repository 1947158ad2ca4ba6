/*
 * test_conn_kafka_group.c — the kafka source in group mode (ConnSpec.group,
 * the setting deployment.group; issue 13's first slice), against the
 * embedded broker (librdkafka's mock cluster, in-process):
 *   - what group mode refuses: no checkpoints, a conflicting
 *     properties.group.id, a non-kafka source, a group blob restored
 *     outside group mode;
 *   - two members share a topic's partitions (disjoint, together all of
 *     it; row partition index = Kafka partition id; source_partition_live
 *     says which are read); source_barrier + source_committed commit the
 *     offsets of the checkpoint to the group — and only for the epoch
 *     committed: the offsets of a later barrier are not;
 *   - a member leaves: the other gets its partitions and starts them at the
 *     group's committed offsets (what the leaver read after its last
 *     committed checkpoint is read again: at-least-once, counted exactly);
 *   - a fresh member of the group with a restored local checkpoint still
 *     starts at the group's offsets (restore keeps nothing positional);
 *   - with an offsets group (ConnSpec.offsets_group) the offsets go there,
 *     and a partition moved to a member that joins is held by the old one
 *     until a checkpoint has committed its offset: every row once; closed
 *     while holding, it gives them up at once (no hang at exit);
 *   - kafka_consumer_end keeps (does not destroy) a member that joined but
 *     was never assigned (librdkafka 2.0's assertion), destroys the rest.
 * The mock's group coordinator waits ~3 s before a group's first
 * assignment and about as long per rebalance: these tests take ~10-15 s.
 */
#include "tests/unit/test_conn_util.h"

#include <librdkafka/rdkafka.h>

#include "tests/unit/test_kafka_util.h"
#include <time.h>

#include "runtime/connectors/kafka.h"

#define GCOLS "id BIGINT, name VARCHAR"
#define GN    4   /* partitions */

static int64_t gmono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The group's committed offset of each partition (-1 = none), as another
 * client sees it. 0 or -1. */
static int gcommitted(const char *bs, const char *group, const char *topic, int64_t *off)
{
    rd_kafka_t *rk = kt_group_client(bs, group);
    if (!rk) return -1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(GN);
    for (int p = 0; p < GN; p++) rd_kafka_topic_partition_list_add(l, topic, p);
    int rc = rd_kafka_committed(rk, l, 10000) ? -1 : 0;
    for (int p = 0; p < GN; p++) off[p] = l->elems[p].offset >= 0 ? l->elems[p].offset : -1;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return rc;
}

/* Poll the sources in turn (each must be polled for the group protocol to
 * go on) for ms milliseconds or until `want` rows in all: per id, which
 * source read it (seen[id] counts, who[id] = source index); rows whose
 * partition index is not id % GN or not live count in *bad. Rows per
 * source into got[]. */
static int gpull(Source **s, int ns, const ConnSpec *spec, int *seen, int *who, int nseen, int want,
                 int ms, int *got, int *bad)
{
    Batch b;
    if (batch_init(&b, spec->ncols, spec->col_types, 0) != 0) return -1;
    int64_t t0 = gmono_ms(), wait;
    int     total = 0;
    while (gmono_ms() - t0 < ms && total < want) {
        int idle = 1;
        for (int k = 0; k < ns; k++) {
            batch_reset(&b);
            SourceStatus st = source_next(s[k], &b, gmono_ms() * 1000, &wait);
            if (st == SOURCE_ERROR) {
                printf("    source %d: %s\n", k, source_error(s[k]));
                batch_destroy(&b);
                return -1;
            }
            if (st != SOURCE_BATCH) continue;
            idle = 0;
            const uint16_t *rp = source_row_partitions(s[k]);
            for (int r = 0; r < b.nrows; r++) {
                int64_t id = vector_i64(&b.cols[0])[r];
                if (id >= 0 && id < nseen) {
                    seen[id]++;
                    who[id] = k;
                }
                int idx = rp ? rp[r] : 0;
                if (idx != id % GN || !source_partition_live(s[k], idx)) (*bad)++;
                got[k]++;
                total++;
            }
        }
        if (idle) usleep(5000);
    }
    batch_destroy(&b);
    return total;
}

/* Partition p is read by s now (an index past the count is not: no row came from it). */
static int glive(Source *s, int p)
{
    return p < source_partition_count(s) && source_partition_live(s, p);
}

static void gspec(TSpec *t, const char *bs, const char *topic, const char *group)
{
    tspec_init(t, "kafka", "json", GCOLS, "topic", topic, "properties.bootstrap.servers", bs,
               "properties.session.timeout.ms", "6000", "properties.heartbeat.interval.ms", "500",
               NULL);
    t->spec.group = group;
    t->spec.checkpoints = 1;
}

TEST(kafka_group_refusals)
{
    char  err[512];
    TSpec t;
    gspec(&t, "127.0.0.1:1", "x", "g");
    t.spec.checkpoints = 0;
    CHECK(source_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "deployment.group needs checkpoints (--state-dir DIR): partitions move "
                      "between instances at the offsets of the last checkpoint") != NULL);
    gspec(&t, "127.0.0.1:1", "x", "g");
    tspec_opt(&t, "properties.group.id", "other");
    CHECK(source_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "conflicts with deployment.group") != NULL);
    TSpec l;
    tspec_init(&l, "logs", NULL, "ts TIMESTAMP", "count", "10", NULL);
    l.spec.group = "g";
    l.spec.checkpoints = 1;
    CHECK(source_open(&l.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "cannot be shared by a group") != NULL);
    l.spec.group = "";   /* "" = off */
    Source *ls = source_open(&l.spec, err, sizeof err);
    CHECK(ls != NULL);
    source_close(ls);

    /* a group blob: not restorable outside group mode; a single-node blob
     * is accepted (and ignored) in group mode; another topic's is not */
    gspec(&t, "127.0.0.1:1", "x", "g");
    Source *g = source_open(&t.spec, err, sizeof err);
    REQUIRE(g != NULL);
    char blob[512], blob1[512];
    long n = source_checkpoint(g, blob, sizeof blob);
    REQUIRE(n > 0);
    source_close(g);
    t.spec.group = NULL;
    Source *k = source_open(&t.spec, err, sizeof err);
    REQUIRE(k != NULL);
    CHECK(source_restore(k, blob, (size_t)n, err, sizeof err) == -1);
    CHECK(strstr(err, "group mode") != NULL);
    long n1 = source_checkpoint(k, blob1, sizeof blob1);
    REQUIRE(n1 > 0);
    source_close(k);
    t.spec.group = "g";
    g = source_open(&t.spec, err, sizeof err);
    REQUIRE(g != NULL);
    CHECK(source_restore(g, blob1, (size_t)n1, err, sizeof err) == 0);
    source_close(g);
    gspec(&t, "127.0.0.1:1", "y", "g");
    g = source_open(&t.spec, err, sizeof err);
    REQUIRE(g != NULL);
    CHECK(source_restore(g, blob, (size_t)n, err, sizeof err) == -1);
    CHECK(strstr(err, "topic 'x'") != NULL);
    source_barrier(g, 1);      /* before any read: nothing owned, nothing to commit */
    source_committed(g, 1);
    source_close(g);
}

TEST(kafka_group_share_commit_takeover)
{
    char         err[512];
    KafkaBroker *kb = kafka_broker_start(1, "ev", GN, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = kafka_broker_bootstrap(kb);
    TSpec t;
    gspec(&t, bs, "ev", "g1");
    Source *s[2];
    s[0] = source_open(&t.spec, err, sizeof err);
    s[1] = source_open(&t.spec, err, sizeof err);
    REQUIRE(s[0] != NULL && s[1] != NULL);
    enum { N = 400 };
    int seen[N] = {0}, who[N], got[2] = {0, 0}, bad = 0;
    /* until the group has formed: every partition live in exactly one member,
     * each member some (a member that joins later would take partitions
     * the first one read from, re-reading them: nothing is committed yet) */
    int64_t t0 = gmono_ms();
    for (;;) {
        int live[2] = {0, 0}, both = 0;
        CHECK(gpull(s, 2, &t.spec, seen, who, N, 1, 100, got, &bad) == 0);
        for (int p = 0; p < GN; p++) {
            live[0] += glive(s[0], p);
            live[1] += glive(s[1], p);
            both += glive(s[0], p) && glive(s[1], p);
        }
        if (live[0] > 0 && live[1] > 0 && live[0] + live[1] == GN && both == 0) break;
        REQUIRE(gmono_ms() - t0 < 20000);
    }
    REQUIRE(kt_fill(bs, "ev", 0, 200, GN) == 0);

    /* both join; together they read everything once, each some partitions */
    CHECK(gpull(s, 2, &t.spec, seen, who, N, 200, 20000, got, &bad) == 200);
    for (int i = 0; i < 200; i++) CHECK(seen[i] == 1);
    CHECK(got[0] > 0 && got[1] > 0);
    CHECK_EQ_INT(bad, 0);
    for (int p = 0; p < GN; p++) {   /* each partition: one reader, and it is live there only */
        int k = who[p];
        CHECK(glive(s[k], p) == 1);
        CHECK(glive(s[1 - k], p) == 0);
        for (int i = p; i < 200; i += GN) CHECK(who[i] == k);
    }

    /* checkpoint 1 committed: the group's offsets are 50 per partition */
    source_checkpoint(s[0], NULL, 0);
    source_barrier(s[0], 1);
    source_barrier(s[1], 1);
    REQUIRE(kt_fill(bs, "ev", 200, 240, GN) == 0);
    CHECK(gpull(s, 2, &t.spec, seen, who, N, 40, 10000, got, &bad) == 40);
    source_barrier(s[0], 2);   /* epoch 2 (at 60 per partition) is never committed */
    source_barrier(s[1], 2);
    source_committed(s[0], 1);
    source_committed(s[1], 1);
    int64_t off[GN];
    t0 = gmono_ms();
    do {   /* the commits are asynchronous: served by the members' polls */
        CHECK(gpull(s, 2, &t.spec, seen, who, N, 1, 100, got, &bad) == 0);
        REQUIRE(gcommitted(bs, "g1", "ev", off) == 0);
    } while ((off[0] != 50 || off[1] != 50 || off[2] != 50 || off[3] != 50) && gmono_ms() - t0 < 5000);
    for (int p = 0; p < GN; p++) CHECK(off[p] == 50);

    /* member 1 leaves: member 0 takes its partitions over at the group's
     * offsets (50): ids 200..239 of those partitions are read again */
    int mine1[GN], n1 = 0;
    for (int p = 0; p < GN; p++)
        if (who[p] == 1) mine1[n1++] = p;
    source_close(s[1]);
    REQUIRE(kt_fill(bs, "ev", 240, 280, GN) == 0);
    int again = 10 * n1;   /* 10 per partition: 200..239 */
    int want = 40 + again;
    CHECK(gpull(s, 1, &t.spec, seen, who, N, want, 20000, got, &bad) == want);
    CHECK(gpull(s, 1, &t.spec, seen, who, N, 1, 300, got, &bad) == 0);   /* nothing more */
    for (int i = 0; i < 280; i++) {
        int p = i % GN, moved = 0;
        for (int j = 0; j < n1; j++) moved |= mine1[j] == p;
        CHECK(seen[i] == (i >= 200 && i < 240 && moved ? 2 : 1));
    }
    for (int p = 0; p < GN; p++) CHECK(glive(s[0], p) == 1);
    CHECK_EQ_INT(source_partition_count(s[0]), GN);
    CHECK_EQ_INT(bad, 0);

    /* a restart: a fresh member with the local checkpoint of the old one
     * starts at the group's offsets, not at the blob's */
    source_barrier(s[0], 3);
    source_committed(s[0], 3);   /* all partitions at 70 */
    t0 = gmono_ms();
    do {
        CHECK(gpull(s, 1, &t.spec, seen, who, N, 1, 100, got, &bad) == 0);
        REQUIRE(gcommitted(bs, "g1", "ev", off) == 0);
    } while ((off[0] != 70 || off[1] != 70 || off[2] != 70 || off[3] != 70) && gmono_ms() - t0 < 5000);
    for (int p = 0; p < GN; p++) CHECK(off[p] == 70);
    REQUIRE(kt_fill(bs, "ev", 280, 320, GN) == 0);
    CHECK(gpull(s, 1, &t.spec, seen, who, N, 40, 10000, got, &bad) == 40);
    char blob[1024];
    long n = source_checkpoint(s[0], blob, sizeof blob);   /* at 80 per partition */
    REQUIRE(n > 0);
    source_close(s[0]);
    s[0] = source_open(&t.spec, err, sizeof err);
    REQUIRE(s[0] != NULL);
    CHECK(source_restore(s[0], blob, (size_t)n, err, sizeof err) == 0);
    CHECK(gpull(s, 1, &t.spec, seen, who, N, 40, 20000, got, &bad) == 40);   /* from 70 again */
    CHECK(gpull(s, 1, &t.spec, seen, who, N, 1, 300, got, &bad) == 0);
    for (int i = 280; i < 320; i++) CHECK(seen[i] == 2);
    source_close(s[0]);

    /* with an offsets group that has none yet (a job of before the offsets
     * group): the member group's offsets (70) are where it starts */
    t.spec.offsets_group = "g1-offsets";
    s[0] = source_open(&t.spec, err, sizeof err);
    REQUIRE(s[0] != NULL);
    CHECK(gpull(s, 1, &t.spec, seen, who, N, 40, 20000, got, &bad) == 40);
    CHECK(gpull(s, 1, &t.spec, seen, who, N, 1, 300, got, &bad) == 0);
    for (int i = 280; i < 320; i++) CHECK(seen[i] == 3);
    source_close(s[0]);
    kafka_broker_stop(kb);
}

/* The status of s's next call (rows counted into *rows). */
static SourceStatus gstep(Source *s, const ConnSpec *spec, int *rows)
{
    Batch   b;
    int64_t wait;
    if (batch_init(&b, spec->ncols, spec->col_types, 0) != 0) return SOURCE_ERROR;
    SourceStatus st = source_next(s, &b, gmono_ms() * 1000, &wait);
    if (st == SOURCE_BATCH) *rows += b.nrows;
    if (st == SOURCE_ERROR) printf("    %s\n", source_error(s));
    batch_destroy(&b);
    return st;
}

/* A bounded group read: the members read the partitions' ends as of their
 * start, and a member whose partitions are done ends only once the group's
 * committed offsets cover every partition — after checkpoints. */
TEST(kafka_group_bounded)
{
    char         err[512];
    KafkaBroker *kb = kafka_broker_start(1, "bev", GN, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = kafka_broker_bootstrap(kb);
    REQUIRE(kt_fill(bs, "bev", 0, 120, GN - 1) == 0);   /* partition GN-1 stays empty */
    TSpec t;
    gspec(&t, bs, "bev", "gb");
    tspec_opt(&t, "scan.bounded.mode", "latest-offset");
    Source *s[2];
    s[0] = source_open(&t.spec, err, sizeof err);
    s[1] = source_open(&t.spec, err, sizeof err);
    REQUIRE(s[0] != NULL && s[1] != NULL);
    int rows = 0, ended[2] = {0, 0}, epoch = 0;
    int64_t t0 = gmono_ms();
    /* read until every row is in; no member ends before its offsets are committed */
    while (rows < 120 && gmono_ms() - t0 < 20000) {
        for (int k = 0; k < 2; k++) {
            SourceStatus st = gstep(s[k], &t.spec, &rows);
            REQUIRE(st != SOURCE_ERROR);
            CHECK(st != SOURCE_END);
        }
        usleep(2000);
    }
    CHECK_EQ_INT(rows, 120);
    REQUIRE(kt_fill(bs, "bev", 120, 160, GN - 1) == 0);   /* after the start: not part of the read */
    for (int i = 0; i < 100; i++)
        for (int k = 0; k < 2; k++) CHECK(gstep(s[k], &t.spec, &rows) != SOURCE_END);
    /* a checkpoint of both members, committed: the group's read is over */
    t0 = gmono_ms();
    while ((!ended[0] || !ended[1]) && gmono_ms() - t0 < 20000) {
        epoch++;
        for (int k = 0; k < 2; k++) {
            if (ended[k]) continue;
            source_checkpoint(s[k], NULL, 0);
            source_barrier(s[k], epoch);
            source_committed(s[k], epoch);
        }
        for (int i = 0; i < 20; i++)
            for (int k = 0; k < 2; k++) {
                if (ended[k]) continue;
                SourceStatus st = gstep(s[k], &t.spec, &rows);
                REQUIRE(st != SOURCE_ERROR);
                if (st == SOURCE_END) ended[k] = 1;
            }
        usleep(20000);
    }
    CHECK(ended[0] && ended[1]);
    CHECK_EQ_INT(rows, 120);   /* the 40 written after the start were not read */
    source_close(s[0]);
    source_close(s[1]);
    kafka_broker_stop(kb);
}

/* The start of the held-revocation tests: topic `topic` with 200 rows (50
 * per partition), one member of `group` with offsets group `offs` that has
 * read them all and committed checkpoint 1 (50 per partition; the commit
 * is served by later polls). The member, or NULL. */
static Source *gheld_first(const char *bs, const char *topic, const char *group, const char *offs, TSpec *t,
                           int *seen, int *who, int nseen, int *got, int *bad)
{
    char err[512];
    if (kt_fill(bs, topic, 0, 200, GN) != 0) return NULL;
    gspec(t, bs, topic, group);
    t->spec.offsets_group = offs;
    Source *s = source_open(&t->spec, err, sizeof err);
    if (!s) return NULL;
    if (gpull(&s, 1, &t->spec, seen, who, nseen, 200, 20000, got, bad) != 200) {
        source_close(s);
        return NULL;
    }
    source_checkpoint(s, NULL, 0);
    source_barrier(s, 1);
    source_committed(s, 1);
    return s;
}

/* ConnSpec.offsets_group: the offsets go to that group (the member group
 * gets none), and a partition a rebalance takes from a live member is held
 * — not read further, still assigned — until the commit of a checkpoint
 * taken after the revocation has written its offset; the member that joined
 * starts there, so no row is read twice or lost. */
TEST(kafka_group_held_handoff)
{
    char         err[512];
    KafkaBroker *kb = kafka_broker_start(1, "hev", GN, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = kafka_broker_bootstrap(kb);
    TSpec       t;
    enum { N = 400 };
    int     seen[N] = {0}, who[N], got[2] = {0, 0}, bad = 0;
    Source *s[2] = {gheld_first(bs, "hev", "gh", "gh-offsets", &t, seen, who, N, got, &bad), NULL};
    REQUIRE(s[0] != NULL);
    int64_t off[GN], t0 = gmono_ms();
    do {   /* (asynchronous: the answers are served by the polls) */
        CHECK(gpull(s, 1, &t.spec, seen, who, N, 1, 100, got, &bad) == 0);
        REQUIRE(gcommitted(bs, "gh-offsets", "hev", off) == 0);
    } while ((off[0] != 50 || off[1] != 50 || off[2] != 50 || off[3] != 50) && gmono_ms() - t0 < 5000);
    for (int p = 0; p < GN; p++) CHECK(off[p] == 50);
    REQUIRE(gcommitted(bs, "gh", "hev", off) == 0);
    for (int p = 0; p < GN; p++) CHECK(off[p] == -1);   /* the member group has none */

    /* 10 more per partition, read but not committed; then a second member */
    REQUIRE(kt_fill(bs, "hev", 200, 240, GN) == 0);
    CHECK(gpull(s, 1, &t.spec, seen, who, N, 40, 10000, got, &bad) == 40);
    s[1] = source_open(&t.spec, err, sizeof err);
    REQUIRE(s[1] != NULL);
    t0 = gmono_ms();
    while (source_group_revoking(s[0]) == 0 && gmono_ms() - t0 < 20000)
        CHECK(gpull(s, 2, &t.spec, seen, who, N, 1, 100, got, &bad) == 0);
    int held = source_group_revoking(s[0]);
    CHECK(held > 0 && held < GN);
    /* held: more rows come, but no row of a held partition is read (while
     * the revocation waits, librdkafka fetches nothing for the member), and
     * the new member has no partition yet */
    REQUIRE(kt_fill(bs, "hev", 240, 280, GN) == 0);
    CHECK(gpull(s, 2, &t.spec, seen, who, N, 40, 1000, got, &bad) >= 0);
    CHECK_EQ_INT(got[1], 0);
    CHECK_EQ_INT(source_group_revoking(s[0]), held);
    int moved[GN] = {0}, nmoved = 0;
    for (int p = 0; p < GN; p++) {
        CHECK(source_partition_owned(s[1], p) == 0);
        CHECK(source_partition_owned(s[0], p) == 1);   /* held ones too */
    }

    /* a checkpoint after the revocation commits: the held partitions go,
     * their offsets written first */
    source_checkpoint(s[0], NULL, 0);
    source_barrier(s[0], 2);
    source_committed(s[0], 2);
    CHECK_EQ_INT(source_group_revoking(s[0]), 0);
    REQUIRE(gcommitted(bs, "gh-offsets", "hev", off) == 0);
    for (int p = 0; p < GN; p++) {
        moved[p] = !source_partition_owned(s[0], p);
        nmoved += moved[p];
        for (int i = 240 + p; i < 280; i += GN) CHECK(!moved[p] || seen[i] == 0);   /* not read while held */
        CHECK(off[p] >= (moved[p] ? 60 : 50));
        if (moved[p]) CHECK(off[p] == 60);
    }
    CHECK_EQ_INT(nmoved, held);
    /* the new member gets them and reads on from 60: every row once */
    int64_t t1 = gmono_ms();
    int     left = 0;
    do {
        CHECK(gpull(s, 2, &t.spec, seen, who, N, 1, 100, got, &bad) >= 0);
        left = 0;
        for (int i = 240; i < 280; i++) left += seen[i] == 0;
    } while (left > 0 && gmono_ms() - t1 < 20000);
    CHECK(gpull(s, 2, &t.spec, seen, who, N, 1, 300, got, &bad) == 0);
    for (int i = 0; i < 280; i++) CHECK(seen[i] == 1);
    for (int i = 240; i < 280; i++) CHECK(who[i] == (moved[i % GN] ? 1 : 0));
    for (int p = 0; p < GN; p++) CHECK(source_partition_owned(s[1], p) == moved[p]);
    CHECK_EQ_INT(bad, 0);
    source_close(s[0]);
    source_close(s[1]);
    kafka_broker_stop(kb);
}

/* A member closed while it holds partitions (a stop with no checkpoint
 * after the revocation) gives them up at once: the close does not wait for
 * a checkpoint, and the other member gets every partition, at the offsets
 * last committed (what the closed one read after them is read again). */
TEST(kafka_group_held_close)
{
    char         err[512];
    KafkaBroker *kb = kafka_broker_start(1, "hcv", GN, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = kafka_broker_bootstrap(kb);
    TSpec       t;
    enum { N = 400 };
    int     seen[N] = {0}, who[N], got[2] = {0, 0}, bad = 0;
    Source *s[2] = {gheld_first(bs, "hcv", "gc", "gc-offsets", &t, seen, who, N, got, &bad), NULL};
    REQUIRE(s[0] != NULL);
    s[1] = source_open(&t.spec, err, sizeof err);
    REQUIRE(s[1] != NULL);
    int64_t t0 = gmono_ms();
    while (source_group_revoking(s[0]) == 0 && gmono_ms() - t0 < 20000)
        CHECK(gpull(s, 2, &t.spec, seen, who, N, 1, 100, got, &bad) == 0);
    REQUIRE(source_group_revoking(s[0]) > 0);
    t0 = gmono_ms();
    source_close(s[0]);
    CHECK(gmono_ms() - t0 < 10000);
    /* the other member reads on from 50 in every partition */
    REQUIRE(kt_fill(bs, "hcv", 200, 240, GN) == 0);
    CHECK(gpull(s + 1, 1, &t.spec, seen, who, N, 40, 20000, got + 1, &bad) == 40);
    for (int p = 0; p < GN; p++) CHECK(source_partition_owned(s[1], p) == 1);
    for (int i = 0; i < 240; i++) CHECK(seen[i] == 1);
    CHECK_EQ_INT(bad, 0);
    source_close(s[1]);
    kafka_broker_stop(kb);
}

/* Commit offset off of every partition to group (a standalone consumer, as
 * the offsets group is written). 0 or -1. */
static int gcommit(const char *bs, const char *group, const char *topic, int64_t off)
{
    rd_kafka_t *rk = kt_group_client(bs, group);
    if (!rk) return -1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(GN);
    for (int p = 0; p < GN; p++) rd_kafka_topic_partition_list_add(l, topic, p)->offset = off;
    int rc = rd_kafka_commit(rk, l, 0) ? -1 : 0;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return rc;
}

/* The offsets group does not answer at an assignment: the partitions wait
 * (paused) and are asked for again, and start at its offsets once it
 * answers — not from the beginning (which would read again what the
 * group's earlier checkpoints made durable). */
TEST(kafka_group_offsets_unanswered)
{
    char         err[512];
    KafkaBroker *kb = kafka_broker_start(1, "uev", GN, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = kafka_broker_bootstrap(kb);
    REQUIRE(kt_fill(bs, "uev", 0, 200, GN) == 0);   /* 50 per partition */
    REQUIRE(gcommit(bs, "gu-offsets", "uev", 20) == 0);
    TSpec t;
    gspec(&t, bs, "uev", "gu");
    t.spec.offsets_group = "gu-offsets";
    enum { N = 200 };
    int     seen[N] = {0}, who[N], got[1] = {0}, bad = 0;
    Source *s[1] = {source_open(&t.spec, err, sizeof err)};
    REQUIRE(s[0] != NULL);
    kafka_source_test_fail_offsets(s[0], 3);   /* at the assignment, then twice more */
    CHECK(gpull(s, 1, &t.spec, seen, who, N, 120, 20000, got, &bad) == 120);
    CHECK(gpull(s, 1, &t.spec, seen, who, N, 1, 300, got, &bad) == 0);
    for (int i = 0; i < N; i++) CHECK(seen[i] == (i / GN >= 20 ? 1 : 0));
    CHECK_EQ_INT(bad, 0);
    source_close(s[0]);
    kafka_broker_stop(kb);
}

/* A cooperative-sticky member that joined its group but never got an
 * assignment is closed and kept, not destroyed (librdkafka before 2.3
 * asserts in the destroy: issue 4312); one that got an assignment is
 * destroyed. */
static rd_kafka_t *gcoop(const char *bs, const char *group, const char *topic)
{
    rd_kafka_t *rk = kt_group_consumer(bs, group, "cooperative-sticky");
    if (!rk) return NULL;
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    return rk;
}

static int gjoined(rd_kafka_t *rk)
{
    char *m = rd_kafka_memberid(rk);
    int   j = m && m[0];
    if (m) rd_kafka_mem_free(rk, m);
    return j;
}

TEST(kafka_consumer_end_unassigned)
{
    char         err[512];
    KafkaBroker *kb = kafka_broker_start(1, "kev", 2, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = kafka_broker_bootstrap(kb);
    int         kept = kafka_consumer_kept();
    /* joined, no assignment served (rebalance events are not polled) */
    rd_kafka_t *a = gcoop(bs, "gk", "kev");
    REQUIRE(a != NULL);
    for (int64_t t0 = gmono_ms(); !gjoined(a) && gmono_ms() - t0 < 15000;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(a, 50);
        if (m) rd_kafka_message_destroy(m);
    }
    CHECK(gjoined(a));
    kafka_consumer_end(a, 2000, 0);
    CHECK_EQ_INT(kafka_consumer_kept(), kept + 1);
    /* assigned: destroyed */
    rd_kafka_t *b = gcoop(bs, "gk2", "kev");
    REQUIRE(b != NULL);
    int owns = 0;
    for (int64_t t0 = gmono_ms(); !owns && gmono_ms() - t0 < 15000;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(b, 50);
        if (m) rd_kafka_message_destroy(m);
        rd_kafka_topic_partition_list_t *l = NULL;
        if (rd_kafka_assignment(b, &l) == RD_KAFKA_RESP_ERR_NO_ERROR && l) owns = l->cnt > 0;
        if (l) rd_kafka_topic_partition_list_destroy(l);
    }
    CHECK(owns);
    kafka_consumer_end(b, 2000, 1);
    CHECK_EQ_INT(kafka_consumer_kept(), kept + 1);
    kafka_broker_stop(kb);
}
