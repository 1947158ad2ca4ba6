/*
 * expr_kernels.h — internal: the compiled expression nodes and the kernels
 * that run on them. Only exec/expr_eval.c and exec/kernels_*.c, exec/like.c
 * include this; the public API is exec/expr_eval.h.
 *
 * An ExprState is a tree of ENodes, one per Expr node (casts the binder left
 * implicit and NULL literals get synthetic nodes of their own). Each ENode
 * has a kernel id, chosen once from (op / function, argument types), a
 * scratch result vector of the state's capacity, and an arena for the string
 * bytes it produces. expr_eval.c walks the tree once per batch: it evaluates
 * the arguments, prepares the result (see "strict kernels" below) and makes
 * one switch on the kernel id; the kernel runs one loop over the live rows.
 *
 * Strict kernels (NULL in → NULL out) are called with:
 *   - n->res reset (flat) and, when an argument has NULLs, n->res.validity
 *     already the AND of the flat arguments' validity words, so a kernel only
 *     clears bits for new NULLs (overflow, division by zero, bad text);
 *   - every constant argument non-NULL (a constant NULL argument makes the
 *     result a constant NULL without calling the kernel);
 *   - cx->sel/cx->count the live rows; when every argument is constant the
 *     driver passes one row (sel NULL, count 1, slot 0) and turns the result
 *     into a constant afterwards.
 * Kernels read argument k at slot `r & m_k` where m_k = KMASK(a[k]) is 0 for
 * a constant vector and -1 for a flat one (one AND instead of a branch), and
 * write slot r. A kernel that touches string bytes checks the row's result
 * validity first: the Str of a NULL slot may point at freed memory.
 */
#ifndef SLUICE_EXEC_EXPR_KERNELS_H
#define SLUICE_EXEC_EXPR_KERNELS_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "exec/arena.h"
#include "exec/batch.h"
#include "exec/expr.h"
#include "exec/expr_eval.h"
#include "exec/func.h"
#include "exec/types.h"
#include "exec/vector.h"

typedef enum KernelId {
    /* leaves and structure */
    K_CONST,          /* folded constant                                  */
    K_NULL,           /* a constant NULL of the node's type               */
    K_COLUMN,         /* the input vector itself                          */
    /* strict kernels (expr_eval.c prepares NULLs, see above) */
    K_ARITH_I64,      /* flag = FN_ADD/SUB/MUL/DIV/MOD on int64 layouts   */
    K_ARITH_F64,      /* flag = FN_ADD/SUB/MUL/DIV/MOD on doubles         */
    K_IVL_MUL_F64,    /* INTERVAL * DOUBLE; flag 1: args swapped          */
    K_IVL_DIV_F64,    /* INTERVAL / DOUBLE                                */
    K_NEG_I64,
    K_NEG_F64,
    K_CMP_I64,        /* flag = FN_EQ … FN_GE                             */
    K_CMP_F64,
    K_CMP_STR,
    K_CMP_BOOL,
    K_ABS_I64,
    K_ABS_F64,
    K_ROUND_I64,      /* ROUND(BIGINT, digits)                            */
    K_ROUND_F64,      /* ROUND(DOUBLE[, digits])                          */
    K_FLOOR_F64,
    K_CEIL_F64,
    K_NOT,
    K_CONCAT_OP,
    K_LOWER,
    K_UPPER,
    K_LENGTH,
    K_SUBSTRING,
    K_TRIM,           /* flag: TRIM_LEFT | TRIM_RIGHT                     */
    K_LIKE,
    K_REGEX,          /* SIMILAR TO (flag 1) and REGEXP_LIKE (flag 0)     */
    K_EXTRACT,
    K_DATE_TRUNC,
    K_TO_TS_STR,
    K_TO_TS_I64,
    K_TO_TS_F64,
    K_CAST,           /* from = argument type, type = target type         */
    K_STRICT_END_,
    /* eager non-strict: arguments evaluated first, NULLs handled inside */
    K_CONCAT,
    K_NULLIF,
    K_IS_NULL,        /* flag: negated                                    */
    K_IN,             /* flag: negated                                    */
    K_EAGER_END_,
    /* lazy: the kernel evaluates its arguments on the rows still open */
    K_AND,
    K_OR,
    K_CASE,           /* flag: has_else                                   */
    K_COALESCE
} KernelId;

#define TRIM_LEFT  1
#define TRIM_RIGHT 2

/* the rows an evaluation covers */
typedef struct EvalCtx {
    const Batch    *in;       /* input batch (NULL: constant evaluation)        */
    const uint32_t *sel;      /* live rows; NULL: 0..count-1                    */
    int             count;
    int             nslots;   /* slots that may be addressed: max live row + 1  */
} EvalCtx;

typedef struct ENode ENode;

struct ENode {
    int            kernel;    /* KernelId                                        */
    SqlType        type;      /* result type                                     */
    SqlType        from;      /* K_CAST: argument type                           */
    int            flag;      /* kernel-specific (see KernelId)                  */
    int            col;       /* K_COLUMN                                        */
    int            nargs;
    ENode        **args;
    const Vector **argv;      /* nargs slots for the evaluated arguments        */
    int            folded;    /* constant: evaluated once at build, out is fixed */
    const Vector  *out;       /* result of the last evaluation                   */
    Vector         res;       /* scratch result, capacity rows                   */
    Arena          arena;     /* string bytes of res (reset per evaluation)      */
    uint32_t      *sel_a;     /* lazy kernels: capacity-entry selections         */
    uint32_t      *sel_b;
    void          *aux;       /* compiled pattern / regex / IN set / field       */
    ENode         *next_all;  /* every node of the state, for expr_state_free    */
};

