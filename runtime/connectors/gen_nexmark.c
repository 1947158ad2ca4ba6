/*
 * gen_nexmark.c — the `nexmark` source: the event generator of the Nexmark
 * benchmark (an online auction: people register, open auctions, bid), after
 * the rules of the Apache Beam / Flink Nexmark generator, reimplemented as a
 * deterministic, counter-based, rate-limited generator in the manner of
 * gen_logs.c.
 *
 * Events
 * ------
 * Events are numbered k = 0, 1, 2, … and every field of event k is a pure
 * function of (seed, rate, k): conn_rand(key(seed, field), k). No stateful
 * PRNG, no wall clock, no dependence on the task count.
 *
 *   type     k mod 50: 0 → person, 1..3 → auction, 4..49 → bid
 *            (the standard proportions 1 : 3 : 46 in every block of 50).
 *   time     BASE + floor(k * 1e6 / eps) µs, BASE = 2015-07-15 00:00:00 UTC
 *            (Beam's NexmarkUtils base time), eps = `rate` when set, else
 *            10000 (Beam's default event rate). Event time never goes back.
 *   ids      person k/50 + 1000 (the person of block k/50); auction
 *            last_auction(k) + 1000, where the auctions of block e are
 *            3e, 3e+1, 3e+2 (base 0) at offsets 1, 2, 3 of the block.
 *
 * References from auctions (seller) and bids (auction, bidder) only name
 * persons and auctions generated before (a smaller k):
 *
 *   seller   hot with probability 3/4: the first person of the current batch
 *            of 100 persons ((last/100)*100); else a uniform pick among the
 *            last 1000 persons ("active people").
 *   bidder   hot with probability 3/4: the second person of the current
 *            batch of 100 (so hot bidders and hot sellers differ) — or the
 *            last person while that second one does not exist yet; else a
 *            uniform pick among the last 1000 persons.
 *   auction  hot with probability 1/2: the first auction of the current
 *            batch of 100; else a uniform pick among the last 101 auctions
 *            (the 100 "in flight" and the newest).
 *
 * Beam lets a random pick land up to 10 ids in the future (PERSON_ID_LEAD,
 * AUCTION_ID_LEAD); we do not, so joins of q3/q8 style always find their
 * partner and a test can check it.
 *
 *   price    round(10^(6u) * 100) for uniform u in [0, 1): 100 … 10^8 (cents),
 *            log-uniform. initial_bid is one draw; reserve = initial_bid + one.
 *   expires  date_time + 1 ms + uniform [0, 2H) where H is the event time
 *            it takes to generate the next 100 auctions (1666 events).
 *   category 10 … 14.
 *   strings  names from 11 first × 9 last names, cities and states from small
 *            tables (as Beam); item_name 3–19 and description 3–99 random
 *            lower-case letters and spaces; extra pads each event to an average
 *            size (person 200, auction 500, bid 100 bytes) ± 20 %. Random
 *            text is a reference into a 16 KiB pool built at open from the
 *            seed (a random offset, a random length), so it costs no copy.
 *            email ("abc@defg.com") and credit_card ("dddd dddd dddd dddd")
 *            are formatted into the batch arena (persons are 2 % of events).
 *   channel  with probability 1/2 one of Google, Facebook, Baidu, Apple with
 *            its fixed url; else channel-N, N uniform in 0..9999, with a url
 *            per channel built at open (as Flink's Nexmark).
 *
 * Streams
 * -------
 * `table` = person | auction | bid: the events of that type with their own
 * column names; `all` (default): one stream of every event with event_type
 * (0 person, 1 auction, 2 bid), date_time (of any event) and the columns of
 * the three types prefixed person_ / auction_ / bid_ — NULL on the events of
 * the other types. Columns are chosen by name, any subset, any order.
 *
 * Partitions, tasks, rate: exactly as the logs generator. Event k belongs to
 * partition k mod P; task t of N reads the partitions p with p mod N == t
 * (and, for a single-type table, that hold events of that type). `count`
 * bounds the event numbers (k < count), whatever the table: table = 'bid'
 * with count = 50000 yields 46000 bids. With `rate`, event k is released at
 * t0 + floor(k * 1e6 / rate) µs of the runtime clock (t0 = first call).
 */
#include "runtime/connectors/conn_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec/timefmt.h"
#include "exec/vector.h"

/* ---- the model's constants ------------------------------------------------------- */

