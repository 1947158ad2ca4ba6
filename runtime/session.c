/*
 * session.c — statement execution (see session.h).
 *
 * session_exec parses the whole text first: a syntax error anywhere runs
 * nothing, so a half-valid script never starts half a pipeline. Then each
 * statement runs in order:
 *
 *   CREATE/DROP STREAM|SINK|VIEW   → the catalog (planner/catalog.h)
 *   SHOW, DESCRIBE, SET, RESET     → rows built here from catalog/settings
 *   EXPLAIN                        → planner/: the plan as text or JSON
 *   SELECT, INSERT                 → planned, then run by the runtime
 *                                    (runtime/query.h) until the input ends
 *   STOP QUERY, DESCRIBE QUERY     → the background queries (interactive INSERT)
 *
 * Rows are delivered as batches of VARCHAR vectors (exec/batch.h) through the
 * caller's ResultSink.
 *
 * Every query gets a QueryRec in the registry (session.h, "the query
 * registry") and a QueryHook: the one progress callback of its Query, which
 * runs on the query_run thread and fans out to the shell's callback, the
 * --progress file and the registry's samples. Lock order: only reg_lock,
 * never held across a call out of this file.
 */
#include "runtime/session.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <sys/time.h>

#include "exec/timefmt.h"
#include "exec/vector.h"
#include "planner/catalog.h"
#include "planner/planner.h"
#include "planner/settings.h"
#include "runtime/query.h"

/* The registry's record of one query (see session.h). The strings and the
 * settings are written once at creation; status, end_us, error, last and the
 * ring change under Session.reg_lock. */
typedef struct QueryRec {
    char           id[16];
    int            background;
    int            status;        /* BG_RUNNING, BG_FINISHED, BG_FAILED, BG_STOPPED */
    int64_t        start_us, end_us;
    char          *sql, *sink, *source, *plan_json;
    char           error[512];
    char           state_dir[512];
    int64_t        parallelism, state_memory_bytes;
    QueryProgress  last;          /* latest figures (has_last)                     */
    int            has_last;
    int64_t        last_wall_us;
    QueryProgress *ring;          /* one sample a second, ring_len of ring_cap     */
    int64_t       *ring_wall;
    int            ring_cap, ring_len, ring_head;   /* ring_head: the oldest       */
    int64_t        nsampled;      /* samples ever taken                            */
} QueryRec;

/* The --progress file writer of one query. */
typedef struct ProgressWriter {
    FILE         *f;
    const char   *id;
    const char   *source;
    const char   *sink;
    int64_t       batch;
    QueryProgress prev;
    int64_t       prev_wall_us;
} ProgressWriter;

/* The progress callback of one running query (query_on_progress): called on
 * its query_run thread; fans out to the shell's callback (fn), the
 * --progress file (pw) and the registry (rec). */
typedef struct QueryHook {
    Session          *s;
    QueryRec         *rec;
    SessionProgressFn fn;           /* NULL: none                               */
    void             *ctx;
    ProgressWriter   *pw;           /* NULL: no --progress file                 */
    int64_t           next_file_us; /* elapsed time of the next file line      */
    int64_t           next_sample_us; /* … and of the next registry sample     */
    int               pending;      /* last figures not yet in the file         */
    int               sampled;      /* last figures already a registry sample   */
    QueryProgress     last;
} QueryHook;

/* A query running in the background (INSERT INTO in the interactive shell). */
typedef struct BgQuery {
    char                   id[16];
    char                  *sql;        /* the statement, normalized          */
    char                  *sink;       /* where it writes                    */
    Plan                  *plan;       /* owned                              */
    Settings               settings;   /* a copy: SET does not change a running query */
    Query                 *q;
    pthread_t              thread;
    _Atomic int            stop;       /* STOP QUERY asked for it          */
    _Atomic int            state;      /* BG_RUNNING, BG_FINISHED, BG_FAILED, BG_STOPPED */
    char                   error[512];
    int                    joined;
    QueryRec              *rec;        /* its registry record (owned by the registry) */
    QueryHook              hook;
} BgQuery;

enum { BG_RUNNING, BG_FINISHED, BG_FAILED, BG_STOPPED };

struct Session {
    Catalog                *catalog;
    BgQuery               **bg;
    int                     nbg;
    int                     background;   /* INSERT INTO runs in the background */
    Settings                settings;
    int                     ncores;
    int                     check_only;
    volatile sig_atomic_t  *stop;
    FILE                   *progress;
    int                     nqueries;
    SessionProgressFn       progress_cb;       /* session_set_progress_callback */
    void                   *progress_cb_ctx;
    void                  (*start_cb)(void *ctx, Session *s);   /* query start callback */
    void                   *start_cb_ctx;
    pthread_mutex_t         reg_lock;          /* guards recs, nrecs and the records' live fields */
    QueryRec              **recs;              /* the registry, oldest first */
    int                     nrecs;
};

/* The registry and the progress hook; defined at the end of this file. */
static QueryRec *rec_add(Session *s, const Plan *plan, int background);
static void      rec_finish(Session *s, QueryRec *r, int status, const char *error);
static void      rec_free(QueryRec *r);
static void      hook_begin(QueryHook *h, Session *s, QueryRec *r, Query *q, SessionProgressFn fn, void *ctx,
                            ProgressWriter *pw);
static void      hook_end(QueryHook *h);

void session_set_progress_file(Session *s, FILE *f)
{
    s->progress = f;
}

void session_set_stop_flag(Session *s, volatile sig_atomic_t *stop)
{
    s->stop = stop;
}

void session_set_check_only(Session *s, int on)
{
    s->check_only = on;
}

Session *session_new(void)
{
    Session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->catalog = catalog_new();
    if (!s->catalog) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->reg_lock, NULL);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    s->ncores = n > 0 ? (int)n : 1;
    settings_init(&s->settings, s->ncores);
    return s;
}

static void bg_join(BgQuery *b)
{
    if (b->joined) return;
    pthread_join(b->thread, NULL);
    b->joined = 1;
}

void session_free(Session *s)
{
    if (!s) return;
    for (int i = 0; i < s->nbg; i++) {
        BgQuery *b = s->bg[i];
        atomic_store(&b->stop, 1);
        query_stop(b->q);
        bg_join(b);
        query_free(b->q);
        plan_free(b->plan);
        free(b->sql);
        free(b->sink);
        free(b);
    }
    free(s->bg);
    for (int i = 0; i < s->nrecs; i++) rec_free(s->recs[i]);
    free(s->recs);
    pthread_mutex_destroy(&s->reg_lock);
    catalog_free(s->catalog);
    free(s);
}

