/*
 * test_conn_nexmark.c — the `nexmark` generator: the same rows at any
 * parallelism and partition count (all three tables and the union), the
 * 1 : 3 : 46 proportions in every block of 50 events, ids that refer only to
 * persons and auctions generated before, hot ratios and the price
 * distribution, event time from the documented base, rate limiting against a
 * fake clock, string shapes, the union's NULLs, column subsets, errors.
 */
#include "tests/unit/test_conn_util.h"

#include <math.h>

#include "exec/timefmt.h"

#define BID_COLS                                                                              \
    "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, "             \
    "date_time TIMESTAMP, extra VARCHAR"
#define AUCTION_COLS                                                                          \
    "id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT, " \
    "date_time TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra VARCHAR"
#define PERSON_COLS                                                                           \
    "id BIGINT, name VARCHAR, email_address VARCHAR, credit_card VARCHAR, city VARCHAR, "     \
    "state VARCHAR, date_time TIMESTAMP, extra VARCHAR"
#define ALL_COLS                                                                              \
    "event_type BIGINT, date_time TIMESTAMP, person_id BIGINT, person_name VARCHAR, "         \
    "person_email_address VARCHAR, person_credit_card VARCHAR, person_city VARCHAR, "         \
    "person_state VARCHAR, person_date_time TIMESTAMP, person_extra VARCHAR, "                \
    "auction_id BIGINT, auction_item_name VARCHAR, auction_description VARCHAR, "             \
    "auction_initial_bid BIGINT, auction_reserve BIGINT, auction_date_time TIMESTAMP, "       \
    "auction_expires TIMESTAMP, auction_seller BIGINT, auction_category BIGINT, "             \
    "auction_extra VARCHAR, bid_auction BIGINT, bid_bidder BIGINT, bid_price BIGINT, "        \
    "bid_channel VARCHAR, bid_url VARCHAR, bid_date_time TIMESTAMP, bid_extra VARCHAR"

static int64_t tsv(const char *s)
{
    int64_t v = 0;
    ts_parse(s, strlen(s), &v);
    return v;
}

static SourceStatus pull(Source *s, Batch *b, int64_t now, int64_t *wait)
{
    batch_reset(b);
    return source_next(s, b, now, wait);
}

/* A copy of t whose pointers refer to the copy. */
static void tspec_copy(TSpec *u, const TSpec *t)
{
    *u = *t;
    u->spec.opt_keys = u->keys;
    u->spec.opt_values = u->vals;
    u->spec.col_names = u->names;
    u->spec.col_types = u->types;
    u->spec.col_index = u->index;
    for (int c = 0; c < u->spec.ncols; c++) u->names[c] = u->text + (t->names[c] - t->text);
}

static void check_parallel(const char *table, const char *cols, const char *count)
{
    TSpec t;
    tspec_init(&t, "nexmark", NULL, cols, "table", table, "count", count, "seed", "5", NULL);
    Rows one = {0};
    if (tu_read_all(&t, 0, 1, &one) != 0) {
        unit_fail(__FILE__, __LINE__, "table %s: N=1 failed", table);
        return;
    }
    static const struct {
        int         n;
        const char *parts;
    } cfg[] = {{2, NULL}, {3, NULL}, {3, "50"}, {2, "5"}, {4, "7"}, {1, "100"}, {3, "2"}};
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        TSpec u;
        tspec_copy(&u, &t);
        if (cfg[c].parts) tspec_opt(&u, "partitions", cfg[c].parts);
        Rows all = {0}, ref = {0};
        for (int task = 0; task < cfg[c].n; task++) CHECK(tu_read_all(&u, task, cfg[c].n, &all) == 0);
        for (int i = 0; i < one.n; i++) rows_add(&ref, one.r[i]);
        if (!rows_same_multiset(&ref, &all))
            unit_fail(__FILE__, __LINE__, "table %s: N=%d partitions=%s differs from N=1", table,
                      cfg[c].n, cfg[c].parts ? cfg[c].parts : "-");
        rows_free(&all);
        rows_free(&ref);
    }
    rows_free(&one);
}

TEST(conn_nexmark_same_rows_at_any_parallelism)
{
    check_parallel("all", ALL_COLS, "6000");
    check_parallel("bid", BID_COLS, "6000");
    check_parallel("auction", AUCTION_COLS, "6000");
    check_parallel("person", PERSON_COLS, "6000");
}