#define BLOCK             50      /* events per block: 1 person, 3 auctions, 46 bids */
#define N_PERSON          1
#define N_AUCTION         3
#define FIRST_PERSON_ID   1000
#define FIRST_AUCTION_ID  1000
#define FIRST_CATEGORY_ID 10
#define NUM_CATEGORIES    5
#define ACTIVE_PEOPLE     1000
#define IN_FLIGHT         100
#define HOT_BATCH         100     /* hot seller/bidder/auction: first of the last 100 */
#define HOT_SELLER_RATIO  4       /* hot with probability 1 - 1/ratio                   */
#define HOT_BIDDER_RATIO  4
#define HOT_AUCTION_RATIO 2
#define HOT_CHANNEL_RATIO 2
#define NUM_CHANNELS      10000
#define AVG_PERSON_BYTES  200
#define AVG_AUCTION_BYTES 500
#define AVG_BID_BYTES     100
#define DEFAULT_EPS       10000
#define BASE_TIME_US      (INT64_C(1436918400) * USEC_PER_SEC)   /* 2015-07-15 00:00:00 UTC */
#define POOL_SPAN         16384   /* random-text offsets                                */
#define POOL_MAX_LEN      1024    /* longest reference into the pool                    */
#define MAX_PARTITIONS    65536

enum { T_PERSON, T_AUCTION, T_BID, T_ANY = -1 };

/* ---- the schema ------------------------------------------------------------------- */

enum {
    P_ID, P_NAME, P_EMAIL, P_CC, P_CITY, P_STATE, P_DT, P_EXTRA,
    A_ID, A_ITEM, A_DESC, A_INIT, A_RESERVE, A_DT, A_EXPIRES, A_SELLER, A_CAT, A_EXTRA,
    B_AUCTION, B_BIDDER, B_PRICE, B_CHANNEL, B_URL, B_DT, B_EXTRA,
    U_TYPE, U_DT,
    NFIELDS
};

static const struct {
    const char *name;    /* in table person / auction / bid          */
    const char *uname;   /* in table all                             */
    SqlType     type;
    int         etype;   /* the event type it belongs to, or T_ANY   */
} fields[NFIELDS] = {
    {"id", "person_id", TYPE_BIGINT, T_PERSON},
    {"name", "person_name", TYPE_VARCHAR, T_PERSON},
    {"email_address", "person_email_address", TYPE_VARCHAR, T_PERSON},
    {"credit_card", "person_credit_card", TYPE_VARCHAR, T_PERSON},
    {"city", "person_city", TYPE_VARCHAR, T_PERSON},
    {"state", "person_state", TYPE_VARCHAR, T_PERSON},
    {"date_time", "person_date_time", TYPE_TIMESTAMP, T_PERSON},
    {"extra", "person_extra", TYPE_VARCHAR, T_PERSON},
    {"id", "auction_id", TYPE_BIGINT, T_AUCTION},
    {"item_name", "auction_item_name", TYPE_VARCHAR, T_AUCTION},
    {"description", "auction_description", TYPE_VARCHAR, T_AUCTION},
    {"initial_bid", "auction_initial_bid", TYPE_BIGINT, T_AUCTION},
    {"reserve", "auction_reserve", TYPE_BIGINT, T_AUCTION},
    {"date_time", "auction_date_time", TYPE_TIMESTAMP, T_AUCTION},
    {"expires", "auction_expires", TYPE_TIMESTAMP, T_AUCTION},
    {"seller", "auction_seller", TYPE_BIGINT, T_AUCTION},
    {"category", "auction_category", TYPE_BIGINT, T_AUCTION},
    {"extra", "auction_extra", TYPE_VARCHAR, T_AUCTION},
    {"auction", "bid_auction", TYPE_BIGINT, T_BID},
    {"bidder", "bid_bidder", TYPE_BIGINT, T_BID},
    {"price", "bid_price", TYPE_BIGINT, T_BID},
    {"channel", "bid_channel", TYPE_VARCHAR, T_BID},
    {"url", "bid_url", TYPE_VARCHAR, T_BID},
    {"date_time", "bid_date_time", TYPE_TIMESTAMP, T_BID},
    {"extra", "bid_extra", TYPE_VARCHAR, T_BID},
    {NULL, "event_type", TYPE_BIGINT, T_ANY},
    {NULL, "date_time", TYPE_TIMESTAMP, T_ANY},
};

static const char *const table_names[] = {"person", "auction", "bid"};

#define S(lit) {lit, sizeof(lit) - 1}

static const char *const first_names[] = {"Peter", "Paul",  "Luke",   "John",   "Saul",  "Vicky",
                                          "Kate",  "Julie", "Sarah",  "Deiter", "Walter"};
static const char *const last_names[] = {"Shultz",  "Abrams", "Spencer", "White", "Bartels",
                                         "Walton",  "Smith",  "Jones",   "Noris"};
#define N_FIRST (sizeof first_names / sizeof first_names[0])
#define N_LAST  (sizeof last_names / sizeof last_names[0])