void session_set_background(Session *s, int on)
{
    s->background = on;
}

int session_set(Session *s, const char *key, const char *value, SqlError *err)
{
    err->loc = -1;
    return settings_set(&s->settings, key, value, err);
}


/* ---- text result sets ---------------------------------------------------- */

/* A result of VARCHAR columns, filled row by row and sent a batch at a time. */
typedef struct TextResult {
    const ResultSink *sink;
    Batch             batch;
    int               ncols;
    int               stopped;
    int               failed;
} TextResult;

static int text_begin(TextResult *t, const ResultSink *sink, int ncols, const char *const *names)
{
    SqlType types[16];
    memset(t, 0, sizeof *t);
    t->sink = sink;
    t->ncols = ncols;
    for (int i = 0; i < ncols; i++) types[i] = TYPE_VARCHAR;
    if (batch_init(&t->batch, ncols, types, SLUICE_VECTOR_SIZE) != 0) return -1;
    if (sink && sink->on_columns && sink->on_columns(sink->ctx, ncols, names, types, 0) != 0)
        t->stopped = 1;
    return 0;
}

static void text_flush(TextResult *t)
{
    if (t->batch.nrows > 0 && !t->stopped && t->sink && t->sink->on_rows &&
        t->sink->on_rows(t->sink->ctx, &t->batch) != 0)
        t->stopped = 1;
    batch_reset(&t->batch);
}

/* Append one row; values[i] NULL means SQL NULL. */
static void text_row(TextResult *t, const char *const *values)
{
    if (t->batch.nrows == t->batch.capacity) text_flush(t);
    int r = t->batch.nrows;
    for (int c = 0; c < t->ncols; c++) {
        if (!values[c]) vector_set_null(&t->batch.cols[c], r);
        else if (vector_set_str(&t->batch.cols[c], r, values[c], strlen(values[c])) != 0)
            t->failed = 1;
    }
    t->batch.nrows++;
    t->batch.count++;
}

static void text_end(TextResult *t, const char *tag)
{
    text_flush(t);
    batch_destroy(&t->batch);
    if (t->sink && t->sink->on_done) t->sink->on_done(t->sink->ctx, tag);
}

static void done(const ResultSink *sink, const char *tag)
{
    if (sink && sink->on_done) sink->on_done(sink->ctx, tag);
}

/* ---- SHOW / DESCRIBE ------------------------------------------------------ */

static void bg_progress(Session *s, BgQuery *b, QueryProgress *p);

static void watermark_text(const CatObject *o, char *buf, size_t cap)
{
    char d[INTERVAL_FORMAT_MAX];
    buf[0] = 0;
    if (o->wm_col < 0) return;
    interval_format(o->wm_delay_us, d, sizeof d);
    snprintf(buf, cap, "%s - %s", o->cols[o->wm_col].name, d);
}

static int show(Session *s, const AstShow *st, const ResultSink *sink, SqlError *err)
{
    TextResult t;
    char       wm[128];
    switch (st->what) {
    case OBJ_STREAM: {
        static const char *const names[] = {"name", "connector", "format", "watermark"};
        if (text_begin(&t, sink, 4, names)) break;
        const CatObject *o;
        for (int i = 0; (o = catalog_nth(s->catalog, CAT_STREAM, i)) != NULL; i++) {
            watermark_text(o, wm, sizeof wm);
            const char *row[] = {o->name, o->connector, o->format, wm[0] ? wm : NULL};
            text_row(&t, row);
        }
        text_end(&t, "SHOW STREAMS");
        return t.failed ? sql_errorf(err, st->hdr.loc, "out of memory") : 0;
    }
    case OBJ_SINK: {
        static const char *const names[] = {"name", "connector", "format"};
        if (text_begin(&t, sink, 3, names)) break;
        const CatObject *o;
        for (int i = 0; (o = catalog_nth(s->catalog, CAT_SINK, i)) != NULL; i++) {
            const char *row[] = {o->name, o->connector, o->format};
            text_row(&t, row);
        }
        text_end(&t, "SHOW SINKS");
        return t.failed ? sql_errorf(err, st->hdr.loc, "out of memory") : 0;
    }
    case OBJ_VIEW: {
        static const char *const names[] = {"name", "query"};
        if (text_begin(&t, sink, 2, names)) break;
        const CatObject *o;
        for (int i = 0; (o = catalog_nth(s->catalog, CAT_VIEW, i)) != NULL; i++) {
            const char *row[] = {o->name, o->view_sql};
            text_row(&t, row);
        }
        text_end(&t, "SHOW VIEWS");
        return t.failed ? sql_errorf(err, st->hdr.loc, "out of memory") : 0;
    }
    case OBJ_QUERY: {
        static const char *const names[] = {"id", "status", "sink", "input_rows", "rows_per_second",
                                            "output_rows", "watermark", "query"};
        if (text_begin(&t, sink, 8, names)) break;
        static const char *const states[] = {"running", "finished", "failed", "stopped"};
        for (int i = 0; i < s->nbg; i++) {
            BgQuery      *b = s->bg[i];
            QueryProgress p;
            char          in[32], rate[32], out[32], wm[TS_FORMAT_MAX] = "";
            bg_progress(s, b, &p);
            snprintf(in, sizeof in, "%lld", (long long)p.input_rows);
            snprintf(rate, sizeof rate, "%.0f", p.elapsed_us > 0 ? p.input_rows * 1e6 / (double)p.elapsed_us : 0.0);
            snprintf(out, sizeof out, "%lld", (long long)p.output_rows);
            if (p.watermark == WATERMARK_MAX) snprintf(wm, sizeof wm, "end of input");
            else if (p.watermark != WATERMARK_MIN) ts_format(p.watermark, wm, sizeof wm, 0);
            const char *row[] = {b->id, states[atomic_load(&b->state)], b->sink, in, rate, out,
                                 wm[0] ? wm : NULL, b->sql};
            text_row(&t, row);
        }
        text_end(&t, "SHOW QUERIES");
        return 0;
    }
    }
    return sql_errorf(err, st->hdr.loc, "out of memory");
}

static int describe_query(Session *s, const AstDescribe *st, const ResultSink *sink, SqlError *err);

