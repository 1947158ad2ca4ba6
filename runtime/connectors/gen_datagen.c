/*
 * gen_datagen.c — the `datagen` source: Flink-style random rows for any
 * schema, deterministic per (seed, column name, row number).
 *
 * Rows are numbered n = 0, 1, 2, …; task t of N produces the rows with
 * n mod N == t, in increasing n, so the union is independent of N. The value
 * of column c in row n is a pure function of (seed, c's name, n): pruning
 * columns away or reordering them changes no value. With rows-per-second R
 * (default 10000 as in Flink; 0 = as fast as possible), row n is released at
 * t0 + floor(n * 1e6 / R) µs of the runtime clock (t0 = the first call).
 *
 * Per column (fields.<col>.<option>):
 *   kind       random (default) | sequence
 *   null-rate  fraction of NULLs (random kind; default 0)
 *   random BIGINT     min, max (inclusive; default the whole BIGINT range, as Flink)
 *   random DOUBLE     min, max (uniform in [min, max); default [0, 1))
 *   random VARCHAR    length (default 100, as Flink): lower-case hex digits
 *   random BOOLEAN    true or false with probability 1/2
 *   random TIMESTAMP  min, max (timestamp text: uniform, inclusive); without
 *                     them synthetic event time: start (default
 *                     '2024-01-01 00:00:00') + floor(n * 1e6 / R') µs minus a
 *                     uniform jitter in [0, max-past] (duration, default 0),
 *                     R' = rows-per-second or 1000 when unlimited
 *   random INTERVAL   min, max (durations; default 0 s .. 1 hour)
 *   sequence BIGINT, VARCHAR   start, end (both required): row n gets
 *                     start + n (VARCHAR: its decimal text); the source ends
 *                     after the shortest sequence, like Flink's.
 * number-of-rows bounds the total (absent and no sequence: unbounded).
 */
#include "runtime/connectors/conn_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec/timefmt.h"
#include "exec/vector.h"

enum { KIND_RANDOM, KIND_SEQUENCE };

typedef struct DgField {
    SqlType  type;
    int      kind;
    uint64_t key, key_null;
    double   null_rate;
    int64_t  imin, imax;        /* BIGINT / TIMESTAMP / INTERVAL random range, inclusive */
    double   dmin, dmax;        /* DOUBLE                                               */
    int64_t  length;            /* VARCHAR random                                       */
    int64_t  start, end;        /* sequence; TIMESTAMP event-time origin in start       */
    int      ts_model;          /* TIMESTAMP random without min/max                     */
    int64_t  max_past;
} DgField;

typedef struct Datagen {
    int      ncols;
    DgField *f;
    int64_t  rows;              /* total rows, -1 unbounded */
    int64_t  rps;               /* 0 = unlimited            */
    int64_t  eps;               /* event-time rows per s    */
    int64_t  stride, dq, dr;    /* rows advance by ntasks   */
    int64_t  n, q, r;           /* next row, divmod(n*1e6, eps) */
    int      started;
    int64_t  t0;
    int64_t  q0;                /* time offset of the restore point (0 fresh) */
    int      task, ntasks;
    int      scratch_cap;
    int64_t *ns, *qs;
} Datagen;

/* ---- generation ------------------------------------------------------------------ */

static const char hexdigits[] = "0123456789abcdef";

