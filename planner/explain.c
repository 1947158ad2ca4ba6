/*
 * explain.c — EXPLAIN as a text DAG and as JSON (see explain.h).
 */
#include "planner/explain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "exec/func.h"
#include "exec/timefmt.h"
#include "exec/vector.h"

/* ---- a growing string ---------------------------------------------------------- */

typedef struct Buf {
    char  *p;
    size_t n, cap;
    int    oom;
    const char *const *notes;   /* explain_text_notes: per stage, or NULL */
} Buf;

static void bput(Buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void bputs(Buf *b, const char *s)
{
    bput(b, s, strlen(s));
}

static void bprintf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(Buf *b, const char *fmt, ...)
{
    char    tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        bput(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bput(b, big, (size_t)n);
    free(big);
}

static char *bdone(Buf *b)
{
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    if (!b->p) return strdup("");
    return b->p;
}

/* ---- expressions as SQL -------------------------------------------------------- */

static int needs_quotes(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9')) return 1;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return 1;
    return 0;
}

static void put_name(Buf *b, const char *s)
{
    if (!needs_quotes(s)) {
        bputs(b, s);
        return;
    }
    bputs(b, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"') bputs(b, "\"");
        bput(b, p, 1);
    }
    bputs(b, "\"");
}

static void put_string(Buf *b, const char *p, size_t n)
{
    bputs(b, "'");
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\'') bputs(b, "'");
        bput(b, p + i, 1);
    }
    bputs(b, "'");
}

static void put_value(Buf *b, const Value *v)
{
    char buf[128];
    if (v->is_null) {
        bputs(b, "NULL");
        return;
    }
    switch (v->type) {
    case TYPE_BOOLEAN: bputs(b, v->u.b ? "TRUE" : "FALSE"); return;
    case TYPE_BIGINT: bprintf(b, "%" PRId64, v->u.i); return;
    case TYPE_DOUBLE: {
        Vector tmp;
        if (vector_init(&tmp, TYPE_DOUBLE, 1) == 0) {
            vector_f64(&tmp)[0] = v->u.d;
            vector_format_value(&tmp, 0, buf, sizeof buf);
            vector_destroy(&tmp);
            bputs(b, buf);
        }
        return;
    }
    case TYPE_VARCHAR: put_string(b, v->u.s.ptr, v->u.s.len); return;
    case TYPE_TIMESTAMP:
        ts_format(v->u.i, buf, sizeof buf, 0);
        bputs(b, "TIMESTAMP ");
        put_string(b, buf, strlen(buf));
        return;
    case TYPE_INTERVAL:
        interval_format(v->u.i, buf, sizeof buf);
        bputs(b, "INTERVAL ");
        put_string(b, buf, strlen(buf));
        return;
    default: bputs(b, "NULL"); return;
    }
}

/* the names of an expression's input columns; nleft >= 0: a join's left ++
 * right columns, printed qualified (see put_column) */
typedef struct ExprNames {
    const Schema *s;
    int           nleft;
} ExprNames;

static void put_expr(Buf *b, const Expr *e, const ExprNames *in, int parent_prec);

/* precedence for parenthesizing: OR 1, AND 2, NOT 3, comparison 4, + - || 5, * / % 6, unary 7 */
static int prec(const Expr *e)
{
    switch (e->op) {
    case EXPR_OR: return 1;
    case EXPR_AND: return 2;
    case EXPR_NOT: return 3;
    case EXPR_IS_NULL:
    case EXPR_IN: return 4;
    case EXPR_FUNC:
        if (!func_is_operator(e->fn)) return 9;
        if (e->nargs == 1) return 7;
        switch (e->fn) {
        case FN_MUL:
        case FN_DIV:
        case FN_MOD: return 6;
        case FN_ADD:
        case FN_SUB:
        case FN_CONCAT_OP: return 5;
        default: return 4;   /* comparisons, LIKE, SIMILAR TO */
        }
    default: return 9;
    }
}

/* Column c of a join's output, qualified so both sides' columns can be told
 * apart: by its stream name or alias when the other side has no column of that
 * qualifier, else by left. / right. */
