/*
 * kernels_string.c — ||, CONCAT, LOWER, UPPER, LENGTH, SUBSTRING, TRIM,
 * LIKE, SIMILAR TO and REGEXP_LIKE (see expr_eval.c for the semantics).
 *
 * Output strings. A kernel that makes new bytes (||, CONCAT, LOWER, UPPER)
 * first sums the lengths of its live rows, takes one block of that size
 * from the node's arena (reset at every evaluation, so in steady state the
 * block reuses the arena's kept chunk) and slices it row by row. SUBSTRING
 * and TRIM make no bytes at all: their result is a slice of the input.
 *
 * Every loop skips rows whose result is already NULL before it touches a
 * string: the Str of a NULL slot may point at bytes that are gone.
 *
 * Patterns. A LIKE / SIMILAR TO / REGEXP_LIKE whose pattern (and escape or
 * flags) is constant is compiled once in kern_*_prepare, when the state is
 * built; a malformed constant pattern is a build error. A pattern from a
 * column is compiled per row (LIKE: into a reused LikePattern; regex: the
 * last compiled pattern is cached, recompiled when the text changes) and a
 * malformed one makes that row NULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/expr_kernels.h"

/* rows of a strict string kernel: r, and skip the rows already NULL */
#define LIVE_ROWS(...)                                                           \
    do {                                                                         \
        for (int i = 0; i < count; i++) {                                        \
            int r = sel ? (int)sel[i] : i;                                       \
            if (!KVALID(rv, r)) continue;                                        \
            __VA_ARGS__;                                                         \
        }                                                                        \
    } while (0)

static inline size_t char_len(const char *s, size_t pos, size_t n)
{
    size_t c = (size_t)utf8_len((unsigned char)s[pos]);
    return c > n - pos ? n - pos : c;
}

/* position after skipping k characters from pos */
static inline size_t skip_chars(const char *s, size_t pos, size_t n, int64_t k)
{
    while (k > 0 && pos < n) {
        pos += char_len(s, pos, n);
        k--;
    }
    return pos;
}

static inline void put_bytes(char *dst, const char *src, size_t n)
{
    if (n) memcpy(dst, src, n);
}

/* one block for `total` bytes of output (a static empty block when 0, so
 * slicing it never does arithmetic on a NULL pointer) */
static int out_block(ENode *n, size_t total, char **out)
{
    static char empty[1];
    *out = empty;
    if (total == 0) return 0;
    *out = arena_alloc_bytes(&n->arena, total);
    return *out ? 0 : -1;
}

/* ---- || LOWER UPPER LENGTH SUBSTRING TRIM ------------------------------------- */

static int concat_op(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    Vector         *res = &n->res;
    const uint64_t *rv = res->validity;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[0]), my = KMASK(a[1]);
    const Str      *x = vector_str(a[0]), *y = vector_str(a[1]);
    Str            *o = vector_str(res);
    size_t          total = 0;
    char           *buf;
    LIVE_ROWS(total += (size_t)x[r & mx].len + y[r & my].len);
    if (out_block(n, total, &buf) < 0) return -1;
    LIVE_ROWS({
        Str    xv = x[r & mx], yv = y[r & my];
        size_t len = (size_t)xv.len + yv.len;
        if (len > UINT32_MAX) {
            vector_set_null(res, r);
            continue;
        }
        put_bytes(buf, xv.ptr, xv.len);
        put_bytes(buf + xv.len, yv.ptr, yv.len);
        o[r].ptr = buf;
        o[r].len = (uint32_t)len;
        buf += len;
    });
    return 0;
}

static int change_case(ENode *n, const Vector *const *a, const EvalCtx *cx, int upper)
{
    Vector         *res = &n->res;
    const uint64_t *rv = res->validity;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[0]);
    const Str      *x = vector_str(a[0]);
    Str            *o = vector_str(res);
    size_t          total = 0;
    char           *buf;
    unsigned char   from = upper ? 'a' : 'A';
    LIVE_ROWS(total += x[r & mx].len);
    if (out_block(n, total, &buf) < 0) return -1;
    LIVE_ROWS({
        Str                  xv = x[r & mx];
        const unsigned char *s = (const unsigned char *)xv.ptr;
        for (uint32_t k = 0; k < xv.len; k++) {
            unsigned char c = s[k];
            buf[k] = (char)(c ^ (((unsigned char)(c - from) < 26) << 5));
        }
        o[r].ptr = buf;
        o[r].len = xv.len;
        buf += xv.len;
    });
    return 0;
}