static int gen_column(const DgField *f, Vector *v, int base, const int64_t *ns,
                      const int64_t *qs, int count)
{
    for (int i = 0; i < count; i++) {
        int      row = base + i;
        uint64_t n = (uint64_t)ns[i];
        if (f->null_rate > 0 &&
            (double)(conn_rand(f->key_null, n) >> 11) * 0x1p-53 < f->null_rate) {
            vector_set_null(v, row);
            continue;
        }
        uint64_t r = conn_rand(f->key, n);
        switch (f->type) {
        case TYPE_BIGINT:
        case TYPE_INTERVAL:
        case TYPE_TIMESTAMP: {
            int64_t x;
            if (f->kind == KIND_SEQUENCE) {
                x = f->start + (int64_t)n;
            } else if (f->ts_model) {
                x = f->start + qs[i];
                if (f->max_past > 0) x -= (int64_t)conn_mulhi(r, (uint64_t)f->max_past + 1);
            } else {
                uint64_t span = (uint64_t)f->imax - (uint64_t)f->imin + 1;   /* 0: all 2^64 */
                x = (int64_t)((uint64_t)f->imin + (span ? conn_mulhi(r, span) : r));
            }
            vector_i64(v)[row] = x;
            break;
        }
        case TYPE_DOUBLE: {
            double u = (double)(r >> 11) * 0x1p-53;
            vector_f64(v)[row] = f->dmin + u * (f->dmax - f->dmin);
            break;
        }
        case TYPE_BOOLEAN:
            vector_bool(v)[row] = (uint8_t)(r >> 63);
            break;
        case TYPE_VARCHAR: {
            if (f->kind == KIND_SEQUENCE) {
                char buf[24];
                int  len = snprintf(buf, sizeof buf, "%lld", (long long)(f->start + (int64_t)n));
                if (vector_set_str(v, row, buf, (size_t)len) != 0) return -1;
                break;
            }
            size_t len = (size_t)f->length;
            char  *p = len ? arena_alloc_bytes(v->arena, len) : NULL;
            if (len && !p) return -1;
            for (size_t k = 0; k < len; k += 16) {
                uint64_t bits = conn_rand(r, k / 16);
                for (size_t d = k; d < len && d < k + 16; d++, bits >>= 4) p[d] = hexdigits[bits & 15];
            }
            vector_set_str_ref(v, row, p, (uint32_t)len);
            break;
        }
        case TYPE_NULL:
            vector_set_null(v, row);
            continue;
        }
        vector_set_valid(v, row);
    }
    return 0;
}

static SourceStatus datagen_next(Source *s, Batch *b, int64_t now_us, int64_t *wait_us)
{
    Datagen *g = s->impl;
    if (g->rows >= 0 && g->n >= g->rows) return SOURCE_END;
    int room = b->capacity - b->nrows;
    if (room <= 0) return SOURCE_BATCH;
    if (room > g->scratch_cap) {
        int64_t *ns = realloc(g->ns, (size_t)room * sizeof *ns);
        if (ns) g->ns = ns;
        int64_t *qs = realloc(g->qs, (size_t)room * sizeof *qs);
        if (qs) g->qs = qs;
        if (!ns || !qs) {
            conn_set_error(s, "datagen: out of memory");
            return SOURCE_ERROR;
        }
        g->scratch_cap = room;
    }
    if (!g->started) {
        g->started = 1;
        g->t0 = now_us;
    }
    int64_t limit_q = g->rps > 0 ? now_us - g->t0 + g->q0 : INT64_MAX;
    int64_t limit_n = g->rows >= 0 ? g->rows : INT64_MAX;
    int     cnt = 0;
    while (cnt < room && g->n < limit_n && g->q <= limit_q) {
        g->ns[cnt] = g->n;
        g->qs[cnt] = g->q;
        cnt++;
        g->n += g->stride;
        g->q += g->dq;
        g->r += g->dr;
        if (g->r >= g->eps) {
            g->r -= g->eps;
            g->q++;
        }
    }
    if (cnt == 0) {
        if (g->n >= limit_n) return SOURCE_END;
        *wait_us = g->q - limit_q;
        return SOURCE_IDLE;
    }
    for (int c = 0; c < g->ncols; c++)
        if (gen_column(&g->f[c], &b->cols[c], b->nrows, g->ns, g->qs, cnt) != 0) {
            conn_set_error(s, "datagen: out of memory");
            return SOURCE_ERROR;
        }
    batch_set_nrows(b, b->nrows + cnt);
    return SOURCE_BATCH;
}

static void datagen_free(Datagen *g)
{
    if (!g) return;
    free(g->f);
    free(g->ns);
    free(g->qs);
    free(g);
}

