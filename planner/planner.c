/*
 * planner.c — bind, optimize, cut into stages (see planner.h).
 */
#include "planner/planner.h"

#include <stdio.h>
#include <string.h>

/* ---- changelogs between operators ------------------------------------------------ */
/*
 * An aggregate that emits changes (+I, then +U replacing a group's row) or a
 * regular outer join (+I, -D) produces a changelog. An aggregate above one
 * must retract what it counted for the old row: it gets `retract`, and the
 * aggregates producing the +U rows get `update_before` (they send the old
 * row as -U first), as Flink's retraction mode. MIN, MAX and the distinct
 * counts cannot take a row back; a join cannot take a changelog at all.
 */

static int fail(SqlError *err, const char *msg)
{
    err->loc = -1;
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    return -1;
}

static int is_session(const PlanNode *n)
{
    return n->kind == PLAN_AGGREGATE && n->u.agg.windowed && n->u.agg.wkind == WINDOW_SESSION;
}

/* Mark the aggregate whose +U rows reach n (through row-by-row operators). */
static int need_update_before(PlanNode *n, SqlError *err)
{
    while (n && (n->kind == PLAN_FILTER || n->kind == PLAN_PROJECT || n->kind == PLAN_EXCHANGE ||
                 n->kind == PLAN_LIMIT || n->kind == PLAN_WINDOW))
        n = n->input;
    if (n && n->kind == PLAN_AGGREGATE && n->u.agg.emit == EMIT_MODE_CHANGES) {
        if (is_session(n))
            return fail(err, "an aggregate over the changing rows of a session window aggregate is not "
                             "supported yet: aggregate its final rows (EMIT FINAL) instead");
        n->u.agg.update_before = 1;
    }
    return 0;
}

/* 1 when n's output is a changelog, 0 when append-only; -1 on an error. */
static int changelog(PlanNode *n, SqlError *err)
{
    if (!n) return 0;
    int in = changelog(n->input, err);
    int rin = n->right ? changelog(n->right, err) : 0;
    if (in < 0 || rin < 0) return -1;
    switch (n->kind) {
    case PLAN_AGGREGATE: {
        if (n->u.agg.mode == AGG_FINAL) {
            /* FINAL ← exchange ← PARTIAL: the PARTIAL decided */
            const PlanNode *x = n->input;
            while (x && x->kind != PLAN_AGGREGATE) x = x->input;
            if (x && x->u.agg.retract) n->u.agg.retract = 1;
        } else if (in) {
            for (int k = 0; k < n->u.agg.naggs; k++) {
                AggKind f = n->u.agg.aggs[k].kind;
                if (f == AGG_MIN || f == AGG_MAX || f == AGG_COUNT_DISTINCT || f == AGG_APPROX_COUNT_DISTINCT) {
                    char msg[300];
                    snprintf(msg, sizeof msg,
                             "%s cannot aggregate the changing rows of another aggregate or of an outer join "
                             "(it cannot take a row back); COUNT, SUM and AVG can, or make the inner "
                             "aggregate windowed so it emits final rows",
                             f == AGG_MIN ? "MIN" : f == AGG_MAX ? "MAX" : f == AGG_COUNT_DISTINCT ? "COUNT(DISTINCT)"
                                                                                  : "APPROX_COUNT_DISTINCT");
                    return fail(err, msg);
                }
            }
            if (is_session(n))
                return fail(err, "a session window cannot aggregate a changelog (the changing rows of another "
                                 "aggregate or of an outer join) yet");
            n->u.agg.retract = 1;
            if (need_update_before(n->input, err)) return -1;
        }
        if (n->u.agg.mode == AGG_PARTIAL) return 0;   /* deltas, merged by the FINAL */
        return n->u.agg.emit == EMIT_MODE_CHANGES;
    }
    case PLAN_JOIN:
        if (in || rin)
            return fail(err, "a join cannot take the changing rows of an aggregate that emits changes or of an "
                             "outer join yet: join the windowed (final) results instead");
        /* a table ends before the stream's first row: a padded row is final */
        return n->u.join.flavor == JOIN_REGULAR && n->u.join.kind != PJOIN_INNER && !n->u.join.table;
    default:
        return in;
    }
}

