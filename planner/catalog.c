/*
 * catalog.c — streams, sinks and views, and the validation of their options.
 *
 * Connector options are checked against one table per connector (below):
 * each option has a kind (text, enum, count, number, boolean, duration) and
 * may be required; a row ending in ".*" accepts any key with that prefix
 * (properties.* go to librdkafka untouched). Adding an option is adding a
 * row. The table is also the source of the option list in docs/sql.md.
 */
#include "planner/catalog.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec/timefmt.h"
#include "planner/names.h"

/* ---- connector option tables ---------------------------------------------- */

typedef enum OptKind { OPT_TEXT, OPT_ENUM, OPT_COUNT, OPT_NUMBER, OPT_BOOL, OPT_DURATION, OPT_SIZE } OptKind;

typedef struct OptDef {
    const char *key;       /* "topic", or a prefix "properties.*"   */
    OptKind     kind;
    const char *values;    /* OPT_ENUM: "a|b|c"                     */
    int         required;
} OptDef;

typedef struct ConnectorDef {
    const char   *name;
    int           source, sink;
    int           has_format;   /* takes format = json|csv           */
    const OptDef *opts;         /* terminated by a NULL key          */
} ConnectorDef;

#define COMMON_FORMAT                                            \
    {"format", OPT_ENUM, "json|csv", 0},                         \
    {"format.on-error", OPT_ENUM, "skip|fail", 0},               \
    {"csv.header", OPT_BOOL, NULL, 0},                           \
    {"csv.delimiter", OPT_TEXT, NULL, 0}
#define COMMON_SOURCE {"late.sink", OPT_TEXT, NULL, 0}

static const OptDef kafka_opts[] = {
    {"connector", OPT_TEXT, NULL, 1},
    {"topic", OPT_TEXT, NULL, 1},
    {"properties.*", OPT_TEXT, NULL, 0},
    {"scan.startup.mode", OPT_ENUM, "earliest-offset|latest-offset|group-offsets|timestamp", 0},
    {"scan.startup.timestamp-millis", OPT_COUNT, NULL, 0},
    {"scan.topic-partition-discovery.interval", OPT_DURATION, NULL, 0},
    {"scan.bounded.mode", OPT_ENUM, "latest-offset|unbounded", 0},
    {"scan.rate-limit", OPT_COUNT, NULL, 0},                        /* sources only */
    {"scan.on-data-loss", OPT_ENUM, "fail|warn", 0},                /* sources only */
    {"table", OPT_BOOL, NULL, 0},   /* sources only: the topic is a table, keyed (docs/scaling.md) */
    {"table.follow", OPT_BOOL, NULL, 0},   /* a table: read on past its end at the start */
    {"table.key", OPT_TEXT, NULL, 0},      /* a table: the column its message keys name (tombstones) */
    {"key", OPT_TEXT, NULL, 0},
    COMMON_FORMAT,
    COMMON_SOURCE,
    {NULL, 0, NULL, 0},
};
static const OptDef file_opts[] = {
    {"connector", OPT_TEXT, NULL, 1},
    {"path", OPT_TEXT, NULL, 1},
    {"follow", OPT_BOOL, NULL, 0},
    {"max-record-size", OPT_SIZE, NULL, 0},                         /* sources only */
    {"sink.rolling-policy.file-size", OPT_SIZE, NULL, 0},          /* sinks only */
    {"sink.rolling-policy.rollover-interval", OPT_DURATION, NULL, 0},
    COMMON_FORMAT,
    COMMON_SOURCE,
    {NULL, 0, NULL, 0},
};
static const OptDef stdin_opts[] = {
    {"connector", OPT_TEXT, NULL, 1},
    {"max-record-size", OPT_SIZE, NULL, 0},
    COMMON_FORMAT,
    COMMON_SOURCE,
    {NULL, 0, NULL, 0},
};
static const OptDef stdout_opts[] = {
    {"connector", OPT_TEXT, NULL, 1},
    {"format", OPT_ENUM, "json|csv|table", 0},
    {NULL, 0, NULL, 0},
};
static const OptDef blackhole_opts[] = {
    {"connector", OPT_TEXT, NULL, 1},
    {NULL, 0, NULL, 0},
};
static const OptDef datagen_opts[] = {
    {"connector", OPT_TEXT, NULL, 1},
    {"rows-per-second", OPT_COUNT, NULL, 0},
    {"number-of-rows", OPT_COUNT, NULL, 0},
    {"seed", OPT_COUNT, NULL, 0},
    {"fields.*", OPT_TEXT, NULL, 0},
    COMMON_SOURCE,
    {NULL, 0, NULL, 0},
};
static const OptDef logs_opts[] = {
    {"connector", OPT_TEXT, NULL, 1},
    {"rate", OPT_COUNT, NULL, 0},
    {"count", OPT_COUNT, NULL, 0},
    {"users", OPT_COUNT, NULL, 0},
    {"seed", OPT_COUNT, NULL, 0},
    {"out-of-orderness", OPT_DURATION, NULL, 0},
    {"crash-ratio", OPT_NUMBER, NULL, 0},
    {"zipf", OPT_NUMBER, NULL, 0},
    {"partitions", OPT_COUNT, NULL, 0},
    {"start", OPT_TEXT, NULL, 0},
    COMMON_SOURCE,
    {NULL, 0, NULL, 0},
};
static const OptDef nexmark_opts[] = {
    {"connector", OPT_TEXT, NULL, 1},
    {"rate", OPT_COUNT, NULL, 0},
    {"count", OPT_COUNT, NULL, 0},
    {"seed", OPT_COUNT, NULL, 0},
    {"partitions", OPT_COUNT, NULL, 0},
    {"table", OPT_ENUM, "person|auction|bid|all", 0},
    COMMON_SOURCE,
    {NULL, 0, NULL, 0},
};

