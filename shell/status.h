/*
 * status.h — the live status line the shell shows on stderr while a query
 * runs (only when stderr is a terminal), and a ResultSink wrapper that
 * erases the line before anything else is printed and counts the rows a
 * statement returned (for the "rows received" message after Ctrl-C).
 *
 * The line is one row of text, redrawn in place ("\r" + text + clear to end
 * of line) each time the session reports progress (about 4 times a second):
 *
 *   in 10.2k rows/s | processed 480k rows/s | watermark 2024-01-01 12:00:05
 *   (2.1s behind now) | state 312 rows | late 0          (on one line)
 *
 * It is cut to the terminal's width so it never wraps, and erased when the
 * query ends, when rows arrive, and before notices and tags.
 */
#ifndef SLUICE_SHELL_STATUS_H
#define SLUICE_SHELL_STATUS_H

#include <stdint.h>
#include <stdio.h>

#include "runtime/session.h"

typedef struct StatusLine {
    FILE       *tty;          /* where the line goes (stderr)                */
    FILE       *out;          /* rows go here: flushed before each redraw    */
    int         enabled;      /* draw at all (stderr is a TTY, \progress on) */
    int         shown;        /* a line is on the screen now                 */
    ResultSink  inner;        /* the sink rows are forwarded to              */
    long long   rows;         /* rows of the current statement               */
    int64_t     prev_elapsed_us, prev_in, prev_cpu_us;
} StatusLine;

void status_init(StatusLine *st, FILE *tty, FILE *out, int enabled);

/* A sink that forwards to inner (copied) after erasing the status line. */
ResultSink status_wrap(StatusLine *st, const ResultSink *inner);

/* The session progress callback (session_set_progress_callback); ctx is a
 * StatusLine. */
void status_progress(void *ctx, const struct QueryProgress *p);

/* Erase the line if it is shown. */
void status_clear(StatusLine *st);

/* The text of the line for these figures; now_us is the wall clock. */
void status_format(const struct QueryProgress *p, double in_rate, double proc_rate, int64_t now_us,
                   char *buf, size_t cap);

#endif