/* deployment.group (issue #13; docs/scaling.md): what a group of instances
 * runs. Kafka sources only, but for the table side of a join (below);
 * stateless operators anywhere; and either
 *  - at most one exchange, into a final windowed aggregate (its partial half,
 *    if any, and window assignment upstream): the exchange becomes the
 *    repartition topic, and the aggregate's state is rebuilt per partition
 *    from it when partitions move; or
 *  - joins of the Kafka stream with bounded tables ('file' streams, VALUES;
 *    inner, or outer keeping the stream's unmatched rows: plan_join_table),
 *    each table read whole by every instance and broadcast to its
 *    join tasks (mark_tables): the exchanges stay within an instance, and
 *    the join keeps only the table as state, so partitions move as freely
 *    as a stateless query's. */
static int group_refuse(SqlError *err, const char *group, const char *what)
{
    err->loc = -1;
    snprintf(err->msg, sizeof err->msg,
             "deployment.group '%s': %s; a group runs filters, projections, joins with bounded tables "
             "and either one aggregation (windowed, or EMIT CHANGES) or one window or "
             "interval join of two Kafka streams for now "
             "(docs/scaling.md), or unset deployment.group", group, what);
    return -1;
}

typedef struct GroupWalk {
    const char *group;
    int         topics;   /* exchanges across instances (repartition topics) */
    int         clagg;    /* an aggregation that emits changes: a changelog topic */
    int         sjoin;    /* a window or interval join of two streams reads the topic */
    int         aggs;     /* aggregations seen (above what is walked now) */
    int         tjoins;   /* joins with a table seen (the same) */
    int         apart;    /* joins with a table not in their stream's source tasks */
    SqlError   *err;
} GroupWalk;

/* A window or interval join of two streams in a group emits a joined row
 * only when the watermark says it is final (runtime/query.c): no
 * aggregation or other join may take its rows through another exchange
 * (yet); an aggregation in the join's own tasks may (plan_agg_of_join).
 * 0, or -1 with the error. */
static int group_above_join(GroupWalk *g, const PlanNode *join)
{
    if (g->aggs)
        return group_refuse(g->err, g->group, join->u.join.flavor == JOIN_INTERVAL
                                                  ? "this query aggregates the rows of an interval join of two "
                                                    "streams other than in TUMBLE, HOP or CUMULATE windows of the "
                                                    "left side's time with the join key among the group keys"
                                                  : "this query aggregates the rows of a window join of two streams "
                                                    "through another exchange (an aggregation by the join's window "
                                                    "and keys runs in the join's tasks)");
    if (g->tjoins)
        return group_refuse(g->err, g->group, "this query joins the rows of a join of two streams again");
    return 0;
}

const PlanNode *plan_agg_of_join(const PlanNode *agg)
{
    if (agg->kind != PLAN_AGGREGATE || agg->u.agg.mode != AGG_SIMPLE || !agg->u.agg.windowed ||
        agg->u.agg.wend_key < 0)
        return NULL;
    int col = agg->u.agg.keys[agg->u.agg.wend_key], windowed = 0;
    for (const PlanNode *n = agg->input; n; n = n->input) {
        switch (n->kind) {
        case PLAN_FILTER: break;
        case PLAN_PROJECT: {
            const Expr *e = n->u.project.exprs[col];
            if (e->op != EXPR_COLUMN) return NULL;
            col = e->col;
            break;
        }
        case PLAN_WINDOW:   /* an interval join's rows, windowed here by a time of theirs */
            if (windowed || n->u.window.kind == WINDOW_SESSION || col != n->input->out.ncols + 1) return NULL;
            col = n->u.window.time_col;
            windowed = 1;
            break;
        case PLAN_JOIN:
            if (n->u.join.table || n->u.join.flavor == JOIN_REGULAR) return NULL;
            if (n->u.join.flavor == JOIN_WINDOW)
                return !windowed && (col == n->u.join.ltime || col == n->input->out.ncols + n->u.join.rtime) ? n
                                                                                                              : NULL;
            return windowed && col == n->u.join.ltime ? n : NULL;
        default: return NULL;
        }
    }
    return NULL;
}