static int length(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    const uint64_t *rv = n->res.validity;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[0]);
    const Str      *x = vector_str(a[0]);
    int64_t        *o = vector_i64(&n->res);
    LIVE_ROWS({
        Str                  xv = x[r & mx];
        const unsigned char *s = (const unsigned char *)xv.ptr;
        int64_t              chars = 0;
        for (uint32_t k = 0; k < xv.len; k++) chars += (s[k] & 0xC0) != 0x80;
        o[r] = chars;
    });
    return 0;
}

/* SUBSTRING(s, from[, len]): characters from..from+len-1 (1-based) that exist */
static int substring(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    Vector         *res = &n->res;
    const uint64_t *rv = res->validity;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[0]), mf = KMASK(a[1]);
    int             has_len = n->nargs == 3, ml = has_len ? KMASK(a[2]) : 0;
    const Str      *x = vector_str(a[0]);
    const int64_t  *f = vector_i64(a[1]);
    const int64_t  *l = has_len ? vector_i64(a[2]) : NULL;
    Str            *o = vector_str(res);
    LIVE_ROWS({
        Str     xv = x[r & mx];
        int64_t start = f[r & mf], end = INT64_MAX;
        if (has_len) {
            int64_t len = l[r & ml];
            if (len < 0) {
                vector_set_null(res, r);
                continue;
            }
            if (__builtin_add_overflow(start, len, &end)) end = INT64_MAX;
        }
        if (start < 1) start = 1;
        if (end <= start || xv.len == 0) {
            o[r].ptr = xv.ptr;
            o[r].len = 0;
            continue;
        }
        size_t b = skip_chars(xv.ptr, 0, xv.len, start - 1);
        size_t e = skip_chars(xv.ptr, b, xv.len, end - start);
        o[r].ptr = xv.ptr + b;
        o[r].len = (uint32_t)(e - b);
    });
    return 0;
}

/* is the character c[0..clen) one of the characters of set? */
static int char_in_set(const char *c, size_t clen, Str set)
{
    size_t pos = 0;
    while (pos < set.len) {
        size_t k = char_len(set.ptr, pos, set.len);
        if (k == clen && memcmp(set.ptr + pos, c, clen) == 0) return 1;
        pos += k;
    }
    return 0;
}

static int trim(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    Vector         *res = &n->res;
    const uint64_t *rv = res->validity;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[0]);
    int             left = n->flag & TRIM_LEFT, right = n->flag & TRIM_RIGHT;
    const Str      *x = vector_str(a[0]);
    Str            *o = vector_str(res);
    const Str      *chars = n->nargs == 2 ? vector_str(a[1]) : NULL;
    int             mc = n->nargs == 2 ? KMASK(a[1]) : 0;

    /* one set for the whole vector, all ASCII: a byte table */
    uint8_t table[256];
    int     use_table = !chars || mc == 0;
    if (use_table) {
        memset(table, 0, sizeof table);
        if (!chars) {
            table[' '] = 1;
        } else {
            Str set = chars[0];
            for (uint32_t k = 0; k < set.len && use_table; k++) {
                unsigned char c = (unsigned char)set.ptr[k];
                if (c >= 0x80) use_table = 0;
                else table[c] = 1;
            }
        }
    }
    if (use_table) {
        LIVE_ROWS({
            Str    xv = x[r & mx];
            size_t b = 0, e = xv.len;
            if (left)
                while (b < e && table[(unsigned char)xv.ptr[b]]) b++;
            if (right)
                while (e > b && table[(unsigned char)xv.ptr[e - 1]]) e--;
            if (xv.len) xv.ptr += b;
            xv.len = (uint32_t)(e - b);
            o[r] = xv;
        });
        return 0;
    }
    LIVE_ROWS({
        Str    xv = x[r & mx], set = chars[r & mc];
        size_t b = 0, e = xv.len;
        if (left)
            while (b < e) {
                size_t k = char_len(xv.ptr, b, e);
                if (!char_in_set(xv.ptr + b, k, set)) break;
                b += k;
            }
        if (right)
            while (e > b) {
                size_t s = e - 1;
                while (s > b && ((unsigned char)xv.ptr[s] & 0xC0) == 0x80) s--;
                if (!char_in_set(xv.ptr + s, e - s, set)) break;
                e = s;
            }
        if (xv.len) xv.ptr += b;
        xv.len = (uint32_t)(e - b);
        o[r] = xv;
    });
    return 0;
}