static void put_join_column(Buf *b, const ExprNames *in, int c)
{
    const Schema *s = in->s;
    const char   *q = s->cols[c].qualifier;
    int           left = c < in->nleft;
    for (int k = left ? in->nleft : 0; q && k < (left ? s->ncols : in->nleft); k++)
        if (s->cols[k].qualifier && !strcmp(s->cols[k].qualifier, q)) q = NULL;
    if (q) put_name(b, q);
    else bputs(b, left ? "left" : "right");
    bputs(b, ".");
    put_name(b, s->cols[c].name);
}

static void put_expr(Buf *b, const Expr *e, const ExprNames *in, int parent_prec)
{
    int p = prec(e);
    int paren = p < parent_prec;
    if (paren) bputs(b, "(");
    switch (e->op) {
    case EXPR_COLUMN:
        if (in && in->s && e->col >= 0 && e->col < in->s->ncols) {
            if (in->nleft >= 0) put_join_column(b, in, e->col);
            else put_name(b, in->s->cols[e->col].name);
        } else {
            bprintf(b, "#%d", e->col);
        }
        break;
    case EXPR_CONST:
        put_value(b, &e->value);
        break;
    case EXPR_AND:
    case EXPR_OR:
        for (int i = 0; i < e->nargs; i++) {
            if (i) bputs(b, e->op == EXPR_AND ? " AND " : " OR ");
            put_expr(b, e->args[i], in, p + 1);
        }
        break;
    case EXPR_NOT:
        bputs(b, "NOT ");
        put_expr(b, e->args[0], in, p);
        break;
    case EXPR_IS_NULL:
        put_expr(b, e->args[0], in, p + 1);
        bputs(b, e->negated ? " IS NOT NULL" : " IS NULL");
        break;
    case EXPR_IN:
        put_expr(b, e->args[0], in, p + 1);
        bputs(b, e->negated ? " NOT IN (" : " IN (");
        for (int i = 1; i < e->nargs; i++) {
            if (i > 1) bputs(b, ", ");
            put_expr(b, e->args[i], in, 0);
        }
        bputs(b, ")");
        break;
    case EXPR_CAST:
        bputs(b, "CAST(");
        put_expr(b, e->args[0], in, 0);
        bprintf(b, " AS %s)", sql_type_name(e->type));
        break;
    case EXPR_CASE: {
        bputs(b, "CASE");
        int pairs = (e->nargs - (e->has_else ? 1 : 0)) / 2;
        for (int i = 0; i < pairs; i++) {
            bputs(b, " WHEN ");
            put_expr(b, e->args[2 * i], in, 0);
            bputs(b, " THEN ");
            put_expr(b, e->args[2 * i + 1], in, 0);
        }
        if (e->has_else) {
            bputs(b, " ELSE ");
            put_expr(b, e->args[e->nargs - 1], in, 0);
        }
        bputs(b, " END");
        break;
    }
    case EXPR_FUNC:
        if (func_is_operator(e->fn) && e->nargs == 2) {
            put_expr(b, e->args[0], in, p);
            bprintf(b, " %s ", func_operator(e->fn));
            put_expr(b, e->args[1], in, p + 1);
        } else if (func_is_operator(e->fn) && e->nargs == 1) {
            bputs(b, func_operator(e->fn));
            put_expr(b, e->args[0], in, p);
        } else {
            const char *name = func_name(e->fn);
            for (const char *c = name; *c; c++) {
                char u = (*c >= 'a' && *c <= 'z') ? (char)(*c - 32) : *c;
                bput(b, &u, 1);
            }
            bputs(b, "(");
            for (int i = 0; i < e->nargs; i++) {
                if (i) bputs(b, ", ");
                put_expr(b, e->args[i], in, 0);
            }
            bputs(b, ")");
        }
        break;
    }
    if (paren) bputs(b, ")");
}

char *expr_to_sql(const Expr *e, const Schema *in)
{
    Buf       b = {0};
    ExprNames names = {in, -1};
    put_expr(&b, e, &names, 0);
    return bdone(&b);
}