static const ConnectorDef connectors[] = {
    {"kafka", 1, 1, 1, kafka_opts},
    {"file", 1, 1, 1, file_opts},
    {"stdin", 1, 0, 1, stdin_opts},
    {"stdout", 0, 1, 0, stdout_opts},
    {"blackhole", 0, 1, 0, blackhole_opts},
    {"datagen", 1, 0, 0, datagen_opts},
    {"logs", 1, 0, 0, logs_opts},
    {"nexmark", 1, 0, 0, nexmark_opts},
};
#define NCONNECTORS (sizeof connectors / sizeof connectors[0])

static const char *const connector_names[] = {"kafka", "file", "stdin", "stdout", "blackhole", "datagen",
                                              "logs", "nexmark", NULL};

const char *const *catalog_connectors(void)
{
    return connector_names;
}

/* ---- the catalog ------------------------------------------------------------ */

struct Catalog {
    CatObject **objs;
    int         n, cap;
    char        hint[160];
};

Catalog *catalog_new(void)
{
    return calloc(1, sizeof(Catalog));
}

static void object_free(CatObject *o)
{
    if (!o) return;
    for (int i = 0; i < o->ncols; i++) free(o->cols[i].name);
    for (int i = 0; i < o->nopts; i++) {
        free(o->opts[i].key);
        free(o->opts[i].value);
    }
    free(o->cols);
    free(o->opts);
    free(o->name);
    free(o->connector);
    free(o->format);
    free(o->view_sql);
    free(o);
}

void catalog_free(Catalog *c)
{
    if (!c) return;
    for (int i = 0; i < c->n; i++) object_free(c->objs[i]);
    free(c->objs);
    free(c);
}

const CatObject *catalog_find(const Catalog *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->objs[i]->name, name) == 0) return c->objs[i];
    return NULL;
}

const CatObject *catalog_nth(const Catalog *c, CatKind kind, int i)
{
    for (int k = 0; k < c->n; k++)
        if (c->objs[k]->kind == kind && i-- == 0) return c->objs[k];
    return NULL;
}

const char *catalog_suggest(const Catalog *c, const char *name)
{
    Catalog     *m = (Catalog *)c;
    const char **names = malloc((c->n > 0 ? (size_t)c->n : 1) * sizeof *names);
    m->hint[0] = 0;
    if (!names) return m->hint;
    for (int i = 0; i < c->n; i++) names[i] = c->objs[i]->name;
    name_append_suggestion(m->hint, sizeof m->hint, name, names, (size_t)c->n);
    free(names);
    return m->hint;
}