int kern_string(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    switch (n->kernel) {
    case K_CONCAT_OP: return concat_op(n, a, cx);
    case K_LOWER:     return change_case(n, a, cx, 0);
    case K_UPPER:     return change_case(n, a, cx, 1);
    case K_LENGTH:    return length(n, a, cx);
    case K_SUBSTRING: return substring(n, a, cx);
    case K_TRIM:      return trim(n, a, cx);
    }
    return -1;
}

/* CONCAT: NULL arguments are skipped; the result is never NULL */
int kern_concat(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    Vector         *res = &n->res;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, na = n->nargs;
    Str            *o = vector_str(res);
    size_t          total = 0;
    char           *buf;
    for (int k = 0; k < na; k++) {
        const Vector   *v = a[k];
        const Str      *x = vector_str(v);
        const uint64_t *xv = v->validity;
        int             m = KMASK(v);
        for (int i = 0; i < count; i++) {
            int r = sel ? (int)sel[i] : i;
            if (KVALID(xv, r & m)) total += x[r & m].len;
        }
    }
    if (out_block(n, total, &buf) < 0) return -1;
    for (int i = 0; i < count; i++) {
        int    r = sel ? (int)sel[i] : i;
        size_t len = 0;
        for (int k = 0; k < na; k++) {
            const Vector *v = a[k];
            int           s = r & KMASK(v);
            if (!KVALID(v->validity, s)) continue;
            Str xs = vector_str(v)[s];
            put_bytes(buf + len, xs.ptr, xs.len);
            len += xs.len;
        }
        if (len > UINT32_MAX) {
            vector_set_null(res, r);
            continue;
        }
        o[r].ptr = buf;
        o[r].len = (uint32_t)len;
        buf += len;
    }
    return 0;
}

/* ---- LIKE ------------------------------------------------------------------------ */

typedef struct LikeState {
    LikePattern pat;        /* the constant pattern, or the last per-row one */
    int         constant;   /* pat was compiled at build time               */
} LikeState;

/* the escape must be empty (none) or one character */
static int escape_ok(Str e)
{
    return e.len == 0 || char_len(e.ptr, 0, e.len) == e.len;
}

int kern_like_prepare(ENode *n, Arena *mem, char *why, size_t cap)
{
    LikeState *ls = arena_calloc(mem, 1, sizeof *ls);
    if (!ls) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    n->aux = ls;
    const ENode *p = n->args[1], *e = n->nargs == 3 ? n->args[2] : NULL;
    if (!p->folded || (e && !e->folded)) return 0;
    if (vector_is_null(p->out, 0) || (e && vector_is_null(e->out, 0))) return 0;
    Str ps = vector_str(p->out)[0], es = {NULL, 0};
    if (e) es = vector_str(e->out)[0];
    if (!escape_ok(es)) {
        snprintf(why, cap, "LIKE ESCAPE must be a single character, got '%.*s'", (int)es.len,
                 es.ptr ? es.ptr : "");
        return -1;
    }
    int bad;
    if (like_compile(&ls->pat, ps.ptr, ps.len, es.ptr, es.len, &bad) < 0) {
        if (bad)
            snprintf(why, cap, "LIKE pattern '%.*s' ends with the escape character",
                     (int)(ps.len > 200 ? 200 : ps.len), ps.ptr);
        else
            snprintf(why, cap, "out of memory");
        return -1;
    }
    ls->constant = 1;
    return 0;
}

