/*
 * plan.c — names of plan things and plan_free (see plan.h).
 */
#include "planner/plan.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *plan_kind_name(PlanKind k)
{
    switch (k) {
    case PLAN_SCAN: return "Scan";
    case PLAN_VALUES: return "Values";
    case PLAN_FILTER: return "Filter";
    case PLAN_PROJECT: return "Project";
    case PLAN_WINDOW: return "Window";
    case PLAN_AGGREGATE: return "Aggregate";
    case PLAN_JOIN: return "Join";
    case PLAN_LIMIT: return "Limit";
    case PLAN_EXCHANGE: return "Exchange";
    case PLAN_OUTPUT: return "Output";
    }
    return "?";
}

const char *agg_kind_name(AggKind k)
{
    switch (k) {
    case AGG_COUNT_STAR: return "COUNT";
    case AGG_COUNT: return "COUNT";
    case AGG_COUNT_DISTINCT: return "COUNT DISTINCT";
    case AGG_SUM: return "SUM";
    case AGG_AVG: return "AVG";
    case AGG_MIN: return "MIN";
    case AGG_MAX: return "MAX";
    case AGG_APPROX_COUNT_DISTINCT: return "APPROX_COUNT_DISTINCT";
    }
    return "?";
}

const char *window_kind_name(WindowKind k)
{
    switch (k) {
    case WINDOW_TUMBLE: return "TUMBLE";
    case WINDOW_HOP: return "HOP";
    case WINDOW_SESSION: return "SESSION";
    case WINDOW_CUMULATE: return "CUMULATE";
    }
    return "?";
}

int64_t plan_interval_lag(const PlanNode *n)
{
    if (n->kind != PLAN_JOIN || n->u.join.flavor != JOIN_INTERVAL) return 0;
    int64_t d = n->u.join.upper_us > -n->u.join.lower_us ? n->u.join.upper_us : -n->u.join.lower_us;
    return d > 0 ? d : 0;
}

int plan_bounded_table(const PlanNode *n)
{
    for (; n; n = n->input) {
        switch (n->kind) {
        case PLAN_FILTER:
        case PLAN_PROJECT:
            break;
        case PLAN_VALUES:
            return 1;
        case PLAN_SCAN: {
            int kafka = !strcasecmp(n->u.scan.connector, "kafka"), table = 0, follow = 0;
            if (!kafka && strcasecmp(n->u.scan.connector, "file") != 0) return 0;
            for (int i = 0; i < n->u.scan.nopts; i++) {
                const char *k = n->u.scan.opt_keys[i], *v = n->u.scan.opt_values[i];
                if (!kafka && !strcasecmp(k, "follow") && strcasecmp(v, "false")) return 0;
                if (kafka && !strcasecmp(k, "table")) table = !strcasecmp(v, "true");
                if (kafka && !strcasecmp(k, "table.follow")) follow = !strcasecmp(v, "true");
            }
            return kafka ? (table ? 2 + follow : 0) : 1;
        }
        default:
            return 0;
        }
    }
    return 0;
}

int plan_join_table(const PlanNode *n, int group, int *topic)
{
    *topic = 0;
    if (n->kind != PLAN_JOIN || n->u.join.flavor != JOIN_REGULAR) return 0;
    int      rt = plan_bounded_table(n->right), lt = plan_bounded_table(n->input), t = 0;
    JoinKind k = n->u.join.kind;
    if (rt && !lt && (k == PJOIN_INNER || k == PJOIN_LEFT)) t = 1;
    if (lt && !rt && (k == PJOIN_INNER || k == PJOIN_RIGHT)) t = 2;
    *topic = t ? (t == 1 ? rt : lt) - 1 : 0;   /* 1 a Kafka table, 2 a followed one */
    if (*topic < 0) *topic = 0;
    return group || *topic ? t : 0;
}

int plan_stage_table(const Stage *st)
{
    return st->out_exchange && st->out_exchange->u.exchange.part == PART_BROADCAST;
}

const Stage *plan_group_topic_side(const Plan *p, int side)
{
    if (!p->group) return NULL;
    for (int s = 0; s < p->nstages; s++) {
        const Stage *st = &p->stages[s];
        if (!st->out_exchange || st->out_exchange->u.exchange.part != PART_HASH || st->nops == 0 ||
            st->ops[0]->kind != PLAN_SCAN || st->downstream < 0)
            continue;
        const Stage *down = &p->stages[st->downstream];
        if (down->ninputs == 1 && down->in_exchange[0] == st->out_exchange) {
            if (side == 0) return st;
            continue;
        }
        /* a window or interval join of two streams: both its inputs are hash exchanges */
        if (down->ninputs != 2 || down->in_exchange[0]->u.exchange.part != PART_HASH ||
            down->in_exchange[1]->u.exchange.part != PART_HASH)
            continue;
        for (int k = 0; k < down->nops; k++) {
            const PlanNode *j = down->ops[k];
            if (j->kind == PLAN_JOIN && !j->u.join.table && j->u.join.flavor != JOIN_REGULAR &&
                (side == 0 ? j->input : j->right) == st->out_exchange)
                return st;
        }
    }
    return NULL;
}

const Stage *plan_group_topic(const Plan *p)
{
    return plan_group_topic_side(p, 0);
}

int plan_agg_changelog(const PlanNode *n)
{
    if (n->kind != PLAN_AGGREGATE || n->u.agg.mode != AGG_FINAL || n->u.agg.retract || n->u.agg.late_sink) return 0;
    if (!n->u.agg.windowed) return n->u.agg.emit == EMIT_MODE_CHANGES && n->u.agg.wend_key < 0;
    if (n->u.agg.wend_key < 0) return 0;
    return n->u.agg.emit == EMIT_MODE_CHANGES || n->u.agg.wkind == WINDOW_SESSION;
}

void plan_free(Plan *p)
{
    if (!p) return;
    arena_free(&p->arena);
    free(p);
}