const char *cat_kind_name(CatKind k)
{
    return k == CAT_STREAM ? "stream" : k == CAT_SINK ? "sink" : "view";
}

const char *cat_option(const CatObject *o, const char *key)
{
    for (int i = 0; i < o->nopts; i++)
        if (strcmp(o->opts[i].key, key) == 0) return o->opts[i].value;
    return NULL;
}

static int add_object(Catalog *c, CatObject *o)
{
    if (c->n == c->cap) {
        int         cap = c->cap ? c->cap * 2 : 16;
        CatObject **objs = realloc(c->objs, (size_t)cap * sizeof *objs);
        if (!objs) return -1;
        c->objs = objs;
        c->cap = cap;
    }
    c->objs[c->n++] = o;
    return 0;
}


static int oom(SqlError *err)
{
    return sql_errorf(err, -1, "out of memory");
}

/* Is the name free? */
static int check_new_name(Catalog *c, const char *name, int if_not_exists, int loc, int *skip,
                          SqlError *err)
{
    const CatObject *o = catalog_find(c, name);
    *skip = 0;
    if (!o) return 0;
    if (if_not_exists) {
        *skip = 1;
        return 0;
    }
    return sql_errorf(err, loc, "%s '%s' already exists", cat_kind_name(o->kind), name);
}

static SqlType map_type(AstTypeName t)
{
    switch (t) {
    case AST_TYPE_BOOLEAN: return TYPE_BOOLEAN;
    case AST_TYPE_BIGINT: return TYPE_BIGINT;
    case AST_TYPE_DOUBLE: return TYPE_DOUBLE;
    case AST_TYPE_VARCHAR: return TYPE_VARCHAR;
    case AST_TYPE_TIMESTAMP: return TYPE_TIMESTAMP;
    case AST_TYPE_INTERVAL: return TYPE_INTERVAL;
    }
    return TYPE_NULL;
}

static int copy_columns(CatObject *o, const AstList *cols, SqlError *err)
{
    if (cols->n == 0) return 0;
    o->cols = calloc((size_t)cols->n, sizeof *o->cols);
    if (!o->cols) return oom(err);
    for (int i = 0; i < cols->n; i++) {
        const AstColumnDef *cd = AST_AS(AstColumnDef, cols->items[i]);
        for (int k = 0; k < i; k++)
            if (strcmp(o->cols[k].name, cd->name) == 0)
                return sql_errorf(err, cd->hdr.loc, "column '%s' is declared twice", cd->name);
        o->cols[i].name = strdup(cd->name);
        if (!o->cols[i].name) return oom(err);
        o->cols[i].type = map_type(cd->type.name);
        o->cols[i].param = cd->type.param;
        o->ncols = i + 1;
    }
    return 0;
}

/* ---- option validation ---------------------------------------------------- */

static const ConnectorDef *find_connector(const char *name)
{
    for (size_t i = 0; i < NCONNECTORS; i++)
        if (strcasecmp(connectors[i].name, name) == 0) return &connectors[i];
    return NULL;
}

static const OptDef *find_opt(const ConnectorDef *cd, const char *key)
{
    for (const OptDef *d = cd->opts; d->key; d++) {
        size_t n = strlen(d->key);
        if (n > 2 && strcmp(d->key + n - 2, ".*") == 0) {
            if (strncasecmp(key, d->key, n - 1) == 0 && key[n - 1]) return d;
        } else if (strcasecmp(key, d->key) == 0) {
            return d;
        }
    }
    return NULL;
}

static int enum_has(const char *values, const char *v)
{
    const char *p = values;
    size_t      n = strlen(v);
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t      len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncasecmp(p, v, n) == 0) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

static void enum_list(const char *values, char *buf, size_t cap)
{
    size_t k = 0;
    for (const char *p = values; *p && k + 3 < cap; p++) {
        if (*p == '|') {
            buf[k++] = ',';
            buf[k++] = ' ';
        } else {
            buf[k++] = *p;
        }
    }
    buf[k] = 0;
}