struct ExprState {
    ENode *root;
    int    capacity;
    Arena  mem;               /* ENodes, argument arrays, selections, aux        */
    ENode *all;               /* list of nodes (next_all)                        */
    uint32_t *fsel;           /* expr_filter's working selection (capacity)      */
    char   err[160];          /* why the last expr_eval failed                   */
};

/* constant vectors are read at slot 0: index = r & KMASK(v) */
#define KMASK(v) ((v)->kind == VECTOR_CONSTANT ? 0 : -1)

/* is slot r valid in a (possibly NULL) bitmap */
#define KVALID(bits, r) vector_validity_get((bits), (r))

/* ---- kernels (each returns 0, or -1 out of memory) ------------------------ */

/* kernels_arith.c */
int kern_arith(ENode *n, const Vector *const *a, const EvalCtx *cx);   /* K_ARITH_*, K_IVL_* */
int kern_neg(ENode *n, const Vector *const *a, const EvalCtx *cx);
int kern_cmp(ENode *n, const Vector *const *a, const EvalCtx *cx);     /* K_CMP_*   */
int kern_math(ENode *n, const Vector *const *a, const EvalCtx *cx);    /* ABS ROUND FLOOR CEIL */
int kern_not(ENode *n, const Vector *const *a, const EvalCtx *cx);

/* kernels_string.c */
int kern_string(ENode *n, const Vector *const *a, const EvalCtx *cx);  /* || LOWER … TRIM */
int kern_concat(ENode *n, const Vector *const *a, const EvalCtx *cx);  /* CONCAT (eager)  */
int kern_like(ENode *n, const Vector *const *a, const EvalCtx *cx);
int kern_regex(ENode *n, const Vector *const *a, const EvalCtx *cx);
int kern_like_prepare(ENode *n, Arena *mem, char *why, size_t cap);
int kern_regex_prepare(ENode *n, Arena *mem, char *why, size_t cap);
void kern_regex_release(ENode *n);
void kern_like_release(ENode *n);

/* kernels_time.c */
int kern_time(ENode *n, const Vector *const *a, const EvalCtx *cx);    /* EXTRACT … TO_TS */
int kern_time_prepare(ENode *n, char *why, size_t cap);

/* kernels_cast.c */
int kern_cast(ENode *n, const Vector *const *a, const EvalCtx *cx);

/* ---- LIKE patterns (like.c) ------------------------------------------------ */

typedef enum LikeKind {
    LIKE_EXACT,       /* no wildcard                                     */
    LIKE_ANY,         /* only '%': everything matches                    */
    LIKE_PREFIX,      /* lit%                                            */
    LIKE_SUFFIX,      /* %lit                                            */
    LIKE_CONTAINS,    /* %lit%                                           */
    LIKE_SEGMENTS,    /* literals and '%' only, several literals         */
    LIKE_GENERAL      /* has '_': backtracking over ops                  */
} LikeKind;

typedef struct LikeOp {
    uint8_t  kind;    /* LIKE_OP_LIT, LIKE_OP_ONE, LIKE_OP_STAR          */
    uint32_t off;     /* LIT: bytes at buf + off                         */
    uint32_t len;
} LikeOp;

#define LIKE_OP_LIT  0
#define LIKE_OP_ONE  1   /* '_': one UTF-8 character */
#define LIKE_OP_STAR 2   /* '%': any run of characters */

typedef struct LikePattern {
    LikeKind kind;
    char    *buf;       /* unescaped literal bytes                          */
    LikeOp  *ops;
    int      nops;
    size_t   cap;       /* bytes of buf / entries of ops allocated          */
} LikePattern;

/* Compile pattern p[0..n) with escape e[0..elen) (elen 0: no escape) into
 * lp, growing its buffers with realloc when they are too small (a reused
 * LikePattern allocates only for a longer pattern). 0; -1 on a malformed
 * pattern (an escape at the end) with *bad = 1, or out of memory (*bad = 0). */
int like_compile(LikePattern *lp, const char *p, size_t n, const char *e, size_t elen,
                 int *bad);

/* Does s[0..n) match? */
int like_match(const LikePattern *lp, const char *s, size_t n);

void like_free(LikePattern *lp);

/* Does s[0..n) contain lit[0..len) (len >= 1)? memchr for the first byte,
 * then memcmp: for the short strings of a column this beats glibc memmem,
 * whose setup costs more than the search. */
static inline const char *like_find(const char *s, size_t n, const char *lit, size_t len)
{
    if (len > n) return NULL;
    const char *p = s, *last = s + (n - len);
    while (p <= last) {
        p = memchr(p, lit[0], (size_t)(last - p) + 1);
        if (!p) return NULL;
        if (memcmp(p + 1, lit + 1, len - 1) == 0) return p;
        p++;
    }
    return NULL;
}

/* UTF-8: byte length of the character starting with byte c (1 for a stray
 * continuation or invalid byte, so every byte is consumed exactly once) */
static inline int utf8_len(unsigned char c)
{
    if (c < 0xC0) return 1;
    if (c < 0xE0) return 2;
    if (c < 0xF0) return 3;
    if (c < 0xF8) return 4;
    return 1;
}

#endif
