/*
 * ui.c — the web UI server (see ui.h and docs/ui.md).
 *
 * Design: libmicrohttpd runs the sockets on a small pool of its own threads
 * (MHD_USE_INTERNAL_POLLING_THREAD with a thread pool); each request goes
 * through ui_handle, which is a plain function of (method, path, since) and
 * the session's registry. A handler takes one snapshot of what it needs
 * (session_queries_list or session_query_get: copied under the registry's
 * mutex), formats it into a growable buffer with the lock released, and
 * hands the buffer to MHD, which frees it. Nothing here touches a Query.
 *
 * Order: types → buffer helpers → pages → API → metrics → routing → server.
 */
#include "shell/ui.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "exec/timefmt.h"
#include "runtime/query.h"

extern const char ui_asset_css[];   /* ui_assets.c */
extern const char ui_asset_js[];

struct Ui {
    struct MHD_Daemon *d;
    Session           *s;
    char               url[128];
};

/* ---- a growable text buffer ------------------------------------------------ */

typedef struct Buf {
    char  *p;
    size_t n, cap;
    int    oom;
} Buf;

static void buf_reserve(Buf *b, size_t extra)
{
    if (b->oom || b->n + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void buf_put(Buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    if (b->oom) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void buf_puts(Buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void buf_printf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    buf_reserve(b, (size_t)n);
    if (b->oom) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

/* text with & < > " ' escaped, for HTML text and attribute values */
static void buf_html(Buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': buf_puts(b, "&amp;"); break;
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '"': buf_puts(b, "&quot;"); break;
        case '\'': buf_puts(b, "&#39;"); break;
        default: buf_put(b, s, 1);
        }
    }
}

static int64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void respond(UiResponse *out, int status, const char *type, Buf *b)
{
    out->status = b->oom ? 500 : status;
    out->content_type = type;
    if (b->oom) {
        free(b->p);
        b->p = strdup("out of memory\n");
        b->n = b->p ? strlen(b->p) : 0;
    }
    out->body = b->p;
    out->body_len = b->n;
}

static void respond_text(UiResponse *out, int status, const char *msg)
{
    Buf b = {0};
    buf_puts(&b, msg);
    buf_puts(&b, "\n");
    respond(out, status, "text/plain; charset=utf-8", &b);
}

static void respond_json(UiResponse *out, int status, json_t *j)
{
    Buf   b = {0};
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!text) {
        respond_text(out, 500, "out of memory");
        return;
    }
    b.p = text;
    b.n = strlen(text);
    b.cap = b.n + 1;
    buf_puts(&b, "\n");
    respond(out, status, "application/json", &b);
}

/* ---- figures derived from a snapshot -------------------------------------- */

static double rate(int64_t rows, int64_t us)
{
    return us > 0 ? (double)rows * 1e6 / (double)us : 0.0;
}

/* input rows/s and processed rows/s over the latest interval (q->last_base
 * → q->last), as the --progress objects compute them */
static void last_rates(const SessionQueryInfo *q, double *in, double *proc)
{
    *in = *proc = 0;
    if (!q->last) return;
    QueryProgress zero;
    memset(&zero, 0, sizeof zero);
    const QueryProgress *b = q->last_base ? q->last_base : &zero;
    int64_t              rows = q->last->input_rows - b->input_rows;
    *in = rate(rows, q->last->elapsed_us - b->elapsed_us);
    *proc = rate(rows, q->last->cpu_us - b->cpu_us);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* max / median of the last stage's per-task rows (1 when even; 0 none) */
static double skew_ratio(const QueryProgress *p)
{
    int n = p->ntask_rows;
    if (n <= 0 || n > 64) return 0;
    int64_t v[64];
    memcpy(v, p->task_rows_in, (size_t)n * sizeof *v);
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    int64_t med = v[n / 2], max = v[n - 1];
    return med > 0 ? (double)max / (double)med : (max > 0 ? (double)max : 1.0);
}

static json_t *ts_json(int64_t us)
{
    char buf[TS_FORMAT_MAX];
    if (us == WATERMARK_MIN || us == WATERMARK_MAX) return json_null();
    ts_format(us, buf, sizeof buf, 1);
    return json_string(buf);
}

/* the summary object of one query (the list's rows, the query's head) */
static json_t *query_summary_json(const SessionQueryInfo *q, int64_t now)
{
    double in_rate, proc_rate;
    last_rates(q, &in_rate, &proc_rate);
    const QueryProgress *p = q->last;
    int64_t              end = q->end_us ? q->end_us : now;
    json_t              *o = json_object();
    json_object_set_new(o, "id", json_string(q->id));
    json_object_set_new(o, "status", json_string(q->status));
    json_object_set_new(o, "background", json_boolean(q->background));
    json_object_set_new(o, "sql", json_string(q->sql));
    json_object_set_new(o, "source", json_string(q->source));
    json_object_set_new(o, "sink", json_string(q->sink));
    json_object_set_new(o, "startTime", ts_json(q->start_us));
    json_object_set_new(o, "startMs", json_integer(q->start_us / 1000));
    json_object_set_new(o, "endMs", q->end_us ? json_integer(q->end_us / 1000) : json_null());
    json_object_set_new(o, "uptimeMs", json_integer((end - q->start_us) / 1000));
    json_object_set_new(o, "inputRows", json_integer(p ? p->input_rows : 0));
    json_object_set_new(o, "outputRows", json_integer(p ? p->output_rows : 0));
    json_object_set_new(o, "lateRows", json_integer(p ? p->late_rows : 0));
    json_object_set_new(o, "stateRows", json_integer(p ? p->state_rows : 0));
    json_object_set_new(o, "stateSpilledRows", json_integer(p ? p->state_spilled_rows : 0));
    json_object_set_new(o, "badRecords", json_integer(p ? p->bad_records : 0));
    json_object_set_new(o, "inputRowsPerSecond", json_real(in_rate));
    json_object_set_new(o, "processedRowsPerSecond", json_real(proc_rate));
    json_object_set_new(o, "watermark", p ? ts_json(p->watermark) : json_null());
    json_object_set_new(o, "error", q->error[0] ? json_string(q->error) : json_null());
    return o;
}

/* ---- HTML pages ----------------------------------------------------------- */

static void page_head(Buf *b, const char *title, int refresh)
{
    buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    if (refresh) buf_printf(b, "<meta http-equiv=\"refresh\" content=\"%d\">\n", refresh);
    buf_puts(b, "<title>");
    buf_html(b, title);
    buf_puts(b, "</title>\n<link rel=\"stylesheet\" href=\"/static/ui.css\">\n</head><body>\n"
                "<header><a class=\"brand\" href=\"/\">sluice</a> <span class=\"muted\">web UI</span>"
                " <nav><a href=\"/\">Queries</a> <a href=\"/metrics\">Metrics</a>"
                " <a href=\"/api/queries\">API</a></nav></header>\n<main>\n");
}

static void page_tail(Buf *b)
{
    buf_puts(b, "</main>\n<footer class=\"muted\">sluice reads the figures its runtime publishes; "
                "this page never pauses a query.</footer>\n</body></html>\n");
}

static void fmt_duration(char *buf, size_t cap, int64_t us)
{
    int64_t s = us / 1000000;
    if (s < 60) snprintf(buf, cap, "%" PRId64 " s", s);
    else if (s < 3600) snprintf(buf, cap, "%" PRId64 " min %" PRId64 " s", s / 60, s % 60);
    else snprintf(buf, cap, "%" PRId64 " h %" PRId64 " min", s / 3600, s / 60 % 60);
}

static void page_queries(Session *s, UiResponse *out)
{
    SessionQueryInfo *v;
    int               n = session_queries_list(s, &v);
    if (n < 0) {
        respond_text(out, 500, "out of memory");
        return;
    }
    Buf     b = {0};
    int64_t now = now_us();
    page_head(&b, "sluice · queries", 2);
    buf_printf(&b, "<h1>Queries <span class=\"muted\">(%d)</span></h1>\n", n);
    if (n == 0)
        buf_puts(&b, "<p class=\"muted\">No query has run yet. A SELECT or INSERT INTO of the session "
                     "shows up here when it starts.</p>\n");
    else
        buf_puts(&b, "<table class=\"list\"><thead><tr><th>id</th><th>status</th><th>SQL</th><th>sink</th>"
                     "<th>uptime</th><th>input rows/s</th><th>processed rows/s</th><th>input rows</th>"
                     "<th>output rows</th></tr></thead><tbody>\n");
    for (int i = n - 1; i >= 0; i--) {   /* newest first */
        const SessionQueryInfo *q = &v[i];
        double                  in_rate, proc_rate;
        char                    up[64];
        last_rates(q, &in_rate, &proc_rate);
        fmt_duration(up, sizeof up, (q->end_us ? q->end_us : now) - q->start_us);
        buf_printf(&b, "<tr><td><a href=\"/queries/%s\">%s</a></td><td><span class=\"st st-%s\">%s</span></td>"
                       "<td class=\"sql\">",
                   q->id, q->id, q->status, q->status);
        buf_html(&b, q->sql);
        if (q->error[0]) {
            buf_puts(&b, "<div class=\"err\">");
            buf_html(&b, q->error);
            buf_puts(&b, "</div>");
        }
        buf_puts(&b, "</td><td>");
        buf_html(&b, q->sink);
        buf_printf(&b, "</td><td>%s</td><td class=\"num\">%.0f</td><td class=\"num\">%.0f</td>"
                       "<td class=\"num\">%" PRId64 "</td><td class=\"num\">%" PRId64 "</td></tr>\n",
                   up, in_rate, proc_rate, q->last ? q->last->input_rows : 0, q->last ? q->last->output_rows : 0);
    }
    if (n > 0) buf_puts(&b, "</tbody></table>\n");
    page_tail(&b);
    session_queries_free(v, n);
    respond(out, 200, "text/html; charset=utf-8", &b);
}

static void page_query(Session *s, const char *id, UiResponse *out)
{
    SessionQueryInfo q;
    int              rc = session_query_get(s, id, INT64_MAX, 0, &q);
    if (rc < 0) {
        respond_text(out, 500, "out of memory");
        return;
    }
    if (rc > 0) {
        respond_text(out, 404, "no such query");
        return;
    }
    Buf  b = {0};
    char title[64];
    snprintf(title, sizeof title, "sluice · query %s", q.id);
    page_head(&b, title, 0);
    buf_printf(&b, "<h1>Query %s <span id=\"status\" class=\"st st-%s\">%s</span></h1>\n", q.id, q.status,
               q.status);
    buf_puts(&b, "<pre class=\"sql\">");
    buf_html(&b, q.sql);
    buf_puts(&b, "</pre>\n<p class=\"muted\">source ");
    buf_html(&b, q.source);
    buf_puts(&b, " → sink ");
    buf_html(&b, q.sink);
    buf_printf(&b, " · %s · parallelism %" PRId64 "</p>\n", q.background ? "background" : "foreground",
               q.parallelism);
    if (q.error[0]) {
        buf_puts(&b, "<p class=\"err\">");
        buf_html(&b, q.error);
        buf_puts(&b, "</p>\n");
    }
    buf_printf(&b,
               "<div id=\"app\" data-query=\"%s\">\n"
               "<div id=\"summary\" class=\"summary\"></div>\n"
               "<h2>Streaming statistics <span class=\"muted\">(last 10 minutes, one point a second)</span></h2>\n"
               "<div class=\"charts\">\n"
               "<figure><figcaption>Input rows/s vs processed rows/s</figcaption><canvas id=\"c-rates\" "
               "width=\"560\" height=\"180\"></canvas></figure>\n"
               "<figure><figcaption>Batch duration (ms): wall and worker CPU</figcaption><canvas id=\"c-dur\" "
               "width=\"560\" height=\"180\"></canvas></figure>\n"
               "<figure><figcaption>State rows</figcaption><canvas id=\"c-state\" width=\"560\" "
               "height=\"180\"></canvas></figure>\n"
               "<figure><figcaption>Watermark gap (s): wall clock − watermark</figcaption><canvas id=\"c-wm\" "
               "width=\"560\" height=\"180\"></canvas></figure>\n"
               "<figure><figcaption>Late rows dropped (total)</figcaption><canvas id=\"c-late\" width=\"560\" "
               "height=\"180\"></canvas></figure>\n"
               "</div>\n"
               "<h2>Stages</h2>\n<div id=\"dag\" class=\"dag\"></div>\n"
               "<h2>Tasks of the last stage</h2>\n<div id=\"tasks\"></div>\n"
               "<h2>Workers</h2>\n<div id=\"workers\"></div>\n"
               "<h2>Checkpoints</h2>\n<div id=\"checkpoints\"></div>\n"
               "<h2>Group</h2>\n<div id=\"group\"></div>\n"
               "</div>\n<script src=\"/static/app.js\"></script>\n",
               q.id);
    page_tail(&b);
    session_query_info_clear(&q);
    respond(out, 200, "text/html; charset=utf-8", &b);
}

/* ---- the JSON API --------------------------------------------------------- */

static void api_queries(Session *s, UiResponse *out)
{
    SessionQueryInfo *v;
    int               n = session_queries_list(s, &v);
    if (n < 0) {
        respond_text(out, 500, "out of memory");
        return;
    }
    int64_t now = now_us();
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, query_summary_json(&v[i], now));
    session_queries_free(v, n);
    respond_json(out, 200, json_pack("{s:o}", "queries", a));
}

/* the query's worker and checkpoint figures */
static void add_details(json_t *o, const SessionQueryInfo *q)
{
    const QueryProgress *p = q->last;
    json_object_set_new(o, "workers",
                        json_pack("{s:I, s:i, s:f, s:I, s:I, s:I, s:I}", "parallelism", (json_int_t)q->parallelism,
                                  "tasks", p ? p->ntasks : 0, "cpuSeconds", p ? p->cpu_us / 1e6 : 0.0,
                                  "stateBytes", (json_int_t)(p ? p->state_bytes : 0), "stateMemoryBudgetBytes",
                                  (json_int_t)q->state_memory_bytes, "shuffleRows",
                                  (json_int_t)(p ? p->shuffle_rows : 0), "shuffleBytes",
                                  (json_int_t)(p ? p->shuffle_bytes : 0)));
    /* checkpoints: the runtime's figures of the last committed one (as the
     * --progress file's), and where the state is */
    json_t *ck = p && p->checkpoints_on ? session_checkpoint_json(p) : json_object();
    if (!ck) return;
    json_object_set_new(ck, "enabled", json_boolean(q->state_dir[0] != 0));
    json_object_set_new(ck, "stateDir", q->state_dir[0] ? json_string(q->state_dir) : json_null());
    if (p && p->checkpoints_on) json_object_set_new(ck, "stateBytes", json_integer(p->state_bytes));
    json_object_set_new(o, "checkpoints", ck);
    /* group mode: this instance's share of the group (null otherwise) */
    json_object_set_new(o, "group", p && p->group[0] ? session_group_json(p) : json_null());
}

static void api_query(Session *s, const char *id, UiResponse *out)
{
    SessionQueryInfo q;
    int              rc = session_query_get(s, id, INT64_MAX, 0, &q);
    if (rc != 0) {
        respond_text(out, rc > 0 ? 404 : 500, rc > 0 ? "no such query" : "out of memory");
        return;
    }
    json_t *o = query_summary_json(&q, now_us());
    char   *last = session_progress_json(&q, -1);
    json_object_set_new(o, "progress", last ? json_loads(last, 0, NULL) : json_null());
    free(last);
    add_details(o, &q);
    session_query_info_clear(&q);
    respond_json(out, 200, o);
}

/* since_ms < 0: every sample. Otherwise only the samples whose timestamp,
 * which the objects give in whole milliseconds (floored), is after since_ms:
 * a sample taken at since_ms + 0.4 ms shows as since_ms and must not come
 * back to a page that polls with the last timestamp it has. */
static void api_progress(Session *s, const char *id, int64_t since_ms, UiResponse *out)
{
    SessionQueryInfo q;
    int64_t          since_us = since_ms < 0 ? 0 : since_ms * 1000 + 999;
    int              rc = session_query_get(s, id, since_us, 0, &q);
    if (rc != 0) {
        respond_text(out, rc > 0 ? 404 : 500, rc > 0 ? "no such query" : "out of memory");
        return;
    }
    /* the objects are the --progress file's lines: join them as text */
    Buf b = {0};
    buf_puts(&b, "[");
    for (int i = 0; i < q.nsamples; i++) {
        char *line = session_progress_json(&q, i);
        if (!line) {
            b.oom = 1;
            break;
        }
        if (i) buf_puts(&b, ",\n");
        buf_puts(&b, line);
        free(line);
    }
    buf_puts(&b, "]\n");
    session_query_info_clear(&q);
    respond(out, 200, "application/json", &b);
}

static void api_plan(Session *s, const char *id, UiResponse *out)
{
    SessionQueryInfo q;
    int              rc = session_query_get(s, id, INT64_MAX, 0, &q);
    if (rc != 0) {
        respond_text(out, rc > 0 ? 404 : 500, rc > 0 ? "no such query" : "out of memory");
        return;
    }
    json_t *plan = q.plan_json ? json_loads(q.plan_json, 0, NULL) : NULL;
    json_t *live = json_object();
    json_t *stages = json_array(), *tasks = json_array();
    const QueryProgress *p = q.last;
    for (int i = 0; p && i < p->nstages && i < 16; i++)
        json_array_append_new(stages, json_pack("{s:i, s:I}", "id", i, "rowsIn", (json_int_t)p->stage_rows_in[i]));
    for (int i = 0; p && i < p->ntask_rows && i < 64; i++)
        json_array_append_new(tasks, json_integer(p->task_rows_in[i]));
    json_object_set_new(live, "stages", stages);
    json_object_set_new(live, "lastStageTaskRowsIn", tasks);
    json_object_set_new(live, "skew", json_real(p ? skew_ratio(p) : 0.0));
    json_object_set_new(live, "shuffleRows", json_integer(p ? p->shuffle_rows : 0));
    json_object_set_new(live, "shuffleBytes", json_integer(p ? p->shuffle_bytes : 0));
    json_object_set_new(live, "outputRows", json_integer(p ? p->output_rows : 0));
    json_object_set_new(live, "elapsedMs", json_integer(p ? p->elapsed_us / 1000 : 0));
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(q.id));
    json_object_set_new(o, "status", json_string(q.status));
    json_object_set_new(o, "plan", plan ? plan : json_null());
    json_object_set_new(o, "live", live);
    session_query_info_clear(&q);
    respond_json(out, 200, o);
}

