/*
 * planner.h — the planner's front door: a SELECT or INSERT statement in,
 * a physical plan (stages) out.
 *
 *   planner_plan = bind_statement (bind.h)      names, types, streaming rules
 *                → plan_optimize (optimize.h)   rewrite rules
 *                → plan_stages (optimize.h)     cut at exchanges
 *
 * The Plan is immutable afterwards; the caller frees it with plan_free.
 */
#ifndef SLUICE_PLANNER_PLANNER_H
#define SLUICE_PLANNER_PLANNER_H

#include "planner/bind.h"
#include "planner/explain.h"
#include "planner/optimize.h"

/* rules: RULE_ALL normally (tests switch rules off to show their effect). */
int planner_plan(const Catalog *cat, const Settings *settings, const AstNode *stmt,
                 unsigned rules, Plan **out, char *warn, size_t warn_cap, SqlError *err);

/* deployment.group (the plan's `group`, from the setting; docs/scaling.md):
 * can a group of instances run this plan yet? Only Kafka sources, stateless
 * operators, and at most one exchange — a repartition topic — into a final
 * windowed aggregation (TUMBLE/HOP, emit final); no join, LIMIT, changelog
 * or session window. 0, or -1 with the reason in err. Plain EXPLAIN skips
 * it (it shows which exchanges become topics). */
int planner_check_group(const Plan *p, SqlError *err);

#endif