const PlanNode *plan_join_aggregate(const Plan *p, const PlanNode *join)
{
    for (int st = 0; st < p->nstages; st++)
        for (int i = 0; i < p->stages[st].nops; i++)
            if (plan_agg_of_join(p->stages[st].ops[i]) == join) return p->stages[st].ops[i];
    return NULL;
}

static const PlanNode *unexchanged(const PlanNode *n)
{
    return n->kind == PLAN_EXCHANGE ? n->input : n;
}

/* n is the input of `above` (NULL at the root); table: n is on a join's table side */
static int group_walk(GroupWalk *g, const PlanNode *n, const PlanNode *above, int table)
{
    for (; n; above = n, n = n->input) {
        switch (n->kind) {
        case PLAN_SCAN:
            if (table) break;   /* plan_bounded_table said so */
            if (strcmp(n->u.scan.connector, "kafka") != 0) {
                g->err->loc = -1;
                snprintf(g->err->msg, sizeof g->err->msg,
                         "deployment.group '%s': stream '%s' (connector '%s') cannot be shared by a group of "
                         "instances (each would read all of it); only Kafka streams can, or a bounded "
                         "'file' stream as the table side of a join",
                         g->group, n->u.scan.stream, n->u.scan.connector);
                return -1;
            }
            break;
        case PLAN_JOIN:
            if (!n->u.join.table) {
                if (n->u.join.flavor != JOIN_REGULAR && n->input->kind == PLAN_EXCHANGE &&
                    n->right->kind == PLAN_EXCHANGE) {
                    /* two streams into one repartition topic, each row tagged
                     * with its side; the join reads it (plan_group_topic_side) */
                    if (group_above_join(g, n)) return -1;
                    for (int k = 0; k < 2; k++) {
                        const PlanNode *x = k ? n->right : n->input;
                        if (x->u.exchange.part != PART_HASH || x->u.exchange.nkeys == 0)
                            return group_refuse(g->err, g->group, "this query's join of two streams has no "
                                                                  "equality key");
                    }
                    if (++g->topics > 1)
                        return group_refuse(g->err, g->group, "this query needs more than one exchange");
                    g->sjoin = 1;
                    if (group_walk(g, n->input->input, NULL, 0) || group_walk(g, n->right->input, NULL, 0))
                        return -1;
                    return 0;
                }
                if (plan_bounded_table(unexchanged(n->input)) || plan_bounded_table(unexchanged(n->right)))
                    return group_refuse(g->err, g->group, "this query's outer join keeps the table's unmatched "
                                                          "rows (a group runs INNER, stream LEFT JOIN table and "
                                                          "table RIGHT JOIN stream)");
                return group_refuse(g->err, g->group, "this query joins two streams (a join across "
                                                      "instances needs one side a bounded table: a 'file' "
                                                      "stream that every instance reads whole)");
            }
            g->apart += (n->u.join.table == 1 ? n->input : n->right)->kind == PLAN_EXCHANGE;
            g->tjoins++;
            /* the two exchanges under it stay within an instance */
            if (group_walk(g, unexchanged(n->right), NULL, n->u.join.table == 1) ||
                group_walk(g, unexchanged(n->input), NULL, n->u.join.table == 2))
                return -1;
            return 0;
        case PLAN_LIMIT: return group_refuse(g->err, g->group, "this query has a LIMIT");
        case PLAN_EXCHANGE:
            if (table) return group_refuse(g->err, g->group, "this query's table side of a join needs an exchange");
            if (++g->topics > 1) return group_refuse(g->err, g->group, "this query needs more than one exchange");
            if (n->u.exchange.part != PART_HASH || n->u.exchange.nkeys == 0)
                return group_refuse(g->err, g->group, "this query gathers every row in one place");
            if (!above || above->kind != PLAN_AGGREGATE || above->u.agg.mode != AGG_FINAL)
                return group_refuse(g->err, g->group,
                                    "this query sends rows across instances other than into an aggregation");
            break;
        case PLAN_AGGREGATE:
            if (plan_agg_of_join(n)) {   /* (checked as the others below, but for its mode) */
                if (n->u.agg.wkind == WINDOW_SESSION || n->u.agg.emit == EMIT_MODE_CHANGES || n->u.agg.retract ||
                    n->u.agg.late_sink)
                    return group_refuse(g->err, g->group, "this query's aggregation of a join's rows "
                                                          "has session windows, changes or a late sink");
                break;
            }
            g->aggs++;
            if (n->u.agg.mode == AGG_PARTIAL) break;
            if (!n->u.agg.windowed || n->u.agg.wend_key < 0) {
                /* its state goes to a changelog topic (runtime: kx_cl_setup) */
                if (n->u.agg.emit != EMIT_MODE_CHANGES || n->u.agg.retract || n->u.agg.mode != AGG_FINAL)
                    return group_refuse(g->err, g->group, n->u.agg.retract
                                                              ? "this query's aggregation takes changes"
                                                              : "this query has an aggregation without a window "
                                                                "that is not split at an exchange");
                g->clagg = 1;
                break;
            }
            if (n->u.agg.retract) return group_refuse(g->err, g->group, "this query's aggregation takes changes");
            if (n->u.agg.late_sink) return group_refuse(g->err, g->group, "this query has a late sink");
            if (n->u.agg.mode == AGG_SIMPLE)   /* (the join's tasks, but not as plan_agg_of_join allows) */
                for (const PlanNode *j = n->input; j; j = j->right ? NULL : j->input)
                    if (j->kind == PLAN_JOIN && !j->u.join.table && j->u.join.flavor != JOIN_REGULAR)
                        return group_above_join(g, j);
            if (n->u.agg.emit == EMIT_MODE_CHANGES || n->u.agg.wkind == WINDOW_SESSION) {
                /* a window's changes, or sessions: the state goes to a
                 * changelog topic, as an unwindowed aggregation's (runtime:
                 * kx_cl_setup; plan_agg_changelog) */
                if (n->u.agg.mode != AGG_FINAL)
                    return group_refuse(g->err, g->group, "this query's aggregation is not split at an exchange");
                g->clagg = 1;
                break;
            }
            if (n->u.agg.mode != AGG_FINAL)
                return group_refuse(g->err, g->group, "this query's aggregation is not split at an exchange");
            break;
        default: break;
        }
        if (n->right) return group_refuse(g->err, g->group, "this query has two inputs");
    }
    return 0;
}

