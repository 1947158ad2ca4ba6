/*
 * batch.c — batch lifecycle, selection and compaction (see batch.h).
 *
 * Compaction gathers each flat column through the batch's scratch buffer
 * (capacity values of the widest column, plus one bitmap): out[i] =
 * in[sel[i]], then copies the result back. Going through a buffer costs one
 * extra copy but is correct for any selection — increasing, permuted or with
 * repeats — where an in-place move would only be correct for an increasing
 * one. The gather loops are specialized on the value width (1, 8, 16 bytes).
 */
#include "exec/batch.h"

#include <stdlib.h>
#include <string.h>

/* scratch layout: one validity bitmap, then capacity values of the widest type */
static uint64_t *scratch_bits(const Batch *b)
{
    return (uint64_t *)b->scratch;
}

static void *scratch_values(const Batch *b)
{
    return (char *)b->scratch + VECTOR_VALIDITY_WORDS(b->capacity) * sizeof(uint64_t);
}

static void gather_values(void *restrict out, const void *restrict in, size_t width,
                          const uint32_t *sel, int count)
{
    switch (width) {
    case 1: {
        uint8_t *o = out;
        const uint8_t *d = in;
        for (int i = 0; i < count; i++) o[i] = d[sel[i]];
        break;
    }
    case 8: {
        uint64_t *o = out;
        const uint64_t *d = in;
        for (int i = 0; i < count; i++) o[i] = d[sel[i]];
        break;
    }
    case sizeof(Str): {
        Str *o = out;
        const Str *d = in;
        for (int i = 0; i < count; i++) o[i] = d[sel[i]];
        break;
    }
    default:
        for (int i = 0; i < count; i++)
            memcpy((char *)out + (size_t)i * width, (const char *)in + (size_t)sel[i] * width,
                   width);
    }
}

static void gather_validity(uint64_t *restrict out, const uint64_t *restrict in,
                            size_t words, const uint32_t *sel, int count)
{
    memset(out, 0, words * sizeof(uint64_t));
    for (int i = 0; i < count; i++) {
        uint64_t bit = (in[sel[i] >> 6] >> (sel[i] & 63)) & 1;
        out[i >> 6] |= bit << (i & 63);
    }
}

int batch_init(Batch *b, int ncols, const SqlType *types, int capacity)
{
    memset(b, 0, sizeof *b);
    arena_init(&b->arena, BATCH_ARENA_CHUNK);
    if (ncols < 0) return -1;
    if (capacity <= 0) capacity = SLUICE_VECTOR_SIZE;
    b->capacity = capacity;

    size_t width = 1;
    if (ncols > 0) {
        b->cols = calloc((size_t)ncols, sizeof *b->cols);
        if (!b->cols) goto fail;
    }
    for (int c = 0; c < ncols; c++) {
        if (vector_init(&b->cols[c], types[c], capacity) < 0) goto fail;
        b->ncols = c + 1;
        b->cols[c].arena = &b->arena;
        if (sql_type_size(types[c]) > width) width = sql_type_size(types[c]);
    }
    b->sel_buf = malloc((size_t)capacity * sizeof *b->sel_buf);
    b->scratch = malloc(VECTOR_VALIDITY_WORDS(capacity) * sizeof(uint64_t) +
                        (size_t)capacity * width);
    if (!b->sel_buf || !b->scratch) goto fail;
    return 0;

fail:
    batch_destroy(b);
    return -1;
}

void batch_destroy(Batch *b)
{
    for (int c = 0; c < b->ncols; c++) vector_destroy(&b->cols[c]);
    free(b->cols);
    free(b->sel_buf);
    free(b->scratch);
    free(b->ops_buf);
    arena_free(&b->arena);
    memset(b, 0, sizeof *b);
    arena_init(&b->arena, BATCH_ARENA_CHUNK);
}

void batch_reset(Batch *b)
{
    for (int c = 0; c < b->ncols; c++) vector_reset(&b->cols[c]);
    arena_reset(&b->arena);
    b->nrows = 0;
    b->count = 0;
    b->sel = NULL;
    b->ops = NULL;
}

uint8_t *batch_ops_buf(Batch *b)
{
    if (!b->ops_buf) b->ops_buf = calloc((size_t)(b->capacity > 0 ? b->capacity : 1), 1);
    return b->ops_buf;
}

void batch_set_nrows(Batch *b, int n)
{
    b->nrows = n;
    b->count = n;
    b->sel = NULL;
}

void batch_set_sel(Batch *b, const uint32_t *sel, int count)
{
    b->sel = sel;
    b->count = count;
}

void batch_compact(Batch *b)
{
    if (!b->sel) {
        b->nrows = b->count;
        return;
    }
    for (int c = 0; c < b->ncols; c++) {
        Vector *v = &b->cols[c];
        if (v->kind == VECTOR_CONSTANT || v->type == TYPE_NULL) continue;
        size_t width = sql_type_size(v->type);
        gather_values(scratch_values(b), v->data, width, b->sel, b->count);
        memcpy(v->data, scratch_values(b), (size_t)b->count * width);
        if (v->validity) {
            size_t words = VECTOR_VALIDITY_WORDS(b->capacity);
            gather_validity(scratch_bits(b), v->validity, words, b->sel, b->count);
            memcpy(v->validity, scratch_bits(b), words * sizeof(uint64_t));
        }
    }
    uint8_t *ops = b->ops ? batch_ops_buf(b) : NULL;
    if (ops) {
        gather_values(scratch_values(b), b->ops, 1, b->sel, b->count);
        memcpy(ops, scratch_values(b), (size_t)b->count);
        b->ops = ops;
    }
    b->sel = NULL;
    b->nrows = b->count;
}

int batch_append_row_from(Batch *dst, const Batch *src, int src_row)
{
    if (dst->sel || dst->count != dst->nrows || dst->nrows >= dst->capacity ||
        dst->ncols != src->ncols)
        return -1;
    int r = dst->nrows;
    for (int c = 0; c < dst->ncols; c++) {
        Vector *v = &dst->cols[c];
        if (v->kind == VECTOR_CONSTANT) vector_flatten(v, r);
        if (vector_copy_row(v, r, &src->cols[c], src_row) < 0) return -1;
    }
    dst->nrows = dst->count = r + 1;
    return 0;
}
