/*
 * gen_logs.c — the `logs` source: the seed's load generator (log events of
 * users of an app) as a deterministic, fast, rate-limited generator.
 *
 * The event model
 * ---------------
 * Events are numbered k = 0, 1, 2, … (the global sequence number). Every
 * field of event k is a pure function of (options, k): it is computed from
 * counter-based random values conn_rand(key(seed, field), k), never from a
 * stateful PRNG, the wall clock or thread timing. So parallelism 1 and N see
 * the same rows, and a test or an oracle can recompute any event.
 *
 *   ts       start + floor(k * 1e6 / eps) µs - jitter(k), where eps (events
 *            per second of event time) is `rate` when set, else 1000, and
 *            jitter(k) is uniform in [0, out-of-orderness]. So event time
 *            advances at the nominal rate and runs backwards by at most
 *            out-of-orderness: for j < k, ts(j) - ts(k) <= out-of-orderness.
 *   user_id  1..users, uniform, or Zipf with exponent `zipf` (user 1 the
 *            most active: P(u) ∝ 1/u^zipf).
 *   ip       "10.a.b.c", a fixed function of user_id (distinct for the first
 *            2^24 users).
 *   level,   one category per event, drawn with the proportions of
 *   event,   categories[] below: CRITICAL/crash with probability crash-ratio,
 *   msg      the others sharing the rest in fixed proportions; msg is one of
 *            four short texts of the category.
 *
 * Partitions and tasks
 * --------------------
 * Event k belongs to logical partition k mod P (P = `partitions`, default
 * the number of tasks). Task t of N reads the partitions p with p mod N == t,
 * emitting their events in increasing k. A task owning no partition ends at
 * once. The union over tasks is every k < count, for any N and P.
 *
 * Rate
 * ----
 * With `rate` set, event k is released at t0 + floor(k * 1e6 / rate) µs of
 * the runtime's clock, t0 being the now_us of the first source_next call:
 * the whole query emits `rate` events per second however many tasks share
 * them, and a task that falls behind catches up in full batches.
 *
 * Speed
 * -----
 * A batch is generated column by column: first the event numbers and their
 * nominal time offsets (exact, by integer increments: no division per row),
 * then the random draws the requested columns need, then one tight loop per
 * column writing straight into the vectors. Strings are references into
 * static tables (level, event, msg) or into the per-user ip table built at
 * open (for up to IP_TABLE_MAX users; beyond, ips are formatted into the
 * batch arena). Steady state allocates nothing.
 */
#include "runtime/connectors/conn_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "exec/timefmt.h"
#include "exec/vector.h"

/* ---- the schema ----------------------------------------------------------------- */

enum { F_TS, F_USER, F_IP, F_LEVEL, F_EVENT, F_MSG, NFIELDS };

static const struct {
    const char *name;
    SqlType     type;
} fields[NFIELDS] = {
    {"ts", TYPE_TIMESTAMP}, {"user_id", TYPE_BIGINT}, {"ip", TYPE_VARCHAR},
    {"level", TYPE_VARCHAR}, {"event", TYPE_VARCHAR}, {"msg", TYPE_VARCHAR},
};

/* ---- the categories --------------------------------------------------------------- */

enum { L_INFO, L_WARN, L_ERROR, L_CRITICAL };

static const Str level_text[] = {
    {"INFO", 4}, {"WARN", 4}, {"ERROR", 5}, {"CRITICAL", 8},
};

#define S(lit) {lit, sizeof(lit) - 1}

/* Category 0 is the CRITICAL crash (probability crash-ratio); the others
 * share 1 - crash-ratio in the proportions `share` (summing to 1). */
