/*
 * optimize.h — rewrite rules over the logical plan, and the cut into stages.
 *
 * Rules, in the order plan_optimize applies them:
 *
 *   RULE_CONSTANT_FOLD    constant subexpressions are evaluated once at plan
 *                         time (1 + 2 → 3, TIMESTAMP '…' + INTERVAL …); a
 *                         filter that is constantly TRUE disappears
 *   RULE_PUSH_FILTER      filters move down through projections, windows and
 *                         other filters, and into the scan, so rows are
 *                         dropped as early as possible
 *   RULE_PRUNE_COLUMNS    every node keeps only the columns something above
 *                         it uses; the scan's decoder reads only those
 *   RULE_TWO_PHASE_AGG    an aggregate becomes partial → exchange → final,
 *                         so only partial states cross the exchange
 *   RULE_EXCHANGES        exchanges are inserted where an operator needs its
 *                         input partitioned by key (hash of the group keys
 *                         without the window columns), and not where the
 *                         input is already partitioned that way
 *
 * plan_stages then cuts the plan at its exchanges into stages.
 *
 * Each rule can be switched off (for tests that show a plan before and after
 * one rule): pass a mask of the rules to apply.
 */
#ifndef SLUICE_PLANNER_OPTIMIZE_H
#define SLUICE_PLANNER_OPTIMIZE_H

#include "parser/parser.h"
#include "planner/plan.h"

enum {
    RULE_CONSTANT_FOLD = 1 << 0,
    RULE_PUSH_FILTER   = 1 << 1,
    RULE_PRUNE_COLUMNS = 1 << 2,
    RULE_TWO_PHASE_AGG = 1 << 3,
    RULE_EXCHANGES     = 1 << 4,
    RULE_ALL           = (1 << 5) - 1
};

/* Apply the rules in mask to p (in place; new nodes come from p's arena).
 * 0, or -1 with *err (e.g. a constant expression that cannot be evaluated). */
int plan_optimize(Plan *p, unsigned rules, SqlError *err);

/* Cut p into stages at its exchanges (fills p->stages, p->nstages and each
 * node's stage). 0, or -1 when out of memory. */
int plan_stages(Plan *p);

#endif
