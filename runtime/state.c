/*
 * state.c — the LevelDB state store (see state.h).
 */
#include "runtime/state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <leveldb/c.h>

struct StateStore {
    leveldb_t              *db;
    leveldb_options_t      *opts;
    leveldb_readoptions_t  *ropts;
    leveldb_writeoptions_t *wopts;   /* sync: a commit survives a crash */
    int64_t                 epoch;
};

struct StateTxn {
    StateStore          *st;
    leveldb_writebatch_t *wb;
    size_t               bytes;
};

/* ---- keys ---------------------------------------------------------------------- */

static void be16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void be32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static void be64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

static const char KEY_FINGERPRINT[] = "mfingerprint";
static const char KEY_EPOCH[] = "mepoch";

/* 's' op part key… into buf (caller frees when it is not buf) */
static unsigned char *state_key(unsigned char *buf, size_t cap, int op, int part, const void *key, size_t klen,
                                size_t *n)
{
    *n = 5 + klen;
    unsigned char *k = *n <= cap ? buf : malloc(*n);
    if (!k) return NULL;
    k[0] = 's';
    be16(k + 1, (unsigned)op);
    be16(k + 3, (unsigned)part);
    if (klen) memcpy(k + 5, key, klen);
    return k;
}

static void offset_key(unsigned char k[7], int source, int partition)
{
    k[0] = 'o';
    be16(k + 1, (unsigned)source);
    be32(k + 3, (uint32_t)partition);
}

/* "plan line N was 'x', now 'y'" for the first line where a and b differ */
static void first_difference(const char *a, size_t alen, const char *b, char *out, size_t cap)
{
    const char *ae = a + alen, *be = b + strlen(b);
    for (int line = 1;; line++) {
        const char *an = a < ae ? memchr(a, '\n', (size_t)(ae - a)) : NULL;
        const char *bn = b < be ? memchr(b, '\n', (size_t)(be - b)) : NULL;
        size_t      al = a < ae ? (size_t)((an ? an : ae) - a) : 0;
        size_t      bl = b < be ? (size_t)((bn ? bn : be) - b) : 0;
        int         adone = a >= ae, bdone = b >= be;
        if (adone && bdone) {
            snprintf(out, cap, "the plans differ");
            return;
        }
        if (adone || bdone || al != bl || memcmp(a, b, al) != 0) {
            while (al && a[0] == ' ') a++, al--;
            while (bl && b[0] == ' ') b++, bl--;
            snprintf(out, cap, "plan line %d was '%.*s', now '%.*s'", line, (int)(al < 150 ? al : 150),
                     adone ? "" : a, (int)(bl < 150 ? bl : 150), bdone ? "" : b);
            return;
        }
        a = an ? an + 1 : ae;
        b = bn ? bn + 1 : be;
    }
}

/* ---- open / close ----------------------------------------------------------------- */

static void set_err(char *err, size_t cap, const char *what, char *lerr)
{
    snprintf(err, cap, "%s: %s", what, lerr ? lerr : "unknown error");
    leveldb_free(lerr);
}