static const struct {
    int    level;
    Str    event;
    double share;
    Str    msg[4];
} categories[] = {
    {L_CRITICAL, S("crash"), 0,
     {S("app crashed: NullPointerException in CheckoutActivity"),
      S("fatal signal 11 (SIGSEGV) in render thread"), S("app crashed: out of memory"),
      S("unrecoverable error, process terminated")}},
    {L_INFO, S("page_view"), 0.30,
     {S("viewed /home"), S("viewed /products"), S("viewed /cart"), S("viewed /account")}},
    {L_INFO, S("click"), 0.20,
     {S("clicked buy button"), S("clicked banner"), S("clicked product tile"),
      S("clicked menu")}},
    {L_INFO, S("login"), 0.10,
     {S("user logged in"), S("user logged in with sso"), S("session resumed"),
      S("user logged in from new device")}},
    {L_INFO, S("logout"), 0.08,
     {S("user logged out"), S("session expired"), S("user signed out on all devices"),
      S("logout after idle")}},
    {L_INFO, S("search"), 0.07,
     {S("searched 'shoes'"), S("searched 'laptop'"), S("searched 'gift card'"),
      S("searched 'headphones'")}},
    {L_INFO, S("purchase"), 0.05,
     {S("order placed"), S("order placed with coupon"), S("subscription renewed"),
      S("order placed, express shipping")}},
    {L_WARN, S("slow_request"), 0.06,
     {S("request took 1200 ms"), S("request took 2500 ms"), S("slow database query"),
      S("image service slow to respond")}},
    {L_WARN, S("retry"), 0.04,
     {S("retrying payment request"), S("retrying after 503"), S("retrying upload"),
      S("retry 2 of 3")}},
    {L_WARN, S("login_failed"), 0.02,
     {S("wrong password"), S("account locked for 5 minutes"), S("expired token"),
      S("captcha failed")}},
    {L_ERROR, S("error"), 0.04,
     {S("payment declined by gateway"), S("failed to load recommendations"),
      S("HTTP 500 from cart service"), S("invalid response from inventory")}},
    {L_ERROR, S("timeout"), 0.02,
     {S("upstream timeout after 30 s"), S("database timeout"), S("search backend timeout"),
      S("timeout waiting for lock")}},
    {L_ERROR, S("crash"), 0.01,
     {S("widget crashed, recovered"), S("background worker crashed, restarted"),
      S("renderer crashed, page reloaded"), S("plugin crashed, disabled")}},
    {L_CRITICAL, S("error"), 0.01,
     {S("data corruption detected"), S("disk full on app server"),
      S("certificate expired"), S("primary database unreachable")}},
};
#define NCATEGORIES (sizeof categories / sizeof categories[0])

#define IP_TABLE_MAX     (1 << 20)   /* users whose ip text is precomputed */
#define ZIPF_MAX_USERS   (1 << 24)
#define MAX_PARTITIONS   65536
#define DEFAULT_START    "2024-01-01 00:00:00"

/* ---- state ---------------------------------------------------------------------- */

typedef struct LogsGen {
    int64_t    count;              /* total events, -1 unbounded                       */
    int64_t    rate;               /* events/s released; 0 = as fast as possible        */
    int64_t    eps;                /* events per second of event time                  */
    int64_t    users;
    int64_t    start_us, ooo_us;
    int        ncols;
    int        field[64];          /* logs field of each output column (ncols <= 64)   */
    int        need_user, need_ip, need_cat;

    EventCycle cyc;                /* the task's partitions and its next event          */
    int        started;
    int64_t    t0;
    int64_t    q0;                 /* time offset of the restore point (0 fresh)        */

    uint64_t   key_user, key_cat, key_msg, key_jitter;
    AliasTable cats;
    AliasTable zipf;               /* n == 0: uniform users                             */
    Str       *ips;                /* users entries when users <= IP_TABLE_MAX          */
    char      *ip_blob;

    int        scratch_cap;
    int64_t   *ks, *qs, *uid;
    uint8_t   *cat;
} LogsGen;

/* ---- helpers ---------------------------------------------------------------------- */

static int ip_format(int64_t user, char *buf)
{
    uint32_t v = (uint32_t)((uint64_t)user * UINT64_C(0x9E3779B1)) & 0xFFFFFF;
    return snprintf(buf, 16, "10.%u.%u.%u", v >> 16, (v >> 8) & 255, v & 255);
}

static int build_ips(LogsGen *g)
{
    size_t n = (size_t)g->users;
    g->ips = malloc(n * sizeof *g->ips);
    g->ip_blob = malloc(n * 15);   /* "10.255.255.255" */
    if (!g->ips || !g->ip_blob) return -1;
    char *p = g->ip_blob;
    for (size_t u = 1; u <= n; u++) {
        char buf[16];
        int  len = ip_format((int64_t)u, buf);
        memcpy(p, buf, (size_t)len);
        g->ips[u - 1] = (Str){p, (uint32_t)len};
        p += len;
    }
    return 0;
}