static void datagen_close(Source *s)
{
    datagen_free(s->impl);
    s->impl = NULL;
}

/* Checkpoint: the task's share and the next row number. */
#define DATAGEN_CKPT_VERSION 1

static long datagen_checkpoint(Source *s, void *buf, size_t cap)
{
    Datagen *g = s->impl;
    CkptOut  w;
    ckpt_out_begin(&w, buf, cap, "datagen", DATAGEN_CKPT_VERSION);
    ckpt_put_i64(&w, g->task);
    ckpt_put_i64(&w, g->ntasks);
    ckpt_put_i64(&w, g->n);
    return conn_ckpt_finish(s, &w, "datagen");
}

static int datagen_restore(Source *s, const void *buf, size_t len, char *err, size_t cap)
{
    Datagen *g = s->impl;
    CkptIn   r;
    if (ckpt_in_begin(&r, buf, len, "datagen", DATAGEN_CKPT_VERSION, err, cap)) return -1;
    int64_t task = ckpt_get_i64(&r), ntasks = ckpt_get_i64(&r), n = ckpt_get_i64(&r);
    if (ckpt_in_end(&r, "datagen", err, cap)) return -1;
    if (task != g->task || ntasks != g->ntasks)
        return conn_errf(err, cap, "datagen: the checkpoint is of task %lld of %lld, this is task %d of %d",
                         (long long)task, (long long)ntasks, g->task, g->ntasks);
    if (n < 0 || n % g->ntasks != g->task)
        return conn_errf(err, cap, "datagen: row %lld of the checkpoint is not one of this task's",
                         (long long)n);
    unsigned __int128 t = (unsigned __int128)n * USEC_PER_SEC;
    g->n = n;
    g->q = (int64_t)(t / (uint64_t)g->eps);
    g->r = (int64_t)(t % (uint64_t)g->eps);
    g->q0 = g->q;   /* the rate limit restarts from the restore point */
    return 0;
}

static const SourceOps datagen_ops = {datagen_next, datagen_close, datagen_checkpoint, datagen_restore};

/* ---- options ------------------------------------------------------------------------ */

static const char *const field_opts[] = {"kind", "min", "max", "length", "start", "end",
                                         "null-rate", "max-past", NULL};

/* fields.<col>.<opt> of column col, or NULL */
static const char *field_opt(const ConnSpec *spec, const char *col, const char *opt)
{
    char key[512];
    snprintf(key, sizeof key, "fields.%s.%s", col, opt);
    return conn_opt(spec, key);
}

/* Parse a bound of type t: BIGINT integer, TIMESTAMP text, INTERVAL duration. */
static int parse_i64_value(SqlType t, const char *v, int64_t *out)
{
    if (t == TYPE_TIMESTAMP) return ts_parse(v, strlen(v), out);
    if (t == TYPE_INTERVAL) return interval_parse(v, strlen(v), out);
    return conn_parse_i64(v, strlen(v), out);
}

