/*
 * render.h — turning result batches into text on a FILE: an aligned table,
 * CSV (RFC 4180, header line), or JSON lines (one object per row,
 * timestamps as ISO-8601 UTC with milliseconds).
 *
 * A Renderer is a ResultSink (see runtime/session.h). For a result that
 * comes all at once (SHOW, DESCRIBE, …) the table format buffers the rows to
 * align its columns and prints them when the statement is done; for a
 * running query it prints the header at once, with column widths from the
 * types, and every row as it arrives. csv and json always print each batch
 * as it arrives.
 */
#ifndef SLUICE_SHELL_RENDER_H
#define SLUICE_SHELL_RENDER_H

#include <stdio.h>

#include "runtime/session.h"

/* changelog: a running query's rows as a stream of changes, aligned like
 * table, with an `op` column first (+I insert, -U/+U the old and new row of
 * an update, -D delete); an append-only result shows +I on every row. */
typedef enum RenderFormat { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON, FORMAT_CHANGELOG } RenderFormat;

typedef struct Renderer {
    FILE         *out;        /* rows go here                          */
    FILE         *msg;        /* tags and notices go here (stderr)     */
    RenderFormat  format;
    int           quiet;      /* no statement tags                     */
    int           ncols;
    char        **names;      /* owned                                 */
    SqlType      *types;      /* owned                                 */
    char        **cells;      /* table: buffered cells, row-major      */
    size_t        nrows, cap;
    long long     rows_out;   /* rows printed by the current statement */
    int           streaming;  /* table: rows are printed as they arrive   */
    int           closed;     /* the output is gone (EPIPE): stop quietly  */
    int          *widths;     /* table, streaming: fixed column widths    */
    int           add_op;     /* changelog of an append-only result: an op column of +I */
} Renderer;

void renderer_init(Renderer *r, FILE *out, FILE *msg, RenderFormat format, int quiet);
void renderer_destroy(Renderer *r);
ResultSink renderer_sink(Renderer *r);
int  render_format_parse(const char *s, RenderFormat *out);   /* 0 ok, -1 unknown */

#endif