static int group_check(const Plan *p, const PlanNode *n, const char *group, SqlError *err)
{
    GroupWalk g = {.group = group, .err = err};
    if (group_walk(&g, n, NULL, 0)) return -1;
    /* a repartition topic is written by the tasks that read the Kafka source
     * (their offsets record what they wrote): a join with a table runs in
     * them, but not a join whose stream comes through an exchange */
    if (g.topics && g.apart)
        return group_refuse(err, group, "this query has both an aggregation and a join of a join's output");
    if (p->emit == EMIT_MODE_CHANGES && !g.clagg) return group_refuse(err, group, "this query emits changes");
    if (g.clagg && (p->group_partitions < 1 || p->group_partitions > 64)) {
        /* its checkpoint slices are the partitions, at most 64 (runtime: kx_cl_part) */
        err->loc = -1;
        snprintf(err->msg, sizeof err->msg,
                 "deployment.group '%s': an aggregation that emits changes or has session windows keeps its "
                 "state in a changelog by partition, at most 64: deployment.partitions must be 1 … 64; got %d",
                 group, p->group_partitions);
        return -1;
    }
    return 0;
}

/* A regular join of a stream with a bounded table reads the table whole
 * first (plan.h's join.table): in group mode on every instance; a Kafka
 * table ('table' = 'true') always, single node too, for its meaning (its
 * last record per key). */
static void mark_tables(PlanNode *n, int group)
{
    for (; n; n = n->input) {
        if (n->kind == PLAN_JOIN) n->u.join.table = plan_join_table(n, group, &n->u.join.table_topic);
        if (n->right) mark_tables(n->right, group);
    }
}

static const char *scan_opt(const PlanNode *n, const char *key)
{
    for (int i = 0; i < n->u.scan.nopts; i++)
        if (!strcasecmp(n->u.scan.opt_keys[i], key)) return n->u.scan.opt_values[i];
    return NULL;
}