TEST(conn_nexmark_deterministic_and_seeded)
{
    TSpec a, b;
    tspec_init(&a, "nexmark", NULL, ALL_COLS, "count", "500", "seed", "1", NULL);
    tspec_init(&b, "nexmark", NULL, ALL_COLS, "count", "500", "seed", "2", NULL);
    Rows ra = {0}, rb = {0}, ra2 = {0};
    REQUIRE(tu_read_all(&a, 0, 1, &ra) == 0);
    REQUIRE(tu_read_all(&b, 0, 1, &rb) == 0);
    REQUIRE(tu_read_all(&a, 0, 1, &ra2) == 0);
    REQUIRE(ra.n == 500 && rb.n == 500 && ra2.n == 500);
    int differ = 0, same_again = 0;
    for (int i = 0; i < 500; i++) {
        differ += strcmp(ra.r[i], rb.r[i]) != 0;
        same_again += strcmp(ra.r[i], ra2.r[i]) == 0;
    }
    CHECK(differ > 450);
    CHECK_EQ_INT(same_again, 500);
    rows_free(&ra);
    rows_free(&rb);
    rows_free(&ra2);
}

/* Drain a spec's task 0 of 1 with an unlimited clock, calling fn per batch. */
typedef void (*BatchFn)(const Batch *b, void *ctx);
static int64_t drain_batches(TSpec *t, BatchFn fn, void *ctx)
{
    char  err[512];
    Batch b;
    if (batch_init(&b, t->spec.ncols, t->types, 0) != 0) return -1;
    Source *s = source_open(&t->spec, err, sizeof err);
    if (!s) {
        printf("    %s\n", err);
        batch_destroy(&b);
        return -1;
    }
    int64_t      wait, n = 0;
    SourceStatus st;
    while ((st = pull(s, &b, 0, &wait)) == SOURCE_BATCH) {
        fn(&b, ctx);
        n += b.nrows;
    }
    if (st != SOURCE_END) n = -1;
    source_close(s);
    batch_destroy(&b);
    return n;
}

typedef struct TypeSeq {
    int64_t n, bad_block, types[3];
    int64_t block[50];
    int64_t k;
    int64_t base;
    int     bad_time;
} TypeSeq;

static void on_types(const Batch *b, void *ctx)
{
    TypeSeq *c = ctx;
    for (int r = 0; r < b->nrows; r++, c->k++) {
        int64_t t = vector_i64(&b->cols[0])[r];
        c->types[t]++;
        c->block[c->k % 50] = t;
        if (c->k % 50 == 49) {
            int p = 0, a = 0, bid = 0;
            for (int i = 0; i < 50; i++) p += c->block[i] == 0, a += c->block[i] == 1, bid += c->block[i] == 2;
            if (p != 1 || a != 3 || bid != 46) c->bad_block++;
        }
        /* rate 1000: event k at base + k ms */
        if (vector_i64(&b->cols[1])[r] != c->base + c->k * 1000) c->bad_time++;
    }
}

TEST(conn_nexmark_proportions_per_block_and_time)
{
    TSpec t;
    tspec_init(&t, "nexmark", NULL, "event_type BIGINT, date_time TIMESTAMP", "count", "10000",
               "rate", "1000", NULL);
    TypeSeq c;
    memset(&c, 0, sizeof c);
    c.base = tsv("2015-07-15 00:00:00");
    /* rate-limited source: drain with a clock far ahead */
    char  err[256];
    Batch b;
    REQUIRE(batch_init(&b, 2, t.types, 0) == 0);
    Source *s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    int64_t wait;
    pull(s, &b, 0, &wait);   /* t0 = 0: releases event 0 */
    on_types(&b, &c);
    while (pull(s, &b, INT64_C(1) << 40, &wait) == SOURCE_BATCH) on_types(&b, &c);
    source_close(s);
    batch_destroy(&b);
    CHECK_EQ_INT(c.k, 10000);
    CHECK_EQ_INT(c.bad_block, 0);
    CHECK_EQ_INT(c.types[0], 200);
    CHECK_EQ_INT(c.types[1], 600);
    CHECK_EQ_INT(c.types[2], 9200);
    CHECK_EQ_INT(c.bad_time, 0);

    /* the single-type tables: count bounds events, not rows */
    static const struct {
        const char *table, *cols;
        int64_t     rows;
    } per[] = {{"person", "id BIGINT", 200}, {"auction", "id BIGINT", 600}, {"bid", "price BIGINT", 9200}};
    for (int i = 0; i < 3; i++) {
        TSpec u;
        tspec_init(&u, "nexmark", NULL, per[i].cols, "table", per[i].table, "count", "10000", NULL);
        Rows rows = {0};
        CHECK(tu_read_all(&u, 0, 1, &rows) == 0);
        CHECK_EQ_INT(rows.n, per[i].rows);
        rows_free(&rows);
    }
}