StateStore *state_open(const char *dir, const char *fingerprint, int reset, char *err, size_t cap)
{
    StateStore *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    char *lerr = NULL;
    st->opts = leveldb_options_create();
    leveldb_options_set_create_if_missing(st->opts, 1);
    leveldb_options_set_paranoid_checks(st->opts, 1);
    st->ropts = leveldb_readoptions_create();
    leveldb_readoptions_set_verify_checksums(st->ropts, 1);
    st->wopts = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(st->wopts, 1);
    if (reset) {
        leveldb_destroy_db(st->opts, dir, &lerr);
        if (lerr) {
            set_err(err, cap, "cannot reset the state directory", lerr);
            state_close(st);
            return NULL;
        }
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, cap, "cannot create the state directory '%s': %s", dir, strerror(errno));
        state_close(st);
        return NULL;
    }
    st->db = leveldb_open(st->opts, dir, &lerr);
    if (!st->db) {
        char what[600];
        snprintf(what, sizeof what, "cannot open the state in '%.500s' (corrupt or not a sluice state directory?)", dir);
        set_err(err, cap, what, lerr);
        state_close(st);
        return NULL;
    }
    size_t vlen = 0;
    char  *v = leveldb_get(st->db, st->ropts, KEY_FINGERPRINT, sizeof KEY_FINGERPRINT - 1, &vlen, &lerr);
    if (lerr) {
        set_err(err, cap, "cannot read the state", lerr);
        state_close(st);
        return NULL;
    }
    if (!v) {
        /* a new store: it belongs to this plan from now on */
        leveldb_put(st->db, st->wopts, KEY_FINGERPRINT, sizeof KEY_FINGERPRINT - 1, fingerprint,
                    strlen(fingerprint), &lerr);
        if (lerr) {
            set_err(err, cap, "cannot write the state", lerr);
            state_close(st);
            return NULL;
        }
    } else {
        int same = vlen == strlen(fingerprint) && memcmp(v, fingerprint, vlen) == 0;
        if (!same) {
            char what[400];
            first_difference(v, vlen, fingerprint, what, sizeof what);
            snprintf(err, cap,
                     "the state in '%s' was made by a different query (%s): start over with "
                     "--reset-state (SET state.reset = true), or use another state.dir",
                     dir, what);
            leveldb_free(v);
            state_close(st);
            return NULL;
        }
        leveldb_free(v);
    }
    v = leveldb_get(st->db, st->ropts, KEY_EPOCH, sizeof KEY_EPOCH - 1, &vlen, &lerr);
    if (lerr) {
        set_err(err, cap, "cannot read the state", lerr);
        state_close(st);
        return NULL;
    }
    if (v && vlen == 8) st->epoch = (int64_t)get_be64((const unsigned char *)v);
    else if (v) {
        snprintf(err, cap, "the state in '%s' is corrupt (bad epoch record)", dir);
        leveldb_free(v);
        state_close(st);
        return NULL;
    }
    leveldb_free(v);
    return st;
}

void state_close(StateStore *st)
{
    if (!st) return;
    if (st->db) leveldb_close(st->db);
    if (st->opts) leveldb_options_destroy(st->opts);
    if (st->ropts) leveldb_readoptions_destroy(st->ropts);
    if (st->wopts) leveldb_writeoptions_destroy(st->wopts);
    free(st);
}

struct leveldb_t *state_leveldb(StateStore *st)
{
    return st->db;
}

int64_t state_epoch(const StateStore *st)
{
    return st->epoch;
}

int64_t state_offset(StateStore *st, int source, int partition)
{
    unsigned char k[7];
    offset_key(k, source, partition);
    size_t vlen = 0;
    char  *lerr = NULL;
    char  *v = leveldb_get(st->db, st->ropts, (const char *)k, sizeof k, &vlen, &lerr);
    leveldb_free(lerr);
    int64_t off = v && vlen == 8 ? (int64_t)get_be64((const unsigned char *)v) : -1;
    leveldb_free(v);
    return off;
}

int state_scan(StateStore *st, int op, int part, StateScanFn fn, void *ctx, char *err, size_t cap)
{
    unsigned char prefix[5];
    size_t        n;
    state_key(prefix, sizeof prefix, op, part, NULL, 0, &n);
    leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->ropts);
    if (!it) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (leveldb_iter_seek(it, (const char *)prefix, sizeof prefix); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t      klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        if (klen < sizeof prefix || memcmp(k, prefix, sizeof prefix) != 0) break;
        const char *v = leveldb_iter_value(it, &vlen);
        if (fn(ctx, k + sizeof prefix, klen - sizeof prefix, v, vlen)) break;
    }
    char *lerr = NULL;
    leveldb_iter_get_error(it, &lerr);
    leveldb_iter_destroy(it);
    if (lerr) {
        set_err(err, cap, "cannot read the state", lerr);
        return -1;
    }
    return 0;
}

