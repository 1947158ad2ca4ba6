/*
 * conn_internal.h — what the connectors of this folder share; not a public
 * interface (the runtime uses source.h and sink.h only).
 *
 *   - the Source object with its per-connector operations,
 *   - option lookup and parsing (values were checked by the catalog, but a
 *     ConnSpec can come from anywhere, so every value is parsed again here
 *     and a bad one is an error at open),
 *   - the counter-based PRNG the generators use (a pure function of
 *     (seed, stream, sequence number), so rows never depend on timing),
 *   - text → value conversion shared by the JSON and CSV decoders,
 *   - the per-connector constructors that source.c dispatches to.
 */
#ifndef SLUICE_RUNTIME_CONNECTORS_CONN_INTERNAL_H
#define SLUICE_RUNTIME_CONNECTORS_CONN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/batch.h"
#include "runtime/connectors/source.h"

/* ---- the Source object ------------------------------------------------------ */

typedef struct SourceOps {
    SourceStatus (*next)(Source *s, Batch *b, int64_t now_us, int64_t *wait_us);
    void         (*close)(Source *s);
    /* source_checkpoint / source_restore (source.h). checkpoint: the blob's
     * length, or -1 with s->error set. restore: called only before the
     * first next (source.c checks); 0, or -1 with err. Both required:
     * a connector that cannot replay returns -1 with the reason. */
    long         (*checkpoint)(Source *s, void *buf, size_t cap);
    int          (*restore)(Source *s, const void *buf, size_t len, char *err, size_t cap);
} SourceOps;

struct Source {
    const SourceOps *ops;
    void            *impl;          /* the connector's state, freed by ops->close */
    SourceStats      stats;
    char             error[512];
    int              nparts;        /* partitions this instance reads (> 1: row_part is kept) */
    uint16_t        *row_part;      /* per row of the last batch: index of its partition      */
    int              row_part_cap;
    char             warning[256];  /* a transient problem now ("" when none): broker unreachable… */
    int64_t          nnext;         /* source_next calls so far (restore only before the first) */
    const uint8_t   *part_live;     /* per partition index: read now (1) or revoked (0); NULL = all
                                       read. Owned by the connector; valid for nparts entries     */
    /* source_barrier / source_committed (source.h), set by the connectors that
     * care at open (outside SourceOps, so the others need not list them);
     * NULL = nothing to do. */
    void           (*on_barrier)(Source *s, int64_t epoch);
    void           (*on_committed)(Source *s, int64_t epoch);
    /* group mode with a Kafka exchange downstream (source.h, "group
     * exchange"); NULL = not supported */
    int            (*on_rewind)(Source *s, char *err, size_t cap);
    int            (*on_topic_partitions)(Source *s, int timeout_ms, char *err, size_t cap);
    int            (*on_behind)(const Source *s, int idx);   /* source_partition_behind; NULL: 0 */
    char             commit_meta[SOURCE_META_MAX];  /* for the next barrier's commit       */
    char             claim_meta[SOURCE_META_MAX];   /* committed at each assignment       */
    int64_t          group_committed; /* last epoch committed to the group, 0 none          */
    int64_t          group_revokes;   /* revocations and losses of partitions so far        */
    int64_t          group_assigns;   /* assignments so far (source_group_assigns)          */
    int              group_revoking;  /* partitions held for a checkpoint now (source_group_revoking) */
    int              group_unsteady;  /* its group rebalancing, per statistics (source_group_state) */
    int              group_ending;    /* bounded, own share read, the group's end awaited (the same) */
    int              stopping;        /* source_set_stopping: commits wait a bounded time   */
    int              caught_up;       /* a followed table: read what it held at the start   */
    char             metas[SOURCE_METAS_MAX][SOURCE_META_MAX];  /* met at assignments       */
    int              nmetas;
};

/* Record that row `row` of the batch being filled came from partition index
 * `part` (0 … nparts-1). 0, or -1 when out of memory. */
int conn_row_partition(Source *s, int row, int part, int capacity);