static int describe(Session *s, const AstDescribe *st, const ResultSink *sink, SqlError *err)
{
    if (st->query) return describe_query(s, st, sink, err);
    const CatObject *o = catalog_find(s->catalog, st->name);
    if (!o)
        return sql_errorf(err, st->hdr.loc, "no stream, sink or view named '%s'%s", st->name,
                    catalog_suggest(s->catalog, st->name));
    TextResult t;
    if (o->kind == CAT_VIEW) {
        static const char *const names[] = {"name", "query"};
        if (text_begin(&t, sink, 2, names)) return sql_errorf(err, st->hdr.loc, "out of memory");
        const char *row[] = {o->name, o->view_sql};
        text_row(&t, row);
        text_end(&t, "DESCRIBE");
        return 0;
    }
    static const char *const names[] = {"column", "type", "watermark"};
    if (text_begin(&t, sink, 3, names)) return sql_errorf(err, st->hdr.loc, "out of memory");
    for (int i = 0; i < o->ncols; i++) {
        char type[48], wm[128] = "";
        if (o->cols[i].param >= 0)
            snprintf(type, sizeof type, "%s(%d)", sql_type_name(o->cols[i].type), o->cols[i].param);
        else
            snprintf(type, sizeof type, "%s", sql_type_name(o->cols[i].type));
        if (i == o->wm_col) watermark_text(o, wm, sizeof wm);
        const char *row[] = {o->cols[i].name, type, wm[0] ? wm : NULL};
        text_row(&t, row);
    }
    text_end(&t, "DESCRIBE");
    return t.failed ? sql_errorf(err, st->hdr.loc, "out of memory") : 0;
}

/* ---- background queries --------------------------------------------------- */

static BgQuery *bg_find(Session *s, const char *id)
{
    for (int i = 0; i < s->nbg; i++)
        if (strcmp(s->bg[i]->id, id) == 0) return s->bg[i];
    return NULL;
}

static int no_such_query(Session *s, int loc, const char *id, SqlError *err)
{
    if (s->nbg == 0)
        return sql_errorf(err, loc, "no query with id '%s': no query runs in the background (INSERT INTO … starts one)", id);
    return sql_errorf(err, loc, "no query with id '%s' (SHOW QUERIES lists them)", id);
}

static void *bg_main(void *arg)
{
    BgQuery *b = arg;
    char     why[512];
    int      rc = query_run(b->q, NULL, NULL, why, sizeof why);
    hook_end(&b->hook);
    if (rc != 0) {
        snprintf(b->error, sizeof b->error, "%s", why);
        atomic_store(&b->state, BG_FAILED);
    } else {
        atomic_store(&b->state, atomic_load(&b->stop) ? BG_STOPPED : BG_FINISHED);
    }
    rec_finish(b->hook.s, b->rec, atomic_load(&b->state), b->error);
    return NULL;
}

/* Start an INSERT INTO in the background; takes ownership of plan. */
static int bg_start(Session *s, Plan *plan, const AstNode *stmt, const ResultSink *sink, SqlError *err)
{
    BgQuery *b = calloc(1, sizeof *b);
    BgQuery **bg = realloc(s->bg, (size_t)(s->nbg + 1) * sizeof *bg);
    if (!b || !bg) {
        free(b);
        plan_free(plan);
        return sql_errorf(err, stmt->loc, "out of memory");
    }
    s->bg = bg;
    b->rec = rec_add(s, plan, 1);
    if (!b->rec) {
        free(b);
        plan_free(plan);
        return sql_errorf(err, stmt->loc, "out of memory");
    }
    snprintf(b->id, sizeof b->id, "%s", b->rec->id);
    b->settings = s->settings;
    b->plan = plan;
    b->sql = strdup(plan->sql);
    b->sink = strdup(plan->root->u.output.sink ? plan->root->u.output.sink : "console");
    char why[512];
    b->q = query_new(plan, &b->settings, why, sizeof why);
    if (!b->q || !b->sql || !b->sink) {
        int runtime = b->q == NULL;
        rec_finish(s, b->rec, BG_FAILED, runtime ? why : "out of memory");
        sql_errorf(err, stmt->loc, "%s", runtime ? why : "out of memory");
        query_free(b->q);
        plan_free(plan);
        free(b->sql);
        free(b->sink);
        free(b);
        return runtime ? SESSION_RUNTIME_ERROR : -1;
    }
    atomic_init(&b->state, BG_RUNNING);
    hook_begin(&b->hook, s, b->rec, b->q, NULL, NULL, NULL);
    if (s->start_cb) s->start_cb(s->start_cb_ctx, s);
    if (pthread_create(&b->thread, NULL, bg_main, b) != 0) {
        rec_finish(s, b->rec, BG_FAILED, "cannot start the query's thread");
        query_free(b->q);
        plan_free(plan);
        free(b->sql);
        free(b->sink);
        free(b);
        return sql_errorf(err, stmt->loc, "cannot start the query's thread");
    }
    s->bg[s->nbg++] = b;
    char tag[160];
    snprintf(tag, sizeof tag, "INSERT started as query %s, running in the background (STOP QUERY %s stops it)",
             b->id, b->id);
    done(sink, tag);
    return 0;
}

static int stop_query(Session *s, const AstStopQuery *st, const ResultSink *sink, SqlError *err)
{
    BgQuery *b = bg_find(s, st->id);
    if (!b) return no_such_query(s, st->hdr.loc, st->id, err);
    atomic_store(&b->stop, 1);
    query_stop(b->q);
    bg_join(b);
    done(sink, "STOP QUERY");
    return 0;
}

/* A background query's latest figures, as its query_run thread last
 * published them (query_progress may only be called on that thread). */
static void bg_progress(Session *s, BgQuery *b, QueryProgress *p)
{
    pthread_mutex_lock(&s->reg_lock);
    if (b->rec && b->rec->has_last) {
        *p = b->rec->last;
    } else {
        memset(p, 0, sizeof *p);
        p->watermark = WATERMARK_MIN;
        p->max_event_time = WATERMARK_MIN;
    }
    pthread_mutex_unlock(&s->reg_lock);
}

static int describe_query(Session *s, const AstDescribe *st, const ResultSink *sink, SqlError *err)
{
    BgQuery *b = bg_find(s, st->name);
    if (!b) return no_such_query(s, st->hdr.loc, st->name, err);
    static const char *const states[] = {"running", "finished", "failed", "stopped"};
    QueryProgress p;
    bg_progress(s, b, &p);
    char *plan = query_explain_analyze(b->plan, &p);
    char  wm[TS_FORMAT_MAX] = "-";
    if (p.watermark != WATERMARK_MIN && p.watermark != WATERMARK_MAX) ts_format(p.watermark, wm, sizeof wm, 0);
    else if (p.watermark == WATERMARK_MAX) snprintf(wm, sizeof wm, "end of input");
    char head[2048];
    snprintf(head, sizeof head,
             "Query %s · %s · %s\n"
             "  input rows %lld · output rows %lld · late rows %lld · state rows %lld\n"
             "  watermark %s · shuffled %lld rows (%lld bytes) · worker CPU %.3f s%s%s\n",
             b->id, states[atomic_load(&b->state)], b->sql, (long long)p.input_rows, (long long)p.output_rows,
             (long long)p.late_rows, (long long)p.state_rows, wm, (long long)p.shuffle_rows,
             (long long)p.shuffle_bytes, p.cpu_us / 1e6, b->error[0] ? "\n  error: " : "", b->error);
    if (sink && sink->on_text) {
        sink->on_text(sink->ctx, head);
        if (plan) sink->on_text(sink->ctx, plan);
    }
    free(plan);
    done(sink, "DESCRIBE QUERY");
    return 0;
}