void kern_like_release(ENode *n)
{
    LikeState *ls = n->aux;
    if (ls) like_free(&ls->pat);
}

int kern_like(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    LikeState      *ls = n->aux;
    Vector         *res = &n->res;
    const uint64_t *rv = res->validity;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[0]);
    const Str      *x = vector_str(a[0]);
    uint8_t        *o = vector_bool(res);

    if (ls->constant) {
        const LikePattern *lp = &ls->pat;
        const LikeOp      *op = lp->ops;
        switch (lp->kind) {
        case LIKE_EXACT: {
            Str lit = {lp->nops ? lp->buf + op[0].off : NULL, lp->nops ? op[0].len : 0};
            LIVE_ROWS(o[r] = (uint8_t)str_eq(x[r & mx], lit));
            return 0;
        }
        case LIKE_ANY:
            LIVE_ROWS(o[r] = 1);
            return 0;
        case LIKE_PREFIX: {
            const char *lit = lp->buf + op[0].off;
            uint32_t    len = op[0].len;
            LIVE_ROWS({
                Str xv = x[r & mx];
                o[r] = xv.len >= len && memcmp(xv.ptr, lit, len) == 0;
            });
            return 0;
        }
        case LIKE_SUFFIX: {
            const char *lit = lp->buf + op[1].off;
            uint32_t    len = op[1].len;
            LIVE_ROWS({
                Str xv = x[r & mx];
                o[r] = xv.len >= len && memcmp(xv.ptr + xv.len - len, lit, len) == 0;
            });
            return 0;
        }
        case LIKE_CONTAINS: {
            const char *lit = lp->buf + op[1].off;
            uint32_t    len = op[1].len;
            LIVE_ROWS({
                Str xv = x[r & mx];
                o[r] = like_find(xv.ptr, xv.len, lit, len) != NULL;
            });
            return 0;
        }
        case LIKE_SEGMENTS:
        case LIKE_GENERAL:
            LIVE_ROWS({
                Str xv = x[r & mx];
                o[r] = (uint8_t)like_match(lp, xv.ptr, xv.len);
            });
            return 0;
        }
        return -1;
    }

    /* per-row pattern */
    const Str *p = vector_str(a[1]);
    int        mp = KMASK(a[1]);
    const Str *e = n->nargs == 3 ? vector_str(a[2]) : NULL;
    int        me = n->nargs == 3 ? KMASK(a[2]) : 0;
    LIVE_ROWS({
        Str ps = p[r & mp], es = {NULL, 0};
        if (e) es = e[r & me];
        int bad = !escape_ok(es);
        if (!bad && like_compile(&ls->pat, ps.ptr, ps.len, es.ptr, es.len, &bad) < 0 && !bad)
            return -1;                              /* out of memory, not a bad pattern */
        if (bad) {
            vector_set_null(res, r);
            continue;
        }
        Str xv = x[r & mx];
        o[r] = (uint8_t)like_match(&ls->pat, xv.ptr, xv.len);
    });
    return 0;
}

/* ---- SIMILAR TO / REGEXP_LIKE ------------------------------------------------------- */

typedef struct RegexState {
    regex_t re;
    int     compiled;   /* re holds a compiled regex                          */
    int     constant;   /* compiled from constant arguments at build time     */
    int     bad;        /* per-row cache: the cached key did not compile      */
    int     key_valid;  /* per-row cache: key describes `re` (or bad)         */
    int     key_opt;    /* the key had an option argument                     */
    char   *key;        /* pattern bytes, then option bytes                   */
    size_t  key_plen, key_len, key_cap;
    char   *tmp;        /* translated / NUL-terminated pattern                */
    size_t  tmp_cap;
#ifndef REG_STARTEND
    char   *subj;       /* NUL-terminated copy of the subject                 */
    size_t  subj_cap;
#endif
} RegexState;

static int grow(char **buf, size_t *cap, size_t need)
{
    if (*cap >= need) return 0;
    size_t c = need < 256 ? 256 : need;
    char  *p = realloc(*buf, c);
    if (!p) return -1;
    *buf = p;
    *cap = c;
    return 0;
}

