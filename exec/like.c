/*
 * like.c — SQL LIKE patterns: compile once, match many.
 *
 * like_compile() resolves the escape character and turns the pattern into a
 * list of ops — literal byte runs (LIT), '_' (ONE: one UTF-8 character) and
 * '%' (STAR, consecutive ones merged) — and classifies it:
 *
 *   'abc'      LIKE_EXACT      length + memcmp
 *   '%'        LIKE_ANY        always TRUE
 *   'abc%'     LIKE_PREFIX     memcmp at the start
 *   '%abc'     LIKE_SUFFIX     memcmp at the end
 *   '%abc%'    LIKE_CONTAINS   like_find (memchr + memcmp)
 *   'a%b%c'    LIKE_SEGMENTS   prefix, suffix, then each middle literal
 *                              found left to right with like_find (the
 *                              leftmost match of each is always safe)
 *   with '_'   LIKE_GENERAL    the glob matcher below
 *
 * The general matcher walks pattern and text once, remembering only the
 * last '%' seen; on a mismatch it lets that '%' swallow one more character
 * and retries. Remembering one star is enough: a later star can absorb
 * whatever an earlier one could, so the worst case is O(pattern * text)
 * with no recursion and no allocation.
 *
 * Characters are UTF-8: '_' consumes a lead byte and its continuation bytes
 * and a '%' backtracks by whole characters; literals compare bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/expr_kernels.h"

/* ---- compile -------------------------------------------------------------------- */

static int reserve(LikePattern *lp, size_t n)
{
    if (lp->cap >= n + 1) return 0;
    size_t cap = n + 1 < 64 ? 64 : n + 1;
    char  *buf = realloc(lp->buf, cap);
    if (!buf) return -1;
    lp->buf = buf;
    LikeOp *ops = realloc(lp->ops, cap * sizeof *ops);
    if (!ops) return -1;
    lp->ops = ops;
    lp->cap = cap;
    return 0;
}

static void push_lit(LikePattern *lp, size_t *blen, const char *p, size_t n)
{
    LikeOp *last = lp->nops ? &lp->ops[lp->nops - 1] : NULL;
    memcpy(lp->buf + *blen, p, n);
    if (last && last->kind == LIKE_OP_LIT) {
        last->len += (uint32_t)n;          /* bytes are contiguous in buf */
    } else {
        LikeOp op = {LIKE_OP_LIT, (uint32_t)*blen, (uint32_t)n};
        lp->ops[lp->nops++] = op;
    }
    *blen += n;
}

static void push_op(LikePattern *lp, uint8_t kind)
{
    if (kind == LIKE_OP_STAR && lp->nops && lp->ops[lp->nops - 1].kind == LIKE_OP_STAR) return;
    LikeOp op = {kind, 0, 0};
    lp->ops[lp->nops++] = op;
}

static LikeKind classify(const LikePattern *lp)
{
    int nstar = 0, has_one = 0;
    for (int i = 0; i < lp->nops; i++) {
        nstar += lp->ops[i].kind == LIKE_OP_STAR;
        has_one |= lp->ops[i].kind == LIKE_OP_ONE;
    }
    const LikeOp *o = lp->ops;
    if (has_one) return LIKE_GENERAL;
    if (nstar == 0) return LIKE_EXACT;
    if (lp->nops == 1) return LIKE_ANY;
    if (lp->nops == 2) return o[0].kind == LIKE_OP_LIT ? LIKE_PREFIX : LIKE_SUFFIX;
    if (lp->nops == 3 && o[0].kind == LIKE_OP_STAR && o[2].kind == LIKE_OP_STAR)
        return LIKE_CONTAINS;
    return LIKE_SEGMENTS;
}