/* ---- SET / RESET ---------------------------------------------------------- */

static int set(Session *s, const AstSet *st, const ResultSink *sink, SqlError *err)
{
    err->loc = st->hdr.loc;
    if (!st->key) {
        static const char *const names[] = {"key", "value", "description"};
        TextResult t;
        if (text_begin(&t, sink, 3, names)) return sql_errorf(err, st->hdr.loc, "out of memory");
        const char *key, *desc;
        char        value[512];
        for (int i = 0; settings_describe(&s->settings, i, &key, value, sizeof value, &desc) == 0; i++) {
            const char *row[] = {key, value, desc};
            text_row(&t, row);
        }
        text_end(&t, "SET");
        return 0;
    }
    const AstLiteral *v = st->value;
    int               rc;
    if (v && v->kind == LIT_INTERVAL) {
        rc = settings_set_duration(&s->settings, st->key, v->ival, err);
    } else if (v && (v->kind == LIT_INT || v->kind == LIT_BOOL)) {
        char buf[32];
        if (v->kind == LIT_BOOL) snprintf(buf, sizeof buf, "%s", v->ival ? "true" : "false");
        else snprintf(buf, sizeof buf, "%lld", (long long)v->ival);
        rc = settings_set(&s->settings, st->key, buf, err);
    } else if (v && v->text) {
        rc = settings_set(&s->settings, st->key, v->text, err);
    } else {
        return sql_errorf(err, v ? v->hdr.loc : st->hdr.loc, "SET %s needs a value", st->key);
    }
    if (rc != 0) {
        if (v) err->loc = v->hdr.loc;
        return -1;
    }
    done(sink, "SET");
    return 0;
}

/* ---- queries ------------------------------------------------------------- */

/* Bind and plan a SELECT or INSERT; warnings go to the sink's notices. */
static Plan *plan_query(Session *s, const AstNode *stmt, const ResultSink *sink, int to_run, SqlError *err)
{
    char  warn[2048];
    Plan *plan = NULL;
    if (planner_plan(s->catalog, &s->settings, stmt, RULE_ALL, &plan, warn, sizeof warn, err) != 0)
        return NULL;
    if (to_run && planner_check_group(plan, err) != 0) {   /* what a group can run yet */
        plan_free(plan);
        return NULL;
    }
    if (sink && sink->on_notice) {
        char *line = warn, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = 0;
            if (*line) sink->on_notice(sink->ctx, line);
            line = nl + 1;
        }
    }
    return plan;
}

/* ---- progress (--progress FILE) ------------------------------------------ */

static json_t *ts_json(int64_t ts)
{
    char buf[TS_FORMAT_MAX];
    if (ts == WATERMARK_MIN || ts == WATERMARK_MAX) return json_null();
    ts_format(ts, buf, sizeof buf, 1);
    return json_string(buf);
}

static double ratio(int64_t a, int64_t b_us)
{
    return b_us > 0 ? (double)a * 1e6 / (double)b_us : 0.0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t wall_now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* The --progress object of figures p taken at wall clock time wall, with
 * rates over the time since prev (all zero: since the start). Used by the
 * file writer and by session_progress_json (the web UI's API). */
static json_t *progress_json(const char *id, const char *source, const char *sinkname, int64_t batch,
                             const QueryProgress *prev, const QueryProgress *p, int64_t wall)
{
    int64_t dt = p->elapsed_us - prev->elapsed_us;
    int64_t in = p->input_rows - prev->input_rows;
    int64_t cpu = p->cpu_us - prev->cpu_us;
    int64_t out = p->output_rows - prev->output_rows;
    double  in_rate = ratio(in, dt), proc_rate = ratio(in, cpu);

    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "timestamp", ts_json(wall));
    json_object_set_new(o, "batchId", json_integer(batch));
    json_object_set_new(o, "numInputRows", json_integer(in));
    json_object_set_new(o, "inputRowsPerSecond", json_real(in_rate));
    json_object_set_new(o, "processedRowsPerSecond", json_real(proc_rate));
    json_object_set_new(o, "durationMs", json_pack("{s:I, s:I}", "triggerExecution", (json_int_t)(dt / 1000),
                                                   "cpu", (json_int_t)(cpu / 1000)));
    json_object_set_new(o, "eventTime", json_pack("{s:o, s:o}", "watermark", ts_json(p->watermark), "max",
                                                  ts_json(p->max_event_time)));
    json_object_set_new(o, "stateOperators",
                        json_pack("[{s:s, s:I, s:I, s:I, s:I, s:I}]", "operatorName", "aggregate", "numRowsTotal",
                                  (json_int_t)p->state_rows, "memoryUsedBytes", (json_int_t)p->state_bytes,
                                  "numRowsDroppedByWatermark", (json_int_t)p->late_rows, "numRowsSpilled",
                                  (json_int_t)p->state_spilled_rows, "numSpillWrites", (json_int_t)p->spill_writes));
    json_object_set_new(o, "sources",
                        json_pack("[{s:s, s:I, s:f, s:f}]", "description", source, "numInputRows", (json_int_t)in,
                                  "inputRowsPerSecond", in_rate, "processedRowsPerSecond", proc_rate));
    json_object_set_new(o, "sink", json_pack("{s:s, s:I}", "description", sinkname, "numOutputRows", (json_int_t)out));
    if (p->warning[0]) json_object_set_new(o, "warning", json_string(p->warning));
    /* sluice's own figures: totals, shuffle, per-stage rows, skew */
    json_t *stages = json_array();
    for (int i = 0; i < p->nstages && i < 16; i++)
        json_array_append_new(stages, json_pack("{s:i, s:I}", "id", i, "rowsIn", (json_int_t)p->stage_rows_in[i]));
    double skew = 0;
    if (p->ntask_rows > 0) {
        int64_t sorted[64];
        memcpy(sorted, p->task_rows_in, (size_t)p->ntask_rows * sizeof *sorted);
        qsort(sorted, (size_t)p->ntask_rows, sizeof *sorted, cmp_i64);
        int64_t med = sorted[p->ntask_rows / 2], max = sorted[p->ntask_rows - 1];
        skew = med > 0 ? (double)max / (double)med : (max > 0 ? (double)max : 1.0);
    }
    json_t *sl = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:f, s:I, s:o}",
                           "totalInputRows", (json_int_t)p->input_rows,
                           "totalOutputRows", (json_int_t)p->output_rows, "shuffleRows",
                           (json_int_t)p->shuffle_rows, "shuffleBytes", (json_int_t)p->shuffle_bytes,
                           "lateRowsTotal", (json_int_t)p->late_rows, "replayedRows",
                           (json_int_t)p->replayed_rows, "stages", stages, "skew", skew,
                           "watermarkDelayMs",
                           (json_int_t)(p->watermark > WATERMARK_MIN && p->watermark < WATERMARK_MAX &&
                                                p->max_event_time > WATERMARK_MIN
                                            ? (p->max_event_time - p->watermark) / 1000
                                            : 0),
                           "latencyMs",
                           p->latency_p50_us < 0
                               ? json_null()
                               : json_pack("{s:f, s:f, s:i}", "p50", p->latency_p50_us / 1000.0, "p99",
                                           p->latency_p99_us / 1000.0, "samples", p->latency_samples));
    if (sl && p->checkpoints_on)   /* the last committed checkpoint (docs/running.md) */
        json_object_set_new(sl, "checkpoint", session_checkpoint_json(p));
    if (sl && p->group[0])   /* deployment.group: this instance's share (docs/running.md) */
        json_object_set_new(sl, "group", session_group_json(p));
    json_object_set_new(o, "sluice", sl);
    return o;
}

