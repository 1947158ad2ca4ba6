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
 *   STOP QUERY, DESCRIBE QUERY     → no query runs in the background yet
 *
 * Rows are delivered as batches of VARCHAR vectors (exec/batch.h) through the
 * caller's ResultSink.
 */
#include "runtime/session.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sys/time.h>

#include "exec/timefmt.h"
#include "exec/vector.h"
#include "planner/catalog.h"
#include "planner/planner.h"
#include "planner/settings.h"
#include "runtime/query.h"

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
};

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
            query_progress(b->q, &p);
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
    if (rc != 0) {
        snprintf(b->error, sizeof b->error, "%s", why);
        atomic_store(&b->state, BG_FAILED);
    } else {
        atomic_store(&b->state, atomic_load(&b->stop) ? BG_STOPPED : BG_FINISHED);
    }
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
    snprintf(b->id, sizeof b->id, "q%d", ++s->nqueries);
    b->settings = s->settings;
    b->plan = plan;
    b->sql = strdup(plan->sql);
    b->sink = strdup(plan->root->u.output.sink ? plan->root->u.output.sink : "console");
    char why[512];
    b->q = query_new(plan, &b->settings, why, sizeof why);
    if (!b->q || !b->sql || !b->sink) {
        int runtime = b->q == NULL;
        sql_errorf(err, stmt->loc, "%s", runtime ? why : "out of memory");
        query_free(b->q);
        plan_free(plan);
        free(b->sql);
        free(b->sink);
        free(b);
        return runtime ? SESSION_RUNTIME_ERROR : -1;
    }
    atomic_init(&b->state, BG_RUNNING);
    if (pthread_create(&b->thread, NULL, bg_main, b) != 0) {
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

static int describe_query(Session *s, const AstDescribe *st, const ResultSink *sink, SqlError *err)
{
    BgQuery *b = bg_find(s, st->name);
    if (!b) return no_such_query(s, st->hdr.loc, st->name, err);
    static const char *const states[] = {"running", "finished", "failed", "stopped"};
    QueryProgress p;
    query_progress(b->q, &p);
    char *plan = explain_text(b->plan);
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
static Plan *plan_query(Session *s, const AstNode *stmt, const ResultSink *sink, SqlError *err)
{
    char  warn[2048];
    Plan *plan = NULL;
    if (planner_plan(s->catalog, &s->settings, stmt, RULE_ALL, &plan, warn, sizeof warn, err) != 0)
        return NULL;
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

static int plan_has(const PlanNode *n, PlanKind k)
{
    return n && (n->kind == k || plan_has(n->input, k) || plan_has(n->right, k));
}

/* ---- progress (--progress FILE) ------------------------------------------ */

typedef struct ProgressWriter {
    FILE         *f;
    const char   *id;
    const char   *source;
    const char   *sink;
    int64_t       batch;
    QueryProgress prev;
    int64_t       prev_wall_us;
} ProgressWriter;

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

static void write_progress(void *ctx, const QueryProgress *p)
{
    ProgressWriter *w = ctx;
    struct timeval  tv;
    gettimeofday(&tv, NULL);
    int64_t wall = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    int64_t dt = p->elapsed_us - w->prev.elapsed_us;
    int64_t in = p->input_rows - w->prev.input_rows;
    int64_t cpu = p->cpu_us - w->prev.cpu_us;
    int64_t out = p->output_rows - w->prev.output_rows;
    double  in_rate = ratio(in, dt), proc_rate = ratio(in, cpu);

    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(w->id));
    json_object_set_new(o, "timestamp", ts_json(wall));
    json_object_set_new(o, "batchId", json_integer(w->batch++));
    json_object_set_new(o, "numInputRows", json_integer(in));
    json_object_set_new(o, "inputRowsPerSecond", json_real(in_rate));
    json_object_set_new(o, "processedRowsPerSecond", json_real(proc_rate));
    json_object_set_new(o, "durationMs", json_pack("{s:I, s:I}", "triggerExecution", (json_int_t)(dt / 1000),
                                                   "cpu", (json_int_t)(cpu / 1000)));
    json_object_set_new(o, "eventTime", json_pack("{s:o, s:o}", "watermark", ts_json(p->watermark), "max",
                                                  ts_json(p->max_event_time)));
    json_object_set_new(o, "stateOperators",
                        json_pack("[{s:s, s:I, s:I, s:I}]", "operatorName", "aggregate", "numRowsTotal",
                                  (json_int_t)p->state_rows, "memoryUsedBytes", (json_int_t)p->state_bytes,
                                  "numRowsDroppedByWatermark", (json_int_t)p->late_rows));
    json_object_set_new(o, "sources",
                        json_pack("[{s:s, s:I, s:f, s:f}]", "description", w->source, "numInputRows", (json_int_t)in,
                                  "inputRowsPerSecond", in_rate, "processedRowsPerSecond", proc_rate));
    json_object_set_new(o, "sink", json_pack("{s:s, s:I}", "description", w->sink, "numOutputRows", (json_int_t)out));
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
    json_object_set_new(o, "sluice",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:f, s:I, s:o}", "totalInputRows", (json_int_t)p->input_rows,
                                  "totalOutputRows", (json_int_t)p->output_rows, "shuffleRows",
                                  (json_int_t)p->shuffle_rows, "shuffleBytes", (json_int_t)p->shuffle_bytes,
                                  "lateRowsTotal", (json_int_t)p->late_rows, "stages", stages, "skew", skew,
                                  "watermarkDelayMs",
                                  (json_int_t)(p->watermark > WATERMARK_MIN && p->watermark < WATERMARK_MAX &&
                                                       p->max_event_time > WATERMARK_MIN
                                                   ? (p->max_event_time - p->watermark) / 1000
                                                   : 0),
                                  "latencyMs",
                                  p->latency_p50_us < 0
                                      ? json_null()
                                      : json_pack("{s:f, s:f, s:i}", "p50", p->latency_p50_us / 1000.0, "p99",
                                                  p->latency_p99_us / 1000.0, "samples", p->latency_samples)));
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
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

/* The progress callback hook (session_set_progress_callback); defined at
 * the end of this file. */
typedef struct ProgressFanout {
    SessionProgressFn fn;
    void             *ctx;
    ProgressWriter   *pw;          /* --progress file, or NULL          */
    int64_t           next_file_us;
    int               pending;     /* last figures not yet in the file  */
    QueryProgress     last;
} ProgressFanout;
static void progress_fanout_begin(ProgressFanout *f, Session *s, Query *q, ProgressWriter *pw);
static void progress_fanout_end(ProgressFanout *f);

/* Run a planned SELECT or INSERT until its input ends, LIMIT is reached or
 * the stop flag is raised. */
static int run_plan(Session *s, const Plan *plan, const AstNode *stmt, const ResultSink *sink, SqlError *err)
{
    char why[512];
    if (plan_has(plan->root, PLAN_JOIN))
        return sql_errorf(err, stmt->loc,
                    "joins are planned (see EXPLAIN) but the runtime does not execute them yet");
    Query *q = query_new(plan, &s->settings, why, sizeof why);
    if (!q) {
        sql_errorf(err, stmt->loc, "%s", why);
        return SESSION_RUNTIME_ERROR;
    }
    char           qid[32];
    ProgressWriter pw;
    snprintf(qid, sizeof qid, "q%d", ++s->nqueries);
    memset(&pw, 0, sizeof pw);
    if (s->progress) {
        const char *src = first_source(plan->root);
        pw.f = s->progress;
        pw.id = qid;
        pw.source = src ? src : "values";
        pw.sink = plan->root->u.output.sink ? plan->root->u.output.sink : "console";
        query_on_progress(q, write_progress, &pw, 1000000);
    }
    ProgressFanout fan;
    progress_fanout_begin(&fan, s, q, pw.f ? &pw : NULL);
    int rc = query_run(q, sink, s->stop, why, sizeof why);
    progress_fanout_end(&fan);
    QueryProgress p;
    query_progress(q, &p);
    char    bad[5][256];
    int     nbad = 0;
    int64_t nbad_total = query_bad_records(q, bad, 5, &nbad);
    query_free(q);
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
    if (IS_A(stmt, AST_INSERT))
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
    if (st->analyze)
        return sql_errorf(err, st->hdr.loc,
                    "EXPLAIN ANALYZE needs a running query, and the streaming runtime is still being built: "
                    "use EXPLAIN for the plan");
    Plan *plan = plan_query(s, st->stmt, sink, err);
    if (!plan) return -1;
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
        Plan *plan = plan_query(s, n, sink, err);
        if (!plan) return -1;
        if (s->background && !s->check_only && IS_A(n, AST_INSERT) && !plan_has(plan->root, PLAN_JOIN))
            return bg_start(s, plan, n, sink, err);
        int rc = s->check_only ? 0 : run_plan(s, plan, n, sink, err);
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

/* ---- progress callback (session_set_progress_callback) -------------------- */

/* With a callback set, the query reports to progress_fanout every 250 ms; it
 * calls the callback each time and forwards to the --progress writer about
 * once a second (and the final figures at the end), as before. */
static void progress_fanout(void *ctx, const QueryProgress *p)
{
    ProgressFanout *f = ctx;
    f->fn(f->ctx, p);
    if (!f->pw) return;
    f->last = *p;
    f->pending = 1;
    if (p->elapsed_us >= f->next_file_us) {
        write_progress(f->pw, p);
        f->pending = 0;
        while (f->next_file_us <= p->elapsed_us) f->next_file_us += 1000000;
    }
}

static void progress_fanout_begin(ProgressFanout *f, Session *s, Query *q, ProgressWriter *pw)
{
    memset(f, 0, sizeof *f);
    if (!s->progress_cb) return;
    f->fn = s->progress_cb;
    f->ctx = s->progress_cb_ctx;
    f->pw = pw;
    f->next_file_us = 1000000;
    query_on_progress(q, progress_fanout, f, 250000);
}

static void progress_fanout_end(ProgressFanout *f)
{
    if (f->fn && f->pw && f->pending) write_progress(f->pw, &f->last);
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
