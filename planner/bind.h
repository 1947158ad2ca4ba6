/*
 * bind.h — from a SELECT/INSERT AST to a logical plan.
 *
 * The binder resolves names against the catalog and the FROM clause, types
 * every expression (exec/func.h resolves overloads; implicit casts become
 * EXPR_CAST nodes), checks GROUP BY validity, maps the three window
 * spellings (TUMBLE(…) in FROM, GROUP BY TUMBLE(ts, …) with TUMBLE_START,
 * Spark's window(ts, '10 seconds') with window.start) to one plan shape,
 * and enforces the streaming rules with errors that say how to fix them.
 *
 * Errors are values with the byte offset of the offending AST node.
 */
#ifndef SLUICE_PLANNER_BIND_H
#define SLUICE_PLANNER_BIND_H

#include "parser/parser.h"
#include "planner/catalog.h"
#include "planner/plan.h"
#include "planner/settings.h"

/* Bind stmt (AST_SELECT or AST_INSERT) into a new logical plan (root is a
 * PLAN_OUTPUT). Returns 0 and *out (caller frees with plan_free), or -1 with
 * *err. Warnings (e.g. unbounded state) are appended to warn (may be NULL),
 * one per line. */
/* How a plan's output changes (the Plan's emit), from its nodes. */
EmitMode plan_emit(const PlanNode *n);

int bind_statement(const Catalog *cat, const Settings *settings, const AstNode *stmt,
                   Plan **out, char *warn, size_t warn_cap, SqlError *err);

#endif