/* ---- Prometheus /metrics -------------------------------------------------- */

typedef struct Metric {
    const char *name, *type, *help;
} Metric;

static const Metric metrics[] = {
    {"sluice_query_running", "gauge", "1 while the query runs, 0 once it finished, failed or stopped."},
    {"sluice_input_rows_total", "counter", "Rows read from the query's sources."},
    {"sluice_processed_rows_total", "counter", "Rows taken in by the query's tasks, summed over its stages."},
    {"sluice_output_rows_total", "counter", "Rows the query delivered to its sink or console."},
    {"sluice_late_rows_total", "counter", "Rows dropped because their window had already closed (late)."},
    {"sluice_state_rows", "gauge", "Rows held in the query's operator state (spilled ones included)."},
    {"sluice_state_bytes", "gauge", "Bytes of the query's operator state in memory."},
    {"sluice_watermark_seconds", "gauge", "The query's event-time watermark, in seconds since the epoch."},
    {"sluice_bad_records_total", "counter", "Input records the sources could not decode and skipped."},
    {"sluice_shuffle_rows_total", "counter", "Rows that crossed an exchange between stages."},
    {"sluice_cpu_seconds_total", "counter", "CPU time of the query's worker threads."},
    {"sluice_state_spilled_rows", "gauge", "Aggregate groups spilled to disk (state over state.memory)."},
    {"sluice_checkpoints_total", "counter", "Checkpoints the query committed in this run."},
    {"sluice_checkpoint_epoch", "gauge", "Epoch of the query's last committed checkpoint."},
    {"sluice_checkpoint_duration_seconds", "gauge", "Time the last checkpoint took, barriers asked to committed."},
    {"sluice_checkpoint_bytes", "gauge", "Bytes the last checkpoint wrote."},
    {"sluice_group_source_partitions", "gauge", "Group mode: source partitions this instance reads now."},
    {"sluice_group_exchange_partitions", "gauge", "Group mode: repartition topic partitions this instance reads now."},
    {"sluice_group_assignments_total", "counter", "Group mode: assignments of source partitions to this instance."},
    {"sluice_group_revocations_total", "counter", "Group mode: source partitions revoked from or lost by this instance."},
    {"sluice_group_held_partitions", "gauge", "Group mode: partitions moving away, held until a checkpoint commits them."},
    {"sluice_group_replayed_rows_total", "counter", "Group mode: rows read again from the repartition topic after partitions moved."},
    {"sluice_group_record_failures_total", "counter", "Group mode: records of replay points to the group that failed and are retried."},
};