typedef struct Refs {
    int64_t k, next_person, next_auction, bad_person_id, bad_auction_id;
    int64_t bad_seller, bad_bidder, bad_auction, bids, hot_auction, hot_bidder, auctions, hot_seller;
    int64_t price_low, price_bad, reserve_bad, expires_bad, cat_bad, null_bad, prices;
    double  extra_len;
    int64_t extra_n;
} Refs;

/* columns: 0 event_type, 1 person_id, 2 auction_id, 3 auction_seller, 4 bid_auction,
 * 5 bid_bidder, 6 bid_price, 7 auction_initial_bid, 8 auction_reserve, 9 auction_date_time,
 * 10 auction_expires, 11 auction_category, 12 bid_extra */
static void on_refs(const Batch *b, void *ctx)
{
    Refs *c = ctx;
    for (int r = 0; r < b->nrows; r++, c->k++) {
        int64_t t = vector_i64(&b->cols[0])[r];
        int64_t v[12];
        int     nulls = 0;
        for (int i = 1; i < 12; i++) {
            v[i] = vector_i64(&b->cols[i])[r];
            nulls += vector_is_null(&b->cols[i], r);
        }
        int bn = vector_is_null(&b->cols[12], r);
        if (t == 0) {
            if (v[1] != 1000 + c->next_person) c->bad_person_id++;
            c->next_person++;
            if (nulls != 10 || !bn || vector_is_null(&b->cols[1], r)) c->null_bad++;
        } else if (t == 1) {
            if (v[2] != 1000 + c->next_auction) c->bad_auction_id++;
            c->next_auction++;
            c->auctions++;
            if (v[3] < 1000 || v[3] >= 1000 + c->next_person) c->bad_seller++;
            if (v[3] == 1000 + (c->next_person - 1) / 100 * 100) c->hot_seller++;
            if (v[8] < v[7] + 100) c->reserve_bad++;
            if (v[10] <= v[9]) c->expires_bad++;
            if (v[11] < 10 || v[11] > 14) c->cat_bad++;
            if (nulls != 11 - 7 || !bn) c->null_bad++;
        } else {
            c->bids++;
            if (v[4] < 1000 || v[4] >= 1000 + c->next_auction) c->bad_auction++;
            if (v[4] < 1000 + c->next_auction - 101 && v[4] != 1000 + (c->next_auction - 1) / 100 * 100)
                c->bad_auction++;   /* neither recent nor hot */
            if (v[4] == 1000 + (c->next_auction - 1) / 100 * 100) c->hot_auction++;
            if (v[5] < 1000 || v[5] >= 1000 + c->next_person) c->bad_bidder++;
            if (v[5] == 1000 + (c->next_person - 1) / 100 * 100 + 1) c->hot_bidder++;
            if (v[6] < 100 || v[6] > 100000000) c->price_bad++;
            if (v[6] < 100000) c->price_low++;
            c->prices++;
            Str e = vector_str(&b->cols[12])[r];
            c->extra_len += e.len;
            c->extra_n++;
            if (nulls != 11 - 3 || bn) c->null_bad++;
        }
    }
}

static void check_share(int64_t k, int64_t n, double p, const char *what, int line)
{
    double got = (double)k / (double)n;
    double tol = 5 * sqrt(p * (1 - p) / (double)n) + 1e-9;
    if (fabs(got - p) > tol)
        unit_fail(__FILE__, line, "%s: share %.5f, expected %.5f ± %.5f", what, got, p, tol);
}

