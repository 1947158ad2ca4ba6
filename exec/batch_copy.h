/*
 * batch_copy.h — bulk row copies between batches and vectors, the moves an
 * exchange (rows to the batch of their destination task) and a projection
 * (kernel results into an output batch) make for every batch.
 *
 * One switch on the column type per call, then a tight loop; strings are
 * copied into the destination's arena (their bytes must outlive the source
 * batch, which is reset and reused).
 */
#ifndef SLUICE_EXEC_BATCH_COPY_H
#define SLUICE_EXEC_BATCH_COPY_H

#include <stdint.h>

#include "exec/batch.h"

/* Copy the values of src at rows[0..n) (physical rows; constant vectors read
 * slot 0) to dst's slots [at, at+n), validity included. dst must be flat, of
 * the same physical type, with at+n <= capacity. 0, or -1 (type mismatch, out
 * of memory for strings). */
int vector_gather(Vector *dst, int at, const Vector *src, const uint32_t *rows, int n);

/* The same for the live rows of a batch's column: rows = src batch's
 * selection (or 0..count-1). */
int vector_gather_live(Vector *dst, int at, const Vector *src, const Batch *b);

/* Append the src rows rows[0..n) to dst (dense: dst->sel must be NULL), every
 * column; dst->nrows and count grow by n. 0, or -1 when the types differ,
 * dst has no room, or memory runs out. */
int batch_append_rows(Batch *dst, const Batch *src, const uint32_t *rows, int n);

/* Append the live rows of src to dst (as batch_append_rows). */
int batch_append_live(Batch *dst, const Batch *src);

#endif