static int check_value(const OptDef *d, const AstOption *opt, SqlError *err)
{
    const char *v = opt->value;
    char       *end;
    switch (d->kind) {
    case OPT_TEXT:
        return 0;
    case OPT_ENUM:
        if (enum_has(d->values, v)) return 0;
        {
            char list[256];
            enum_list(d->values, list, sizeof list);
            return sql_errorf(err, opt->value_loc, "option '%s' must be one of %s; got '%s'", opt->key,
                        list, v);
        }
    case OPT_COUNT: {
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (end == v || *end || errno || n < 0)
            return sql_errorf(err, opt->value_loc, "option '%s' needs a whole number >= 0; got '%s'",
                        opt->key, v);
        return 0;
    }
    case OPT_NUMBER: {
        errno = 0;
        double x = strtod(v, &end);
        if (end == v || *end || errno || !isfinite(x))
            return sql_errorf(err, opt->value_loc, "option '%s' needs a number; got '%s'", opt->key, v);
        return 0;
    }
    case OPT_BOOL:
        if (!strcasecmp(v, "true") || !strcasecmp(v, "false")) return 0;
        return sql_errorf(err, opt->value_loc, "option '%s' needs true or false; got '%s'", opt->key, v);
    case OPT_SIZE: {   /* bytes: a number > 0 with an optional unit B, K/KB/KiB, M…, G…, T… */
        errno = 0;
        double x = strtod(v, &end);
        while (*end == ' ') end++;
        char u = (char)tolower((unsigned char)*end);
        if (u && strchr("kmgt", u)) {
            end++;
            if (tolower((unsigned char)*end) == 'i') end++;
            if (tolower((unsigned char)*end) == 'b') end++;
        } else if (u == 'b') {
            end++;
        }
        if (end == v || *end || errno || !(x > 0))
            return sql_errorf(err, opt->value_loc, "option '%s' needs a size like '128MB' or '1 GiB'; got '%s'",
                              opt->key, v);
        return 0;
    }
    case OPT_DURATION: {
        int64_t us;
        if (interval_parse(v, strlen(v), &us) == 0 && us >= 0) return 0;
        return sql_errorf(err, opt->value_loc,
                    "option '%s' needs a duration like '5s' or '200ms'; got '%s'", opt->key, v);
    }
    }
    return 0;
}