int like_compile(LikePattern *lp, const char *p, size_t n, const char *e, size_t elen,
                 int *bad)
{
    *bad = 0;
    if (n > UINT32_MAX || reserve(lp, n) < 0) return -1;
    lp->nops = 0;
    size_t blen = 0, i = 0;
    while (i < n) {
        if (elen && n - i >= elen && memcmp(p + i, e, elen) == 0) {
            i += elen;
            if (i >= n) {
                *bad = 1;                      /* escape at the end */
                return -1;
            }
            size_t c = (size_t)utf8_len((unsigned char)p[i]);
            if (c > n - i) c = n - i;
            push_lit(lp, &blen, p + i, c);
            i += c;
        } else if (p[i] == '%') {
            push_op(lp, LIKE_OP_STAR);
            i++;
        } else if (p[i] == '_') {
            push_op(lp, LIKE_OP_ONE);
            i++;
        } else {
            push_lit(lp, &blen, p + i, 1);
            i++;
        }
    }
    lp->kind = classify(lp);
    return 0;
}

void like_free(LikePattern *lp)
{
    free(lp->buf);
    free(lp->ops);
    memset(lp, 0, sizeof *lp);
}

/* ---- match ------------------------------------------------------------------------ */

static inline size_t char_len(const char *s, size_t pos, size_t n)
{
    size_t c = (size_t)utf8_len((unsigned char)s[pos]);
    return c > n - pos ? n - pos : c;
}

static int match_segments(const LikePattern *lp, const char *s, size_t n)
{
    const LikeOp *o = lp->ops;
    int           first = 0, last = lp->nops - 1;
    size_t        lo = 0, hi = n;
    if (o[first].kind == LIKE_OP_LIT) {                 /* anchored prefix */
        size_t len = o[first].len;
        if (n < len || memcmp(s, lp->buf + o[first].off, len) != 0) return 0;
        lo = len;
        first++;
    }
    if (o[last].kind == LIKE_OP_LIT) {                  /* anchored suffix */
        size_t len = o[last].len;
        if (hi - lo < len || memcmp(s + n - len, lp->buf + o[last].off, len) != 0) return 0;
        hi = n - len;
        last--;
    }
    for (int k = first; k <= last; k++) {
        if (o[k].kind != LIKE_OP_LIT) continue;
        size_t len = o[k].len;
        if (hi - lo < len) return 0;
        const char *at = like_find(s + lo, hi - lo, lp->buf + o[k].off, len);
        if (!at) return 0;
        lo = (size_t)(at - s) + len;
    }
    return 1;
}

static int match_general(const LikePattern *lp, const char *s, size_t n)
{
    const LikeOp *o = lp->ops;
    int           p = 0, np = lp->nops, star_p = -1;
    size_t        t = 0, star_t = 0;
    while (p < np || t < n) {
        if (p < np) {
            const LikeOp *op = &o[p];
            if (op->kind == LIKE_OP_STAR) {
                star_p = p++;
                star_t = t;
                continue;
            }
            if (op->kind == LIKE_OP_ONE && t < n) {
                t += char_len(s, t, n);
                p++;
                continue;
            }
            if (op->kind == LIKE_OP_LIT && n - t >= op->len &&
                memcmp(s + t, lp->buf + op->off, op->len) == 0) {
                t += op->len;
                p++;
                continue;
            }
        }
        if (star_p < 0 || star_t >= n) return 0;
        star_t += char_len(s, star_t, n);              /* the star takes one more */
        t = star_t;
        p = star_p + 1;
    }
    return 1;
}

int like_match(const LikePattern *lp, const char *s, size_t n)
{
    const LikeOp *o = lp->ops;
    switch (lp->kind) {
    case LIKE_EXACT:
        if (lp->nops == 0) return n == 0;
        return n == o[0].len && memcmp(s, lp->buf + o[0].off, n) == 0;
    case LIKE_ANY:
        return 1;
    case LIKE_PREFIX:
        return n >= o[0].len && memcmp(s, lp->buf + o[0].off, o[0].len) == 0;
    case LIKE_SUFFIX:
        return n >= o[1].len && memcmp(s + n - o[1].len, lp->buf + o[1].off, o[1].len) == 0;
    case LIKE_CONTAINS:
        return like_find(s, n, lp->buf + o[1].off, o[1].len) != NULL;
    case LIKE_SEGMENTS:
        return match_segments(lp, s, n);
    case LIKE_GENERAL:
        return match_general(lp, s, n);
    }
    return 0;
}
