/*
 * ui.h — the web UI and metrics endpoints (sluice --ui PORT; docs/ui.md).
 *
 * An HTTP server (libmicrohttpd) inside the sluice process, on its own
 * threads, that shows the session's queries the way Spark's UI does: a
 * queries list, a page per query (charts of rates, state, watermark gap,
 * late rows; the stage DAG with live per-stage rows and skew; workers;
 * checkpoints), a JSON API behind them and Prometheus text at /metrics.
 *
 * It reads only what the runtime publishes in the session's query registry
 * (runtime/session.h, session_queries_list / session_query_get): a snapshot
 * copied under a short mutex, formatted afterwards. It never calls into a
 * running Query, so a slow or hostile client cannot slow a query down.
 *
 * Routes (GET or HEAD only; anything else is 405):
 *   /                               the queries list (HTML)
 *   /queries/{id}                   one query (HTML; its charts poll the API)
 *   /static/app.js, /static/ui.css  the page's script and style (embedded)
 *   /api/queries                    every query: id, status, SQL, rates, …
 *   /api/queries/{id}               one query, its settings and latest progress
 *   /api/queries/{id}/progress      the --progress objects of the last 10 min;
 *                                   ?since=<ms since the epoch>: only those
 *                                   whose timestamp (whole ms) is after it
 *   /api/queries/{id}/plan          EXPLAIN FORMAT JSON + live per-stage figures
 *   /metrics                        Prometheus text format 0.0.4
 * A malformed id or since is 400, an unknown query or path 404.
 *
 * Threads: ui_start starts the server's threads and returns; requests are
 * served until ui_stop, which must come before session_free.
 */
#ifndef SLUICE_SHELL_UI_H
#define SLUICE_SHELL_UI_H

#include <stddef.h>

#include "runtime/session.h"

typedef struct Ui Ui;

/* Serve s's queries on bind_addr (an IPv4 or IPv6 address; NULL means
 * 127.0.0.1) and port (1..65535). Returns the running server, or NULL with
 * a reason in err[0..cap) (a bad address, the port in use). Prints nothing. */
Ui  *ui_start(Session *s, const char *bind_addr, int port, char *err, size_t cap);

/* The server's URL, e.g. "http://127.0.0.1:4040/" (valid until ui_stop). */
const char *ui_url(const Ui *ui);

/* Stop serving (waits for requests in flight) and free ui. NULL is a no-op. */
void ui_stop(Ui *ui);

/* One response, built without any network I/O (what the server sends). */
typedef struct UiResponse {
    int         status;         /* HTTP status code                          */
    const char *content_type;   /* static string                             */
    char       *body;           /* malloc'd, body_len bytes; caller frees    */
    size_t      body_len;
} UiResponse;

/* Route one request: method ("GET"), the decoded path ("/api/queries") and
 * the since query argument (NULL when absent). Always fills out; body is
 * NULL only when out of memory (then status is 500). */
void ui_handle(Session *s, const char *method, const char *path, const char *since, UiResponse *out);

#endif