static const Str cities[] = {S("Phoenix"), S("Los Angeles"), S("San Francisco"), S("Boise"),
                             S("Portland"), S("Bend"), S("Redmond"), S("Seattle"), S("Kent"),
                             S("Cheyenne")};
static const Str states[] = {S("AZ"), S("CA"), S("ID"), S("OR"), S("WA"), S("WY")};
static const Str hot_channels[] = {S("Google"), S("Facebook"), S("Baidu"), S("Apple")};
static const Str hot_urls[] = {
    S("https://www.nexmark.com/googl/item.htm?query=1"),
    S("https://www.nexmark.com/faceb/item.htm?query=1"),
    S("https://www.nexmark.com/baidu/item.htm?query=1"),
    S("https://www.nexmark.com/apple/item.htm?query=1"),
};
#define N_CITIES (sizeof cities / sizeof cities[0])
#define N_STATES (sizeof states / sizeof states[0])
#define N_HOT_CH (sizeof hot_channels / sizeof hot_channels[0])

/* the random streams, one per decision */
enum {
    R_NAME, R_EMAIL, R_CC, R_CITY, R_STATE, R_PEXTRA, R_ITEM, R_DESC, R_INIT, R_RESERVE,
    R_EXPIRES, R_SELLER_HOT, R_SELLER, R_CAT, R_AEXTRA, R_AUC_HOT, R_AUC, R_BIDDER_HOT,
    R_BIDDER, R_PRICE, R_CHANNEL, R_BEXTRA, NKEYS
};
static const char *const key_names[NKEYS] = {
    "person.name", "person.email", "person.credit_card", "person.city", "person.state",
    "person.extra", "auction.item_name", "auction.description", "auction.initial_bid",
    "auction.reserve", "auction.expires", "auction.seller.hot", "auction.seller",
    "auction.category", "auction.extra", "bid.auction.hot", "bid.auction", "bid.bidder.hot",
    "bid.bidder", "bid.price", "bid.channel", "bid.extra",
};

/* ---- state ------------------------------------------------------------------------ */

typedef struct NexGen {
    int64_t  count;                /* total events, -1 unbounded                   */
    int64_t  rate, eps;
    int      want;                 /* T_PERSON/T_AUCTION/T_BID, or T_ANY (all)      */
    int      ncols;
    int      field[64];
    uint64_t key[NKEYS];

    EventCycle cyc;                /* the partitions with wanted events; next event */
    int      started;
    int64_t  t0;
    int64_t  q0;                   /* time offset of the restore point (0 fresh)   */

    char     pool[POOL_SPAN + POOL_MAX_LEN];     /* letters and spaces           */
    char     letters[POOL_SPAN + 16];            /* letters only (emails)        */
    Str      names[N_FIRST * N_LAST];
    char     name_blob[N_FIRST * N_LAST * 16];
    Str     *ch_name, *ch_url;                   /* NUM_CHANNELS each, if needed */
    char    *ch_blob;

    int      scratch_cap;
    int64_t *ks, *qs;
    uint8_t *typ;
} NexGen;

/* ---- the model as pure functions of k ----------------------------------------------- */

static inline int event_type(int64_t k)
{
    int64_t off = k % BLOCK;
    return off < N_PERSON ? T_PERSON : off < N_PERSON + N_AUCTION ? T_AUCTION : T_BID;
}

/* The newest person (base 0) at event k: the one of k's block. */
static inline int64_t last_person(int64_t k)
{
    return k / BLOCK;
}

/* The newest auction (base 0) at event k; -1 before the first. */
static inline int64_t last_auction(int64_t k)
{
    int64_t e = k / BLOCK, off = k % BLOCK;
    if (off < N_PERSON) return e * N_AUCTION - 1;
    if (off >= N_PERSON + N_AUCTION) return e * N_AUCTION + N_AUCTION - 1;
    return e * N_AUCTION + off - N_PERSON;
}

static inline int64_t pick_person(int64_t k, uint64_t r)
{
    int64_t n = last_person(k) + 1, active = n < ACTIVE_PEOPLE ? n : ACTIVE_PEOPLE;
    return n - active + (int64_t)conn_mulhi(r, (uint64_t)active);
}

static inline int64_t pick_auction(int64_t k, uint64_t r)
{
    int64_t hi = last_auction(k), lo = hi - IN_FLIGHT > 0 ? hi - IN_FLIGHT : 0;
    return lo + (int64_t)conn_mulhi(r, (uint64_t)(hi - lo + 1));
}

static inline uint64_t rnd(const NexGen *g, int key, int64_t k)
{
    return conn_rand(g->key[key], (uint64_t)k);
}