/* Validate WITH (…) for a stream (want_source) or a sink, and copy it. */
static int copy_options(CatObject *o, const AstList *opts, int want_source, int stmt_loc,
                        SqlError *err)
{
    const AstOption    *conn = NULL;
    const char         *what = want_source ? "stream" : "sink";
    for (int i = 0; i < opts->n; i++) {
        const AstOption *op = AST_AS(AstOption, opts->items[i]);
        for (int k = 0; k < i; k++)
            if (strcasecmp(AST_AS(AstOption, opts->items[k])->key, op->key) == 0)
                return sql_errorf(err, op->hdr.loc, "option '%s' is given twice", op->key);
        if (strcasecmp(op->key, "connector") == 0) conn = op;
    }
    if (!conn) {
        char list[128] = "";
        for (size_t i = 0; i < NCONNECTORS; i++) {
            if (want_source ? !connectors[i].source : !connectors[i].sink) continue;
            if (list[0]) strcat(list, ", ");
            strcat(list, connectors[i].name);
        }
        return sql_errorf(err, stmt_loc, "a %s needs WITH (connector = '…'): one of %s", what, list);
    }
    const ConnectorDef *cd = find_connector(conn->value);
    if (!cd) {
        sql_errorf(err, conn->value_loc, "unknown connector '%s'", conn->value);
        name_append_suggestion(err->msg, sizeof err->msg, conn->value,
                               (const char *const *)connector_names, NCONNECTORS);
        return -1;
    }
    if (want_source && !cd->source)
        return sql_errorf(err, conn->hdr.loc, "connector '%s' can only be a sink, not a stream",
                    cd->name);
    if (!want_source && !cd->sink)
        return sql_errorf(err, conn->hdr.loc,
                    "connector '%s' can only be a stream source, not a sink (sinks: kafka, file, stdout)",
                    cd->name);

    o->opts = calloc((size_t)opts->n, sizeof *o->opts);
    if (!o->opts) return oom(err);
    for (int i = 0; i < opts->n; i++) {
        const AstOption *op = AST_AS(AstOption, opts->items[i]);
        const OptDef    *d = find_opt(cd, op->key);
        if (!d) {
            const char *names[32];
            size_t      n = 0;
            for (const OptDef *x = cd->opts; x->key && n < 32; x++)
                if (!strchr(x->key, '*')) names[n++] = x->key;
            sql_errorf(err, op->hdr.loc, "unknown option '%s' for connector '%s'", op->key, cd->name);
            name_append_suggestion(err->msg, sizeof err->msg, op->key, names, n);
            return -1;
        }
        if (check_value(d, op, err) != 0) return -1;
        if (want_source && strncasecmp(op->key, "sink.", 5) == 0)
            return sql_errorf(err, op->hdr.loc, "option '%s' is for sinks, not streams", op->key);
        if (!want_source && strncasecmp(op->key, "scan.", 5) == 0 && strcasecmp(cd->name, "kafka") == 0 &&
            strcasecmp(op->key, "scan.topic-partition-discovery.interval") == 0)
            return sql_errorf(err, op->hdr.loc, "option '%s' is for streams, not sinks", op->key);
        o->opts[i].key = strdup(op->key);
        o->opts[i].value = strdup(op->value);
        if (!o->opts[i].key || !o->opts[i].value) return oom(err);
        for (char *p = o->opts[i].key; *p && d->key[strlen(d->key) - 1] != '*'; p++)
            *p = (char)tolower((unsigned char)*p);
        o->nopts = i + 1;
    }
    for (const OptDef *d = cd->opts; d->key; d++)
        if (d->required && !cat_option(o, d->key))
            return sql_errorf(err, stmt_loc, "connector '%s' needs option '%s'", cd->name, d->key);
    o->connector = strdup(cd->name);
    if (!o->connector) return oom(err);
    if (cd->has_format || find_opt(cd, "format")) {
        const char *f = cat_option(o, "format");
        o->format = strdup(f ? f : "json");
        if (!o->format) return oom(err);
        for (char *p = o->format; *p; p++) *p = (char)tolower((unsigned char)*p);
    }
    return 0;
}

/* WATERMARK FOR c AS c [- INTERVAL d] */
static int copy_watermark(CatObject *o, const AstWatermark *wm, SqlError *err)
{
    o->wm_col = -1;
    if (!wm) return 0;
    int col = -1;
    for (int i = 0; i < o->ncols; i++)
        if (strcmp(o->cols[i].name, wm->column) == 0) col = i;
    if (col < 0) {
        const char **names = malloc((o->ncols > 0 ? (size_t)o->ncols : 1) * sizeof *names);
        if (!names) return oom(err);
        for (int i = 0; i < o->ncols; i++) names[i] = o->cols[i].name;
        sql_errorf(err, wm->hdr.loc, "WATERMARK FOR names unknown column '%s'", wm->column);
        name_append_suggestion(err->msg, sizeof err->msg, wm->column, names, (size_t)o->ncols);
        free(names);
        return -1;
    }
    if (o->cols[col].type != TYPE_TIMESTAMP)
        return sql_errorf(err, wm->hdr.loc,
                    "WATERMARK FOR needs a TIMESTAMP column; '%s' is %s", wm->column,
                    sql_type_name(o->cols[col].type));
    const AstNode *e = wm->expr;
    int64_t        delay = 0;
    int            ok = 0;
    if (IS_A(e, AST_COLUMN_REF)) {
        const AstColumnRef *cr = AST_AS(AstColumnRef, e);
        ok = !cr->qualifier && strcmp(cr->name, wm->column) == 0;
    } else if (IS_A(e, AST_BINARY) && AST_AS(AstBinary, e)->op == BOP_SUB) {
        const AstBinary *b = AST_AS(AstBinary, e);
        if (IS_A(b->left, AST_COLUMN_REF) && IS_A(b->right, AST_LITERAL)) {
            const AstColumnRef *cr = AST_AS(AstColumnRef, b->left);
            const AstLiteral   *lit = AST_AS(AstLiteral, b->right);
            if (!cr->qualifier && strcmp(cr->name, wm->column) == 0 &&
                lit->kind == LIT_INTERVAL && lit->ival >= 0) {
                ok = 1;
                delay = lit->ival;
            }
        }
    }
    if (!ok)
        return sql_errorf(err, e ? e->loc : wm->hdr.loc,
                    "WATERMARK expression must be '%s' or '%s - INTERVAL …' with a delay >= 0",
                    wm->column, wm->column);
    o->wm_col = col;
    o->wm_delay_us = delay;
    return 0;
}

