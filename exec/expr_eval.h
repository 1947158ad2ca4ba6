/*
 * expr_eval.h — vectorized evaluation of expression trees (expr.h) over
 * batches (batch.h).
 *
 *   ExprState *st = expr_state_new(expr, SLUICE_VECTOR_SIZE, why, sizeof why);
 *   for each batch b:
 *       const Vector *v;
 *       if (expr_eval(st, b, &v) < 0) → expr_state_error(st)
 *       … v holds the value of live row r at slot r (or is a constant) …
 *       or, for a WHERE clause:  expr_filter(st, b)   // narrows b's selection
 *   expr_state_free(st);
 *
 * Compile once, run per batch. expr_state_new walks the tree once: it picks
 * each node's kernel from (op or function, argument types), allocates the
 * node's scratch result vector (capacity rows) and string arena, inserts the
 * casts the binder left implicit (BIGINT → DOUBLE where an overload needs
 * it), evaluates constant subtrees once (they become VECTOR_CONSTANT
 * results), and compiles constant LIKE / SIMILAR TO / REGEXP_LIKE patterns,
 * EXTRACT fields and DATE_TRUNC units — a bad constant pattern or field is a
 * build error with a reason in `why`. In steady state expr_eval allocates
 * nothing: kernels write into the scratch vectors and arenas, which are
 * reused (an arena is reset at each evaluation of its node and keeps its
 * largest chunk).
 *
 * Results. expr_eval evaluates over the live rows of `in` (its selection,
 * constant input vectors included) and returns a vector with the value of
 * live row r at slot r — the same shape as the input, so a projection keeps
 * the batch's selection; slots of rows that are not live hold garbage. The
 * result may be VECTOR_CONSTANT (a constant subtree, or every input
 * constant), and for EXPR_COLUMN it is the input vector itself (no copy).
 * The result and its strings stay valid until the next expr_eval or
 * expr_filter on the same state, and no longer than the input batch's
 * contents (strings may point into the input: SUBSTRING and TRIM return
 * slices, CASE and COALESCE pass values through).
 *
 * Semantics (NULLs, overflow, casts, patterns) are described at the top of
 * expr_eval.c and in docs/expressions.md.
 *
 * Ownership: the state owns its nodes, vectors, arenas and compiled
 * patterns; it borrows the Expr tree only while expr_state_new runs (it
 * copies what it keeps, constant strings included). One state per task:
 * a state is not safe to share between threads.
 */
#ifndef SLUICE_EXEC_EXPR_EVAL_H
#define SLUICE_EXEC_EXPR_EVAL_H

#include <stddef.h>

#include "exec/batch.h"
#include "exec/expr.h"
#include "exec/vector.h"

typedef struct ExprState ExprState;

/* Compile e for batches of up to `capacity` rows (<= 0: SLUICE_VECTOR_SIZE).
 * NULL on error, with a reason in why (snprintf rules): a type the
 * expression cannot be evaluated at, a bad constant pattern, out of memory. */
ExprState *expr_state_new(const Expr *e, int capacity, char *why, size_t cap);

/* Free everything the state owns. NULL is allowed. */
void expr_state_free(ExprState *st);

/* Drop the strings of the last evaluation (its results become invalid) and
 * give memory beyond one chunk per node arena back. Not needed between
 * batches; useful before a state sits idle. */
void expr_state_reset(ExprState *st);

/* The result type of the expression. */
SqlType expr_state_type(const ExprState *st);

/* Evaluate over the live rows of in (see above). in may be NULL for an
 * expression without column references: one row. 0, or -1 with
 * expr_state_error() set: a column index or type that does not match the
 * batch, a batch larger than the state's capacity, out of memory. */
int expr_eval(ExprState *st, const Batch *in, const Vector **out);

/* Evaluate a BOOLEAN predicate and narrow b's selection to the live rows
 * where it is TRUE (FALSE and NULL drop the row), in order, written into
 * b->sel_buf; no data is copied. A top-level AND is applied conjunct by
 * conjunct, each on the rows the previous ones kept. 0, or -1 as expr_eval
 * (also when the expression is not BOOLEAN); on error b is unchanged. */
int expr_filter(ExprState *st, Batch *b);

/* Why the last expr_eval / expr_filter failed ("" when it did not). */
const char *expr_state_error(const ExprState *st);

#endif