static inline int64_t uniform(const NexGen *g, int key, int64_t k, uint64_t n)
{
    return (int64_t)conn_mulhi(rnd(g, key, k), n);
}

static inline int64_t next_price(uint64_t r)
{
    double u = (double)(r >> 11) * 0x1.0p-53;
    return llround(pow(10.0, u * 6.0) * 100.0);
}

/* Random text of length n: a reference into the pool. */
static inline Str pool_text(const NexGen *g, uint64_t r, int64_t n)
{
    return (Str){g->pool + conn_mulhi(r, POOL_SPAN), (uint32_t)n};
}

/* The padding of an event whose other fields take `cur` bytes, to an average of `avg`. */
static inline int64_t extra_len(uint64_t r, int64_t cur, int64_t avg)
{
    if (cur > avg) return 0;
    int64_t want = avg - cur, delta = llround((double)want * 0.2);
    return want - delta + (delta ? (int64_t)conn_mulhi(r, (uint64_t)(2 * delta)) : 0);
}

static inline Str person_name(const NexGen *g, int64_t k)
{
    return g->names[uniform(g, R_NAME, k, N_FIRST * N_LAST)];
}

/* "abc@defg.com": 3..6 letters, '@', 3..4 letters, ".com"; returns the length. */
static int person_email(const NexGen *g, int64_t k, char *buf)
{
    uint64_t r = rnd(g, R_EMAIL, k);
    int      a = 3 + (int)(r & 3), b = 3 + (int)((r >> 2) & 1);
    const char *p = g->letters + conn_mulhi(r, POOL_SPAN);
    memcpy(buf, p, (size_t)a);
    buf[a] = '@';
    memcpy(buf + a + 1, p + 7, (size_t)b);
    memcpy(buf + a + 1 + b, ".com", 4);
    return a + b + 5;
}

static int person_cc(const NexGen *g, int64_t k, char *buf)
{
    uint64_t d = rnd(g, R_CC, k) % UINT64_C(10000000000000000);
    int      n = 19;
    for (int i = n - 1; i >= 0; i--) {
        if (i == 4 || i == 9 || i == 14) {
            buf[i] = ' ';
            continue;
        }
        buf[i] = (char)('0' + d % 10);
        d /= 10;
    }
    return n;
}

static inline int64_t email_len(const NexGen *g, int64_t k)
{
    uint64_t r = rnd(g, R_EMAIL, k);
    return 3 + (int64_t)(r & 3) + 3 + (int64_t)((r >> 2) & 1) + 5;
}

static inline Str person_extra(const NexGen *g, int64_t k)
{
    int64_t cur = 8 + person_name(g, k).len + email_len(g, k) + 19 +
                  cities[uniform(g, R_CITY, k, N_CITIES)].len +
                  states[uniform(g, R_STATE, k, N_STATES)].len;
    uint64_t r = rnd(g, R_PEXTRA, k);
    return pool_text(g, conn_mix64(r), extra_len(r, cur, AVG_PERSON_BYTES));
}

static inline int64_t item_len(const NexGen *g, int64_t k)
{
    return 3 + (int64_t)conn_mulhi(conn_mix64(rnd(g, R_ITEM, k)), 17);
}

static inline int64_t desc_len(const NexGen *g, int64_t k)
{
    return 3 + (int64_t)conn_mulhi(conn_mix64(rnd(g, R_DESC, k)), 97);
}

static inline Str auction_extra(const NexGen *g, int64_t k)
{
    int64_t  cur = 8 + item_len(g, k) + desc_len(g, k) + 5 * 8;
    uint64_t r = rnd(g, R_AEXTRA, k);
    return pool_text(g, conn_mix64(r), extra_len(r, cur, AVG_AUCTION_BYTES));
}

static inline int64_t offset_us(const NexGen *g, int64_t k)
{
    return (int64_t)(((__int128)k * USEC_PER_SEC) / g->eps);
}

static inline int64_t auction_expires(const NexGen *g, int64_t k, int64_t dt)
{
    int64_t ahead = IN_FLIGHT * BLOCK / N_AUCTION;   /* events until 100 more auctions */
    int64_t horizon = offset_us(g, k + ahead) - offset_us(g, k);
    uint64_t span = horizon * 2 > 1 ? (uint64_t)(horizon * 2) : 1;
    return dt + 1000 + (int64_t)conn_mulhi(rnd(g, R_EXPIRES, k), span);
}

static inline int64_t auction_seller(const NexGen *g, int64_t k)
{
    int64_t p;
    if (uniform(g, R_SELLER_HOT, k, HOT_SELLER_RATIO) > 0)
        p = last_person(k) / HOT_BATCH * HOT_BATCH;
    else
        p = pick_person(k, rnd(g, R_SELLER, k));
    return p + FIRST_PERSON_ID;
}