/* SQL SIMILAR TO pattern → an anchored POSIX ERE; out has 2n + 8 bytes.
 * -1 when the pattern ends with the escape character. */
static int similar_to_ere(const char *p, size_t n, Str esc, char *out)
{
    static const char ere_special[] = ".[]()*+?{}|^$\\";
    size_t            o = 0, i = 0;
    int               in_bracket = 0;
    out[o++] = '^';
    out[o++] = '(';
    while (i < n) {
        if (in_bracket) {
            char c = p[i++];
            out[o++] = c;
            if (c == ']') in_bracket = 0;
            continue;
        }
        if (esc.len && n - i >= esc.len && memcmp(p + i, esc.ptr, esc.len) == 0) {
            i += esc.len;
            if (i >= n) return -1;
            size_t k = char_len(p, i, n);
            if (k == 1 && strchr(ere_special, p[i])) out[o++] = '\\';
            memcpy(out + o, p + i, k);
            o += k;
            i += k;
            continue;
        }
        char c = p[i++];
        switch (c) {
        case '%':
            out[o++] = '.';
            out[o++] = '*';
            break;
        case '_':
            out[o++] = '.';
            break;
        case '.':
        case '^':
        case '$':
        case '\\':
            out[o++] = '\\';
            out[o++] = c;
            break;
        case '[':
            out[o++] = '[';
            if (i < n && p[i] == '^') out[o++] = p[i++];
            if (i < n && p[i] == ']') out[o++] = p[i++];
            in_bracket = 1;
            break;
        default:
            out[o++] = c;
        }
    }
    out[o++] = ')';
    out[o++] = '$';
    out[o] = '\0';
    return 0;
}

/* compile into rs->re; 0, -1 bad pattern (why), -2 out of memory */
static int regex_build(RegexState *rs, int similar, Str pat, const Str *opt, char *why,
                       size_t cap)
{
    const char *what = similar ? "SIMILAR TO" : "REGEXP_LIKE";
    int         cflags = REG_EXTENDED | REG_NOSUB;
    if (rs->compiled) {
        regfree(&rs->re);
        rs->compiled = 0;
    }
    if (pat.len && memchr(pat.ptr, '\0', pat.len)) {
        snprintf(why, cap, "%s pattern contains a NUL byte", what);
        return -1;
    }
    if (grow(&rs->tmp, &rs->tmp_cap, 2 * (size_t)pat.len + 8) < 0) return -2;
    if (similar) {
        Str esc = opt ? *opt : (Str){NULL, 0};
        if (!escape_ok(esc)) {
            snprintf(why, cap, "SIMILAR TO ESCAPE must be a single character");
            return -1;
        }
        if (similar_to_ere(pat.ptr, pat.len, esc, rs->tmp) < 0) {
            snprintf(why, cap, "SIMILAR TO pattern ends with the escape character");
            return -1;
        }
    } else {
        put_bytes(rs->tmp, pat.ptr, pat.len);
        rs->tmp[pat.len] = '\0';
        for (uint32_t k = 0; opt && k < opt->len; k++) {
            switch (opt->ptr[k]) {
            case 'i': cflags |= REG_ICASE; break;
            case 'c': cflags &= ~REG_ICASE; break;
            case 'm':
            case 'n': cflags |= REG_NEWLINE; break;
            default:
                snprintf(why, cap, "unknown REGEXP_LIKE flag '%c' (use i, c, m or n)",
                         opt->ptr[k]);
                return -1;
            }
        }
    }
    int rc = regcomp(&rs->re, rs->tmp, cflags);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &rs->re, msg, sizeof msg);
        snprintf(why, cap, "invalid %s pattern '%.*s': %s", what,
                 (int)(pat.len > 100 ? 100 : pat.len), pat.ptr ? pat.ptr : "", msg);
        return rc == REG_ESPACE ? -2 : -1;
    }
    rs->compiled = 1;
    return 0;
}

static int regex_match(RegexState *rs, Str s)
{
#ifdef REG_STARTEND
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)s.len;
    return regexec(&rs->re, s.len ? s.ptr : "", 1, m, REG_STARTEND) == 0;
