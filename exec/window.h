/*
 * window.h — window assignment: TUMBLE, HOP, CUMULATE and SESSION
 * (Flink's windowing table-valued functions), the operator below a
 * windowed aggregate.
 *
 *   WindowOp *w = window_op_new(&spec, why, sizeof why);
 *   for each input batch in:
 *       int more;
 *       do {
 *           const Batch *out;
 *           if (window_op_apply(w, in, &out, &more) < 0) → window_op_error(w)
 *           … push out downstream …
 *       } while (more);
 *   window_op_free(w);
 *
 * Output: the input columns, then window_start, window_end, window_time
 * (TIMESTAMP; window_time = window_end - 1 µs, the last instant inside the
 * window, Flink's window_time at microsecond precision), one row per (input
 * row, window it belongs to), in input order and, for one row, by
 * ascending window_start:
 *
 *   TUMBLE(size)          one window: start = ts - mod(ts, size), where mod
 *                         is the floor modulo (0 <= mod < size), so negative
 *                         timestamps land in the window below them
 *   HOP(size, slide)      every window [k*slide, k*slide + size) containing
 *                         ts: size/slide of them (ceil(size/slide) or
 *                         floor(size/slide) when slide does not divide
 *                         size; none for rows in the gaps when slide > size)
 *   CUMULATE(size, step)  with s = floor(ts / size) * size, the windows
 *                         [s, s + k*step) for every k with s + k*step > ts
 *                         and k*step <= size; size must be a multiple of step
 *   SESSION(gap)          a proto-window [ts, ts + gap) per row; the session
 *                         aggregate merges them (agg.h)
 *
 * Rows whose time is NULL are dropped and counted (window_op_null_rows);
 * rows whose windows would leave the int64 range are dropped and counted
 * apart (window_op_range_rows).
 *
 * Zero copy for TUMBLE and SESSION (one output row per input row): the
 * output batch is a view owned by the op whose first ninput columns are
 * shallow copies of the input's Vector structs (same data arrays, bitmaps,
 * string arenas, kinds) and whose selection is the input's (or, when rows
 * were dropped, the op's own narrower one); only the three window columns
 * are computed, at the input's row slots. When every live row falls in the
 * same window the three columns are VECTOR_CONSTANT. HOP and CUMULATE
 * expand rows into the op's own batch (SLUICE_VECTOR_SIZE rows, or
 * spec.capacity): values are gathered from the input, VARCHAR values as
 * references to the input's bytes. When the expansion of a batch does not
 * fit, window_op_apply sets *more: call it again with the same `in` to get
 * the next part; the cursor lives in the op, so no input row is lost.
 *
 * The output is read-only, valid until the next window_op_apply on the op
 * and only while `in` is alive and unchanged; never batch_reset or
 * batch_destroy it.
 *
 * Ownership: the op owns its output batches and buffers; it borrows `in`
 * during a call and, through the output, until the next call.
 */
#ifndef SLUICE_EXEC_WINDOW_H
#define SLUICE_EXEC_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "exec/batch.h"
#include "exec/types.h"

typedef enum WindowFnKind {
    WINDOW_FN_TUMBLE,
    WINDOW_FN_HOP,
    WINDOW_FN_CUMULATE,
    WINDOW_FN_SESSION
} WindowFnKind;

typedef struct WindowSpec {
    WindowFnKind   kind;
    int            time_col;     /* input TIMESTAMP (any int64 type) column       */
    int64_t        size_us;      /* TUMBLE / HOP / CUMULATE size, > 0             */
    int64_t        slide_us;     /* HOP slide, CUMULATE step, > 0                 */
    int64_t        gap_us;       /* SESSION gap, > 0                              */
    int            ninput;
    const SqlType *input_types;
    int            capacity;     /* rows of an expansion batch; <= 0: default     */
} WindowSpec;

typedef struct WindowOp WindowOp;

/* NULL on a bad spec (reason in why) or OOM. Copies the spec. */
WindowOp *window_op_new(const WindowSpec *spec, char *why, size_t cap);
void      window_op_free(WindowOp *op);   /* NULL allowed */

/* Assign the live rows of in to windows; *out is the result (see above).
 * Returns the number of live output rows, or -1 (window_op_error): a batch
 * that does not match the spec, or OOM. *more = 1: call again with the
 * same in. */
int window_op_apply(WindowOp *op, const Batch *in, const Batch **out, int *more);

/* The output types (ninput + 3 entries); returns the count. */
int window_op_output_types(const WindowOp *op, SqlType *types);

int64_t     window_op_null_rows(const WindowOp *op);
int64_t     window_op_range_rows(const WindowOp *op);
const char *window_op_error(const WindowOp *op);

#endif
