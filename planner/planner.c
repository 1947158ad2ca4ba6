/*
 * planner.c — bind, optimize, cut into stages (see planner.h).
 */
#include "planner/planner.h"

#include <stdio.h>

int planner_plan(const Catalog *cat, const Settings *settings, const AstNode *stmt,
                 unsigned rules, Plan **out, char *warn, size_t warn_cap, SqlError *err)
{
    Plan *p = NULL;
    if (bind_statement(cat, settings, stmt, &p, warn, warn_cap, err) != 0) return -1;
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