static int build_zipf(LogsGen *g, double s)
{
    size_t  n = (size_t)g->users;
    double *w = malloc(n * sizeof *w);
    if (!w) return -1;
    for (size_t i = 0; i < n; i++) w[i] = pow((double)(i + 1), -s);
    int rc = conn_alias_init(&g->zipf, w, (uint32_t)n);
    free(w);
    return rc;
}

static int build_categories(LogsGen *g, double crash)
{
    double w[NCATEGORIES];
    for (size_t i = 0; i < NCATEGORIES; i++)
        w[i] = i == 0 ? crash : categories[i].share * (1.0 - crash);
    return conn_alias_init(&g->cats, w, NCATEGORIES);
}

/* The partitions p < P with p mod ntasks == task, as a cycle of strides. */
static int build_partitions(LogsGen *g, int64_t P, int task, int ntasks)
{
    int m = task < P ? (int)((P - 1 - task) / ntasks + 1) : 0;
    int64_t *parts = malloc((size_t)(m > 0 ? m : 1) * sizeof *parts);
    if (!parts) return -1;
    for (int j = 0; j < m; j++) parts[j] = task + (int64_t)j * ntasks;
    int rc = event_cycle_init(&g->cyc, parts, m, P, g->eps);
    free(parts);
    return rc;
}

static void logs_free(LogsGen *g)
{
    if (!g) return;
    conn_alias_free(&g->cats);
    conn_alias_free(&g->zipf);
    free(g->ips);
    free(g->ip_blob);
    event_cycle_free(&g->cyc);
    free(g->ks);
    free(g->qs);
    free(g->uid);
    free(g->cat);
    free(g);
}

static int ensure_scratch(LogsGen *g, int n)
{
    if (n <= g->scratch_cap) return 0;
    int64_t *ks = realloc(g->ks, (size_t)n * sizeof *ks);
    if (ks) g->ks = ks;
    int64_t *qs = realloc(g->qs, (size_t)n * sizeof *qs);
    if (qs) g->qs = qs;
    int64_t *uid = realloc(g->uid, (size_t)n * sizeof *uid);
    if (uid) g->uid = uid;
    uint8_t *cat = realloc(g->cat, (size_t)n);
    if (cat) g->cat = cat;
    if (!ks || !qs || !uid || !cat) return -1;
    g->scratch_cap = n;
    return 0;
}

/* ---- generation ------------------------------------------------------------------- */