/* ---- transactions ----------------------------------------------------------------- */

StateTxn *state_txn_new(StateStore *st)
{
    StateTxn *tx = calloc(1, sizeof *tx);
    if (!tx) return NULL;
    tx->st = st;
    tx->wb = leveldb_writebatch_create();
    if (!tx->wb) {
        free(tx);
        return NULL;
    }
    return tx;
}

void state_txn_put(StateTxn *tx, int op, int part, const void *key, size_t klen, const void *val, size_t vlen)
{
    unsigned char  buf[256];
    size_t         n;
    unsigned char *k = state_key(buf, sizeof buf, op, part, key, klen, &n);
    if (!k) return;
    leveldb_writebatch_put(tx->wb, (const char *)k, n, val, vlen);
    tx->bytes += n + vlen;
    if (k != buf) free(k);
}

void state_txn_delete(StateTxn *tx, int op, int part, const void *key, size_t klen)
{
    unsigned char  buf[256];
    size_t         n;
    unsigned char *k = state_key(buf, sizeof buf, op, part, key, klen, &n);
    if (!k) return;
    leveldb_writebatch_delete(tx->wb, (const char *)k, n);
    tx->bytes += n;
    if (k != buf) free(k);
}

void state_txn_offset(StateTxn *tx, int source, int partition, int64_t offset)
{
    unsigned char k[7], v[8];
    offset_key(k, source, partition);
    be64(v, (uint64_t)offset);
    leveldb_writebatch_put(tx->wb, (const char *)k, sizeof k, (const char *)v, sizeof v);
    tx->bytes += sizeof k + sizeof v;
}

size_t state_txn_bytes(const StateTxn *tx)
{
    return tx->bytes;
}

void state_txn_abort(StateTxn *tx)
{
    if (!tx) return;
    leveldb_writebatch_destroy(tx->wb);
    free(tx);
}

int state_txn_commit(StateTxn *tx, int64_t epoch, char *err, size_t cap)
{
    StateStore *st = tx->st;
    if (epoch <= st->epoch) {
        snprintf(err, cap, "checkpoint epoch %lld is not after the last one (%lld)", (long long)epoch,
                 (long long)st->epoch);
        state_txn_abort(tx);
        return -1;
    }
    unsigned char v[8];
    be64(v, (uint64_t)epoch);
    leveldb_writebatch_put(tx->wb, KEY_EPOCH, sizeof KEY_EPOCH - 1, (const char *)v, sizeof v);
    char *lerr = NULL;
    leveldb_write(st->db, st->wopts, tx->wb, &lerr);
    state_txn_abort(tx);
    if (lerr) {
        set_err(err, cap, "checkpoint not written", lerr);
        return -1;
    }
    st->epoch = epoch;
    return 0;
}

int state_txn_append(StateTxn *dst, const StateTxn *src)
{
    leveldb_writebatch_append(dst->wb, src->wb);
    dst->bytes += src->bytes;
    return 0;
}

void state_txn_clear(StateTxn *tx)
{
    leveldb_writebatch_clear(tx->wb);
    tx->bytes = 0;
}

int state_get(StateStore *st, int op, int part, const void *key, size_t klen, void **val, size_t *vlen,
              char *err, size_t cap)
{
    unsigned char  buf[256];
    size_t         n;
    unsigned char *k = state_key(buf, sizeof buf, op, part, key, klen, &n);
    *val = NULL;
    *vlen = 0;
    if (!k) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    char  *lerr = NULL;
    size_t len = 0;
    char  *v = leveldb_get(st->db, st->ropts, (const char *)k, n, &len, &lerr);
    if (k != buf) free(k);
    if (lerr) {
        set_err(err, cap, "cannot read the state", lerr);
        return -1;
    }
    if (!v) return 0;
    *val = malloc(len ? len : 1);
    if (!*val) {
        leveldb_free(v);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    memcpy(*val, v, len);
    *vlen = len;
    leveldb_free(v);
    return 1;
}