TEST(conn_nexmark_ids_refer_to_earlier_events)
{
    TSpec t;
    tspec_init(&t, "nexmark", NULL,
               "event_type BIGINT, person_id BIGINT, auction_id BIGINT, auction_seller BIGINT, "
               "bid_auction BIGINT, bid_bidder BIGINT, bid_price BIGINT, auction_initial_bid BIGINT, "
               "auction_reserve BIGINT, auction_date_time TIMESTAMP, auction_expires TIMESTAMP, "
               "auction_category BIGINT, bid_extra VARCHAR",
               "count", "500000", "seed", "9", NULL);
    Refs c;
    memset(&c, 0, sizeof c);
    REQUIRE(drain_batches(&t, on_refs, &c) == 500000);
    CHECK_EQ_INT(c.next_person, 10000);
    CHECK_EQ_INT(c.next_auction, 30000);
    CHECK_EQ_INT(c.bad_person_id, 0);
    CHECK_EQ_INT(c.bad_auction_id, 0);
    CHECK_EQ_INT(c.bad_seller, 0);
    CHECK_EQ_INT(c.bad_bidder, 0);
    CHECK_EQ_INT(c.bad_auction, 0);
    CHECK_EQ_INT(c.reserve_bad, 0);
    CHECK_EQ_INT(c.expires_bad, 0);
    CHECK_EQ_INT(c.cat_bad, 0);
    CHECK_EQ_INT(c.null_bad, 0);
    CHECK_EQ_INT(c.price_bad, 0);
    /* hot auction 1/2 (+ the uniform pick landing on it), hot bidder 3/4, hot seller 3/4 */
    double ha = (double)c.hot_auction / (double)c.bids;
    CHECK(ha > 0.5 && ha < 0.52);
    double hb = (double)c.hot_bidder / (double)c.bids;
    CHECK(hb > 0.73 && hb < 0.77);   /* the last 2% of each 100-person batch fall back */
    double hs = (double)c.hot_seller / (double)c.auctions;
    CHECK(hs > 0.74 && hs < 0.77);
    /* log-uniform price 10^(2..8): half below 10^5 */
    check_share(c.price_low, c.prices, 0.5, "price < 1000.00", __LINE__);
    /* bid extra: 68 ± 14 bytes, on average 67.5 */
    CHECK(fabs(c.extra_len / (double)c.extra_n - 67.5) < 0.5);
}

TEST(conn_nexmark_rate_limit_fake_clock)
{
    TSpec t;
    tspec_init(&t, "nexmark", NULL, "event_type BIGINT, date_time TIMESTAMP", "rate", "1000", NULL);
    char    err[256];
    Batch   b;
    int64_t wait;
    REQUIRE(batch_init(&b, 2, t.types, 0) == 0);
    Source *s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    int64_t t0 = 7000000;
    CHECK_EQ_INT(pull(s, &b, t0, &wait), SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 1);
    CHECK_EQ_INT(vector_i64(&b.cols[0])[0], 0);   /* event 0 is a person */
    CHECK_EQ_INT(pull(s, &b, t0, &wait), SOURCE_IDLE);
    CHECK_EQ_INT(wait, 1000);
    CHECK_EQ_INT(pull(s, &b, t0 + 300, &wait), SOURCE_IDLE);
    CHECK_EQ_INT(wait, 700);
    CHECK_EQ_INT(pull(s, &b, t0 + 10000, &wait), SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 10);
    CHECK_EQ_INT(vector_i64(&b.cols[1])[9], tsv("2015-07-15 00:00:00.010"));
    int64_t total = 11;
    while (pull(s, &b, t0 + 2000000, &wait) == SOURCE_BATCH) total += b.nrows;
    CHECK_EQ_INT(total, 2001);
    source_close(s);

    /* table = bid: the person and auctions of a block are skipped, not waited for */
    TSpec u;
    tspec_init(&u, "nexmark", NULL, "price BIGINT", "rate", "1000", "table", "bid", NULL);
    s = source_open(&u.spec, err, sizeof err);
    REQUIRE(s != NULL);
    Batch bb;
    REQUIRE(batch_init(&bb, 1, u.types, 0) == 0);
    CHECK_EQ_INT(pull(s, &bb, t0, &wait), SOURCE_IDLE);   /* event 0 is the person */
    CHECK_EQ_INT(wait, 4000);                              /* the first bid is event 4 */
    CHECK_EQ_INT(pull(s, &bb, t0 + 4000, &wait), SOURCE_BATCH);
    CHECK_EQ_INT(bb.nrows, 1);
    total = 1;
    while (pull(s, &bb, t0 + 100000, &wait) == SOURCE_BATCH) total += bb.nrows;
    CHECK_EQ_INT(total, 92);   /* the bids among events 4..100: 46 of block 0, 46 of block 1 */
    source_close(s);
    batch_destroy(&bb);

    /* two tasks share the rate: 10 ms → 11 events between them */
    int64_t got = 0;
    for (int task = 0; task < 2; task++) {
        t.spec.task = task;
        t.spec.ntasks = 2;
        s = source_open(&t.spec, err, sizeof err);
        REQUIRE(s != NULL);
        SourceStatus st;
        pull(s, &b, t0, &wait);
        got += b.nrows;
        while ((st = pull(s, &b, t0 + 10000, &wait)) == SOURCE_BATCH) got += b.nrows;
        CHECK_EQ_INT(st, SOURCE_IDLE);
        source_close(s);
    }
    CHECK_EQ_INT(got, 11);
    batch_destroy(&b);
}