int catalog_create_stream(Catalog *c, const AstCreateStream *st, SqlError *err)
{
    int skip;
    if (check_new_name(c, st->name, st->if_not_exists, st->hdr.loc, &skip, err)) return -1;
    if (skip) return 0;
    if (st->columns.n == 0)
        return sql_errorf(err, st->hdr.loc, "stream '%s' needs at least one column", st->name);
    CatObject *o = calloc(1, sizeof *o);
    if (!o) return oom(err);
    o->kind = CAT_STREAM;
    o->wm_col = -1;
    o->name = strdup(st->name);
    if (!o->name || copy_columns(o, &st->columns, err) || copy_watermark(o, st->watermark, err) ||
        copy_options(o, &st->options, 1, st->hdr.loc, err) || add_object(c, o)) {
        if (!o->name) oom(err);
        object_free(o);
        return -1;
    }
    return 0;
}

int catalog_create_sink(Catalog *c, const AstCreateSink *st, SqlError *err)
{
    int skip;
    if (check_new_name(c, st->name, st->if_not_exists, st->hdr.loc, &skip, err)) return -1;
    if (skip) return 0;
    CatObject *o = calloc(1, sizeof *o);
    if (!o) return oom(err);
    o->kind = CAT_SINK;
    o->wm_col = -1;
    o->name = strdup(st->name);
    if (!o->name || copy_columns(o, &st->columns, err) ||
        copy_options(o, &st->options, 0, st->hdr.loc, err) || add_object(c, o)) {
        if (!o->name) oom(err);
        object_free(o);
        return -1;
    }
    return 0;
}

int catalog_create_view(Catalog *c, const AstCreateView *st, SqlError *err)
{
    int skip;
    if (check_new_name(c, st->name, st->if_not_exists, st->hdr.loc, &skip, err)) return -1;
    if (skip) return 0;
    CatObject *o = calloc(1, sizeof *o);
    if (!o) return oom(err);
    o->kind = CAT_VIEW;
    o->wm_col = -1;
    o->name = strdup(st->name);
    o->view_sql = ast_to_sql((const AstNode *)st->query);
    if (!o->name || !o->view_sql || add_object(c, o)) {
        object_free(o);
        return oom(err);
    }
    return 0;
}

int catalog_drop(Catalog *c, const AstDrop *st, SqlError *err)
{
    CatKind want = st->what == OBJ_SINK ? CAT_SINK : st->what == OBJ_VIEW ? CAT_VIEW : CAT_STREAM;
    for (int i = 0; i < c->n; i++) {
        CatObject *o = c->objs[i];
        if (strcmp(o->name, st->name) != 0) continue;
        if (o->kind != want)
            return sql_errorf(err, st->hdr.loc, "'%s' is a %s, not a %s: use DROP %s", st->name,
                        cat_kind_name(o->kind), cat_kind_name(want),
                        o->kind == CAT_STREAM ? "STREAM" : o->kind == CAT_SINK ? "SINK" : "VIEW");
        object_free(o);
        memmove(&c->objs[i], &c->objs[i + 1], (size_t)(c->n - i - 1) * sizeof *c->objs);
        c->n--;
        return 0;
    }
    if (st->if_exists) return 0;
    sql_errorf(err, st->hdr.loc, "%s '%s' does not exist", cat_kind_name(want), st->name);
    const char *hint = catalog_suggest(c, st->name);
    size_t      used = strlen(err->msg);
    snprintf(err->msg + used, sizeof err->msg - used, "%s", hint);
    return -1;
}