static SourceStatus logs_next(Source *s, Batch *b, int64_t now_us, int64_t *wait_us)
{
    LogsGen *g = s->impl;
    if (g->cyc.m == 0 || (g->count >= 0 && g->cyc.pos.k >= g->count)) return SOURCE_END;
    int room = b->capacity - b->nrows;
    if (room <= 0) return SOURCE_BATCH;
    if (ensure_scratch(g, room) != 0) {
        conn_set_error(s, "logs: out of memory");
        return SOURCE_ERROR;
    }
    if (!g->started) {
        g->started = 1;
        g->t0 = now_us;
    }
    int64_t limit_q = g->rate > 0 ? now_us - g->t0 + g->q0 : INT64_MAX;   /* release bound */
    int64_t limit_k = g->count >= 0 ? g->count : INT64_MAX;

    /* 1. event numbers and nominal time offsets */
    int64_t *ks = g->ks, *qs = g->qs;
    EventPos pos = g->cyc.pos;
    int      n = 0;
    while (n < room && pos.k < limit_k && pos.q <= limit_q) {
        ks[n] = pos.k;
        qs[n] = pos.q;
        n++;
        event_cycle_step(&g->cyc, &pos);
    }
    g->cyc.pos = pos;
    if (n == 0) {
        if (pos.k >= limit_k) return SOURCE_END;
        *wait_us = pos.q - limit_q;
        return SOURCE_IDLE;
    }

    /* 2. the draws the requested columns need */
    int64_t *uid = g->uid;
    uint8_t *cat = g->cat;
    if (g->need_user) {
        if (g->zipf.n) {
            for (int i = 0; i < n; i++)
                uid[i] = 1 + (int64_t)conn_alias_pick(&g->zipf, conn_rand(g->key_user, (uint64_t)ks[i]));
        } else {
            uint64_t users = (uint64_t)g->users;
            for (int i = 0; i < n; i++)
                uid[i] = 1 + (int64_t)conn_mulhi(conn_rand(g->key_user, (uint64_t)ks[i]), users);
        }
    }
    if (g->need_cat)
        for (int i = 0; i < n; i++)
            cat[i] = (uint8_t)conn_alias_pick(&g->cats, conn_rand(g->key_cat, (uint64_t)ks[i]));

    /* 3. one loop per column */
    int base = b->nrows;
    for (int c = 0; c < g->ncols; c++) {
        Vector *v = &b->cols[c];
        switch (g->field[c]) {
        case F_TS: {
            int64_t *out = vector_i64(v) + base, start = g->start_us;
            if (g->ooo_us > 0) {
                uint64_t span = (uint64_t)g->ooo_us + 1;
                for (int i = 0; i < n; i++)
                    out[i] = start + qs[i] -
                             (int64_t)conn_mulhi(conn_rand(g->key_jitter, (uint64_t)ks[i]), span);
            } else {
                for (int i = 0; i < n; i++) out[i] = start + qs[i];
            }
            break;
        }
        case F_USER:
            memcpy(vector_i64(v) + base, uid, (size_t)n * sizeof *uid);
            break;
        case F_IP:
            if (g->ips) {
                Str *out = vector_str(v) + base;
                for (int i = 0; i < n; i++) out[i] = g->ips[uid[i] - 1];
            } else {
                for (int i = 0; i < n; i++) {
                    char buf[16];
                    int  len = ip_format(uid[i], buf);
                    if (vector_set_str(v, base + i, buf, (size_t)len) != 0) {
                        conn_set_error(s, "logs: out of memory");
                        return SOURCE_ERROR;
                    }
                }
            }
            break;
        case F_LEVEL: {
            Str *out = vector_str(v) + base;
            for (int i = 0; i < n; i++) out[i] = level_text[categories[cat[i]].level];
            break;
        }
        case F_EVENT: {
            Str *out = vector_str(v) + base;
            for (int i = 0; i < n; i++) out[i] = categories[cat[i]].event;
            break;
        }
        case F_MSG: {
            Str *out = vector_str(v) + base;
            for (int i = 0; i < n; i++)
                out[i] = categories[cat[i]].msg[conn_rand(g->key_msg, (uint64_t)ks[i]) & 3];
            break;
        }
        }
        conn_mark_valid(v, base, base + n);
    }
    batch_set_nrows(b, base + n);
    return SOURCE_BATCH;
}

static void logs_close(Source *s)
{
    logs_free(s->impl);
    s->impl = NULL;
}

/* Checkpoint: the partition set and the next event number (conn_util.c). */
#define LOGS_CKPT_VERSION 1

static long logs_checkpoint(Source *s, void *buf, size_t cap)
{
    LogsGen *g = s->impl;
    CkptOut  w;
    ckpt_out_begin(&w, buf, cap, "logs", LOGS_CKPT_VERSION);
    event_cycle_save(&g->cyc, &w);
    return conn_ckpt_finish(s, &w, "logs");
}

static int logs_restore(Source *s, const void *buf, size_t len, char *err, size_t cap)
{
    LogsGen *g = s->impl;
    CkptIn   r;
    EventCycle c = g->cyc;
    if (ckpt_in_begin(&r, buf, len, "logs", LOGS_CKPT_VERSION, err, cap) ||
        event_cycle_restore(&c, &r, "logs", err, cap) || ckpt_in_end(&r, "logs", err, cap))
        return -1;
    g->cyc.pos = c.pos;
    g->q0 = c.pos.q;   /* the rate limit restarts from the restore point */
    return 0;
}

static const SourceOps logs_ops = {logs_next, logs_close, logs_checkpoint, logs_restore};

/* ---- open ------------------------------------------------------------------------- */

static int map_columns(LogsGen *g, const ConnSpec *spec, char *err, size_t cap)
{
    if (spec->ncols > (int)(sizeof g->field / sizeof g->field[0]))
        return conn_errf(err, cap, "logs: too many columns (%d)", spec->ncols);
    g->ncols = spec->ncols;
    for (int c = 0; c < spec->ncols; c++) {
        const char *name = spec->col_names[c];
        int         f = -1;
        for (int i = 0; i < NFIELDS; i++)
            if (strcasecmp(name, fields[i].name) == 0) f = i;
        if (f < 0)
            return conn_errf(err, cap,
                             "logs: unknown column '%s'; the logs generator has ts TIMESTAMP, "
                             "user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR",
                             name);
        if (spec->col_types[c] != fields[f].type)
            return conn_errf(err, cap, "logs: column '%s' must be %s, not %s", name,
                             sql_type_name(fields[f].type), sql_type_name(spec->col_types[c]));
        g->field[c] = f;
        if (f == F_USER || f == F_IP) g->need_user = 1;
        if (f == F_IP) g->need_ip = 1;
        if (f == F_LEVEL || f == F_EVENT || f == F_MSG) g->need_cat = 1;
    }
    return 0;
}