/* a join condition over left ++ right (nleft left columns), qualified */
static char *join_expr_to_sql(const Expr *e, const Schema *out, int nleft)
{
    Buf       b = {0};
    ExprNames names = {out, nleft};
    put_expr(&b, e, &names, 0);
    return bdone(&b);
}

/* ---- text --------------------------------------------------------------------- */

static void put_duration(Buf *b, int64_t us)
{
    char buf[INTERVAL_FORMAT_MAX];
    interval_format(us, buf, sizeof buf);
    bputs(b, buf);
}

static void put_cols(Buf *b, const Schema *s, const int *idx, int n)
{
    for (int i = 0; i < n; i++) {
        if (i) bputs(b, ", ");
        int c = idx ? idx[i] : i;
        if (c >= 0 && c < s->ncols) put_name(b, s->cols[c].name);
        else bprintf(b, "#%d", c);
    }
}

static const char *part_name(Partitioning p)
{
    return p == PART_HASH ? "hash" : p == PART_SINGLE ? "single" : p == PART_BROADCAST ? "broadcast" : "forward";
}

static void put_exchange(Buf *b, const PlanNode *x)
{
    if (x->u.exchange.part == PART_HASH) {
        bputs(b, "hash(");
        put_cols(b, &x->input->out, x->u.exchange.keys, x->u.exchange.nkeys);
        bputs(b, ")");
    } else {
        bputs(b, part_name(x->u.exchange.part));
    }
}

static void put_window_spec(Buf *b, const PlanNode *n)
{
    const char *tc = n->input->out.cols[n->u.window.time_col].name;
    bprintf(b, "%s(", window_kind_name(n->u.window.kind));
    put_name(b, tc);
    bputs(b, ", ");
    switch (n->u.window.kind) {
    case WINDOW_TUMBLE: put_duration(b, n->u.window.size_us); break;
    case WINDOW_HOP:
    case WINDOW_CUMULATE:
        put_duration(b, n->u.window.slide_us);
        bputs(b, ", ");
        put_duration(b, n->u.window.size_us);
        break;
    case WINDOW_SESSION: put_duration(b, n->u.window.gap_us); break;
    }
    bputs(b, ")");
}

static const char *agg_mode_name(AggMode m)
{
    return m == AGG_PARTIAL ? "partial" : m == AGG_FINAL ? "final" : "single-phase";
}

