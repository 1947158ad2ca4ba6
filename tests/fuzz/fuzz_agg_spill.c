/*
 * fuzz_agg_spill.c — an aggregate's spilled groups coming back corrupted
 * (a damaged spill store): agg_op_spill_fetch / agg_op_spill_load /
 * agg_op_spill_register fed real spilled groups that the input rewrites,
 * truncates, xors or invents. Errors are fine (they must say why); a crash,
 * a sanitizer report or an op that fails agg_op_check is a finding.
 *
 * Input: byte 0 picks the spec (mod NSPECS); then edits, each
 *   u8 kind, u8 index, u8 length, length bytes
 * applied to the groups a fixed op spilled (index mod their number):
 *   kind % 4 = 0  the group's value becomes the bytes
 *              1  the group's gkey becomes the bytes
 *              2  the bytes are xored into the value from its start
 *              3  a new group: gkey = the bytes, value = the indexed one's
 * Then (1) the op that spilled them takes a batch (fetching), closes its
 * windows and flushes, loading what its emissions want; (2) a new op
 * registers every gkey as if restored and does the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/agg.h"
#include "exec/batch.h"

enum { C_K, C_S, C_X, C_WS, C_WE, NCOLS };
static const SqlType in_t[NCOLS] = {TYPE_BIGINT, TYPE_VARCHAR, TYPE_BIGINT, TYPE_TIMESTAMP, TYPE_TIMESTAMP};
#define A(fn, arg) {fn, arg, -1, TYPE_NULL, TYPE_NULL}
static const AggColSpec aggs[] = {
    A(AGGFN_COUNT_STAR, -1), A(AGGFN_SUM, C_X), A(AGGFN_AVG, C_X), A(AGGFN_MIN, C_S),
    A(AGGFN_MAX, C_X),       A(AGGFN_COUNT_DISTINCT, C_S), A(AGGFN_APPROX_COUNT_DISTINCT, C_X),
};
static const AggColSpec raggs[] = {A(AGGFN_COUNT_STAR, -1), A(AGGFN_SUM, C_X), A(AGGFN_AVG, C_X)};
static const int keys_g[2] = {C_K, C_S};
static const int keys_w[3] = {C_WS, C_WE, C_K};

#define NSPECS 3
static AggOpSpec spec_of(int i)
{
    AggOpSpec s;
    memset(&s, 0, sizeof s);
    s.phase = AGG_PHASE_SIMPLE;
    s.ninput = NCOLS;
    s.input_types = in_t;
    s.naggs = (int)(sizeof aggs / sizeof *aggs);
    s.aggs = aggs;
    s.wstart_key = s.wend_key = -1;
    switch (i) {
    case 0:   /* non-windowed, VARCHAR key */
        s.nkeys = 2;
        s.keys = keys_g;
        break;
    case 1:   /* tumbling windows */
        s.nkeys = 3;
        s.keys = keys_w;
        s.wstart_key = 0;
        s.wend_key = 1;
        break;
    default:   /* windows, EMIT CHANGES with update_before, a changelog in */
        s.nkeys = 3;
        s.keys = keys_w;
        s.wstart_key = 0;
        s.wend_key = 1;
        s.naggs = (int)(sizeof raggs / sizeof *raggs);
        s.aggs = raggs;
        s.emit_changes = 1;
        s.update_before = 1;
        s.retract = 1;
        break;
    }
    return s;
}

/* 16 rows around t = base .. base + 40 s */
static void fill(Batch *b, int64_t base)
{
    static const char *const strs[] = {"", "a", "bb", "ccc"};
    batch_reset(b);
    for (int r = 0; r < 16; r++) {
        vector_i64(&b->cols[C_K])[r] = r % 5;
        vector_set_str(&b->cols[C_S], r, strs[r % 4], strlen(strs[r % 4]));
        vector_i64(&b->cols[C_X])[r] = r * 3 - 7;
        int64_t t = base + (int64_t)(r % 4) * 10000000;
        vector_i64(&b->cols[C_WS])[r] = t - t % 10000000;
        vector_i64(&b->cols[C_WE])[r] = t - t % 10000000 + 10000000;
    }
    batch_set_nrows(b, 16);
}

/* the spilled groups */
typedef struct Ent {
    uint8_t *k, *v;
    size_t   kn, vn;
    int      gone;
} Ent;
typedef struct Store {
    Ent *e;
    int  n, cap;
} Store;

static void put_bytes(uint8_t **p, size_t *n, const void *src, size_t len)
{
    free(*p);
    *p = malloc(len ? len : 1);
    if (!*p) abort();
    if (len) memcpy(*p, src, len);
    *n = len;
}

static int store_put(void *ctx, const void *k, size_t kn, const void *v, size_t vn)
{
    Store *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->e = realloc(s->e, (size_t)s->cap * sizeof *s->e);
        if (!s->e) abort();
    }
    Ent *e = &s->e[s->n++];
    memset(e, 0, sizeof *e);
    put_bytes(&e->k, &e->kn, k, kn);
    put_bytes(&e->v, &e->vn, v, vn);
    return 0;
}

static int store_get(void *ctx, const void *k, size_t kn, const void **v, size_t *vn)
{
    Store *s = ctx;
    for (int i = 0; i < s->n; i++) {
        Ent *e = &s->e[i];
        if (e->gone || e->kn != kn || memcmp(e->k, k, kn) != 0) continue;
        e->gone = 1;
        *v = e->v;
        *vn = e->vn;
        return 1;
    }
    return 0;
}