static inline int64_t bid_auction(const NexGen *g, int64_t k)
{
    int64_t a;
    if (uniform(g, R_AUC_HOT, k, HOT_AUCTION_RATIO) > 0)
        a = last_auction(k) / HOT_BATCH * HOT_BATCH;
    else
        a = pick_auction(k, rnd(g, R_AUC, k));
    return a + FIRST_AUCTION_ID;
}

static inline int64_t bid_bidder(const NexGen *g, int64_t k)
{
    int64_t p;
    if (uniform(g, R_BIDDER_HOT, k, HOT_BIDDER_RATIO) > 0) {
        int64_t last = last_person(k);
        p = last / HOT_BATCH * HOT_BATCH + 1;
        if (p > last) p = last;
    } else {
        p = pick_person(k, rnd(g, R_BIDDER, k));
    }
    return p + FIRST_PERSON_ID;
}

/* channel index: 0..3 hot, 4.. = channel-(i-4) */
static inline int64_t bid_channel(const NexGen *g, int64_t k)
{
    uint64_t r = rnd(g, R_CHANNEL, k);
    if (conn_mulhi(r, HOT_CHANNEL_RATIO) > 0)   /* hot: probability 1 - 1/ratio */
        return (int64_t)conn_mulhi(conn_mix64(r), N_HOT_CH);
    return (int64_t)N_HOT_CH + (int64_t)conn_mulhi(conn_mix64(r), NUM_CHANNELS);
}

static inline Str bid_extra(const NexGen *g, int64_t k)
{
    uint64_t r = rnd(g, R_BEXTRA, k);
    return pool_text(g, conn_mix64(r), extra_len(r, 32, AVG_BID_BYTES));
}

/* ---- open-time tables ---------------------------------------------------------------- */

static void build_text(NexGen *g, uint64_t seed)
{
    uint64_t key = conn_stream_key(seed, "nexmark.text");
    for (size_t i = 0; i < sizeof g->pool; i++) {
        uint64_t r = conn_rand(key, i);
        g->pool[i] = conn_mulhi(r, 13) == 0 ? ' ' : (char)('a' + conn_mulhi(conn_mix64(r), 26));
        g->letters[i % sizeof g->letters] = (char)('a' + conn_mulhi(conn_mix64(r ^ 1), 26));
    }
    char *p = g->name_blob;
    for (size_t f = 0; f < N_FIRST; f++)
        for (size_t l = 0; l < N_LAST; l++) {
            int n = snprintf(p, 16, "%s %s", first_names[f], last_names[l]);
            g->names[f * N_LAST + l] = (Str){p, (uint32_t)n};
            p += n;
        }
}

static int build_channels(NexGen *g, uint64_t seed)
{
    g->ch_name = malloc(NUM_CHANNELS * sizeof *g->ch_name);
    g->ch_url = malloc(NUM_CHANNELS * sizeof *g->ch_url);
    g->ch_blob = malloc((size_t)NUM_CHANNELS * 96);
    if (!g->ch_name || !g->ch_url || !g->ch_blob) return -1;
    uint64_t key = conn_stream_key(seed, "nexmark.channel_url");
    char    *p = g->ch_blob;
    for (int c = 0; c < NUM_CHANNELS; c++) {
        int n = snprintf(p, 16, "channel-%d", c);
        g->ch_name[c] = (Str){p, (uint32_t)n};
        p += n;
        /* https://www.nexmark.com/<5>/<5>/<5>/item.htm?query=1&channel_id=<reversed c> */
        char rev[8];
        int  d = snprintf(rev, sizeof rev, "%d", c);
        for (int i = 0; i < d / 2; i++) {
            char t = rev[i];
            rev[i] = rev[d - 1 - i];
            rev[d - 1 - i] = t;
        }
        const char *w = g->letters + conn_mulhi(conn_rand(key, (uint64_t)c), POOL_SPAN - 15);
        n = snprintf(p, 96, "https://www.nexmark.com/%.5s/%.5s/%.5s/item.htm?query=1&channel_id=%s",
                     w, w + 5, w + 10, rev);
        g->ch_url[c] = (Str){p, (uint32_t)n};
        p += n;
    }
    return 0;
}

static int gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return (int)a;
}

/* Does partition p of P hold events of type `want`? Its events have
 * k ≡ p (mod P), so k mod 50 ranges over the residues ≡ p (mod gcd(P, 50)). */
static int partition_has(int64_t p, int64_t P, int want)
{
    if (want == T_ANY) return 1;
    int d = gcd64(P, BLOCK);
    for (int off = 0; off < BLOCK; off++)
        if (off % d == p % d && event_type(off) == want) return 1;
    return 0;
}

