/*
 * status.c — the live status line (see status.h).
 */
#include "shell/status.h"

#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "exec/timefmt.h"
#include "runtime/query.h"

void status_init(StatusLine *st, FILE *tty, FILE *out, int enabled)
{
    memset(st, 0, sizeof *st);
    st->tty = tty;
    st->out = out;
    st->enabled = enabled;
}

void status_clear(StatusLine *st)
{
    if (!st->shown) return;
    fputs("\r\033[K", st->tty);
    fflush(st->tty);
    st->shown = 0;
}

/* 950, 12.3k, 4.56M, 7.89G */
static void fmt_count(double v, char *buf, size_t cap)
{
    if (v < 0) v = 0;
    if (v < 1000) snprintf(buf, cap, "%.0f", v);
    else if (v < 1e6) snprintf(buf, cap, "%.*fk", v < 1e4 ? 2 : v < 1e5 ? 1 : 0, v / 1e3);
    else if (v < 1e9) snprintf(buf, cap, "%.*fM", v < 1e7 ? 2 : v < 1e8 ? 1 : 0, v / 1e6);
    else snprintf(buf, cap, "%.2fG", v / 1e9);
}

/* 850ms, 2.1s, 3m05s, 2h10m, 3d04h; negative: "-" + the same */
static void fmt_gap(int64_t us, char *buf, size_t cap)
{
    const char *sign = us < 0 ? "-" : "";
    if (us < 0) us = -us;
    long long s = (long long)(us / 1000000);
    if (us < 1000000) snprintf(buf, cap, "%s%lldms", sign, (long long)(us / 1000));
    else if (s < 60) snprintf(buf, cap, "%s%.1fs", sign, (double)us / 1e6);
    else if (s < 3600) snprintf(buf, cap, "%s%lldm%02llds", sign, s / 60, s % 60);
    else if (s < 86400) snprintf(buf, cap, "%s%lldh%02lldm", sign, s / 3600, s / 60 % 60);
    else snprintf(buf, cap, "%s%lldd%02lldh", sign, s / 86400, s / 3600 % 24);
}

void status_format(const QueryProgress *p, double in_rate, double proc_rate, int64_t now_us, char *buf,
                   size_t cap)
{
    char in[32], proc[32], state[32], late[32], wm[160];
    fmt_count(in_rate, in, sizeof in);
    fmt_count(proc_rate, proc, sizeof proc);
    fmt_count((double)p->state_rows, state, sizeof state);
    fmt_count((double)p->late_rows, late, sizeof late);
    if (p->watermark == WATERMARK_MIN || p->watermark == WATERMARK_MAX) {
        snprintf(wm, sizeof wm, "watermark -");
    } else {
        char ts[TS_FORMAT_MAX], gap[32];
        ts_format(p->watermark, ts, sizeof ts, 0);
        fmt_gap(now_us - p->watermark, gap, sizeof gap);
        snprintf(wm, sizeof wm, "watermark %s (%s behind now)", ts, gap);
    }
    if (p->warning[0]) {
        /* a source is waiting out a problem (a broker down): say so first */
        snprintf(buf, cap, "⚠ %s | in %s rows/s | %s", p->warning, in, wm);
        return;
    }
    char spilled[48] = "";
    if (p->state_spilled_rows > 0) {
        char sp[32];
        fmt_count((double)p->state_spilled_rows, sp, sizeof sp);
        snprintf(spilled, sizeof spilled, " (%s spilled)", sp);
    }
    snprintf(buf, cap, "in %s rows/s | processed %s rows/s | %s | state %s rows%s | late %s", in, proc, wm,
             state, spilled, late);
}

void status_progress(void *ctx, const QueryProgress *p)
{
    StatusLine *st = ctx;
    if (p->elapsed_us < st->prev_elapsed_us) {   /* a new query */
        st->prev_elapsed_us = st->prev_in = st->prev_cpu_us = 0;
    }
    int64_t dt = p->elapsed_us - st->prev_elapsed_us;
    int64_t din = p->input_rows - st->prev_in;
    int64_t dcpu = p->cpu_us - st->prev_cpu_us;
    if (dt < 100000) return;   /* the final report right after a periodic one */
    double in_rate = (double)din * 1e6 / (double)dt;
    double proc_rate = dcpu > 0 ? (double)din * 1e6 / (double)dcpu : 0.0;
    st->prev_elapsed_us = p->elapsed_us;
    st->prev_in = p->input_rows;
    st->prev_cpu_us = p->cpu_us;
    if (!st->enabled) return;

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    char    line[512];
    status_format(p, in_rate, proc_rate, now, line, sizeof line);
    struct winsize ws;
    int            width = 80;
    if (ioctl(fileno(st->tty), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) width = ws.ws_col;
    if (width - 1 < (int)sizeof line && (int)strlen(line) > width - 1) line[width > 1 ? width - 1 : 0] = 0;
    if (st->out) fflush(st->out);
    fprintf(st->tty, "\r%s\033[K", line);
    fflush(st->tty);
    st->shown = 1;
}

/* ---- the wrapping sink ---------------------------------------------------- */

static int w_columns(void *ctx, int ncols, const char *const *names, const SqlType *types, int streaming)
{
    StatusLine *st = ctx;
    status_clear(st);
    st->rows = 0;
    st->prev_elapsed_us = st->prev_in = st->prev_cpu_us = 0;
    return st->inner.on_columns ? st->inner.on_columns(st->inner.ctx, ncols, names, types, streaming) : 0;
}

static int w_rows(void *ctx, const Batch *b)
{
    StatusLine *st = ctx;
    status_clear(st);
    st->rows += b->count;
    return st->inner.on_rows ? st->inner.on_rows(st->inner.ctx, b) : 0;
}

static void w_done(void *ctx, const char *tag)
{
    StatusLine *st = ctx;
    status_clear(st);
    st->prev_elapsed_us = st->prev_in = st->prev_cpu_us = 0;
    if (st->inner.on_done) st->inner.on_done(st->inner.ctx, tag);
}

static void w_notice(void *ctx, const char *msg)
{
    StatusLine *st = ctx;
    status_clear(st);
    if (st->inner.on_notice) st->inner.on_notice(st->inner.ctx, msg);
}

static void w_text(void *ctx, const char *text)
{
    StatusLine *st = ctx;
    status_clear(st);
    if (st->inner.on_text) st->inner.on_text(st->inner.ctx, text);
}

ResultSink status_wrap(StatusLine *st, const ResultSink *inner)
{
    st->inner = *inner;
    ResultSink s = {st, w_columns, w_rows, w_done, w_notice, w_text};
    return s;
}