static int setup_field(DgField *f, const ConnSpec *spec, int c, uint64_t seed, char *err,
                       size_t cap)
{
    const char *col = spec->col_names[c];
    SqlType     t = spec->col_types[c];
    char        lname[256];
    size_t      i = 0;
    for (; col[i] && i + 1 < sizeof lname; i++) lname[i] = (char)tolower((unsigned char)col[i]);
    lname[i] = 0;
    f->type = t;
    f->key = conn_stream_key(seed, lname);
    f->key_null = conn_mix64(f->key ^ UINT64_C(0x6a09e667f3bcc909));

    /* reject options this column cannot take */
    size_t plen = strlen("fields.") + strlen(col) + 1;
    for (int k = 0; k < spec->nopts; k++) {
        const char *key = spec->opt_keys[k];
        if (!key || strncasecmp(key, "fields.", 7) != 0 || strlen(key) <= plen ||
            strncasecmp(key + 7, col, strlen(col)) != 0 || key[plen - 1] != '.')
            continue;
        const char *opt = key + plen;
        int         known = 0;
        for (const char *const *o = field_opts; *o; o++) known |= strcasecmp(opt, *o) == 0;
        if (!known)
            return conn_errf(err, cap,
                             "datagen: unknown option '%s' (fields.<col>. takes kind, min, max, "
                             "length, start, end, null-rate, max-past)",
                             key);
    }

    const char *kind = field_opt(spec, col, "kind");
    const char *vmin = field_opt(spec, col, "min"), *vmax = field_opt(spec, col, "max");
    const char *vlen = field_opt(spec, col, "length");
    const char *vstart = field_opt(spec, col, "start"), *vend = field_opt(spec, col, "end");
    const char *vnull = field_opt(spec, col, "null-rate");
    const char *vpast = field_opt(spec, col, "max-past");
    if (!kind || strcasecmp(kind, "random") == 0) f->kind = KIND_RANDOM;
    else if (strcasecmp(kind, "sequence") == 0) f->kind = KIND_SEQUENCE;
    else
        return conn_errf(err, cap, "datagen: fields.%s.kind must be random or sequence; got '%s'",
                         col, kind);
    if (vnull) {
        if (conn_parse_f64(vnull, strlen(vnull), &f->null_rate) != 0 || f->null_rate < 0 ||
            f->null_rate > 1)
            return conn_errf(err, cap, "datagen: fields.%s.null-rate must be a number in [0, 1]; got '%s'",
                             col, vnull);
    }
    if (f->kind == KIND_SEQUENCE) {
        if (t != TYPE_BIGINT && t != TYPE_VARCHAR)
            return conn_errf(err, cap, "datagen: column '%s' is %s; a sequence needs BIGINT or VARCHAR",
                             col, sql_type_name(t));
        if (!vstart || !vend)
            return conn_errf(err, cap, "datagen: a sequence needs fields.%s.start and fields.%s.end",
                             col, col);
        if (conn_parse_i64(vstart, strlen(vstart), &f->start) != 0 ||
            conn_parse_i64(vend, strlen(vend), &f->end) != 0 || f->end < f->start)
            return conn_errf(err, cap,
                             "datagen: fields.%s.start and .end must be integers with start <= end",
                             col);
        if (vmin || vmax || vlen || vnull || vpast)
            return conn_errf(err, cap, "datagen: a sequence column ('%s') takes only start and end",
                             col);
        return 0;
    }
    if (vstart && t != TYPE_TIMESTAMP)
        return conn_errf(err, cap, "datagen: fields.%s.start/end apply to sequences", col);
    if (vend) return conn_errf(err, cap, "datagen: fields.%s.start/end apply to sequences", col);
    if (vlen && t != TYPE_VARCHAR)
        return conn_errf(err, cap, "datagen: fields.%s.length applies to VARCHAR columns", col);
    if (vpast && t != TYPE_TIMESTAMP)
        return conn_errf(err, cap, "datagen: fields.%s.max-past applies to TIMESTAMP columns", col);
    if ((vmin || vmax) && (t == TYPE_VARCHAR || t == TYPE_BOOLEAN))
        return conn_errf(err, cap, "datagen: fields.%s.min/max apply to numbers, timestamps and intervals",
                         col);
    switch (t) {
    case TYPE_VARCHAR:
        f->length = 100;
        if (vlen && (conn_parse_i64(vlen, strlen(vlen), &f->length) != 0 || f->length < 0 ||
                     f->length > 1000000))
            return conn_errf(err, cap, "datagen: fields.%s.length must be in 0..1000000; got '%s'",
                             col, vlen);
        break;
    case TYPE_DOUBLE:
        f->dmin = 0;
        f->dmax = 1;
        if ((vmin && conn_parse_f64(vmin, strlen(vmin), &f->dmin) != 0) ||
            (vmax && conn_parse_f64(vmax, strlen(vmax), &f->dmax) != 0) || !(f->dmin <= f->dmax))
            return conn_errf(err, cap, "datagen: fields.%s.min/max must be numbers with min <= max",
                             col);
        break;
    case TYPE_TIMESTAMP:
        if (!vmin && !vmax) {
            f->ts_model = 1;
            if (ts_parse("2024-01-01 00:00:00", 19, &f->start) != 0) return -1;
            if (vstart && ts_parse(vstart, strlen(vstart), &f->start) != 0)
                return conn_errf(err, cap, "datagen: fields.%s.start needs a timestamp; got '%s'",
                                 col, vstart);
            if (vpast && (interval_parse(vpast, strlen(vpast), &f->max_past) != 0 || f->max_past < 0))
                return conn_errf(err, cap, "datagen: fields.%s.max-past needs a duration; got '%s'",
                                 col, vpast);
            break;
        }
        if (vstart || vpast)
            return conn_errf(err, cap,
                             "datagen: fields.%s: give either min and max, or start/max-past", col);
        if (!vmin || !vmax)
            return conn_errf(err, cap, "datagen: fields.%s needs both min and max", col);
        /* fall through */
    case TYPE_BIGINT:
    case TYPE_INTERVAL:
        f->imin = t == TYPE_BIGINT ? INT64_MIN : 0;
        f->imax = t == TYPE_BIGINT ? INT64_MAX : USEC_PER_HOUR;
        if ((vmin && parse_i64_value(t, vmin, &f->imin) != 0) ||
            (vmax && parse_i64_value(t, vmax, &f->imax) != 0) || f->imin > f->imax)
            return conn_errf(err, cap, "datagen: fields.%s.min/max must be %s values with min <= max",
                             col, sql_type_name(t));
        break;
    case TYPE_BOOLEAN:
    case TYPE_NULL:
        break;
    }
    return 0;
}