static int build_partitions(NexGen *g, int64_t P, int task, int ntasks)
{
    int64_t  owned = task < P ? (P - 1 - task) / ntasks + 1 : 0;
    int64_t *list = malloc((size_t)(owned > 0 ? owned : 1) * sizeof *list);
    int      m = 0;
    if (!list) return -1;
    for (int64_t j = 0; j < owned; j++) {
        int64_t p = task + j * ntasks;
        if (partition_has(p, P, g->want)) list[m++] = p;
    }
    int rc = event_cycle_init(&g->cyc, list, m, P, g->eps);
    free(list);
    return rc;
}

static void nex_free(NexGen *g)
{
    if (!g) return;
    event_cycle_free(&g->cyc);
    free(g->ch_name);
    free(g->ch_url);
    free(g->ch_blob);
    free(g->ks);
    free(g->qs);
    free(g->typ);
    free(g);
}

static int ensure_scratch(NexGen *g, int n)
{
    if (n <= g->scratch_cap) return 0;
    int64_t *ks = realloc(g->ks, (size_t)n * sizeof *ks);
    if (ks) g->ks = ks;
    int64_t *qs = realloc(g->qs, (size_t)n * sizeof *qs);
    if (qs) g->qs = qs;
    uint8_t *typ = realloc(g->typ, (size_t)n);
    if (typ) g->typ = typ;
    if (!ks || !qs || !typ) return -1;
    g->scratch_cap = n;
    return 0;
}

/* ---- generation ---------------------------------------------------------------------- */

