/*
 * session.h — run SQL statements: the entry point of the engine for the
 * shell and the SQL test runner.
 *
 * A Session holds a catalog (streams, sinks, views) and the settings. Each
 * statement is parsed, bound and executed in order; a statement that
 * produces rows delivers them through the caller's ResultSink as batches.
 *
 * Errors are values: session_exec returns 0, or -1 with *err filled (a byte
 * offset into the text that was passed, and a message). Nothing here prints.
 *
 * Ownership: the Session owns its catalog and settings; batches passed to
 * on_rows belong to the session and are valid only during the call.
 */
#ifndef SLUICE_RUNTIME_SESSION_H
#define SLUICE_RUNTIME_SESSION_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "exec/batch.h"
#include "exec/types.h"
#include "parser/parser.h"

typedef struct Session Session;

typedef struct ResultSink {
    void *ctx;
    /* A statement starts returning rows with these columns. streaming: the
     * rows come over time (a running query), not all at once. */
    int  (*on_columns)(void *ctx, int ncols, const char *const *names, const SqlType *types,
                       int streaming);
    /* Rows: the live rows of b. Return non-zero to stop the statement early. */
    int  (*on_rows)(void *ctx, const Batch *b);
    /* A statement finished; tag is a short summary ("CREATE STREAM", "SET"). */
    void (*on_done)(void *ctx, const char *tag);
    /* A warning or notice worth showing to the user (may be NULL). */
    void (*on_notice)(void *ctx, const char *msg);
    /* Preformatted text (EXPLAIN), printed as is; lines end in '\n'. */
    void (*on_text)(void *ctx, const char *text);
} ResultSink;

Session *session_new(void);

/* In check mode statements are parsed, DDL goes into the catalog, queries
 * are bound and planned, but nothing runs (sluice --check). */
void     session_set_check_only(Session *s, int on);

/* With background on (the interactive shell), INSERT INTO starts the query
 * in the background and returns at once with its id; SHOW QUERIES, DESCRIBE
 * QUERY id and STOP QUERY id manage it; session_free stops what still runs.
 * Off (scripts, -f, -e): INSERT INTO runs to the end of its input. */
void     session_set_background(Session *s, int on);

/* A flag the caller's signal handler raises (SIGINT): a running query stops
 * when it becomes non-zero. NULL: none. */
void     session_set_stop_flag(Session *s, volatile sig_atomic_t *stop);

/* Write one JSON object per second (one line each; Spark's
 * StreamingQueryProgress field names where the meaning is the same) for
 * every query the session runs. NULL: none. The caller owns f. */
void     session_set_progress_file(Session *s, FILE *f);
void     session_free(Session *s);

/* What session_exec returns when a statement was valid but failed while it
 * ran (a source could not be opened, a sink failed, a bad record with
 * 'format.on-error' = 'fail'): the shell exits with status 3 for it. */
#define SESSION_RUNTIME_ERROR (-2)

/* Parse and run every statement of text[0..len) in order, stopping at the
 * first error. Returns 0; -1 for an error in the SQL (parse, bind, catalog);
 * SESSION_RUNTIME_ERROR for a failure while running. *err is set for both
 * (err->loc is an offset into text). */
int session_exec(Session *s, const char *text, size_t len, const ResultSink *sink,
                 SqlError *err);

/* Apply "key=value" as SET key = 'value' would (for --set on the command
 * line). Returns 0, or -1 with *err set (loc -1). */
int session_set(Session *s, const char *key, const char *value, SqlError *err);

/* ---- for the interactive shell ------------------------------------------ */

struct QueryProgress;   /* runtime/query.h */
typedef void (*SessionProgressFn)(void *ctx, const struct QueryProgress *p);

/* Call fn about 4 times a second while a query (SELECT or INSERT) runs, and
 * once when it ends, on the thread that called session_exec (the same thread
 * that delivers rows to the ResultSink). NULL: none. Works alongside
 * session_set_progress_file, which keeps its once-a-second lines. */
void session_set_progress_callback(Session *s, SessionProgressFn fn, void *ctx);

/* For tab completion: call fn for every stream, sink and view name, then
 * every column name of the streams and sinks, that starts with prefix
 * (ASCII case-insensitive); is_column tells which. A column name may come
 * more than once (several streams). Returns how many calls were made. */
int session_complete_names(Session *s, const char *prefix,
                           void (*fn)(void *ctx, const char *name, int is_column), void *ctx);

#endif