/* One operator: its first line after the name, then continuation lines. */
static void put_op(Buf *b, const Plan *p, const PlanNode *n, const char *prefix)
{
    char cont[600];
    snprintf(cont, sizeof cont, "%.500s│            ", prefix);
#define NEWLINE() bprintf(b, "\n%s", cont)
    bprintf(b, "%s│ %-11s", prefix, plan_kind_name(n->kind));
    switch (n->kind) {
    case PLAN_SCAN: {
        bputs(b, n->u.scan.stream);
        if (n->u.scan.alias) bprintf(b, " AS %s", n->u.scan.alias);
        const char *conn = n->u.scan.connector;
        int gen = !strcmp(conn, "logs") || !strcmp(conn, "datagen") || !strcmp(conn, "nexmark");
        bprintf(b, " · %s%s", conn, gen ? " generator" : "");
        for (int i = 0; i < n->u.scan.nopts; i++) {
            const char *k = n->u.scan.opt_keys[i];
            if (!strcmp(k, "topic") || !strcmp(k, "path")) {
                bprintf(b, " %s ", k);
                put_string(b, n->u.scan.opt_values[i], strlen(n->u.scan.opt_values[i]));
            }
        }
        if (n->u.scan.format) bprintf(b, " · %s", n->u.scan.format);
        if (p->group) {
            /* deployment.group: Kafka spreads the partitions over the
             * instances; a plan without a repartition topic keeps its
             * offsets in a group of their own (docs/scaling.md); a join's
             * table is read whole by each */
            if (p->stages && n->stage >= 0 && n->stage < p->nstages && plan_stage_table(&p->stages[n->stage])) {
                NEWLINE();
                bputs(b, "read whole by every instance of the group");
            } else if (!strcasecmp(n->u.scan.connector, "kafka")) {
                NEWLINE();
                bprintf(b, "consumer group %s", p->group);
                if (!plan_group_topic(p)) bprintf(b, " · offsets in group %s-offsets", p->group);
            }
        }
        NEWLINE();
        bputs(b, "reads ");
        put_cols(b, &n->out, NULL, n->out.ncols);
        bprintf(b, " (%d of %d columns)", n->out.ncols, n->u.scan.nsource_cols);
        if (n->u.scan.filter) {
            char *f = expr_to_sql(n->u.scan.filter, &n->out);
            NEWLINE();
            bprintf(b, "filter %s", f ? f : "?");
            free(f);
        }
        for (int i = 0; i < n->u.scan.nopts; i++) {
            /* a Kafka table's deletes (docs/scaling.md, 'table.key') */
            if (strcasecmp(n->u.scan.opt_keys[i], "table.key") != 0) continue;
            NEWLINE();
            bputs(b, "tombstones delete the row whose ");
            put_name(b, n->u.scan.opt_values[i]);
            bputs(b, " is their key");
        }
        if (n->u.scan.wm_col >= 0) {
            NEWLINE();
            bputs(b, "watermark ");
            put_name(b, n->out.cols[n->u.scan.wm_col].name);
            bputs(b, " - ");
            put_duration(b, n->u.scan.wm_delay_us);
        }
        break;
    }
    case PLAN_VALUES:
        bputs(b, "one row");
        break;
    case PLAN_FILTER: {
        char *f = expr_to_sql(n->u.filter.pred, &n->input->out);
        bputs(b, f ? f : "?");
        free(f);
        break;
    }
    case PLAN_PROJECT:
        for (int i = 0; i < n->out.ncols; i++) {
            const Expr *e = n->u.project.exprs[i];
            if (i) bputs(b, ", ");
            if (e->op == EXPR_COLUMN && !strcmp(n->input->out.cols[e->col].name, n->out.cols[i].name)) {
                put_name(b, n->out.cols[i].name);
                continue;
            }
            char *s = expr_to_sql(e, &n->input->out);
            bprintf(b, "%s AS ", s ? s : "?");
            put_name(b, n->out.cols[i].name);
            free(s);
        }
        break;
    case PLAN_WINDOW:
        put_window_spec(b, n);
        bputs(b, " → window_start, window_end, window_time");
        break;
    case PLAN_AGGREGATE: {
        bputs(b, agg_mode_name(n->u.agg.mode));
        if (n->u.agg.nkeys) {
            bputs(b, " · group by ");
            put_cols(b, &n->input->out, n->u.agg.keys, n->u.agg.nkeys);
        }
        if (n->u.agg.naggs) {
            NEWLINE();
            for (int j = 0; j < n->u.agg.naggs; j++) {
                if (j) bputs(b, ", ");
                bputs(b, n->u.agg.aggs[j].text);
            }
        }
        if (n->u.agg.mode != AGG_PARTIAL) {
            NEWLINE();
            if (n->u.agg.windowed) {
                bprintf(b, "%s window · ", window_kind_name(n->u.agg.wkind));
                if (n->u.agg.emit == EMIT_MODE_FINAL)
                    bputs(b, "emit final rows when the watermark passes window_end");
                else
                    bputs(b, "emit changes every emit.interval");
                if (n->u.agg.late_sink) {
                    NEWLINE();
                    bprintf(b, "late rows → sink %s", n->u.agg.late_sink);
                }
            } else {
                bputs(b, "no window · emit changes every emit.interval · state grows with the groups");
            }
            if (p->group && plan_agg_changelog(n) && plan_group_topic(p)) {
                /* deployment.group: the state moves with the partitions
                 * through a changelog topic (docs/scaling.md) */
                NEWLINE();
                bprintf(b, "group: state in changelog topic %s-%d-changelog (%d partitions); a partition's "
                           "next owner restores it from there", p->group, n->stage, p->group_partitions);
            }
        }
        if (n->u.agg.retract || n->u.agg.update_before) {
            NEWLINE();
            if (n->u.agg.retract) bputs(b, "input is a changelog: -U/-D rows take back what they counted");
            if (n->u.agg.retract && n->u.agg.update_before) bputs(b, " · ");
            if (n->u.agg.update_before) bputs(b, "sends each group's old row (-U) before its new one (+U)");
        }
        break;
    }
    case PLAN_JOIN: {
        static const char *const kinds[] = {"inner", "left outer", "right outer", "full outer"};
        static const char *const flavors[] = {"window join", "interval join", "regular join"};
        int       nl = n->input->out.ncols;
        ExprNames names = {&n->out, nl};   /* columns qualified: l.k = r.k */
        bprintf(b, "%s %s · on ", kinds[n->u.join.kind], flavors[n->u.join.flavor]);
        for (int k = 0; k < n->u.join.nkeys; k++) {
            if (k) bputs(b, " AND ");
            put_join_column(b, &names, n->u.join.lkeys[k]);
            bputs(b, " = ");
            put_join_column(b, &names, nl + n->u.join.rkeys[k]);
        }
        if (n->u.join.flavor == JOIN_INTERVAL) {
            NEWLINE();
            put_join_column(b, &names, n->u.join.ltime);
            bputs(b, " - ");
            put_join_column(b, &names, nl + n->u.join.rtime);
            bputs(b, " between ");
            put_duration(b, n->u.join.lower_us);
            bputs(b, " and ");
            put_duration(b, n->u.join.upper_us);
            bputs(b, " · state kept until the other side's watermark passes");
            int64_t d = plan_interval_lag(n);   /* (runtime/query.c, join_out_wm) */
            int     agg = p->group && plan_join_aggregate(p, n);
            if (p->group && !agg) {
                /* deployment.group: a joined row goes out once the
                 * watermark says it is final, so a partition that moves
                 * replays only rows that can still join (runtime/query.c) */
                NEWLINE();
                bputs(b, "group: a joined row is emitted when the watermark passes the later of its two times");
                if (n->u.join.kind != PJOIN_INNER) bputs(b, ", a padded one when its row expires");
            } else if (d > 0) {
                NEWLINE();
                bputs(b, "the watermark after it lags its inputs' by ");
                put_duration(b, d);
                bputs(b, " (a pair's times can lie that far behind)");
            }
            if (agg) {
                /* the aggregate's windows are what a moved partition replays */
                NEWLINE();
                bputs(b, "group: joined rows go to the aggregation at once; its windows are emitted as they close");
            }
        } else if (n->u.join.flavor == JOIN_WINDOW) {
            NEWLINE();
            bputs(b, "state per window, freed when the watermark passes window_end");
            if (p->group) {
                /* deployment.group: rows of a window go out once it closes,
                 * so a partition that moves rebuilds only open windows */
                NEWLINE();
                bputs(b, "group: a window's joined rows are emitted when the watermark passes window_end");
            }
        } else if (n->u.join.table) {
            NEWLINE();
            bprintf(b, "the %s input is a table%s: read whole%s, before the first row of the other · state: "
                       "the table",
                    n->u.join.table == 1 ? "right" : "left",
                    n->u.join.table_topic == 2 ? " (the topic's last row per join key, followed: later records update it)"
                    : n->u.join.table_topic ? " (the topic's last row per join key)" : "",
                    p->group ? " by every instance" : "");
        } else {
            NEWLINE();
            bputs(b, "no time bound · emits changes · ");
            if (n->u.join.ltime >= 0 && n->u.join.rtime >= 0) {
                /* the event-time columns a state.ttl expires rows by */
                bputs(b, "state bounded by state.ttl on ");
                put_join_column(b, &names, n->u.join.ltime);
                bputs(b, " and ");
                put_join_column(b, &names, nl + n->u.join.rtime);
            } else {
                bputs(b, "state kept forever (no watermark column on each side for state.ttl)");
            }
        }
        if (n->u.join.residual) {
            char *r = join_expr_to_sql(n->u.join.residual, &n->out, nl);
            NEWLINE();
            bprintf(b, "and %s", r ? r : "?");
            free(r);
        }
        break;
    }
    case PLAN_LIMIT:
        bprintf(b, "%" PRId64 " rows", n->u.limit.n);
        break;
    default:
        break;
    }
#undef NEWLINE
    bputs(b, "\n");
}

