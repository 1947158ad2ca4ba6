/*
 * fuzz_join_restore.c — join_op_restore fed arbitrary bytes as checkpoint
 * chunks, for a few fixed join specs; a restore that succeeds must leave a
 * consistent op (join_op_check) that can take batches on both sides,
 * advance, end and drain without crashing.
 *
 * Input: byte 0 picks the spec (mod NSPECS); then chunks, each
 *   u8 key length, key bytes, u16 LE value length, value bytes
 * until the input ends (the framing of fuzz_agg_restore.c). The seeds in
 * corpus/join_restore/ are real snapshots in this framing (written by this
 * file built with -DFUZZ_JOIN_RESTORE_SEEDS, which adds a main(): see the
 * end).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/batch.h"
#include "exec/join.h"

/* each side: k BIGINT, s VARCHAR, d DOUBLE, f BOOLEAN, t, ws, we TIMESTAMP */
enum { C_K, C_S, C_D, C_F, C_T, C_WS, C_WE, NCOLS };
static const SqlType in_t[NCOLS] = {TYPE_BIGINT,    TYPE_VARCHAR,   TYPE_DOUBLE,   TYPE_BOOLEAN,
                                    TYPE_TIMESTAMP, TYPE_TIMESTAMP, TYPE_TIMESTAMP};
static const int keys_r[2] = {C_K, C_S};
static const int keys_w[3] = {C_K, C_WS, C_WE};
static const int keys_d[2] = {C_D, C_K};

#define NSPECS 4
static JoinOpSpec spec_of(int i)
{
    JoinOpSpec s;
    memset(&s, 0, sizeof s);
    s.nleft = s.nright = NCOLS;
    s.left_types = s.right_types = in_t;
    s.lwend = s.rwend = C_WE;
    s.ltime = s.rtime = C_T;
    switch (i) {
    case 0:   /* full outer regular, VARCHAR key, changelog */
        s.type = JOIN_TYPE_FULL;
        s.flavor = JOIN_OP_REGULAR;
        s.nkeys = 2;
        s.lkeys = s.rkeys = keys_r;
        s.emit_changes = 1;
        break;
    case 1:   /* left window join */
        s.type = JOIN_TYPE_LEFT;
        s.flavor = JOIN_OP_WINDOW;
        s.nkeys = 3;
        s.lkeys = s.rkeys = keys_w;
        break;
    case 2:   /* right interval join, DOUBLE key */
        s.type = JOIN_TYPE_RIGHT;
        s.flavor = JOIN_OP_INTERVAL;
        s.nkeys = 2;
        s.lkeys = s.rkeys = keys_d;
        s.lower_us = -2000000;
        s.upper_us = 1000000;
        break;
    default:  /* inner regular with a TTL */
        s.type = JOIN_TYPE_INNER;
        s.flavor = JOIN_OP_REGULAR;
        s.nkeys = 1;
        s.lkeys = s.rkeys = keys_r;
        s.ttl_us = 5000000;
        break;
    }
    return s;
}

/* a fixed batch of 8 rows from t = base, one a second */
static void fill(Batch *b, int64_t base)
{
    static const char *const strs[] = {"", "a", "bb", "a"};
    batch_reset(b);
    for (int r = 0; r < 8; r++) {
        int64_t t = base + (int64_t)r * 1000000;
        vector_i64(&b->cols[C_K])[r] = r % 3;
        vector_set_str(&b->cols[C_S], r, strs[r % 4], strlen(strs[r % 4]));
        vector_f64(&b->cols[C_D])[r] = r % 2 ? 0.5 : -0.0;
        vector_bool(&b->cols[C_F])[r] = (uint8_t)(r & 1);
        vector_i64(&b->cols[C_T])[r] = t;
        vector_i64(&b->cols[C_WS])[r] = t - t % 4000000;
        vector_i64(&b->cols[C_WE])[r] = t - t % 4000000 + 4000000;
    }
    vector_set_null(&b->cols[C_K], 5);
    batch_set_nrows(b, 8);
}

static void drain(JoinOp *op, Batch *out)
{
    int more, guard = 0;
    do {
        if (join_op_drain(op, out, &more) < 0) return;
    } while (more && ++guard < 100000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    JoinOpSpec spec = spec_of(data[0] % NSPECS);
    JoinOp    *op = join_op_new(&spec, NULL, 0);
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
        ok = join_op_restore(op, k, kl, v, vl) == 0;
        if (!ok && join_op_error(op)[0] == '\0') abort();   /* errors say why */
        free(v);
    }
    if (ok) {
        if (join_op_check(op) != 0) abort();   /* a loaded op is consistent */
        Batch   in, out;
        SqlType t[1 + 2 * NCOLS];
        if (batch_init(&in, NCOLS, in_t, 0) < 0) abort();
        if (batch_init(&out, join_op_output_types(op, t), t, 16) < 0) abort();
        fill(&in, 0);
        join_op_push(op, 0, &in);
        drain(op, &out);
        fill(&in, 3000000);
        join_op_push(op, 1, &in);
        drain(op, &out);
        join_op_advance(op, 0, 9000000);
        join_op_advance(op, 1, 6000000);
        drain(op, &out);
        if (join_op_check(op) != 0) abort();
        join_op_advance(op, 1, INT64_MAX);
        join_op_advance(op, 0, INT64_MAX);
        drain(op, &out);
        if (join_op_check(op) != 0 || join_op_state_rows(op) != 0) abort();
        batch_destroy(&in);
        batch_destroy(&out);
    }
    join_op_free(op);
    return 0;
}

#ifdef FUZZ_JOIN_RESTORE_SEEDS
/* cc -DFUZZ_JOIN_RESTORE_SEEDS -I. tests/fuzz/fuzz_join_restore.c libsluice.a -lxxhash -lm
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
        JoinOpSpec spec = spec_of(s);
        JoinOp    *op = join_op_new(&spec, NULL, 0);
        Batch      in, out;
        SqlType    t[1 + 2 * NCOLS];
        batch_init(&in, NCOLS, in_t, 0);
        batch_init(&out, join_op_output_types(op, t), t, 16);
        fill(&in, 0);
        join_op_push(op, 0, &in);
        fill(&in, 2000000);
        join_op_push(op, 1, &in);
        join_op_advance(op, 1, 3000000);
        drain(op, &out);
        char name[32];
        snprintf(name, sizeof name, "seed-%d.bin", s);
        seed_f = fopen(name, "wb");
        fputc(s, seed_f);
        join_op_snapshot(op, 1, put, NULL);
        fclose(seed_f);
        batch_destroy(&in);
        batch_destroy(&out);
        join_op_free(op);
    }
    return 0;
}
#endif