enum { METRIC_WATERMARK = 7, METRIC_FIRST_CHECKPOINT = 12, METRIC_FIRST_GROUP = 16 };

static double metric_value(int m, const SessionQueryInfo *q, int *has)
{
    const QueryProgress *p = q->last;
    *has = 1;
    if (m == 0) return strcmp(q->status, "running") == 0;
    if (m >= METRIC_FIRST_GROUP) {   /* single instance: no series */
        if (!p || !p->group[0]) {
            *has = 0;
            return 0;
        }
    } else if (m >= METRIC_FIRST_CHECKPOINT && (!p || !p->checkpoints_on)) {   /* checkpoints off: no series */
        *has = 0;
        return 0;
    }
    if (!p) {
        *has = m != METRIC_WATERMARK;
        return 0;
    }
    switch (m) {
    case 1: return (double)p->input_rows;
    case 2: {
        double t = 0;
        for (int i = 0; i < p->nstages && i < 16; i++) t += (double)p->stage_rows_in[i];
        return t;
    }
    case 3: return (double)p->output_rows;
    case 4: return (double)p->late_rows;
    case 5: return (double)p->state_rows;
    case 6: return (double)p->state_bytes;
    case METRIC_WATERMARK:
        *has = p->watermark != WATERMARK_MIN && p->watermark != WATERMARK_MAX;
        return (double)p->watermark / 1e6;
    case 8: return (double)p->bad_records;
    case 9: return (double)p->shuffle_rows;
    case 10: return p->cpu_us / 1e6;
    case 11: return (double)p->state_spilled_rows;
    case 12: return (double)p->ckpt_count;
    case 13: return (double)p->ckpt_epoch;
    case 14: return p->ckpt_duration_us / 1e6;
    case 15: return (double)p->ckpt_bytes;
    case 16: return (double)p->group_source_parts;
    case 17: return (double)p->group_exchange_parts;
    case 18: return (double)p->group_assignments;
    case 19: return (double)p->group_revocations;
    case 20: return (double)p->group_held;
    case 21: return (double)p->replayed_rows;
    case 22: return (double)p->group_record_failures;
    }
    return 0;
}