#else
    if (grow(&rs->subj, &rs->subj_cap, (size_t)s.len + 1) < 0) return -1;
    put_bytes(rs->subj, s.ptr, s.len);
    rs->subj[s.len] = '\0';
    return regexec(&rs->re, rs->subj, 0, NULL, 0) == 0;
#endif
}

int kern_regex_prepare(ENode *n, Arena *mem, char *why, size_t cap)
{
    RegexState *rs = arena_calloc(mem, 1, sizeof *rs);
    if (!rs) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    n->aux = rs;
    const ENode *p = n->args[1], *o = n->nargs == 3 ? n->args[2] : NULL;
    if (!p->folded || (o && !o->folded)) return 0;
    if (vector_is_null(p->out, 0) || (o && vector_is_null(o->out, 0))) return 0;
    Str ps = vector_str(p->out)[0], os = {NULL, 0};
    if (o) os = vector_str(o->out)[0];
    int rc = regex_build(rs, n->flag, ps, o ? &os : NULL, why, cap);
    if (rc == -2) snprintf(why, cap, "out of memory");
    if (rc < 0) return -1;
    rs->constant = 1;
    return 0;
}

void kern_regex_release(ENode *n)
{
    RegexState *rs = n->aux;
    if (!rs) return;
    if (rs->compiled) regfree(&rs->re);
    free(rs->key);
    free(rs->tmp);
#ifndef REG_STARTEND
    free(rs->subj);
#endif
    memset(rs, 0, sizeof *rs);
}

static int same_bytes(const char *a, const char *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

/* per-row pattern: reuse the compiled regex when the text is the last one's;
 * 0 ok, 1 bad pattern, -1 out of memory */
static int regex_for_row(RegexState *rs, int similar, Str pat, const Str *opt)
{
    size_t olen = opt ? opt->len : 0;
    if (rs->key_valid && rs->key_plen == pat.len && rs->key_len == (size_t)pat.len + olen &&
        rs->key_opt == (opt != NULL) && same_bytes(rs->key, pat.ptr, pat.len) &&
        same_bytes(rs->key + pat.len, opt ? opt->ptr : NULL, olen))
        return rs->bad;
    rs->key_valid = 0;
    if (grow(&rs->key, &rs->key_cap, (size_t)pat.len + olen + 1) < 0) return -1;
    char why[8];
    int  rc = regex_build(rs, similar, pat, opt, why, sizeof why);
    if (rc == -2) return -1;
    put_bytes(rs->key, pat.ptr, pat.len);
    if (opt) put_bytes(rs->key + pat.len, opt->ptr, olen);
    rs->key_plen = pat.len;
    rs->key_len = (size_t)pat.len + olen;
    rs->key_opt = opt != NULL;
    rs->key_valid = 1;
    rs->bad = rc < 0;
    return rs->bad;
}

int kern_regex(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    RegexState     *rs = n->aux;
    Vector         *res = &n->res;
    const uint64_t *rv = res->validity;
    const uint32_t *sel = cx->sel;
    int             count = cx->count, mx = KMASK(a[0]);
    const Str      *x = vector_str(a[0]);
    uint8_t        *o = vector_bool(res);

    if (rs->constant) {
        LIVE_ROWS({
            int m = regex_match(rs, x[r & mx]);
            if (m < 0) return -1;
            o[r] = (uint8_t)m;
        });
        return 0;
    }
    const Str *p = vector_str(a[1]);
    int        mp = KMASK(a[1]);
    const Str *op = n->nargs == 3 ? vector_str(a[2]) : NULL;
    int        mo = n->nargs == 3 ? KMASK(a[2]) : 0;
    LIVE_ROWS({
        Str os = op ? op[r & mo] : (Str){NULL, 0};
        int rc = regex_for_row(rs, n->flag, p[r & mp], op ? &os : NULL);
        if (rc < 0) return -1;
        if (rc > 0) {
            vector_set_null(res, r);
            continue;
        }
        int m = regex_match(rs, x[r & mx]);
        if (m < 0) return -1;
        o[r] = (uint8_t)m;
    });
    return 0;
}
