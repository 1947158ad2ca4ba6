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

#endif
