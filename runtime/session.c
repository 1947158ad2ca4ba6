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
 *   SELECT, INSERT                 → planned (so every bind error shows),
 *                                    then run by the runtime — which is not
 *                                    built yet, and says so
 *   STOP QUERY, DESCRIBE QUERY     → no query runs in the background yet
 *
 * Rows are delivered as batches of VARCHAR vectors (exec/batch.h) through the
 * caller's ResultSink.
 */
#include "runtime/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/timefmt.h"
#include "exec/vector.h"
#include "planner/catalog.h"
#include "planner/planner.h"
#include "planner/settings.h"

struct Session {
    Catalog *catalog;
    Settings settings;
    int      ncores;
    int      check_only;
};

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

void session_free(Session *s)
{
    if (!s) return;
    catalog_free(s->catalog);
    free(s);
}

int session_set(Session *s, const char *key, const char *value, SqlError *err)
{
    err->loc = -1;
    return settings_set(&s->settings, key, value, err);
}

static int errf(SqlError *err, int loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(SqlError *err, int loc, const char *fmt, ...)
{
    va_list ap;
    err->loc = loc;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
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
    if (sink && sink->on_columns && sink->on_columns(sink->ctx, ncols, names, types) != 0)
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
        return t.failed ? errf(err, st->hdr.loc, "out of memory") : 0;
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
        return t.failed ? errf(err, st->hdr.loc, "out of memory") : 0;
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
        return t.failed ? errf(err, st->hdr.loc, "out of memory") : 0;
    }
    case OBJ_QUERY: {
        /* No query runs in the background yet: the list is truly empty. */
        static const char *const names[] = {"id", "status", "sink", "query"};
        if (text_begin(&t, sink, 4, names)) break;
        text_end(&t, "SHOW QUERIES");
        return 0;
    }
    }
    return errf(err, st->hdr.loc, "out of memory");
}

static int describe(Session *s, const AstDescribe *st, const ResultSink *sink, SqlError *err)
{
    if (st->query) return errf(err, st->hdr.loc, "no query with id '%s'", st->name);
    const CatObject *o = catalog_find(s->catalog, st->name);
    if (!o)
        return errf(err, st->hdr.loc, "no stream, sink or view named '%s'%s", st->name,
                    catalog_suggest(s->catalog, st->name));
    TextResult t;
    if (o->kind == CAT_VIEW) {
        static const char *const names[] = {"name", "query"};
        if (text_begin(&t, sink, 2, names)) return errf(err, st->hdr.loc, "out of memory");
        const char *row[] = {o->name, o->view_sql};
        text_row(&t, row);
        text_end(&t, "DESCRIBE");
        return 0;
    }
    static const char *const names[] = {"column", "type", "watermark"};
    if (text_begin(&t, sink, 3, names)) return errf(err, st->hdr.loc, "out of memory");
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
    return t.failed ? errf(err, st->hdr.loc, "out of memory") : 0;
}

/* ---- SET / RESET ---------------------------------------------------------- */

static int set(Session *s, const AstSet *st, const ResultSink *sink, SqlError *err)
{
    err->loc = st->hdr.loc;
    if (!st->key) {
        static const char *const names[] = {"key", "value", "description"};
        TextResult t;
        if (text_begin(&t, sink, 3, names)) return errf(err, st->hdr.loc, "out of memory");
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
        return errf(err, v ? v->hdr.loc : st->hdr.loc, "SET %s needs a value", st->key);
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

static int explain(Session *s, const AstExplain *st, const ResultSink *sink, SqlError *err)
{
    if (st->analyze)
        return errf(err, st->hdr.loc,
                    "EXPLAIN ANALYZE needs a running query, and the streaming runtime is still being built: "
                    "use EXPLAIN for the plan");
    Plan *plan = plan_query(s, st->stmt, sink, err);
    if (!plan) return -1;
    char *text = st->json ? explain_json(plan) : explain_text(plan);
    plan_free(plan);
    if (!text) return errf(err, st->hdr.loc, "out of memory");
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
        return errf(err, n->loc, "no running query with id '%s'", AST_AS(AstStopQuery, n)->id);
    case AST_EXPLAIN:
        return explain(s, AST_AS(AstExplain, n), sink, err);
    case AST_SELECT:
    case AST_INSERT: {
        Plan *plan = plan_query(s, n, sink, err);
        if (!plan) return -1;
        plan_free(plan);
        if (s->check_only) return 0;
        return errf(err, n->loc,
                    "%s cannot run in this build yet: the query is valid and planned (see EXPLAIN), "
                    "but the streaming runtime is still being built",
                    ast_stmt_name(n));
    }
    default:
        return errf(err, n->loc, "unexpected statement");
    }
}

int session_exec(Session *s, const char *text, size_t len, const ResultSink *sink, SqlError *err)
{
    SqlParse *p = sql_parse(text, len);
    if (!p) return errf(err, -1, "out of memory");
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