static void write_progress(ProgressWriter *w, const QueryProgress *p)
{
    int64_t wall = wall_now_us();
    json_t *o = progress_json(w->id, w->source, w->sink, w->batch++, &w->prev, p, wall);
    char   *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (line) {
        fprintf(w->f, "%s\n", line);
        fflush(w->f);
        free(line);
    }
    json_decref(o);
    w->prev = *p;
    w->prev_wall_us = wall;
}

static const char *first_source(const PlanNode *n)
{
    if (!n) return NULL;
    if (n->kind == PLAN_SCAN) return n->u.scan.stream;
    const char *l = first_source(n->input);
    return l ? l : first_source(n->right);
}

/* Run a planned SELECT or INSERT until its input ends, LIMIT is reached or
 * the stop flag is raised. */
static int discard_rows(void *ctx, const Batch *b)
{
    (void)ctx;
    (void)b;
    return 0;
}

static int run_plan(Session *s, const Plan *plan, const AstNode *stmt, const ResultSink *sink, SqlError *err,
                    int analyze)
{
    char why[512];
    ResultSink quiet;
    const ResultSink *user = sink;
    if (analyze && sink) {
        /* EXPLAIN ANALYZE runs the query, drops its rows, shows its figures */
        quiet = *sink;
        quiet.on_columns = NULL;
        quiet.on_rows = discard_rows;
        sink = &quiet;
    }
    QueryRec *rec = rec_add(s, plan, 0);
    if (!rec) return sql_errorf(err, stmt->loc, "out of memory");
    Query *q = query_new(plan, &s->settings, why, sizeof why);
    if (!q) {
        rec_finish(s, rec, BG_FAILED, why);
        sql_errorf(err, stmt->loc, "%s", why);
        return SESSION_RUNTIME_ERROR;
    }
    ProgressWriter pw;
    memset(&pw, 0, sizeof pw);
    if (s->progress) {
        pw.f = s->progress;
        pw.id = rec->id;
        pw.source = rec->source;
        pw.sink = rec->sink;
    }
    QueryHook hook;
    hook_begin(&hook, s, rec, q, s->progress_cb, s->progress_cb_ctx, pw.f ? &pw : NULL);
    if (s->start_cb) s->start_cb(s->start_cb_ctx, s);
    int rc = query_run(q, sink, s->stop, why, sizeof why);
    hook_end(&hook);
    rec_finish(s, rec, rc != 0 ? BG_FAILED : (s->stop && *s->stop) ? BG_STOPPED : BG_FINISHED, rc != 0 ? why : "");
    QueryProgress p;
    query_progress(q, &p);
    if (analyze && rc == 0 && user && user->on_text) {
        char head[512];
        snprintf(head, sizeof head,
                 "Ran %.3f s · input %lld rows · output %lld rows · late %lld · state %lld rows · "
                 "worker CPU %.3f s\n",
                 p.elapsed_us / 1e6, (long long)p.input_rows, (long long)p.output_rows, (long long)p.late_rows,
                 (long long)p.state_rows, p.cpu_us / 1e6);
        user->on_text(user->ctx, head);
        char *text = query_explain_analyze(plan, &p);
        if (text) user->on_text(user->ctx, text);
        free(text);
    }
    char    bad[5][256];
    int     nbad = 0;
    int64_t nbad_total = query_bad_records(q, bad, 5, &nbad);
    char    end_notice[400];
    snprintf(end_notice, sizeof end_notice, "%s", query_end_notice(q));
    query_free(q);
    if (end_notice[0] && sink && sink->on_notice) sink->on_notice(sink->ctx, end_notice);
    if (nbad_total > 0 && sink && sink->on_notice) {
        char msg[400];
        snprintf(msg, sizeof msg, "%lld bad input record%s skipped%s", (long long)nbad_total,
                 nbad_total == 1 ? " was" : "s were", nbad ? "; the first:" : "");
        sink->on_notice(sink->ctx, msg);
        for (int i = 0; i < nbad; i++) sink->on_notice(sink->ctx, bad[i]);
    }
    if (rc != 0) {
        sql_errorf(err, stmt->loc, "query failed: %s", why);
        return SESSION_RUNTIME_ERROR;
    }
    char tag[160];
    if (analyze)
        snprintf(tag, sizeof tag, "EXPLAIN ANALYZE");
    else if (IS_A(stmt, AST_INSERT))
        snprintf(tag, sizeof tag, "INSERT %lld", (long long)p.output_rows);
    else
        snprintf(tag, sizeof tag, "SELECT %lld", (long long)p.output_rows);
    if (p.late_rows > 0 && sink && sink->on_notice) {
        char msg[160];
        snprintf(msg, sizeof msg, "%lld late rows were dropped (their window had already closed)",
                 (long long)p.late_rows);
        sink->on_notice(sink->ctx, msg);
    }
    done(sink, tag);
    return 0;
}