typedef struct Shapes {
    int64_t persons, bad_email, bad_cc, bad_name, bad_city, auctions, bad_item, bad_desc, bids,
        bad_channel, hot_channel;
} Shapes;

static int only(Str s, const char *set)
{
    for (uint32_t i = 0; i < s.len; i++)
        if (!strchr(set, s.ptr[i])) return 0;
    return 1;
}

#define LOWER "abcdefghijklmnopqrstuvwxyz"

static void on_person(const Batch *b, void *ctx)
{
    Shapes *c = ctx;
    for (int r = 0; r < b->nrows; r++) {
        c->persons++;
        Str name = vector_str(&b->cols[0])[r], email = vector_str(&b->cols[1])[r];
        Str cc = vector_str(&b->cols[2])[r], city = vector_str(&b->cols[3])[r];
        Str st = vector_str(&b->cols[4])[r];
        const char *sp = memchr(name.ptr, ' ', name.len);
        if (!sp || name.len < 8) c->bad_name++;
        const char *at = memchr(email.ptr, '@', email.len);
        if (!at || email.len < 11 || email.len > 15 || memcmp(email.ptr + email.len - 4, ".com", 4) != 0 ||
            at - email.ptr < 3 || at - email.ptr > 6)
            c->bad_email++;
        if (cc.len != 19 || cc.ptr[4] != ' ' || cc.ptr[9] != ' ' || cc.ptr[14] != ' ' ||
            !only(cc, "0123456789 "))
            c->bad_cc++;
        if (city.len == 0 || st.len != 2) c->bad_city++;
    }
}

static void on_auction(const Batch *b, void *ctx)
{
    Shapes *c = ctx;
    for (int r = 0; r < b->nrows; r++) {
        c->auctions++;
        Str item = vector_str(&b->cols[0])[r], desc = vector_str(&b->cols[1])[r];
        if (item.len < 3 || item.len > 19 || !only(item, LOWER " ")) c->bad_item++;
        if (desc.len < 3 || desc.len > 99 || !only(desc, LOWER " ")) c->bad_desc++;
    }
}

static void on_bid(const Batch *b, void *ctx)
{
    Shapes *c = ctx;
    for (int r = 0; r < b->nrows; r++) {
        c->bids++;
        Str ch = vector_str(&b->cols[0])[r], url = vector_str(&b->cols[1])[r];
        int hot = 0;
        static const char *const hots[] = {"Google", "Facebook", "Baidu", "Apple"};
        for (int i = 0; i < 4; i++) hot |= str_eq(ch, str_from_cstr(hots[i]));
        c->hot_channel += hot;
        if (!hot) {
            char buf[64];
            snprintf(buf, sizeof buf, "%.*s", (int)ch.len, ch.ptr);
            int n = -1;
            if (sscanf(buf, "channel-%d", &n) != 1 || n < 0 || n >= 10000) c->bad_channel++;
            char rev[16], want[32];
            int  d = snprintf(rev, sizeof rev, "%d", n);
            for (int i = 0; i < d; i++) want[i] = rev[d - 1 - i];
            want[d] = 0;
            char tail[48];
            snprintf(tail, sizeof tail, "&channel_id=%s", want);
            size_t tl = strlen(tail);
            if (url.len < tl || memcmp(url.ptr + url.len - tl, tail, tl) != 0) c->bad_channel++;
        }
        if (url.len < 24 || memcmp(url.ptr, "https://www.nexmark.com/", 24) != 0) c->bad_channel++;
    }
}