/* The operators of a stage, walking the plan tree from its top operator
 * down: a chain prints one operator per line; a join prints its two inputs
 * as branches; an exchange ends the stage and opens the stage below it. */
static void put_chain(Buf *b, const Plan *p, const PlanNode *n, const char *prefix, int tasks);

static void put_stage_head(Buf *b, const Plan *p, int sid, const char *prefix)
{
    const Stage *s = &p->stages[sid];
    bprintf(b, "%s└─ Stage %d · %d task%s\n", prefix, s->id, s->parallelism, s->parallelism == 1 ? "" : "s");
    const char *note = b->notes ? b->notes[sid] : NULL;
    while (note && *note) {   /* each line of the stage's note, under its header */
        size_t len = strcspn(note, "\n");
        bprintf(b, "%s   │ » %.*s\n", prefix, (int)len, note);
        note += len;
        if (*note) note++;
    }
}

/* An input of an operator: an exchange (with the stage below it), or, for a
 * join whose input is computed in the same stage, a labelled branch. */
static void put_input(Buf *b, const Plan *p, const PlanNode *n, const char *prefix, int last, int tasks,
                      const char *label)
{
    char cont[600];
    snprintf(cont, sizeof cont, "%.500s%s", prefix, last ? "   " : "│  ");
    if (n->kind == PLAN_EXCHANGE) {
        const Stage *up = &p->stages[n->stage];
        bprintf(b, "%s%s %-10s", prefix, last ? "└─" : "├─", "Exchange");
        put_exchange(b, n);
        bprintf(b, " · %d → %d task%s", up->parallelism, tasks, tasks == 1 ? "" : "s");
        /* deployment.group: across instances this exchange is a Kafka topic,
         * named after the stage that writes it */
        if (plan_group_topic(p) == up || (up && plan_group_topic_side(p, 1) == up))
            bprintf(b, " · topic %s-%d-repartition (%d partitions)", p->group, plan_group_topic(p)->id,
                    p->group_partitions);
        else if (p->group)
            bputs(b, " · within each instance");
        bprintf(b, "\n");
        put_stage_head(b, p, up->id, cont);
        char inner[700];
        snprintf(inner, sizeof inner, "%.500s   ", cont);
        put_chain(b, p, n->input, inner, up->parallelism);
        return;
    }
    bprintf(b, "%s%s %s\n", prefix, last ? "└─" : "├─", label);
    put_chain(b, p, n, cont, tasks);
}

