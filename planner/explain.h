/*
 * explain.h — a plan as text a person reads (the DAG of stages, from the
 * output down to the sources) or as JSON a program reads.
 *
 * Text (EXPLAIN):
 *
 *   Output: console · emit final
 *   └─ Stage 1 · 2 tasks
 *      │ Project    window_start, window_end, user_id, crashes
 *      │ Aggregate  final · group by window_start, window_end, user_id
 *      │            COUNT(*) · TUMBLE window · emit when the watermark passes window_end
 *      └─ Exchange  hash(user_id) · 2 → 2 tasks
 *         └─ Stage 0 · 2 tasks
 *            │ Aggregate  partial · group by window_start, window_end, user_id · COUNT(*)
 *            │ Window     TUMBLE(ts, 10 seconds) → window_start, window_end, window_time
 *            │ Scan       logs · kafka topic 'logs' · json
 *            │            reads ts, user_id, level, event (4 of 6 columns)
 *            │            filter level = 'CRITICAL' AND event = 'crash'
 *            │            watermark ts - 10 seconds
 *
 * JSON (EXPLAIN FORMAT JSON): see docs/explain.md for the field names, which
 * are stable.
 *
 * Ownership: both return a malloc'd NUL-terminated string; caller frees.
 */
#ifndef SLUICE_PLANNER_EXPLAIN_H
#define SLUICE_PLANNER_EXPLAIN_H

#include "planner/plan.h"

char *explain_text(const Plan *p);

/* The same, with notes[stage id] (NULL: none; several lines allowed) printed
 * under each stage's header as "│ » line" — EXPLAIN ANALYZE's live figures. */
char *explain_text_notes(const Plan *p, const char *const *notes);
char *explain_json(const Plan *p);

/* An expression as SQL, naming columns by the schema it reads (malloc'd). */
char *expr_to_sql(const Expr *e, const Schema *in);

#endif