TEST(conn_nexmark_string_shapes)
{
    Shapes c;
    memset(&c, 0, sizeof c);
    TSpec p, a, b;
    tspec_init(&p, "nexmark", NULL,
               "name VARCHAR, email_address VARCHAR, credit_card VARCHAR, city VARCHAR, state VARCHAR",
               "table", "person", "count", "50000", NULL);
    tspec_init(&a, "nexmark", NULL, "item_name VARCHAR, description VARCHAR", "table", "auction",
               "count", "50000", NULL);
    tspec_init(&b, "nexmark", NULL, "channel VARCHAR, url VARCHAR", "table", "bid", "count", "50000",
               NULL);
    CHECK_EQ_INT(drain_batches(&p, on_person, &c), 1000);
    CHECK_EQ_INT(drain_batches(&a, on_auction, &c), 3000);
    CHECK_EQ_INT(drain_batches(&b, on_bid, &c), 46000);
    CHECK_EQ_INT(c.bad_name, 0);
    CHECK_EQ_INT(c.bad_email, 0);
    CHECK_EQ_INT(c.bad_cc, 0);
    CHECK_EQ_INT(c.bad_city, 0);
    CHECK_EQ_INT(c.bad_item, 0);
    CHECK_EQ_INT(c.bad_desc, 0);
    CHECK_EQ_INT(c.bad_channel, 0);
    check_share(c.hot_channel, c.bids, 0.5, "hot channel", __LINE__);
}

/* The union's columns equal the single tables' (same seed, same events). */
TEST(conn_nexmark_union_matches_tables)
{
    static const struct {
        const char *table, *cols, *ucols;
        int         type;
    } m[] = {
        {"bid", BID_COLS,
         "bid_auction BIGINT, bid_bidder BIGINT, bid_price BIGINT, bid_channel VARCHAR, bid_url VARCHAR, "
         "bid_date_time TIMESTAMP, bid_extra VARCHAR",
         2},
        {"auction", AUCTION_COLS,
         "auction_id BIGINT, auction_item_name VARCHAR, auction_description VARCHAR, "
         "auction_initial_bid BIGINT, auction_reserve BIGINT, auction_date_time TIMESTAMP, "
         "auction_expires TIMESTAMP, auction_seller BIGINT, auction_category BIGINT, auction_extra VARCHAR",
         1},
        {"person", PERSON_COLS,
         "person_id BIGINT, person_name VARCHAR, person_email_address VARCHAR, "
         "person_credit_card VARCHAR, person_city VARCHAR, person_state VARCHAR, "
         "person_date_time TIMESTAMP, person_extra VARCHAR",
         0},
    };
    for (int i = 0; i < 3; i++) {
        TSpec t, u;
        tspec_init(&t, "nexmark", NULL, m[i].cols, "table", m[i].table, "count", "3000", "seed", "4", NULL);
        char ucols[1024];
        snprintf(ucols, sizeof ucols, "event_type BIGINT, %s", m[i].ucols);
        tspec_init(&u, "nexmark", NULL, ucols, "count", "3000", "seed", "4", NULL);
        Rows rt = {0}, ru = {0}, sel = {0};
        REQUIRE(tu_read_all(&t, 0, 1, &rt) == 0);
        REQUIRE(tu_read_all(&u, 0, 1, &ru) == 0);
        char prefix[8];
        snprintf(prefix, sizeof prefix, "%d|", m[i].type);
        for (int r = 0; r < ru.n; r++)
            if (strncmp(ru.r[r], prefix, 2) == 0) rows_add(&sel, ru.r[r] + 2);
        if (!rows_same_multiset(&rt, &sel)) unit_fail(__FILE__, __LINE__, "table %s vs all", m[i].table);
        rows_free(&rt);
        rows_free(&ru);
        rows_free(&sel);
    }
}