static SourceStatus nex_next(Source *s, Batch *b, int64_t now_us, int64_t *wait_us)
{
    NexGen *g = s->impl;
    if (g->cyc.m == 0 || (g->count >= 0 && g->cyc.pos.k >= g->count)) return SOURCE_END;
    int room = b->capacity - b->nrows;
    if (room <= 0) return SOURCE_BATCH;
    if (ensure_scratch(g, room) != 0) {
        conn_set_error(s, "nexmark: out of memory");
        return SOURCE_ERROR;
    }
    if (!g->started) {
        g->started = 1;
        g->t0 = now_us;
    }
    int64_t limit_q = g->rate > 0 ? now_us - g->t0 + g->q0 : INT64_MAX;
    int64_t limit_k = g->count >= 0 ? g->count : INT64_MAX;

    /* 1. event numbers (of the wanted type) and their time offsets */
    int64_t *ks = g->ks, *qs = g->qs;
    uint8_t *typ = g->typ;
    EventPos pos = g->cyc.pos;
    int      n = 0, want = g->want;
    while (n < room && pos.k < limit_k) {
        /* events of another type are skipped without waiting for their time
         * (a partition in the cycle holds the wanted type, so within 50 steps) */
        int t = event_type(pos.k);
        if (want == T_ANY || t == want) {
            if (pos.q > limit_q) break;
            ks[n] = pos.k;
            qs[n] = pos.q;
            typ[n] = (uint8_t)t;
            n++;
        }
        event_cycle_step(&g->cyc, &pos);
    }
    g->cyc.pos = pos;
    if (n == 0) {
        if (pos.k >= limit_k) return SOURCE_END;
        *wait_us = pos.q - limit_q;
        return SOURCE_IDLE;
    }

    /* 2. one loop per column; rows of another event type are NULL */
    int base = b->nrows;
    for (int c = 0; c < g->ncols; c++) {
        Vector *v = &b->cols[c];
        int     f = g->field[c], et = fields[f].etype;
        int     mixed = want == T_ANY && et != T_ANY;
        if (fields[f].type == TYPE_VARCHAR) {
            Str *out = vector_str(v) + base;
            for (int i = 0; i < n; i++) {
                int64_t kk = ks[i];
                if (mixed && typ[i] != et) {
                    out[i] = (Str){NULL, 0};
                    continue;
                }
                switch (f) {
                case P_NAME: out[i] = person_name(g, kk); break;
                case P_EMAIL:
                case P_CC: {
                    char buf[32];
                    int  len = f == P_EMAIL ? person_email(g, kk, buf) : person_cc(g, kk, buf);
                    if (vector_set_str(v, base + i, buf, (size_t)len) != 0) {
                        conn_set_error(s, "nexmark: out of memory");
                        return SOURCE_ERROR;
                    }
                    break;
                }
                case P_CITY: out[i] = cities[uniform(g, R_CITY, kk, N_CITIES)]; break;
                case P_STATE: out[i] = states[uniform(g, R_STATE, kk, N_STATES)]; break;
                case P_EXTRA: out[i] = person_extra(g, kk); break;
                case A_ITEM: out[i] = pool_text(g, rnd(g, R_ITEM, kk), item_len(g, kk)); break;
                case A_DESC: out[i] = pool_text(g, rnd(g, R_DESC, kk), desc_len(g, kk)); break;
                case A_EXTRA: out[i] = auction_extra(g, kk); break;
                case B_CHANNEL:
                case B_URL: {
                    int64_t ch = bid_channel(g, kk);
                    if (ch < (int64_t)N_HOT_CH)
                        out[i] = f == B_CHANNEL ? hot_channels[ch] : hot_urls[ch];
                    else
                        out[i] = f == B_CHANNEL ? g->ch_name[ch - N_HOT_CH] : g->ch_url[ch - N_HOT_CH];
                    break;
                }
                case B_EXTRA: out[i] = bid_extra(g, kk); break;
                }
            }
        } else {
            int64_t *out = vector_i64(v) + base;
            switch (f) {
            case P_ID:
                for (int i = 0; i < n; i++) out[i] = last_person(ks[i]) + FIRST_PERSON_ID;
                break;
            case A_ID:
                for (int i = 0; i < n; i++) out[i] = last_auction(ks[i]) + FIRST_AUCTION_ID;
                break;
            case P_DT:
            case A_DT:
            case B_DT:
            case U_DT:
                for (int i = 0; i < n; i++) out[i] = BASE_TIME_US + qs[i];
                break;
            case U_TYPE:
                for (int i = 0; i < n; i++) out[i] = typ[i];
                break;
            case B_AUCTION:
                for (int i = 0; i < n; i++) out[i] = bid_auction(g, ks[i]);
                break;
            case B_BIDDER:
                for (int i = 0; i < n; i++) out[i] = bid_bidder(g, ks[i]);
                break;
            case B_PRICE:
                for (int i = 0; i < n; i++) out[i] = next_price(rnd(g, R_PRICE, ks[i]));
                break;
            case A_INIT:
                for (int i = 0; i < n; i++) out[i] = next_price(rnd(g, R_INIT, ks[i]));
                break;
            case A_RESERVE:
                for (int i = 0; i < n; i++)
                    out[i] = next_price(rnd(g, R_INIT, ks[i])) + next_price(rnd(g, R_RESERVE, ks[i]));
                break;
            case A_EXPIRES:
                for (int i = 0; i < n; i++) out[i] = auction_expires(g, ks[i], BASE_TIME_US + qs[i]);
                break;
            case A_SELLER:
                for (int i = 0; i < n; i++) out[i] = auction_seller(g, ks[i]);
                break;
            case A_CAT:
                for (int i = 0; i < n; i++)
                    out[i] = FIRST_CATEGORY_ID + uniform(g, R_CAT, ks[i], NUM_CATEGORIES);
                break;
            }
            /* rows of other types got a value computed from their k: harmless, NULLed below */
        }
        conn_mark_valid(v, base, base + n);
        if (mixed)
            for (int i = 0; i < n; i++)
                if (typ[i] != et) vector_set_null(v, base + i);
    }
    batch_set_nrows(b, base + n);
    return SOURCE_BATCH;
}

static void nex_close(Source *s)
{
    nex_free(s->impl);
    s->impl = NULL;
}

/* Checkpoint: the partition set and the next event number (conn_util.c).
 * The next event may be of a type the table skips: restoring there skips it
 * again, so the rows that follow are the same. */
#define NEX_CKPT_VERSION 1

static long nex_checkpoint(Source *s, void *buf, size_t cap)
{
    NexGen *g = s->impl;
    CkptOut w;
    ckpt_out_begin(&w, buf, cap, "nexmark", NEX_CKPT_VERSION);
    ckpt_put_i64(&w, g->want);
    event_cycle_save(&g->cyc, &w);
    return conn_ckpt_finish(s, &w, "nexmark");
}

static int nex_restore(Source *s, const void *buf, size_t len, char *err, size_t cap)
{
    NexGen    *g = s->impl;
    CkptIn     r;
    EventCycle c = g->cyc;
    if (ckpt_in_begin(&r, buf, len, "nexmark", NEX_CKPT_VERSION, err, cap)) return -1;
    int64_t want = ckpt_get_i64(&r);
    if (!r.bad && want != g->want)
        return conn_errf(err, cap, "nexmark: the checkpoint is of another table (%s, not %s)",
                         want >= 0 && want < 3 ? table_names[want] : "all",
                         g->want >= 0 ? table_names[g->want] : "all");
    if (event_cycle_restore(&c, &r, "nexmark", err, cap) || ckpt_in_end(&r, "nexmark", err, cap))
        return -1;
    g->cyc.pos = c.pos;
    g->q0 = c.pos.q;   /* the rate limit restarts from the restore point */
    return 0;
}