static int parse_start(const ConnSpec *spec, int64_t *out, char *err, size_t cap)
{
    const char *v = conn_opt(spec, "start");
    if (!v) v = DEFAULT_START;
    if (strcasecmp(v, "now") == 0) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        *out = (int64_t)t.tv_sec * USEC_PER_SEC;   /* whole seconds: tasks agree */
        return 0;
    }
    if (ts_parse(v, strlen(v), out) != 0)
        return conn_errf(err, cap,
                         "logs: option 'start' needs a timestamp like '2024-01-01 00:00:00' or 'now'; got '%s'",
                         v);
    return 0;
}

int logs_source_open(Source *s, const ConnSpec *spec, char *err, size_t cap)
{
    int task, ntasks;
    if (conn_check_task(spec, &task, &ntasks, err, cap)) return -1;
    LogsGen *g = calloc(1, sizeof *g);
    if (!g) return conn_errf(err, cap, "out of memory");
    int64_t seed = 1, partitions = ntasks;
    double  crash = 0.02, zipf = 0;
    g->count = -1;
    g->users = 1000;
    if (map_columns(g, spec, err, cap) || conn_opt_count(spec, "rate", &g->rate, err, cap) < 0 ||
        conn_opt_count(spec, "count", &g->count, err, cap) < 0 ||
        conn_opt_count(spec, "users", &g->users, err, cap) < 0 ||
        conn_opt_count(spec, "seed", &seed, err, cap) < 0 ||
        conn_opt_count(spec, "partitions", &partitions, err, cap) < 0 ||
        conn_opt_duration(spec, "out-of-orderness", &g->ooo_us, err, cap) < 0 ||
        conn_opt_number(spec, "crash-ratio", &crash, err, cap) < 0 ||
        conn_opt_number(spec, "zipf", &zipf, err, cap) < 0 ||
        parse_start(spec, &g->start_us, err, cap))
        goto fail;
    if (g->users < 1) {
        conn_errf(err, cap, "logs: option 'users' must be at least 1");
        goto fail;
    }
    if (crash < 0 || crash > 1) {
        conn_errf(err, cap, "logs: option 'crash-ratio' must be between 0 and 1; got %g", crash);
        goto fail;
    }
    if (zipf < 0) {
        conn_errf(err, cap, "logs: option 'zipf' must be >= 0 (0 = uniform); got %g", zipf);
        goto fail;
    }
    if (zipf > 0 && g->users > ZIPF_MAX_USERS) {
        conn_errf(err, cap, "logs: with 'zipf', 'users' can be at most %d", ZIPF_MAX_USERS);
        goto fail;
    }
    if (partitions < 1 || partitions > MAX_PARTITIONS) {
        conn_errf(err, cap, "logs: option 'partitions' must be in 1..%d", MAX_PARTITIONS);
        goto fail;
    }
    if (g->rate > 1000000000) {
        conn_errf(err, cap, "logs: option 'rate' can be at most 1000000000 events/s");
        goto fail;
    }
    g->eps = g->rate > 0 ? g->rate : 1000;
    g->key_user = conn_stream_key((uint64_t)seed, "user_id");
    g->key_cat = conn_stream_key((uint64_t)seed, "category");
    g->key_msg = conn_stream_key((uint64_t)seed, "msg");
    g->key_jitter = conn_stream_key((uint64_t)seed, "jitter");
    if (build_partitions(g, partitions, task, ntasks) || build_categories(g, crash) ||
        (zipf > 0 && g->need_user && build_zipf(g, zipf)) ||
        (g->need_ip && g->users <= IP_TABLE_MAX && build_ips(g))) {
        conn_errf(err, cap, "logs: out of memory");
        goto fail;
    }
    s->ops = &logs_ops;
    s->impl = g;
    return 0;
fail:
    logs_free(g);
    return -1;
}