/* A Kafka table with 'table.key' (its tombstones delete that key's row) is
 * read only as the table of a join on that column, with nothing but
 * projections between: a filter would drop its deletes (their other
 * columns are NULL), and read any other way a delete has no meaning.
 * `join` is the join whose table side n is on (NULL elsewhere), `keycol`
 * the name of that side's join key. 0, or -1 with err. */
static int check_table_keys(const PlanNode *n, const PlanNode *join, const char *keycol, SqlError *err)
{
    for (; n; n = n->input) {
        if (n->kind == PLAN_SCAN) {
            const char *k = !strcasecmp(n->u.scan.connector, "kafka") ? scan_opt(n, "table.key") : NULL;
            if (!k) return 0;
            err->loc = -1;
            if (!join) {
                snprintf(err->msg, sizeof err->msg, "stream '%s' has 'table.key': it is read as the table of "
                         "a join on that column (its tombstones delete rows of the table), not by itself",
                         n->u.scan.stream);
                return -1;
            }
            if (!keycol || strcasecmp(keycol, k) != 0) {
                snprintf(err->msg, sizeof err->msg, "stream '%s': a join with a table that has 'table.key' "
                         "= '%s' must join on that one column (its tombstones name rows by it)",
                         n->u.scan.stream, k);
                return -1;
            }
            return 0;
        }
        if (n->kind == PLAN_FILTER && join) {   /* (a filter above the scan: checked when reached) */
            const PlanNode *m = n;
            while (m && m->kind != PLAN_SCAN) m = m->input;
            if (m && !strcasecmp(m->u.scan.connector, "kafka") && scan_opt(m, "table.key")) {
                err->loc = -1;
                snprintf(err->msg, sizeof err->msg, "stream '%s' has 'table.key': filter the joined rows "
                         "(WHERE after the join), not the table (a filter would drop its deletes)",
                         m->u.scan.stream);
                return -1;
            }
        }
        if (n->kind == PLAN_JOIN) {
            int         t = n->u.join.table_topic ? n->u.join.table : 0;
            const int  *keys = t == 1 ? n->u.join.rkeys : n->u.join.lkeys;
            const PlanNode *side = t == 1 ? n->right : n->input;
            const char *kc = t && n->u.join.nkeys == 1 && side ? side->out.cols[keys[0]].name : NULL;
            if (n->right && check_table_keys(n->right, t == 1 ? n : NULL, t == 1 ? kc : NULL, err)) return -1;
            if (t == 2) return check_table_keys(n->input, n, kc, err);
            join = NULL, keycol = NULL;
            continue;
        }
        if (n->kind != PLAN_PROJECT && n->kind != PLAN_FILTER) join = NULL, keycol = NULL;
        if (n->right && check_table_keys(n->right, NULL, NULL, err)) return -1;
    }
    return 0;
}

int planner_check_group(const Plan *p, SqlError *err)
{
    return p->group ? group_check(p, p->root, p->group, err) : 0;
}

int planner_plan(const Catalog *cat, const Settings *settings, const AstNode *stmt,
                 unsigned rules, Plan **out, char *warn, size_t warn_cap, SqlError *err)
{
    Plan *p = NULL;
    if (bind_statement(cat, settings, stmt, &p, warn, warn_cap, err) != 0) return -1;
    /* group mode places exchanges (repartition topics) whatever the local parallelism */
    if (settings && settings->deployment_group[0]) {
        p->group = arena_strndup(&p->arena, settings->deployment_group, strlen(settings->deployment_group));
        p->group_partitions = (int)settings->deployment_partitions;
        if (!p->group) {
            plan_free(p);
            err->loc = -1;
            snprintf(err->msg, sizeof err->msg, "out of memory");
            return -1;
        }
    }
    mark_tables(p->root, p->group != NULL);
    if (check_table_keys(p->root, NULL, NULL, err)) {
        plan_free(p);
        return -1;
    }
    p->emit = plan_emit(p->root);
    /* before optimizing: splitting an aggregate in two needs its flags */
    if (changelog(p->root, err) < 0) {
        plan_free(p);
        return -1;
    }
    if (plan_optimize(p, rules, err) != 0) {
        plan_free(p);
        return -1;
    }
    if (plan_stages(p) != 0) {
        plan_free(p);
        err->loc = -1;
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return -1;
    }
    *out = p;
    return 0;
}