static int explain(Session *s, const AstExplain *st, const ResultSink *sink, SqlError *err)
{
    if (st->analyze && st->json)
        return sql_errorf(err, st->hdr.loc, "EXPLAIN ANALYZE prints text: FORMAT JSON is for EXPLAIN alone");
    Plan *plan = plan_query(s, st->stmt, sink, st->analyze, err);
    if (!plan) return -1;
    if (st->analyze) {
        int rc = s->check_only ? 0 : run_plan(s, plan, st->stmt, sink, err, 1);
        plan_free(plan);
        return rc;
    }
    char *text = st->json ? explain_json(plan) : explain_text(plan);
    plan_free(plan);
    if (!text) return sql_errorf(err, st->hdr.loc, "out of memory");
    if (sink && sink->on_text) {
        size_t n = strlen(text);
        if (st->json && (n == 0 || text[n - 1] != '\n')) {
            char *t = realloc(text, n + 2);
            if (t) {
                text = t;
                text[n] = '\n';
                text[n + 1] = 0;
            }
        }
        sink->on_text(sink->ctx, text);
    }
    free(text);
    done(sink, "EXPLAIN");
    return 0;
}

/* ---- dispatch ------------------------------------------------------------- */

static int exec_stmt(Session *s, const AstNode *n, const ResultSink *sink, SqlError *err)
{
    switch (n->tag) {
    case AST_CREATE_STREAM:
        if (catalog_create_stream(s->catalog, AST_AS(AstCreateStream, n), err)) return -1;
        done(sink, "CREATE STREAM");
        return 0;
    case AST_CREATE_SINK:
        if (catalog_create_sink(s->catalog, AST_AS(AstCreateSink, n), err)) return -1;
        done(sink, "CREATE SINK");
        return 0;
    case AST_CREATE_VIEW:
        if (catalog_create_view(s->catalog, AST_AS(AstCreateView, n), err)) return -1;
        done(sink, "CREATE VIEW");
        return 0;
    case AST_DROP: {
        const AstDrop *d = AST_AS(AstDrop, n);
        if (catalog_drop(s->catalog, d, err)) return -1;
        done(sink, d->what == OBJ_SINK ? "DROP SINK" : d->what == OBJ_VIEW ? "DROP VIEW" : "DROP STREAM");
        return 0;
    }
    case AST_SHOW:
        return show(s, AST_AS(AstShow, n), sink, err);
    case AST_DESCRIBE:
        return describe(s, AST_AS(AstDescribe, n), sink, err);
    case AST_SET:
        return set(s, AST_AS(AstSet, n), sink, err);
    case AST_RESET: {
        const AstReset *r = AST_AS(AstReset, n);
        err->loc = n->loc;
        if (settings_reset(&s->settings, r->key, s->ncores, err)) return -1;
        done(sink, "RESET");
        return 0;
    }
    case AST_STOP_QUERY:
        return stop_query(s, AST_AS(AstStopQuery, n), sink, err);
    case AST_EXPLAIN:
        return explain(s, AST_AS(AstExplain, n), sink, err);
    case AST_SELECT:
    case AST_INSERT: {
        Plan *plan = plan_query(s, n, sink, 1, err);
        if (!plan) return -1;
        if (s->background && !s->check_only && IS_A(n, AST_INSERT))
            return bg_start(s, plan, n, sink, err);
        int rc = s->check_only ? 0 : run_plan(s, plan, n, sink, err, 0);
        plan_free(plan);
        return rc;
    }
    default:
        return sql_errorf(err, n->loc, "unexpected statement");
    }
}

int session_exec(Session *s, const char *text, size_t len, const ResultSink *sink, SqlError *err)
{
    SqlParse *p = sql_parse(text, len);
    if (!p) return sql_errorf(err, -1, "out of memory");
    if (p->nerrors > 0) {
        *err = p->errors[0];
        sql_parse_free(p);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < p->nstmts && rc == 0; i++) rc = exec_stmt(s, p->stmts[i], sink, err);
    sql_parse_free(p);
    return rc;
}

/* ---- the progress hook ---------------------------------------------------- */

/* Append p (taken at wall) to r's ring; called with reg_lock held. The ring
 * grows by doubling up to SESSION_HISTORY_SECONDS samples (it wraps only
 * once full, so growing never has to unwrap it); a failed growth keeps the
 * ring as it is and overwrites its oldest sample. */
static void rec_push_sample(QueryRec *r, const QueryProgress *p, int64_t wall)
{
    if (r->ring_len == r->ring_cap && r->ring_cap < SESSION_HISTORY_SECONDS) {
        int            cap = r->ring_cap ? r->ring_cap * 2 : 16;
        if (cap > SESSION_HISTORY_SECONDS) cap = SESSION_HISTORY_SECONDS;
        QueryProgress *ring = realloc(r->ring, (size_t)cap * sizeof *ring);
        if (ring) r->ring = ring;
        int64_t *wall_v = ring ? realloc(r->ring_wall, (size_t)cap * sizeof *wall_v) : NULL;
        if (wall_v) r->ring_wall = wall_v;
        if (ring && wall_v) r->ring_cap = cap;
    }
    if (r->ring_cap == 0) return;
    int at;
    if (r->ring_len < r->ring_cap) {
        at = (r->ring_head + r->ring_len) % r->ring_cap;
        r->ring_len++;
    } else {
        at = r->ring_head;
        r->ring_head = (r->ring_head + 1) % r->ring_cap;
    }
    r->ring[at] = *p;
    r->ring_wall[at] = wall;
    r->nsampled++;
}

/* The query's one progress callback (on its query_run thread). */
static void hook_progress(void *ctx, const QueryProgress *p)
{
    QueryHook *h = ctx;
    if (h->fn) h->fn(h->ctx, p);
    int64_t wall = wall_now_us();
    pthread_mutex_lock(&h->s->reg_lock);
    h->rec->last = *p;
    h->rec->has_last = 1;
    h->rec->last_wall_us = wall;
    h->sampled = 0;
    if (p->elapsed_us >= h->next_sample_us) {
        rec_push_sample(h->rec, p, wall);
        h->sampled = 1;
        while (h->next_sample_us <= p->elapsed_us) h->next_sample_us += 1000000;
    }
    pthread_mutex_unlock(&h->s->reg_lock);
    if (!h->pw) return;
    h->last = *p;
    h->pending = 1;
    if (p->elapsed_us >= h->next_file_us) {
        write_progress(h->pw, p);
        h->pending = 0;
        while (h->next_file_us <= p->elapsed_us) h->next_file_us += 1000000;
    }
}