static void check(AggOp *op)
{
    if (agg_op_check(op) != 0) {
        fprintf(stderr, "agg_op_check: %s\n", agg_op_error(op));
        abort();
    }
}

/* emit (how: 0 advance to wm, 1 flush), loading what the emission wants */
static void emit(AggOp *op, Store *st, int how, int64_t wm, Batch *out)
{
    for (int round = 0; round < 64; round++) {
        int more, guard = 0;
        do {
            int n = how == 0 ? agg_op_advance(op, wm, out, &more) : agg_op_flush(op, out, &more);
            if (n < 0) {
                if (!agg_op_error(op)[0]) abort();   /* errors say why */
                return;
            }
        } while (more && ++guard < 1000);
        uint8_t pre[16];
        size_t  plen;
        if (!agg_op_spill_wanted(op, how == 0 ? wm : INT64_MAX, pre, &plen)) return;
        int loaded = 0;
        for (int i = 0; i < st->n; i++) {
            Ent *e = &st->e[i];
            if (e->gone || e->kn < plen || memcmp(e->k, pre, plen) != 0) continue;
            e->gone = 1;
            if (agg_op_spill_load(op, e->k, e->kn, e->v, e->vn) == 0) loaded++;
            else if (!agg_op_error(op)[0]) abort();
            check(op);
        }
        if (!loaded) return;   /* the op counts groups the store lost: the runtime fails the query */
    }
}

static void exercise(AggOp *op, Store *st, int retract)
{
    Batch   in, out;
    SqlType t[1 + 3 + 2 * 8];
    if (batch_init(&in, NCOLS, in_t, 0) < 0) abort();
    if (batch_init(&out, agg_op_output_types(op, t), t, 16) < 0) abort();
    fill(&in, 5000000);
    if (retract) {   /* the last rows retract a few inserted ones */
        uint8_t *ops = batch_ops_buf(&in);
        if (!ops) abort();
        for (int r = 0; r < 16; r++) ops[r] = r >= 14 ? BATCH_OP_DELETE : BATCH_OP_INSERT;
        in.ops = ops;
    }
    /* a failed fetch fails the query (the runtime stops); a failed push
     * leaves an op to discard (agg.h): both end the exercise */
    int rc = agg_op_spill_fetch(op, &in, store_get, st);
    if (rc != 0 && !agg_op_error(op)[0]) abort();
    check(op);
    if (rc == 0 && agg_op_push(op, &in) == 0) {
        check(op);
        emit(op, st, 0, 25000000, &out);
        check(op);
        emit(op, st, 1, 0, &out);
        check(op);
    }
    batch_destroy(&in);
    batch_destroy(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int       si = data[0] % NSPECS;
    AggOpSpec spec = spec_of(si);
    AggOp    *op = agg_op_new(&spec, NULL, 0);
    Store     st = {0};
    Batch     in, out;
    SqlType   t[1 + 3 + 2 * 8];
    if (!op || batch_init(&in, NCOLS, in_t, 0) < 0 || batch_init(&out, agg_op_output_types(op, t), t, 16) < 0)
        abort();
    fill(&in, 0);
    if (agg_op_push(op, &in) != 0) abort();
    if (spec.emit_changes) {   /* clean groups can go */
        int more;
        do agg_op_changes(op, &out, &more);
        while (more);
    }
    if (agg_op_spill_evict(op, 0, store_put, &st) < 0) abort();
    batch_destroy(&in);
    batch_destroy(&out);
    if (st.n == 0) abort();

    /* the edits */
    size_t i = 1;
    while (i + 3 <= size) {
        int            kind = data[i] % 4;
        Ent           *e = &st.e[data[i + 1] % st.n];
        size_t         len = data[i + 2];
        const uint8_t *b = data + i + 3;
        if (len > size - i - 3) len = size - i - 3;
        i += 3 + len;
        if (kind == 0) put_bytes(&e->v, &e->vn, b, len);
        else if (kind == 1) put_bytes(&e->k, &e->kn, b, len);
        else if (kind == 2) for (size_t j = 0; j < len && j < e->vn; j++) e->v[j] ^= b[j];
        else {
            size_t vn = e->vn;
            uint8_t *v = malloc(vn ? vn : 1);
            if (!v) abort();
            memcpy(v, e->v, vn);
            store_put(&st, b, len, v, vn);
            free(v);
        }
    }

    /* (2) first, from the same gkeys: a new op that restores them */
    AggOp *op2 = agg_op_new(&spec, NULL, 0);
    if (!op2) abort();
    for (int k = 0; k < st.n; k++)
        if (agg_op_spill_register(op2, st.e[k].k, st.e[k].kn) != 0 && !agg_op_error(op2)[0]) abort();
    check(op2);
    Store st2 = st;   /* the same entries, taken separately */
    st2.e = malloc((size_t)(st.n ? st.n : 1) * sizeof *st2.e);
    if (!st2.e) abort();
    memcpy(st2.e, st.e, (size_t)st.n * sizeof *st.e);
    exercise(op2, &st2, spec.retract);
    free(st2.e);
    agg_op_free(op2);

    /* (1) the op that spilled them */
    exercise(op, &st, spec.retract);
    agg_op_free(op);
    for (int k = 0; k < st.n; k++) {
        free(st.e[k].k);
        free(st.e[k].v);
    }
    free(st.e);
    return 0;
}