/* Set s->error (printf style). */
void conn_set_error(Source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Count one bad record; keep its message if fewer than SOURCE_BAD_KEEP are kept. */
void conn_bad_record(Source *s, const char *msg);

/* ---- generators' event schedule ----------------------------------------------- */

/* A generator task produces the events k ≡ p (mod P) of the partitions p it
 * owns, in increasing k, each at the nominal time offset floor(k·10⁶/eps) µs.
 * The owned partitions form a cycle of strides; stepping adds the stride and
 * its exact divmod by eps, so no multiplication or division per event. */
typedef struct EventPos {
    int64_t k;   /* the next event number                 */
    int64_t q;   /* floor(k·10⁶ / eps): its time offset µs */
    int64_t r;   /* (k·10⁶) mod eps                        */
    int     j;   /* position in the stride cycle           */
} EventPos;

typedef struct EventCycle {
    int      m;                  /* partitions in the cycle; 0 = none          */
    int64_t *stride, *dq, *dr;   /* m entries: stride and divmod(stride·10⁶, eps) */
    int64_t  eps;
    int64_t  P, first;           /* partitions in all; the cycle's first one    */
    EventPos pos;
} EventCycle;

/* The cycle over parts[0..m) (increasing, each < P). 0, or -1 when out of
 * memory. m = 0 makes an empty cycle. */
int  event_cycle_init(EventCycle *c, const int64_t *parts, int m, int64_t P, int64_t eps);
void event_cycle_free(EventCycle *c);

/* Checkpoints of a generator's schedule: the blob body holds P, m, the
 * first partition and the next event number pos.k (the envelope — tag and
 * version — is the caller's). event_cycle_restore reads them back and moves
 * pos to that event: 0, or -1 with err when the blob's partition set is not
 * this cycle's (other `partitions`, other task/ntasks) or k is not an event
 * of it. */
typedef struct CkptOut CkptOut;
typedef struct CkptIn  CkptIn;
void event_cycle_save(const EventCycle *c, CkptOut *w);
int  event_cycle_restore(EventCycle *c, CkptIn *r, const char *who, char *err, size_t cap);

static inline void event_cycle_step(const EventCycle *c, EventPos *p)
{
    int j = p->j;
    p->k += c->stride[j];
    p->q += c->dq[j];
    p->r += c->dr[j];
    if (p->r >= c->eps) {
        p->r -= c->eps;
        p->q++;
    }
    if (++p->j == c->m) p->j = 0;
}

/* Constructors: fill s->ops and s->impl, or return -1 with err set. */
int logs_source_open(Source *s, const ConnSpec *spec, char *err, size_t cap);
int datagen_source_open(Source *s, const ConnSpec *spec, char *err, size_t cap);
int file_source_open(Source *s, const ConnSpec *spec, int is_stdin, char *err, size_t cap);
int nexmark_source_open(Source *s, const ConnSpec *spec, char *err, size_t cap);

/* ---- checkpoint blobs ---------------------------------------------------------- */

/* Every checkpoint blob a connector writes (sources and sinks) has one
 * envelope, so that a blob of another connector, another version, a
 * truncated or a corrupted one is refused with a clear reason:
 *
 *   "SLCK"  magic (4 bytes)
 *   tag     the connector ("logs", "file", "kafka", "file-sink", …), NUL-padded to 16 bytes
 *   u32     the connector's blob version
 *   u32     body length
 *   body    the connector's fields: u64/i64 little-endian, strings as u32 length + bytes
 *   u64     FNV-1a of everything before it
 *
 * Writing never overflows buf: ckpt_out_end returns -1 when cap was too
 * small (and the length that would have been needed in *need). Reading
 * past the body sets `bad` and returns zeros; ckpt_in_end reports it. */
struct CkptOut {
    unsigned char *p;
    size_t         cap, len;
};
struct CkptIn {
    const unsigned char *p;
    size_t               len, off;   /* the body: p[0..len)       */
    int                  bad;        /* read past the end          */
};

#define CKPT_HEADER  28
#define CKPT_TRAILER 8

void ckpt_out_begin(CkptOut *w, void *buf, size_t cap, const char *tag, uint32_t version);
void ckpt_put_u64(CkptOut *w, uint64_t v);
void ckpt_put_i64(CkptOut *w, int64_t v);
void ckpt_put_str(CkptOut *w, const char *s);
long ckpt_out_end(CkptOut *w, size_t *need);

/* End a source's blob: its length; with buf NULL and cap 0 (a size query)
 * the length it needs; -1 with s->error ("who: a checkpoint needs N bytes…")
 * when cap is too small. */
long conn_ckpt_finish(Source *s, CkptOut *w, const char *who);

/* Check the envelope (magic, tag, version, length, checksum); 0, or -1 with err. */
int         ckpt_in_begin(CkptIn *r, const void *buf, size_t len, const char *tag,
                          uint32_t version, char *err, size_t cap);
uint64_t    ckpt_get_u64(CkptIn *r);
int64_t     ckpt_get_i64(CkptIn *r);
const char *ckpt_get_str(CkptIn *r, size_t *n);   /* into the blob, not NUL-terminated */
int         ckpt_str_is(const char *p, size_t n, const char *s);   /* p[0..n) == s */
/* 0 when the body was read exactly to its end, else -1 with err. */
int         ckpt_in_end(CkptIn *r, const char *who, char *err, size_t cap);

/* snprintf into err (cap may be 0); returns -1 for `return errf(…)`. */
int conn_errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- options ---------------------------------------------------------------- */

/* The value of option key (case-insensitive), or NULL. */
const char *conn_opt(const ConnSpec *spec, const char *key);

/* Parse an option if present: 1 = present and parsed, 0 = absent, -1 = bad
 * value (err says which option and what was expected). */
int conn_opt_count(const ConnSpec *spec, const char *key, int64_t *out, char *err, size_t cap);
int conn_opt_number(const ConnSpec *spec, const char *key, double *out, char *err, size_t cap);
int conn_opt_bool(const ConnSpec *spec, const char *key, int *out, char *err, size_t cap);
int conn_opt_duration(const ConnSpec *spec, const char *key, int64_t *out, char *err, size_t cap);

/* Check task/ntasks; 0 or -1 with err. Normalizes ntasks 0 to 1 in *ntasks. */
int conn_check_task(const ConnSpec *spec, int *task, int *ntasks, char *err, size_t cap);

/* ---- counter-based random numbers ------------------------------------------- */

/* A strong 64-bit mixer (the SplitMix64 / MurmurHash3 finalizer). */
static inline uint64_t conn_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* The random value number `k` of the stream keyed by `key`: a pure function. */
static inline uint64_t conn_rand(uint64_t key, uint64_t k)
{
    return conn_mix64(k * UINT64_C(0x9e3779b97f4a7c15) + key);
}

/* floor(r * n / 2^64): a uniform pick in [0, n) from a 64-bit random value. */
static inline uint64_t conn_mulhi(uint64_t r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)r * n) >> 64);
}