/* Install the hook on q: every 250 ms when the shell wants a callback (its
 * status line), else once a second; the file and the registry get about one
 * sample a second either way. */
static void hook_begin(QueryHook *h, Session *s, QueryRec *r, Query *q, SessionProgressFn fn, void *ctx,
                       ProgressWriter *pw)
{
    memset(h, 0, sizeof *h);
    h->s = s;
    h->rec = r;
    h->fn = fn;
    h->ctx = ctx;
    h->pw = pw;
    h->next_file_us = 1000000;
    h->next_sample_us = 1000000;
    query_on_progress(q, hook_progress, h, fn ? 250000 : 1000000);
}

/* After query_run returned (on its thread): the final figures go to the
 * file and become the registry's last sample. */
static void hook_end(QueryHook *h)
{
    if (h->pw && h->pending) write_progress(h->pw, &h->last);
    h->pending = 0;
    pthread_mutex_lock(&h->s->reg_lock);
    if (h->rec->has_last && !h->sampled) rec_push_sample(h->rec, &h->rec->last, h->rec->last_wall_us);
    h->sampled = 1;
    pthread_mutex_unlock(&h->s->reg_lock);
}

/* ---- the query registry --------------------------------------------------- */

static const char *const rec_status_names[] = {"running", "finished", "failed", "stopped"};

static void rec_free(QueryRec *r)
{
    if (!r) return;
    free(r->sql);
    free(r->sink);
    free(r->source);
    free(r->plan_json);
    free(r->ring);
    free(r->ring_wall);
    free(r);
}

/* A record for a query about to start (session thread): takes the next id.
 * Drops the oldest finished records past SESSION_HISTORY_DONE. NULL when out
 * of memory. */
static QueryRec *rec_add(Session *s, const Plan *plan, int background)
{
    QueryRec *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    const char *src = first_source(plan->root);
    snprintf(r->id, sizeof r->id, "q%d", ++s->nqueries);
    r->background = background;
    r->status = BG_RUNNING;
    r->start_us = wall_now_us();
    r->sql = strdup(plan->sql ? plan->sql : "");
    r->sink = strdup(plan->root->u.output.sink ? plan->root->u.output.sink : "console");
    r->source = strdup(src ? src : "values");
    r->plan_json = explain_json(plan);
    snprintf(r->state_dir, sizeof r->state_dir, "%s", s->settings.state_dir);
    r->parallelism = s->settings.parallelism;
    r->state_memory_bytes = s->settings.state_memory_bytes;
    if (!r->sql || !r->sink || !r->source) {
        rec_free(r);
        return NULL;
    }
    pthread_mutex_lock(&s->reg_lock);
    int ndone = 0;
    for (int i = 0; i < s->nrecs; i++) ndone += s->recs[i]->status != BG_RUNNING;
    for (int i = 0; i < s->nrecs && ndone >= SESSION_HISTORY_DONE;) {
        if (s->recs[i]->status == BG_RUNNING) {
            i++;
            continue;
        }
        rec_free(s->recs[i]);
        memmove(&s->recs[i], &s->recs[i + 1], (size_t)(s->nrecs - i - 1) * sizeof *s->recs);
        s->nrecs--;
        ndone--;
    }
    QueryRec **v = realloc(s->recs, (size_t)(s->nrecs + 1) * sizeof *v);
    if (v) {
        s->recs = v;
        s->recs[s->nrecs++] = r;
    }
    pthread_mutex_unlock(&s->reg_lock);
    if (!v) {
        rec_free(r);
        return NULL;
    }
    return r;
}

static void rec_finish(Session *s, QueryRec *r, int status, const char *error)
{
    pthread_mutex_lock(&s->reg_lock);
    r->status = status;
    r->end_us = wall_now_us();
    snprintf(r->error, sizeof r->error, "%s", error ? error : "");
    pthread_mutex_unlock(&s->reg_lock);
}

static const QueryProgress *rec_sample(const QueryRec *r, int k, int64_t *wall)
{
    int at = (r->ring_head + k) % r->ring_cap;
    if (wall) *wall = r->ring_wall[at];
    return &r->ring[at];
}

/* Copy r's fixed fields and latest figures into q (reg_lock held). The
 * strings are duplicated; -1 when out of memory (q then needs clearing). */
static int rec_copy(const QueryRec *r, SessionQueryInfo *q)
{
    memset(q, 0, sizeof *q);
    snprintf(q->id, sizeof q->id, "%s", r->id);
    q->status = rec_status_names[r->status];
    q->background = r->background;
    q->start_us = r->start_us;
    q->end_us = r->end_us;
    snprintf(q->error, sizeof q->error, "%s", r->error);
    snprintf(q->state_dir, sizeof q->state_dir, "%s", r->state_dir);
    q->parallelism = r->parallelism;
    q->state_memory_bytes = r->state_memory_bytes;
    q->nsampled = r->nsampled;
    q->sql = strdup(r->sql);
    q->sink = strdup(r->sink);
    q->source = strdup(r->source);
    q->plan_json = r->plan_json ? strdup(r->plan_json) : NULL;
    if (!q->sql || !q->sink || !q->source || (r->plan_json && !q->plan_json)) return -1;
    if (r->has_last) {
        q->last = malloc(sizeof *q->last);
        if (!q->last) return -1;
        *q->last = r->last;
        q->last_wall_us = r->last_wall_us;
        /* the base of the latest figures' rates: the newest sample before them */
        for (int k = r->ring_len - 1; k >= 0; k--) {
            int64_t              w;
            const QueryProgress *p = rec_sample(r, k, &w);
            if (w < r->last_wall_us) {
                q->last_base = malloc(sizeof *q->last_base);
                if (!q->last_base) return -1;
                *q->last_base = *p;
                break;
            }
        }
    }
    return 0;
}

int session_queries_list(Session *s, SessionQueryInfo **out)
{
    *out = NULL;
    pthread_mutex_lock(&s->reg_lock);
    int               n = s->nrecs;
    SessionQueryInfo *v = n > 0 ? calloc((size_t)n, sizeof *v) : NULL;
    int               rc = n;
    for (int i = 0; v && i < n; i++) {
        const QueryRec *r = s->recs[i];
        if (rec_copy(r, &v[i]) != 0) {
            rc = -1;
            n = i + 1;
            break;
        }
    }
    pthread_mutex_unlock(&s->reg_lock);
    if (n > 0 && !v) return -1;
    if (rc < 0) {
        session_queries_free(v, n);
        return -1;
    }
    *out = v;
    return rc;
}