int datagen_source_open(Source *s, const ConnSpec *spec, char *err, size_t cap)
{
    int task, ntasks;
    if (conn_check_task(spec, &task, &ntasks, err, cap)) return -1;
    Datagen *g = calloc(1, sizeof *g);
    if (!g) return conn_errf(err, cap, "out of memory");
    int64_t seed = 1;
    g->rows = -1;
    g->rps = 10000;
    g->ncols = spec->ncols;
    g->f = calloc(spec->ncols > 0 ? (size_t)spec->ncols : 1, sizeof *g->f);
    if (!g->f) {
        conn_errf(err, cap, "out of memory");
        goto fail;
    }
    if (conn_opt_count(spec, "rows-per-second", &g->rps, err, cap) < 0 ||
        conn_opt_count(spec, "number-of-rows", &g->rows, err, cap) < 0 ||
        conn_opt_count(spec, "seed", &seed, err, cap) < 0)
        goto fail;
    if (g->rps > 1000000000) {
        conn_errf(err, cap, "datagen: rows-per-second can be at most 1000000000");
        goto fail;
    }
    g->eps = g->rps > 0 ? g->rps : 1000;
    for (int c = 0; c < spec->ncols; c++) {
        if (setup_field(&g->f[c], spec, c, (uint64_t)seed, err, cap)) goto fail;
        if (g->f[c].kind == KIND_SEQUENCE) {
            uint64_t len = (uint64_t)g->f[c].end - (uint64_t)g->f[c].start + 1;
            if (len != 0 && len <= (uint64_t)INT64_MAX && (g->rows < 0 || (int64_t)len < g->rows))
                g->rows = (int64_t)len;
        }
    }
    g->stride = ntasks;
    g->task = task;
    g->ntasks = ntasks;
    g->dq = (int64_t)ntasks * USEC_PER_SEC / g->eps;
    g->dr = (int64_t)ntasks * USEC_PER_SEC % g->eps;
    g->n = task;
    g->q = (int64_t)task * USEC_PER_SEC / g->eps;
    g->r = (int64_t)task * USEC_PER_SEC % g->eps;
    s->ops = &datagen_ops;
    s->impl = g;
    return 0;
fail:
    datagen_free(g);
    return -1;
}
