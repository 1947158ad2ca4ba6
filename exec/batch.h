/*
 * batch.h — a batch of rows as equal-length column vectors (DuckDB's
 * DataChunk), with a selection vector and an arena for its strings.
 *
 * Rows. nrows rows are physically filled in every column (slots 0..nrows-1).
 * Which of them are live is said by the selection:
 *
 *   sel == NULL   rows 0..count-1 are live (normally count == nrows)
 *   sel != NULL   the live rows are sel[0], sel[1], ..., sel[count-1]
 *
 * A filter does not move data: it writes the surviving row numbers into a
 * selection and sets count. Every kernel reads a batch through one loop, the
 * same for both cases (DuckDB's data[sel ? sel[i] : i]):
 *
 *   const int64_t  *x = vector_i64(&b->cols[0]);
 *   const uint32_t *sel = b->sel;
 *   for (int i = 0; i < b->count; i++) {
 *       int r = sel ? (int)sel[i] : i;           // = batch_row(b, i)
 *       ... x[r] ...
 *   }
 *
 * (the (int) cast keeps -Wextra's sign-compare quiet in the ?:). A kernel
 * writes the result for the i-th live row either at slot r (same shape as
 * the input, selection kept) or at slot i (dense output, selection dropped).
 * A column may also be a constant vector (see vector.h): read slot 0.
 *
 * Selection entries are < nrows; they are normally increasing but need not
 * be (a sort may permute, a join may repeat a row); count <= capacity. A
 * selection is either borrowed (batch_set_sel: the caller keeps it alive
 * until the next reset or set_sel) or the batch's own sel_buf (capacity
 * entries), which a filter may fill in place even while it is the current
 * selection, because it writes entry k only after reading entries >= k.
 * batch_compact() materializes the selection: the live rows move to slots
 * 0..count-1 and sel becomes NULL.
 *
 * Memory. batch_init allocates everything: the vectors, the selection
 * buffer, a gather buffer for compaction; the arena's first chunk comes with
 * the first string. batch_reset() makes the batch empty again (count 0, no
 * selection, vectors flat and all valid, arena reset) and frees nothing, so a
 * producer that reuses one batch allocates nothing in steady state. Every
 * VARCHAR column points at the batch's arena, so string bytes written with
 * vector_set_str() live exactly as long as the batch's current contents.
 *
 * Ownership: the Batch struct is caller memory and must not be moved or
 * copied after batch_init (its vectors point at its arena). The batch owns
 * its vectors, sel_buf, scratch buffer and arena; batch_destroy frees them.
 * A borrowed selection stays the caller's.
 */
#ifndef SLUICE_EXEC_BATCH_H
#define SLUICE_EXEC_BATCH_H

#include <stdint.h>

#include "exec/arena.h"
#include "exec/types.h"
#include "exec/vector.h"

#define BATCH_ARENA_CHUNK 16384   /* first arena chunk: ~16 bytes per row of 1024 */

typedef struct Batch {
    int             ncols;      /* number of columns                                 */
    Vector         *cols;       /* ncols vectors, owned                              */
    int             capacity;   /* rows every vector can hold                        */
    int             nrows;      /* rows physically filled, <= capacity               */
    int             count;      /* live rows (see the selection rules above)         */
    const uint32_t *sel;        /* NULL: rows [0,count) live; else sel[0..count)     */
    uint32_t       *sel_buf;    /* owned, capacity entries, for the batch's own sel  */
    void           *scratch;    /* owned gather buffer for batch_compact             */
    Arena           arena;      /* owns the string bytes of every VARCHAR column     */
    const uint8_t  *ops;        /* changelog rows (EMIT CHANGES): per physical row  */
                                /* BATCH_OP_*; NULL: all inserts. +I/+U add a row,  */
                                /* -U/-D retract one (a -U precedes its +U)          */
    uint8_t        *ops_buf;    /* owned, capacity entries, allocated on first use   */
} Batch;

/* The kind of a changelog row (the shell shows +I, +U, -D). */
#define BATCH_OP_INSERT 0
#define BATCH_OP_UPDATE 1
#define BATCH_OP_DELETE 2
#define BATCH_OP_UPDATE_BEFORE 3   /* -U: the old row an +U replaces (retracted) */

/* The batch's own ops buffer (capacity entries), allocated on first use;
 * NULL when out of memory. Setting b->ops = it makes the marks live. */
uint8_t *batch_ops_buf(Batch *b);

/* Allocate a batch of ncols columns of the given types and `capacity` rows
 * (<= 0: SLUICE_VECTOR_SIZE). 0, or -1 on OOM or a bad type (then the batch
 * is left empty and batch_destroy is still safe). */
int batch_init(Batch *b, int ncols, const SqlType *types, int capacity);

/* Free the vectors, buffers and arena. Safe after a failed init. */
void batch_destroy(Batch *b);

/* Empty the batch for reuse: nrows = count = 0, no selection, every vector
 * flat and all valid, arena reset. Allocates and frees nothing (but the
 * arena's extra chunks, see arena.h). */
void batch_reset(Batch *b);

/* After filling slots [0, n) of every column: nrows = count = n, sel = NULL. */
void batch_set_nrows(Batch *b, int n);

/* Install a selection: the live rows are sel[0..count). sel may be b->sel_buf
 * or borrowed; NULL means rows [0, count). */
void batch_set_sel(Batch *b, const uint32_t *sel, int count);

/* Move the live rows to slots [0, count) in selection order, in every flat
 * column (constant columns stay as they are); then sel = NULL and
 * nrows = count. */
void batch_compact(Batch *b);

/* Append physical row src_row of src (values, NULLs; strings copied into
 * dst's arena) as a new live row of dst. dst must have no selection
 * (sel == NULL, count == nrows) and room; columns must match in number and
 * physical type. A constant column of dst is flattened first. 0, or -1 when
 * full, mismatched or out of memory (dst unchanged but for that row's slots). */
int batch_append_row_from(Batch *dst, const Batch *src, int src_row);

/* Physical slot of the i-th live row. */
static inline int batch_row(const Batch *b, int i)
{
    return b->sel ? (int)b->sel[i] : i;
}

#endif