int session_query_get(Session *s, const char *id, int64_t since_us, int max_samples, SessionQueryInfo *out)
{
    memset(out, 0, sizeof *out);
    int rc = 1;
    pthread_mutex_lock(&s->reg_lock);
    const QueryRec *r = NULL;
    for (int i = 0; i < s->nrecs && !r; i++)
        if (strcmp(s->recs[i]->id, id) == 0) r = s->recs[i];
    if (r) {
        rc = rec_copy(r, out);
        int first = 0;
        while (first < r->ring_len) {
            int64_t w;
            rec_sample(r, first, &w);
            if (w > since_us) break;
            first++;
        }
        if (max_samples > 0 && r->ring_len - first > max_samples) first = r->ring_len - max_samples;
        int n = r->ring_len - first;
        if (rc == 0 && n > 0) {
            out->samples = malloc((size_t)n * sizeof *out->samples);
            out->sample_wall_us = malloc((size_t)n * sizeof *out->sample_wall_us);
            out->sample_seq = malloc((size_t)n * sizeof *out->sample_seq);
            if (!out->samples || !out->sample_wall_us || !out->sample_seq) rc = -1;
            for (int k = 0; rc == 0 && k < n; k++) {
                out->samples[k] = *rec_sample(r, first + k, &out->sample_wall_us[k]);
                out->sample_seq[k] = r->nsampled - r->ring_len + first + k;
            }
            if (rc == 0) out->nsamples = n;
        }
        if (rc == 0 && first > 0) {
            out->base = malloc(sizeof *out->base);
            if (out->base) *out->base = *rec_sample(r, first - 1, NULL);
            else rc = -1;
        }
    }
    pthread_mutex_unlock(&s->reg_lock);
    if (rc < 0) session_query_info_clear(out);
    return rc;
}

void session_query_info_clear(SessionQueryInfo *q)
{
    if (!q) return;
    free(q->sql);
    free(q->sink);
    free(q->source);
    free(q->plan_json);
    free(q->last);
    free(q->last_base);
    free(q->samples);
    free(q->sample_wall_us);
    free(q->sample_seq);
    free(q->base);
    memset(q, 0, sizeof *q);
}

void session_queries_free(SessionQueryInfo *v, int n)
{
    for (int i = 0; v && i < n; i++) session_query_info_clear(&v[i]);
    free(v);
}

json_t *session_checkpoint_json(const QueryProgress *p)
{
    return json_pack("{s:I, s:I, s:f, s:I, s:o, s:I, s:I}", "lastEpoch", (json_int_t)p->ckpt_epoch, "count",
                     (json_int_t)p->ckpt_count, "lastDurationMs", p->ckpt_duration_us / 1000.0, "lastBytes",
                     (json_int_t)p->ckpt_bytes, "lastAgeMs",
                     p->ckpt_age_us < 0 ? json_null() : json_integer(p->ckpt_age_us / 1000), "skipped",
                     (json_int_t)p->ckpt_skipped, "restoredEpoch", (json_int_t)p->restored_epoch);
}

json_t *session_group_json(const QueryProgress *p)
{
    return json_pack("{s:s, s:i, s:i, s:I, s:I, s:i, s:i, s:i, s:I, s:I, s:I}", "name", p->group,
                     "sourcePartitions", p->group_source_parts, "exchangePartitions", p->group_exchange_parts,
                     "assignments", (json_int_t)p->group_assignments, "revocations",
                     (json_int_t)p->group_revocations, "heldPartitions", p->group_held, "rebalancingSources",
                     p->group_unsteady, "endingSources", p->group_ending, "restoredGroups",
                     (json_int_t)p->restored_groups, "replayDropped", (json_int_t)p->replay_dropped,
                     "recordFailures", (json_int_t)p->group_record_failures);
}

char *session_progress_json(const SessionQueryInfo *q, int i)
{
    static const QueryProgress zero;
    const QueryProgress *p, *prev;
    int64_t              wall, seq;
    if (i == -1) {
        if (!q->last) return NULL;
        p = q->last;
        wall = q->last_wall_us;
        seq = q->nsampled;
        prev = q->last_base ? q->last_base : &zero;   /* rates since the sample before */
    } else {
        if (i < 0 || i >= q->nsamples) return NULL;
        p = &q->samples[i];
        wall = q->sample_wall_us[i];
        seq = q->sample_seq[i];
        prev = i > 0 ? &q->samples[i - 1] : q->base ? q->base : &zero;
    }
    json_t *o = progress_json(q->id, q->source ? q->source : "", q->sink ? q->sink : "", seq, prev, p, wall);
    char   *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return text;
}

void session_set_query_start_callback(Session *s, void (*fn)(void *ctx, Session *s), void *ctx)
{
    s->start_cb = fn;
    s->start_cb_ctx = ctx;
}

int session_get_setting(Session *s, const char *key, char *buf, size_t cap)
{
    const char *k, *desc;
    for (int i = 0; settings_describe(&s->settings, i, &k, buf, cap, &desc) == 0; i++)
        if (strcasecmp(k, key) == 0) return 0;
    if (cap) buf[0] = 0;
    return -1;
}
void session_set_progress_callback(Session *s, SessionProgressFn fn, void *ctx)
{
    s->progress_cb = fn;
    s->progress_cb_ctx = ctx;
}

static int has_prefix_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        int a = (unsigned char)*s, b = (unsigned char)*prefix;
        if (a >= 'A' && a <= 'Z') a += 32;
        if (b >= 'A' && b <= 'Z') b += 32;
        if (a != b) return 0;
    }
    return 1;
}

int session_complete_names(Session *s, const char *prefix,
                           void (*fn)(void *ctx, const char *name, int is_column), void *ctx)
{
    int n = 0;
    static const CatKind kinds[] = {CAT_STREAM, CAT_SINK, CAT_VIEW};
    for (int pass = 0; pass < 2; pass++) {   /* object names first, then columns */
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            const CatObject *o;
            for (int i = 0; (o = catalog_nth(s->catalog, kinds[k], i)) != NULL; i++) {
                if (pass == 0) {
                    if (has_prefix_ci(o->name, prefix)) {
                        fn(ctx, o->name, 0);
                        n++;
                    }
                    continue;
                }
                for (int c = 0; c < o->ncols; c++)
                    if (has_prefix_ci(o->cols[c].name, prefix)) {
                        fn(ctx, o->cols[c].name, 1);
                        n++;
                    }
            }
        }
    }
    return n;
}