static void page_metrics(Session *s, UiResponse *out)
{
    SessionQueryInfo *v;
    int               n = session_queries_list(s, &v);
    if (n < 0) {
        respond_text(out, 500, "out of memory");
        return;
    }
    Buf b = {0};
    for (size_t m = 0; m < sizeof metrics / sizeof metrics[0]; m++) {
        buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", metrics[m].name, metrics[m].help, metrics[m].name,
                   metrics[m].type);
        for (int i = 0; i < n; i++) {
            int    has;
            double val = metric_value((int)m, &v[i], &has);
            if (!has) continue;
            /* ids are "q<digits>": nothing to escape in the label */
            buf_printf(&b, "%s{query=\"%s\"} %.17g\n", metrics[m].name, v[i].id, val);
        }
    }
    session_queries_free(v, n);
    respond(out, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
}

/* ---- routing -------------------------------------------------------------- */

/* A query id is "q" and 1..9 digits; anything else is a bad request. */
static int valid_id(const char *s, size_t n)
{
    if (n < 2 || n > 10 || s[0] != 'q') return 0;
    for (size_t i = 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* since: 1..15 decimal digits (ms since the epoch) */
static int parse_since(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static void static_asset(UiResponse *out, const char *text, const char *type)
{
    Buf b = {0};
    buf_puts(&b, text);
    respond(out, 200, type, &b);
}

void ui_handle(Session *s, const char *method, const char *path, const char *since, UiResponse *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        respond_text(out, 405, "method not allowed: the web UI only serves GET");
        return;
    }
    if (!path || path[0] != '/') {
        respond_text(out, 400, "bad request");
        return;
    }
    if (!strcmp(path, "/") || !strcmp(path, "/queries") || !strcmp(path, "/index.html")) {
        page_queries(s, out);
        return;
    }
    if (!strcmp(path, "/metrics")) {
        page_metrics(s, out);
        return;
    }
    if (!strcmp(path, "/static/app.js")) {
        static_asset(out, ui_asset_js, "text/javascript; charset=utf-8");
        return;
    }
    if (!strcmp(path, "/static/ui.css")) {
        static_asset(out, ui_asset_css, "text/css; charset=utf-8");
        return;
    }
    if (!strcmp(path, "/api/queries")) {
        api_queries(s, out);
        return;
    }
    const char *rest;
    int         api;
    if (!strncmp(path, "/api/queries/", 13)) {
        rest = path + 13;
        api = 1;
    } else if (!strncmp(path, "/queries/", 9)) {
        rest = path + 9;
        api = 0;
    } else {
        respond_text(out, 404, "not found");
        return;
    }
    const char *slash = strchr(rest, '/');
    size_t      idlen = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *sub = slash ? slash : "";
    if (!valid_id(rest, idlen)) {
        respond_text(out, 400, "bad query id: expected q followed by digits, e.g. /api/queries/q1");
        return;
    }
    char id[16];
    memcpy(id, rest, idlen);
    id[idlen] = 0;
    if (!api) {
        if (*sub && strcmp(sub, "/")) respond_text(out, 404, "not found");
        else page_query(s, id, out);
        return;
    }
    if (!*sub || !strcmp(sub, "/")) {
        api_query(s, id, out);
    } else if (!strcmp(sub, "/progress")) {
        int64_t since_ms = -1;
        if (since && parse_since(since, &since_ms) != 0) {
            respond_text(out, 400, "bad since: expected milliseconds since the epoch");
            return;
        }
        api_progress(s, id, since_ms, out);
    } else if (!strcmp(sub, "/plan")) {
        api_plan(s, id, out);
    } else {
        respond_text(out, 404, "not found");
    }
}

/* ---- the server ----------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* MHD's unescaping (paths and query arguments), in place, except that %00
 * stays as the text "%00": a NUL would cut the string short and make
 * "/api/queries/q1%00x" look like "/api/queries/q1". */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *w = s;
    for (const char *r = s; *r; r++) {
        int hi, lo;
        if (*r == '%' && (hi = hexval((unsigned char)r[1])) >= 0 && (lo = hexval((unsigned char)r[2])) >= 0 &&
            (hi | lo) != 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = 0;
    return (size_t)(w - s);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)con_cls;
    Ui        *ui = cls;
    UiResponse r;
    /* a body (POST …) is not read: the answer is 405 at once */
    *upload_size = 0;
    const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
    ui_handle(ui->s, method, url, since, &r);
    if (!r.body) return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(r.body_len, r.body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(r.body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r.status == 405) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

Ui *ui_start(Session *s, const char *bind_addr, int port, char *err, size_t cap)
{
    if (!bind_addr) bind_addr = "127.0.0.1";
    if (port < 1 || port > 65535) {
        snprintf(err, cap, "port must be 1..65535, got %d", port);
        return NULL;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in  *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    unsigned             flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    int                  is6 = 0;
    if (inet_pton(AF_INET, bind_addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, bind_addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        flags |= MHD_USE_IPv6;
        is6 = 1;
    } else {
        snprintf(err, cap, "'%s' is not an IPv4 or IPv6 address", bind_addr);
        return NULL;
    }
    Ui *ui = calloc(1, sizeof *ui);
    if (!ui) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    ui->s = s;
    snprintf(ui->url, sizeof ui->url, is6 ? "http://[%s]:%d/" : "http://%s:%d/", bind_addr, port);
    errno = 0;
    ui->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, ui,
                             MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                             MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4,
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                             MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                             MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                             MHD_OPTION_END);
    if (!ui->d) {
        snprintf(err, cap, "cannot listen on %s port %d: %s", bind_addr, port,
                 errno ? strerror(errno) : "the port is in use or not allowed");
        free(ui);
        return NULL;
    }
    return ui;
}

const char *ui_url(const Ui *ui)
{
    return ui->url;
}

void ui_stop(Ui *ui)
{
    if (!ui) return;
    MHD_stop_daemon(ui->d);
    free(ui);
}