TEST(conn_nexmark_column_subsets_and_order)
{
    TSpec full, sub;
    tspec_init(&full, "nexmark", NULL, BID_COLS, "table", "bid", "count", "2000", NULL);
    tspec_init(&sub, "nexmark", NULL, "DATE_TIME TIMESTAMP, Price BIGINT, auction BIGINT", "table",
               "bid", "count", "2000", NULL);
    Rows rf = {0}, rs = {0};
    REQUIRE(tu_read_all(&full, 0, 1, &rf) == 0);
    REQUIRE(tu_read_all(&sub, 0, 1, &rs) == 0);
    REQUIRE(rf.n == rs.n && rf.n == 1840);
    int bad = 0;
    for (int i = 0; i < rf.n; i++) {
        /* full: auction|bidder|price|channel|url|date_time|extra */
        char *f[7], *save = NULL, buf[1024], want[512];
        snprintf(buf, sizeof buf, "%s", rf.r[i]);
        int n = 0;
        for (char *p = strtok_r(buf, "|", &save); p && n < 7; p = strtok_r(NULL, "|", &save)) f[n++] = p;
        if (n < 6) {
            bad++;
            continue;
        }
        snprintf(want, sizeof want, "%s|%s|%s", f[5], f[2], f[0]);
        bad += strcmp(want, rs.r[i]) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    rows_free(&rf);
    rows_free(&rs);

    /* no columns at all: rows still counted */
    TSpec none;
    tspec_init(&none, "nexmark", NULL, "", "count", "100", NULL);
    none.spec.ncols = 0;
    char    err[256];
    Source *s = source_open(&none.spec, err, sizeof err);
    REQUIRE(s != NULL);
    Batch   b;
    int64_t wait, total = 0;
    REQUIRE(batch_init(&b, 0, none.types, 0) == 0);
    while (pull(s, &b, 0, &wait) == SOURCE_BATCH) total += b.nrows;
    CHECK_EQ_INT(total, 100);
    source_close(s);
    batch_destroy(&b);
}

static void expect_error(const char *cols, const char *table, const char *key, const char *val,
                         const char *needle, int line)
{
    TSpec t;
    tspec_init(&t, "nexmark", NULL, cols, NULL);
    if (table) tspec_opt(&t, "table", table);
    if (key) tspec_opt(&t, key, val);
    char    err[1024] = "";
    Source *s = source_open(&t.spec, err, sizeof err);
    if (s) {
        unit_fail(__FILE__, line, "opened, expected an error with '%s'", needle);
        source_close(s);
        return;
    }
    if (!strstr(err, needle)) unit_fail(__FILE__, line, "error '%s' lacks '%s'", err, needle);
}

TEST(conn_nexmark_errors)
{
    expect_error("bogus BIGINT", "bid", NULL, NULL, "unknown column 'bogus'", __LINE__);
    expect_error("bid_price BIGINT", "bid", NULL, NULL, "unknown column 'bid_price' for table 'bid'", __LINE__);
    expect_error("price BIGINT", NULL, NULL, NULL, "unknown column 'price' for table 'all'", __LINE__);
    expect_error("price BIGINT", "all", NULL, NULL, "bid_price BIGINT", __LINE__);
    expect_error("id BIGINT", "bid", NULL, NULL, "unknown column 'id'", __LINE__);
    expect_error("price DOUBLE", "bid", NULL, NULL, "column 'price' must be BIGINT, not DOUBLE", __LINE__);
    expect_error("date_time VARCHAR", "person", NULL, NULL, "must be TIMESTAMP", __LINE__);
    expect_error("event_type VARCHAR", NULL, NULL, NULL, "must be BIGINT", __LINE__);
    expect_error("price BIGINT", "bids", NULL, NULL, "option 'table'", __LINE__);
    expect_error("price BIGINT", "bid", "partitions", "0", "partitions", __LINE__);
    expect_error("price BIGINT", "bid", "rate", "fast", "rate", __LINE__);
    expect_error("price BIGINT", "bid", "count", "-1", "count", __LINE__);
    expect_error("price BIGINT", "bid", "seed", "x", "seed", __LINE__);
}