/* A stream key from a seed and a stream name (column name, "user", …). */
uint64_t conn_stream_key(uint64_t seed, const char *name);

/* Walker/Vose alias table over n weights: pick = conn_alias_pick(t, r).
 * Entry i packs the threshold (low 32 bits) and the alternative (high 32
 * bits): slot i is kept when the low 32 bits of r are below the threshold.
 * A full slot has itself as its alternative. One load, no branch. */
typedef struct AliasTable {
    uint32_t  n;
    uint64_t *e;
} AliasTable;

/* Build from n > 0 non-negative weights with a positive sum. 0 or -1 (OOM). */
int  conn_alias_init(AliasTable *t, const double *w, uint32_t n);
void conn_alias_free(AliasTable *t);

static inline uint32_t conn_alias_pick(const AliasTable *t, uint64_t r)
{
    uint32_t i = (uint32_t)(((r >> 32) * t->n) >> 32);
    uint64_t e = t->e[i];
    uint32_t alt = (uint32_t)(e >> 32);
    return (uint32_t)r < (uint32_t)e ? i : alt;
}

/* ---- text → values (JSON strings, CSV fields) -------------------------------- */

/* Parse a whole slice: 0, or -1 if malformed / out of range. */
int conn_parse_i64(const char *p, size_t n, int64_t *out);
int conn_parse_f64(const char *p, size_t n, double *out);
int conn_parse_bool(const char *p, size_t n, uint8_t *out);

/* Store text p[0..n) into column v at row as a value of v's type (VARCHAR:
 * copied into the batch arena, bytes as they are — the CSV decoder checks
 * UTF-8 itself). TIMESTAMP accepts ts_parse text or an integer of epoch
 * milliseconds within [CONN_TS_MIN_US, CONN_TS_MAX_US]; INTERVAL interval_parse text or integer
 * milliseconds. 0, or -1 with why (a short reason) when the text does not
 * parse as that type. */
int conn_store_text(Vector *v, int row, const char *p, size_t n, char *why, size_t cap);

/* The TIMESTAMP range every decoder accepts: 0001-01-01 00:00:00 through
 * 9999-12-31 23:59:59.999999 UTC, in µs since the epoch — the years ts_parse
 * reads as text, now also the bound on epoch milliseconds. A value outside
 * is a bad record ("out of range"): further out, window arithmetic (a
 * window's end, a session's gap) could overflow int64. */
#define CONN_TS_MIN_US (-62135596800000000LL)
#define CONN_TS_MAX_US (253402300799999999LL)

/* 1 if p[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), else 0. ASCII runs are checked 8
 * bytes at a time. */
int conn_utf8_valid(const char *p, size_t n);

/* Mark rows [from, to) valid if the vector tracks NULLs (raw writes do not). */
void conn_mark_valid(Vector *v, int from, int to);

#endif
