/*
 * fuzz_agg_restore.c — agg_op_restore fed arbitrary bytes as checkpoint
 * chunks, for a few fixed aggregate specs; a restore that succeeds must
 * leave a consistent op (agg_op_check) that can take a batch, advance,
 * emit changes and flush without crashing.
 *
 * Input: byte 0 picks the spec (mod NSPECS); then chunks, each
 *   u8 key length, key bytes, u16 LE value length, value bytes
 * until the input ends. The seeds in corpus/agg_restore/ are real
 * snapshots in this framing (written by this file built with
 * -DFUZZ_AGG_RESTORE_SEEDS, which adds a main(): see the end). Specs 3
 * and 4 cover update_before (last emitted values) and retract (row counts).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/agg.h"
#include "exec/batch.h"

/* input: k BIGINT, s VARCHAR, x BIGINT, d DOUBLE, f BOOLEAN, ws, we TIMESTAMP */
enum { C_K, C_S, C_X, C_D, C_F, C_WS, C_WE, NCOLS };
static const SqlType in_t[NCOLS] = {TYPE_BIGINT, TYPE_VARCHAR,   TYPE_BIGINT,  TYPE_DOUBLE,
                                    TYPE_BOOLEAN, TYPE_TIMESTAMP, TYPE_TIMESTAMP};
#define A(fn, arg) {fn, arg, -1, TYPE_NULL, TYPE_NULL}
static const AggColSpec aggs[] = {
    A(AGGFN_COUNT_STAR, -1),          A(AGGFN_SUM, C_X),         A(AGGFN_SUM, C_D),
    A(AGGFN_AVG, C_X),                A(AGGFN_MIN, C_S),         A(AGGFN_MAX, C_D),
    A(AGGFN_MIN, C_F),                A(AGGFN_COUNT_DISTINCT, C_S), A(AGGFN_COUNT_DISTINCT, C_X),
    A(AGGFN_APPROX_COUNT_DISTINCT, C_X), {AGGFN_COUNT, C_X, C_F, TYPE_NULL, TYPE_NULL},
};
#define NAGGS ((int)(sizeof aggs / sizeof *aggs))
/* the retractable ones (spec 4) */
static const AggColSpec raggs[] = {
    A(AGGFN_COUNT_STAR, -1), A(AGGFN_SUM, C_X), A(AGGFN_SUM, C_D), A(AGGFN_AVG, C_X),
    {AGGFN_COUNT, C_X, C_F, TYPE_NULL, TYPE_NULL},
};
static const int keys_g[2] = {C_K, C_S};
static const int keys_w[4] = {C_WS, C_WE, C_K, C_D};

#define NSPECS 5
static AggOpSpec spec_of(int i)
{
    AggOpSpec s;
    memset(&s, 0, sizeof s);
    s.phase = AGG_PHASE_SIMPLE;
    s.ninput = NCOLS;
    s.input_types = in_t;
    s.naggs = NAGGS;
    s.aggs = aggs;
    s.wstart_key = s.wend_key = -1;
    switch (i) {
    case 0:   /* non-windowed, VARCHAR key */
        s.nkeys = 2;
        s.keys = keys_g;
        break;
    case 1:   /* tumbling windows, DOUBLE key, EMIT CHANGES */
        s.nkeys = 4;
        s.keys = keys_w;
        s.wstart_key = 0;
        s.wend_key = 1;
        s.emit_changes = 1;
        break;
    case 3:   /* tumbling windows, EMIT CHANGES with update_before */
        s.nkeys = 4;
        s.keys = keys_w;
        s.wstart_key = 0;
        s.wend_key = 1;
        s.emit_changes = 1;
        s.update_before = 1;
        break;
    case 4:   /* retract, EMIT CHANGES with update_before, VARCHAR key */
        s.nkeys = 2;
        s.keys = keys_g;
        s.naggs = (int)(sizeof raggs / sizeof *raggs);
        s.aggs = raggs;
        s.emit_changes = 1;
        s.update_before = 1;
        s.retract = 1;
        break;
    case 2:   /* sessions, EMIT CHANGES */
        s.nkeys = 3;
        s.keys = keys_w;
        s.wstart_key = 0;
        s.wend_key = 1;
        s.session = 1;
        s.emit_changes = 1;
        break;
    }
    return s;
}