static void put_chain(Buf *b, const Plan *p, const PlanNode *n, const char *prefix, int tasks)
{
    while (n) {
        if (n->kind == PLAN_EXCHANGE) {
            put_input(b, p, n, prefix, 1, tasks, "");
            return;
        }
        put_op(b, p, n, prefix);
        if (n->right) {
            put_input(b, p, n->input, prefix, 0, tasks, "left input");
            put_input(b, p, n->right, prefix, 1, tasks, "right input");
            return;
        }
        n = n->input;
    }
}

static const char *emit_text(EmitMode m)
{
    return m == EMIT_MODE_FINAL ? "emit final" : m == EMIT_MODE_CHANGES ? "emit changes" : "append";
}

static const char *emit_name(EmitMode m)
{
    return m == EMIT_MODE_FINAL ? "final" : m == EMIT_MODE_CHANGES ? "changes" : "append";
}

char *explain_text(const Plan *p)
{
    return explain_text_notes(p, NULL);
}

char *explain_text_notes(const Plan *p, const char *const *notes)
{
    Buf b = {0};
    b.notes = notes;
    const PlanNode *out = p->root;
    if (out->u.output.sink) {
        bprintf(&b, "Output: sink %s · %s", out->u.output.sink, out->u.output.connector);
        for (int i = 0; i < out->u.output.nopts; i++) {
            const char *k = out->u.output.opt_keys[i];
            if (!strcmp(k, "topic") || !strcmp(k, "path")) {
                bprintf(&b, " %s ", k);
                put_string(&b, out->u.output.opt_values[i], strlen(out->u.output.opt_values[i]));
            }
        }
        if (out->u.output.format) bprintf(&b, " · %s", out->u.output.format);
    } else {
        bputs(&b, "Output: console");
    }
    bprintf(&b, " · %s · columns ", emit_text(p->emit));
    put_cols(&b, &out->out, NULL, out->out.ncols);
    bputs(&b, "\n");
    put_stage_head(&b, p, p->nstages - 1, "");
    put_chain(&b, p, p->root->input, "   ", p->stages[p->nstages - 1].parallelism);
    return bdone(&b);
}