static const SourceOps nex_ops = {nex_next, nex_close, nex_checkpoint, nex_restore};

/* ---- open ------------------------------------------------------------------------------ */

static void column_list(int want, char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = 0;
    for (int f = 0; f < NFIELDS && k < cap; f++) {
        if (want == T_ANY ? 0 : fields[f].etype != want) continue;
        const char *name = want == T_ANY ? fields[f].uname : fields[f].name;
        k += (size_t)snprintf(buf + k, cap - k, "%s%s %s", k ? ", " : "", name,
                              sql_type_name(fields[f].type));
    }
    if (want == T_ANY && k < cap)
        snprintf(buf + k, cap - k, "event_type BIGINT, date_time TIMESTAMP and person_*, "
                                   "auction_*, bid_* (the columns of table person/auction/bid, prefixed)");
}

static int map_columns(NexGen *g, const ConnSpec *spec, char *err, size_t cap)
{
    if (spec->ncols > (int)(sizeof g->field / sizeof g->field[0]))
        return conn_errf(err, cap, "nexmark: too many columns (%d)", spec->ncols);
    g->ncols = spec->ncols;
    for (int c = 0; c < spec->ncols; c++) {
        const char *name = spec->col_names[c];
        int         f = -1;
        for (int i = 0; i < NFIELDS && f < 0; i++) {
            if (g->want == T_ANY ? 0 : fields[i].etype != g->want) continue;
            const char *fname = g->want == T_ANY ? fields[i].uname : fields[i].name;
            if (strcasecmp(name, fname) == 0) f = i;
        }
        if (f < 0) {
            char list[1024];
            column_list(g->want, list, sizeof list);
            return conn_errf(err, cap, "nexmark: unknown column '%s' for table '%s'; it has %s", name,
                             g->want == T_ANY ? "all" : table_names[g->want], list);
        }
        if (spec->col_types[c] != fields[f].type)
            return conn_errf(err, cap, "nexmark: column '%s' must be %s, not %s", name,
                             sql_type_name(fields[f].type), sql_type_name(spec->col_types[c]));
        g->field[c] = f;
    }
    return 0;
}

static int needs_channels(const NexGen *g)
{
    for (int c = 0; c < g->ncols; c++)
        if (g->field[c] == B_CHANNEL || g->field[c] == B_URL) return 1;
    return 0;
}

int nexmark_source_open(Source *s, const ConnSpec *spec, char *err, size_t cap)
{
    int task, ntasks;
    if (conn_check_task(spec, &task, &ntasks, err, cap)) return -1;
    NexGen *g = calloc(1, sizeof *g);
    if (!g) return conn_errf(err, cap, "out of memory");
    int64_t seed = 1, partitions = ntasks;
    g->count = -1;
    g->want = T_ANY;
    const char *table = conn_opt(spec, "table");
    if (table && strcasecmp(table, "all") != 0) {
        g->want = -2;
        for (int t = 0; t < 3; t++)
            if (strcasecmp(table, table_names[t]) == 0) g->want = t;
        if (g->want == -2) {
            conn_errf(err, cap, "nexmark: option 'table' must be person, auction, bid or all; got '%s'",
                      table);
            goto fail;
        }
    }
    if (map_columns(g, spec, err, cap) || conn_opt_count(spec, "rate", &g->rate, err, cap) < 0 ||
        conn_opt_count(spec, "count", &g->count, err, cap) < 0 ||
        conn_opt_count(spec, "seed", &seed, err, cap) < 0 ||
        conn_opt_count(spec, "partitions", &partitions, err, cap) < 0)
        goto fail;
    if (partitions < 1 || partitions > MAX_PARTITIONS) {
        conn_errf(err, cap, "nexmark: option 'partitions' must be in 1..%d", MAX_PARTITIONS);
        goto fail;
    }
    if (g->rate > 1000000000) {
        conn_errf(err, cap, "nexmark: option 'rate' can be at most 1000000000 events/s");
        goto fail;
    }
    g->eps = g->rate > 0 ? g->rate : DEFAULT_EPS;
    for (int i = 0; i < NKEYS; i++) g->key[i] = conn_stream_key((uint64_t)seed, key_names[i]);
    build_text(g, (uint64_t)seed);
    if (build_partitions(g, partitions, task, ntasks) || (needs_channels(g) && build_channels(g, (uint64_t)seed))) {
        conn_errf(err, cap, "nexmark: out of memory");
        goto fail;
    }
    s->ops = &nex_ops;
    s->impl = g;
    return 0;
fail:
    nex_free(g);
    return -1;
}