/* a fixed batch of 8 rows around t = 0..70 s */
static void fill(Batch *b, int64_t base)
{
    static const char *const strs[] = {"", "a", "bb", "a"};
    batch_reset(b);
    for (int r = 0; r < 8; r++) {
        vector_i64(&b->cols[C_K])[r] = r % 3;
        vector_set_str(&b->cols[C_S], r, strs[r % 4], strlen(strs[r % 4]));
        vector_i64(&b->cols[C_X])[r] = r * 7 - 20;
        vector_f64(&b->cols[C_D])[r] = r % 2 ? 0.5 : -0.0;
        vector_bool(&b->cols[C_F])[r] = (uint8_t)(r & 1);
        int64_t t = base + (int64_t)r * 10000000;
        vector_i64(&b->cols[C_WS])[r] = t - t % 10000000;
        vector_i64(&b->cols[C_WE])[r] = t - t % 10000000 + 10000000;
    }
    vector_set_null(&b->cols[C_K], 5);
    batch_set_nrows(b, 8);
    /* a changelog (read by the retracting spec only): rows 6 and 7 are
     * retractions — 7 of row 1's group, 6 of a row never inserted, so the
     * push fails half-way, which must leave a usable op anyway */
    uint8_t *ops = batch_ops_buf(b);
    if (ops) {
        for (int r = 0; r < 8; r++) ops[r] = r >= 6 ? BATCH_OP_DELETE : BATCH_OP_INSERT;
        b->ops = ops;
    }
}

static void drain(AggOp *op, int how, int64_t wm, Batch *out)
{
    int more, guard = 0;
    do {
        int n = how == 0 ? agg_op_advance(op, wm, out, &more)
                : how == 1 ? agg_op_changes(op, out, &more)
                           : agg_op_flush(op, out, &more);
        if (n < 0) return;
    } while (more && ++guard < 100000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    AggOpSpec spec = spec_of(data[0] % NSPECS);
    AggOp    *op = agg_op_new(&spec, NULL, 0);
    if (!op) abort();
    size_t i = 1;
    int    ok = 1;
    while (ok && i < size) {
        size_t kl = data[i++];
        if (size - i < kl + 2) break;
        const uint8_t *k = data + i;
        i += kl;
        size_t vl = (size_t)data[i] | (size_t)data[i + 1] << 8;
        i += 2;
        if (size - i < vl) vl = size - i;
        /* a copy of exactly vl bytes, so reading past the value is caught */
        uint8_t *v = malloc(vl ? vl : 1);
        if (!v) abort();
        memcpy(v, data + i, vl);
        i += vl;
        ok = agg_op_restore(op, k, kl, v, vl) == 0;
        if (!ok && agg_op_error(op)[0] == '\0') abort();   /* errors say why */
        free(v);
    }
    if (ok) {
        if (agg_op_check(op) != 0) abort();   /* a loaded op is consistent */
        Batch   in, out;
        SqlType t[1 + 4 + 2 * NAGGS];
        if (batch_init(&in, NCOLS, in_t, 0) < 0) abort();
        if (batch_init(&out, agg_op_output_types(op, t), t, 16) < 0) abort();
        fill(&in, 0);
        agg_op_push(op, &in);
        if (spec.emit_changes) drain(op, 1, 0, &out);
        drain(op, 0, 35000000, &out);
        fill(&in, 30000000);
        agg_op_push(op, &in);
        drain(op, 2, 0, &out);
        if (agg_op_check(op) != 0) abort();
        batch_destroy(&in);
        batch_destroy(&out);
    }
    agg_op_free(op);
    return 0;
}

#ifdef FUZZ_AGG_RESTORE_SEEDS
/* cc -DFUZZ_AGG_RESTORE_SEEDS -I. tests/fuzz/fuzz_agg_restore.c libsluice.a -lxxhash -lm
 * writes seed-<spec>.bin (a full snapshot after a few batches) into the
 * current directory. */
static FILE *seed_f;
static int   put(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)ctx;
    if (!v || kl > 255 || vl > 65535) return 0;
    fputc((int)kl, seed_f);
    fwrite(k, 1, kl, seed_f);
    fputc((int)(vl & 0xff), seed_f);
    fputc((int)(vl >> 8), seed_f);
    fwrite(v, 1, vl, seed_f);
    return 0;
}

int main(void)
{
    for (int s = 0; s < NSPECS; s++) {
        AggOpSpec spec = spec_of(s);
        AggOp    *op = agg_op_new(&spec, NULL, 0);
        Batch     in, out;
        SqlType   t[1 + 4 + 2 * NAGGS];
        batch_init(&in, NCOLS, in_t, 0);
        batch_init(&out, agg_op_output_types(op, t), t, 16);
        fill(&in, 0);
        agg_op_push(op, &in);
        if (spec.emit_changes) drain(op, 1, 0, &out);
        fill(&in, 5000000);
        agg_op_push(op, &in);
        drain(op, 0, 20000000, &out);
        char name[32];
        snprintf(name, sizeof name, "seed-%d.bin", s);
        seed_f = fopen(name, "wb");
        fputc(s, seed_f);
        agg_op_snapshot(op, 1, put, NULL);
        fclose(seed_f);
        batch_destroy(&in);
        batch_destroy(&out);
        agg_op_free(op);
    }
    return 0;
}
#endif