/* ---- JSON ---------------------------------------------------------------------- */

static json_t *cols_json(const Schema *s, const int *idx, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        int c = idx ? idx[i] : i;
        json_array_append_new(a, json_string(c >= 0 && c < s->ncols ? s->cols[c].name : "?"));
    }
    return a;
}

static json_t *schema_json(const Schema *s)
{
    json_t *a = json_array();
    for (int i = 0; i < s->ncols; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "name", s->cols[i].name, "type",
                                           sql_type_name(s->cols[i].type)));
    return a;
}

static json_t *expr_json(const Expr *e, const Schema *in)
{
    char   *s = expr_to_sql(e, in);
    json_t *j = json_string(s ? s : "?");
    free(s);
    return j;
}

static json_t *op_json(const PlanNode *n)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(n->id));
    json_object_set_new(o, "operator", json_string(plan_kind_name(n->kind)));
    switch (n->kind) {
    case PLAN_SCAN: {
        json_object_set_new(o, "stream", json_string(n->u.scan.stream));
        json_object_set_new(o, "connector", json_string(n->u.scan.connector));
        if (n->u.scan.format) json_object_set_new(o, "format", json_string(n->u.scan.format));
        json_t *opts = json_object();
        for (int i = 0; i < n->u.scan.nopts; i++)
            json_object_set_new(opts, n->u.scan.opt_keys[i], json_string(n->u.scan.opt_values[i]));
        json_object_set_new(o, "options", opts);
        json_object_set_new(o, "columns", cols_json(&n->out, NULL, n->out.ncols));
        json_object_set_new(o, "sourceColumns", json_integer(n->u.scan.nsource_cols));
        if (n->u.scan.filter) json_object_set_new(o, "filter", expr_json(n->u.scan.filter, &n->out));
        if (n->u.scan.wm_col >= 0)
            json_object_set_new(o, "watermark",
                                json_pack("{s:s, s:I}", "column", n->out.cols[n->u.scan.wm_col].name,
                                          "delayMs", (json_int_t)(n->u.scan.wm_delay_us / 1000)));
        break;
    }
    case PLAN_FILTER:
        json_object_set_new(o, "predicate", expr_json(n->u.filter.pred, &n->input->out));
        break;
    case PLAN_PROJECT: {
        json_t *a = json_array();
        for (int i = 0; i < n->out.ncols; i++)
            json_array_append_new(a, json_pack("{s:s, s:o}", "name", n->out.cols[i].name, "expr",
                                               expr_json(n->u.project.exprs[i], &n->input->out)));
        json_object_set_new(o, "exprs", a);
        break;
    }
    case PLAN_WINDOW: {
        json_object_set_new(o, "kind", json_string(window_kind_name(n->u.window.kind)));
        json_object_set_new(o, "timeColumn", json_string(n->input->out.cols[n->u.window.time_col].name));
        if (n->u.window.size_us) json_object_set_new(o, "sizeMs", json_integer(n->u.window.size_us / 1000));
        if (n->u.window.slide_us) json_object_set_new(o, "slideMs", json_integer(n->u.window.slide_us / 1000));
        if (n->u.window.gap_us) json_object_set_new(o, "gapMs", json_integer(n->u.window.gap_us / 1000));
        break;
    }
    case PLAN_AGGREGATE: {
        json_object_set_new(o, "mode", json_string(agg_mode_name(n->u.agg.mode)));
        json_object_set_new(o, "groupBy", cols_json(&n->input->out, n->u.agg.keys, n->u.agg.nkeys));
        json_t *a = json_array();
        for (int j = 0; j < n->u.agg.naggs; j++) json_array_append_new(a, json_string(n->u.agg.aggs[j].text));
        json_object_set_new(o, "aggregates", a);
        json_object_set_new(o, "windowed", json_boolean(n->u.agg.windowed));
        if (n->u.agg.windowed) json_object_set_new(o, "window", json_string(window_kind_name(n->u.agg.wkind)));
        if (n->u.agg.late_sink) json_object_set_new(o, "lateSink", json_string(n->u.agg.late_sink));
        json_object_set_new(o, "emit", json_string(n->u.agg.emit == EMIT_MODE_FINAL ? "final" : "changes"));
        break;
    }
    case PLAN_LIMIT:
        json_object_set_new(o, "rows", json_integer(n->u.limit.n));
        break;
    case PLAN_JOIN: {
        static const char *const kinds[] = {"inner", "left", "right", "full"};
        static const char *const flavors[] = {"window", "interval", "regular"};
        json_object_set_new(o, "type", json_string(kinds[n->u.join.kind]));
        json_object_set_new(o, "flavor", json_string(flavors[n->u.join.flavor]));
        if (n->u.join.table) {   /* read whole first (docs/scaling.md, "Joins with a table") */
            json_object_set_new(o, "table", json_string(n->u.join.table == 1 ? "right" : "left"));
            json_object_set_new(o, "tableLastRowPerKey", json_boolean(n->u.join.table_topic));
            json_object_set_new(o, "tableFollowed", json_boolean(n->u.join.table_topic == 2));
        }
        break;
    }
    default:
        break;
    }
    json_object_set_new(o, "output", schema_json(&n->out));
    return o;
}

