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
#include <stdint.h>
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
 * once when it ends. For a SELECT on the thread that called session_exec
 * (the one that delivers rows to the ResultSink); for an INSERT on a thread
 * of the query's own while it runs (so progress goes on while its sink
 * blocks), and the last call on the caller's thread. Never two at once.
 * NULL: none. Works alongside session_set_progress_file, which keeps its
 * once-a-second lines. */
void session_set_progress_callback(Session *s, SessionProgressFn fn, void *ctx);

/* For tab completion: call fn for every stream, sink and view name, then
 * every column name of the streams and sinks, that starts with prefix
 * (ASCII case-insensitive); is_column tells which. A column name may come
 * more than once (several streams). Returns how many calls were made. */
int session_complete_names(Session *s, const char *prefix,
                           void (*fn)(void *ctx, const char *name, int is_column), void *ctx);

/* ---- the query registry (for the web UI, shell/ui.h) ---------------------
 *
 * Every query the session runs — foreground (a SELECT or INSERT of -f/-e or
 * a script) and background (INSERT INTO in the interactive shell) — gets a
 * record in the session's registry when it starts: an id ("q1", "q2", …), its
 * SQL, status, sink, start time, the EXPLAIN FORMAT JSON text of its plan,
 * and a history of its QueryProgress figures: one sample a second for the
 * last SESSION_HISTORY_SECONDS, plus the latest figures (refreshed at every
 * progress callback, about 4 times a second with a progress callback set,
 * else once a second).
 *
 * Writers: the query_run thread of each query (from its progress callback;
 * query_progress is never called from elsewhere for this) and the session
 * thread (start, end). Readers (any thread, e.g. the HTTP server's) take a
 * snapshot: the registry mutex is held only while the figures are copied
 * out, never while they are formatted, and never by a query thread for more
 * than a copy of one sample. So a reader cannot slow a query down beyond a
 * memcpy, and cannot block it at all while it formats or sends.
 *
 * The registry keeps every running query and the last SESSION_HISTORY_DONE
 * finished ones (older finished records are dropped when a query starts).
 * Readers must be done (the server stopped) before session_free.
 */
#define SESSION_HISTORY_SECONDS 600
#define SESSION_HISTORY_DONE    32

/* One query as a snapshot: a plain value the caller owns (free it with
 * session_query_info_clear or session_queries_free). */
typedef struct SessionQueryInfo {
    char                  id[16];
    const char           *status;          /* "running", "finished", "failed", "stopped" (static) */
    int                   background;      /* 1: an interactive INSERT; 0: foreground (-f, -e) */
    int64_t               start_us;        /* wall clock at start, µs since the epoch          */
    int64_t               end_us;          /* wall clock at the end; 0 while it runs           */
    char                 *sql;             /* the statement as planned                         */
    char                 *sink;            /* the sink's name, or "console"                    */
    char                 *source;          /* the first stream it reads, or "values"           */
    char                 *plan_json;       /* EXPLAIN FORMAT JSON of its plan (may be NULL)    */
    char                  error[512];      /* why it failed; "" otherwise                      */
    char                  state_dir[512];  /* the state.dir it runs with; "" = checkpoints off */
    int64_t               parallelism;     /* the settings it runs with                        */
    int64_t               state_memory_bytes;
    struct QueryProgress *last;            /* latest figures; NULL before the first callback   */
    int64_t               last_wall_us;    /* when they were taken                             */
    int64_t               nsampled;        /* history samples taken so far (kept or not)       */
    struct QueryProgress *last_base;       /* the newest sample older than last (the base of
                                              its rates); NULL when none                       */
    /* History (session_query_get only; session_queries_list leaves it empty):
     * samples[0..nsamples) oldest first, a second apart; sample_wall_us[i] is
     * when each was taken, sample_seq[i] its number since the query started
     * (the --progress file's batchId); base is the sample just before
     * samples[0] (NULL when samples[0] is the first), for the rates. */
    int                   nsamples;
    struct QueryProgress *samples;
    int64_t              *sample_wall_us;
    int64_t              *sample_seq;
    struct QueryProgress *base;
} SessionQueryInfo;

/* Every query in the registry, oldest first, without history: *out is a
 * malloc'd array of n records (NULL when n is 0). Returns n, or -1 when out
 * of memory. Free with session_queries_free(*out, n). Any thread. */
int  session_queries_list(Session *s, SessionQueryInfo **out);

/* One query with the samples taken after since_us (wall clock, µs since the
 * epoch; 0 for all) — at most max_samples of the newest of them (≤ 0: no
 * limit). Returns 0, 1 when there is no query with that id (out is then
 * zeroed), or -1 when out of memory. Free with session_query_info_clear.
 * Any thread. */
int  session_query_get(Session *s, const char *id, int64_t since_us, int max_samples,
                       SessionQueryInfo *out);

void session_query_info_clear(SessionQueryInfo *q);
void session_queries_free(SessionQueryInfo *v, int n);

/* Sample i of q (0 ≤ i < q->nsamples; i = -1 for q->last) as the JSON object
 * the --progress file has for it (compact, one line, no newline), with
 * rates over the time since the sample before it. Caller frees. NULL when i
 * is out of range or out of memory. */
char *session_progress_json(const SessionQueryInfo *q, int i);

/* The last committed checkpoint of progress p as a jansson object (the
 * --progress file's "checkpoint": lastEpoch, count, lastDurationMs,
 * lastBytes, lastAgeMs, skipped, restoredEpoch; docs/running.md) — also the
 * web UI's, which adds its own fields. Caller owns it; NULL out of memory. */
struct json_t;
struct json_t *session_checkpoint_json(const struct QueryProgress *p);

/* Group mode (deployment.group): this instance's share, from progress p, as
 * a jansson object (the --progress file's "group": name, sourcePartitions,
 * exchangePartitions, assignments, revocations, heldPartitions,
 * rebalancingSources, endingSources, restoredGroups, replayDropped,
 * recordFailures; docs/running.md) — also the web UI's. Caller owns it;
 * NULL out of memory. */
struct json_t *session_group_json(const struct QueryProgress *p);

/* Called on the session thread each time a query is about to start (its
 * registry record exists): the shell starts the web UI there when SET
 * ui.port asked for it. NULL: none. */
void session_set_query_start_callback(Session *s, void (*fn)(void *ctx, Session *s), void *ctx);

/* The current value of setting key, as text (as SET shows it), into
 * buf[0..cap). Returns 0, or -1 when there is no such setting. */
int  session_get_setting(Session *s, const char *key, char *buf, size_t cap);

#endif