char *explain_json(const Plan *p)
{
    json_t *root = json_object();
    json_t *stages = json_array();
    for (int i = 0; i < p->nstages; i++) {
        const Stage *s = &p->stages[i];
        json_t      *js = json_object();
        json_object_set_new(js, "id", json_integer(s->id));
        json_object_set_new(js, "parallelism", json_integer(s->parallelism));
        json_t *ops = json_array();
        for (int k = 0; k < s->nops; k++) json_array_append_new(ops, op_json(s->ops[k]));
        json_object_set_new(js, "operators", ops);
        json_t *ins = json_array();
        for (int k = 0; k < s->ninputs; k++) {
            const PlanNode *x = s->in_exchange[k];
            json_array_append_new(ins, json_pack("{s:i, s:s, s:o}", "stage", s->inputs[k], "partitioning",
                                                 part_name(x->u.exchange.part), "keys",
                                                 cols_json(&x->input->out, x->u.exchange.keys, x->u.exchange.nkeys)));
        }
        json_object_set_new(js, "inputs", ins);
        json_object_set_new(js, "downstream", s->downstream >= 0 ? json_integer(s->downstream) : json_null());
        json_array_append_new(stages, js);
    }
    json_object_set_new(root, "sql", json_string(p->sql));
    json_object_set_new(root, "emit", json_string(emit_name(p->emit)));
    json_object_set_new(root, "parallelism", json_integer(p->parallelism));
    json_object_set_new(root, "stages", stages);
    const PlanNode *out = p->root;
    json_t         *jo = json_object();
    json_object_set_new(jo, "kind", json_string(out->u.output.sink ? "sink" : "console"));
    if (out->u.output.sink) {
        json_object_set_new(jo, "sink", json_string(out->u.output.sink));
        json_object_set_new(jo, "connector", json_string(out->u.output.connector));
    }
    json_object_set_new(jo, "columns", schema_json(&out->out));
    json_object_set_new(root, "output", jo);
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return s;
}
