/*
 * ast_build.c — the builders called by the grammar actions (grammar.y).
 *
 * Each builder makes one node (or one value) from tokens and already built
 * children, allocating in the statement's arena. They also do the small
 * checks that need the token text rather than the grammar: number ranges,
 * interval values, type parameters, window function names and arity, and
 * the standard's keyword-argument calls (EXTRACT(f FROM x) ...), which they
 * map to ordinary calls. Such a check records an error with sql_ctx_error();
 * the driver then drops the statement.
 *
 * Out of memory: a builder that cannot allocate sets ctx->oom and returns
 * NULL (or its input unchanged, for lists). Every builder accepts NULL
 * children, so the reductions already under way finish safely; the driver
 * then stops and sql_parse() returns NULL.
 */
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parser/ast_build.h"

/* ---- helpers ---------------------------------------------------------------- */

static void *node_alloc(ParseCtx *ctx, size_t size, AstTag tag, int loc)
{
    AstNode *n = sql_arena_alloc(ctx->arena, size);
    if (!n) {
        ctx->oom = 1;
        return NULL;
    }
    n->tag = tag;
    n->loc = loc;
    return n;
}

#define NODE(ctx, Type, tag, loc) ((Type *)node_alloc((ctx), sizeof(Type), (tag), (loc)))

static char *copy(ParseCtx *ctx, const char *z, size_t n)
{
    char *s = sql_arena_strndup(ctx->arena, z, n);
    if (!s) ctx->oom = 1;
    return s;
}

static int node_loc(const AstNode *n)
{
    return n ? n->loc : -1;
}

/* Strip the quotes of a quoted token and undouble the quote character. */
static char *unquote(ParseCtx *ctx, Token t)
{
    char  q = t.z[0];
    char *s = sql_arena_alloc(ctx->arena, (size_t)t.n);
    if (!s) {
        ctx->oom = 1;
        return NULL;
    }
    int j = 0;
    for (int i = 1; i < t.n - 1; i++) {
        s[j++] = t.z[i];
        if (t.z[i] == q) i++;   /* the lexer guarantees it is doubled */
    }
    s[j] = '\0';
    return s;
}

static char *fold_lower(ParseCtx *ctx, const char *z, int n)
{
    char *s = copy(ctx, z, (size_t)n);
    if (!s) return NULL;
    for (int i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z') s[i] = (char)(s[i] - 'A' + 'a');
    return s;
}

static char *fold_upper(ParseCtx *ctx, const char *z, int n)
{
    char *s = copy(ctx, z, (size_t)n);
    if (!s) return NULL;
    for (int i = 0; i < n; i++)
        if (s[i] >= 'a' && s[i] <= 'z') s[i] = (char)(s[i] - 'a' + 'A');
    return s;
}

static int is_ascii_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_quoted_ident(Token t)
{
    return t.n >= 2 && (t.z[0] == '"' || t.z[0] == '`');
}

/* "abc" / 'abc' shortened for a message, in a caller's buffer */
static const char *excerpt(const char *s, char *buf, size_t cap)
{
    size_t n = strlen(s);
    if (n < cap) return s;
    size_t keep = cap - 4;
    while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80) keep--;
    memcpy(buf, s, keep);
    memcpy(buf + keep, "...", 4);
    return buf;
}

/* strtod in the C locale whatever the process locale is */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static double to_double(const char *s)
{
    pthread_once(&c_locale_once, c_locale_init);
    if (c_locale) return strtod_l(s, NULL, c_locale);
    return strtod(s, NULL);
}

/* Decimal digits z[0..n) to an int64; 0 on overflow. */
static int digits_to_int64(const char *z, int n, int64_t *out)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (z[i] < '0' || z[i] > '9') return 0;
        if (__builtin_mul_overflow(v, 10, &v)) return 0;
        if (__builtin_add_overflow(v, z[i] - '0', &v)) return 0;
    }
    *out = v;
    return 1;
}

/* Is s the magnitude of INT64_MIN (possibly with leading zeros)? */
static int is_int64_min_magnitude(const char *s)
{
    while (*s == '0' && s[1]) s++;
    return strcmp(s, "9223372036854775808") == 0;
}

/* ---- names, words, keys, lists ------------------------------------------- */

const char *ast_name(ParseCtx *ctx, Token t)
{
    if (!t.z) return NULL;
    if (is_quoted_ident(t)) return unquote(ctx, t);
    return fold_lower(ctx, t.z, t.n);
}

const char *ast_word(ParseCtx *ctx, Token t, int negative)
{
    const char *w;
    if (!t.z) return NULL;
    if (t.z[0] == '\'') w = unquote(ctx, t);
    else if ((t.z[0] >= '0' && t.z[0] <= '9') || t.z[0] == '.') w = copy(ctx, t.z, (size_t)t.n);
    else w = ast_name(ctx, t);
    if (!w || !negative) return w;
    size_t n = strlen(w);
    char  *s = sql_arena_alloc(ctx->arena, n + 2);
    if (!s) {
        ctx->oom = 1;
        return NULL;
    }
    s[0] = '-';
    memcpy(s + 1, w, n + 1);
    return s;
}

KeyText ast_key_first(ParseCtx *ctx, Token t)
{
    return (KeyText){ast_word(ctx, t, 0), tok_loc(ctx, t)};
}

KeyText ast_key_join(ParseCtx *ctx, KeyText left, char sep, Token t)
{
    const char *right = ast_name(ctx, t);
    if (!left.s || !right) return (KeyText){NULL, left.loc};
    size_t ln = strlen(left.s), rn = strlen(right);
    char  *s = sql_arena_alloc(ctx->arena, ln + rn + 2);
    if (!s) {
        ctx->oom = 1;
        return (KeyText){NULL, left.loc};
    }
    memcpy(s, left.s, ln);
    s[ln] = sep;
    memcpy(s + ln + 1, right, rn + 1);
    return (KeyText){s, left.loc};
}

KeyText ast_value_text(ParseCtx *ctx, Token minus, Token value)
{
    return (KeyText){ast_word(ctx, value, minus.z != NULL), tok_loc(ctx, minus.z ? minus : value)};
}

AstList ast_list_empty(void)
{
    return (AstList){NULL, 0};
}

/* The capacity of a list is implied by its length: 4, then the next power of
 * two, so appending needs no extra field; a grown list leaves its old array
 * in the arena (at most as much again as the final array). */
AstList ast_list_add(ParseCtx *ctx, AstList list, AstNode *item)
{
    if (list.n == 0 || (list.n >= 4 && (list.n & (list.n - 1)) == 0)) {
        if (list.n > INT_MAX / 2) {
            ctx->oom = 1;
            return list;
        }
        int       cap = list.n ? list.n * 2 : 4;
        AstNode **items = sql_arena_alloc(ctx->arena, (size_t)cap * sizeof *items);
        if (!items) {
            ctx->oom = 1;
            return list;
        }
        if (list.n) memcpy(items, list.items, (size_t)list.n * sizeof *items);
        list.items = items;
    }
    list.items[list.n++] = item;
    return list;
}

AstList ast_list_new(ParseCtx *ctx, AstNode *first)
{
    return ast_list_add(ctx, ast_list_empty(), first);
}

/* ---- types -------------------------------------------------------------------- */

AstType ast_type(ParseCtx *ctx, Token name, AstTypeName t)
{
    (void)ctx;
    (void)name;
    return (AstType){t, -1};
}

AstType ast_type_param(ParseCtx *ctx, Token name, AstTypeName t, Token param)
{
    int64_t v;
    int     ok = digits_to_int64(param.z, param.n, &v);
    if (t == AST_TYPE_TIMESTAMP) {
        if (!ok || v > 9) {
            sql_ctx_error(ctx, tok_loc(ctx, param),
                          "TIMESTAMP precision must be between 0 and 9");
            return (AstType){t, -1};
        }
    } else if (!ok || v < 1 || v > INT_MAX) {
        sql_ctx_error(ctx, tok_loc(ctx, param), "%.*s length must be between 1 and %d",
                      name.n, name.z, INT_MAX);
        return (AstType){t, -1};
    }
    return (AstType){t, (int)v};
}

/* ---- literals ----------------------------------------------------------------- */

static AstLiteral *literal(ParseCtx *ctx, int loc, AstLiteralKind kind)
{
    AstLiteral *l = NODE(ctx, AstLiteral, AST_LITERAL, loc);
    if (l) l->kind = kind;
    return l;
}

AstNode *ast_lit_number_new(ParseCtx *ctx, Token t)
{
    AstLiteral *l = literal(ctx, tok_loc(ctx, t), LIT_INT);
    if (!l) return NULL;
    int64_t v;
    if (digits_to_int64(t.z, t.n, &v)) {
        l->ival = v;
        return &l->hdr;
    }
    /* a decimal, an exponent, or an integer too big for int64 */
    l->kind = LIT_DOUBLE;
    l->text = copy(ctx, t.z, (size_t)t.n);
    if (l->text) l->dval = to_double(l->text);
    return &l->hdr;
}

/* Fold the sign into a numeric literal: -5 is a literal, not -(5). */
static void negate_literal(ParseCtx *ctx, AstLiteral *l)
{
    if (l->kind == LIT_INT) {
        l->ival = -l->ival;
        return;
    }
    if (l->text && is_int64_min_magnitude(l->text)) {
        l->kind = LIT_INT;
        l->ival = INT64_MIN;
        l->dval = 0;
        l->text = NULL;
        return;
    }
    l->dval = -l->dval;
    if (l->text) {
        size_t n = strlen(l->text);
        char  *s = sql_arena_alloc(ctx->arena, n + 2);
        if (!s) {
            ctx->oom = 1;
            return;
        }
        s[0] = '-';
        memcpy(s + 1, l->text, n + 1);
        l->text = s;
    }
}

/* Is n a numeric literal as written (not already negated)? */
static int is_unsigned_number(const AstNode *n)
{
    if (!IS_A(n, AST_LITERAL)) return 0;
    const AstLiteral *l = AST_AS(const AstLiteral, n);
    if (l->kind == LIT_INT) return l->ival >= 0;
    return l->kind == LIT_DOUBLE && l->text && l->text[0] != '-';
}

AstNode *ast_lit_negative_new(ParseCtx *ctx, Token minus, Token number)
{
    AstNode *n = ast_lit_number_new(ctx, number);
    if (!n) return NULL;
    negate_literal(ctx, AST_AS(AstLiteral, n));
    n->loc = tok_loc(ctx, minus);
    return n;
}

AstNode *ast_lit_string_new(ParseCtx *ctx, Token t)
{
    AstLiteral *l = literal(ctx, tok_loc(ctx, t), LIT_STRING);
    if (!l) return NULL;
    l->text = unquote(ctx, t);
    return &l->hdr;
}

AstNode *ast_lit_null_new(ParseCtx *ctx, Token t)
{
    AstLiteral *l = literal(ctx, tok_loc(ctx, t), LIT_NULL);
    return l ? &l->hdr : NULL;
}

AstNode *ast_lit_bool_new(ParseCtx *ctx, Token t, int value)
{
    AstLiteral *l = literal(ctx, tok_loc(ctx, t), LIT_BOOL);
    if (!l) return NULL;
    l->ival = value != 0;
    return &l->hdr;
}

AstNode *ast_lit_word_new(ParseCtx *ctx, Token t)
{
    AstLiteral *l = literal(ctx, tok_loc(ctx, t), LIT_STRING);
    if (!l) return NULL;
    l->text = ast_name(ctx, t);
    return &l->hdr;
}

AstNode *ast_lit_timestamp_new(ParseCtx *ctx, Token kw, Token value)
{
    AstLiteral *l = literal(ctx, tok_loc(ctx, kw), LIT_TIMESTAMP);
    if (!l) return NULL;
    l->text = unquote(ctx, value);
    return &l->hdr;
}

/* ---- intervals ---------------------------------------------------------------- */

static const struct {
    const char *name;    /* singular, upper case */
    int64_t     micros;
} interval_units[] = {
    {"MICROSECOND", 1},
    {"MILLISECOND", 1000},
    {"SECOND", 1000000},
    {"MINUTE", 60 * INT64_C(1000000)},
    {"HOUR", 3600 * INT64_C(1000000)},
    {"DAY", 86400 * INT64_C(1000000)},
};

/* Microseconds per unit for a unit word in any case, singular or plural;
 * 0 if it is not a unit. */
static int64_t unit_micros(const char *z, size_t n)
{
    if (n > 1 && (z[n - 1] == 's' || z[n - 1] == 'S')) n--;
    for (size_t i = 0; i < sizeof interval_units / sizeof interval_units[0]; i++)
        if (strlen(interval_units[i].name) == n && strncasecmp(interval_units[i].name, z, n) == 0)
            return interval_units[i].micros;
    return 0;
}

typedef enum { IV_OK, IV_INVALID, IV_RANGE, IV_PRECISION } IvStatus;

/* Convert "[+-]digits[.digits]" (blanks around allowed) times `unit` µs. */
static IvStatus interval_value(const char *s, int64_t unit, int64_t *out)
{
    const char *p = s;
    int         neg = 0;
    while (*p == ' ') p++;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    const char *ip = p;
    while (*p >= '0' && *p <= '9') p++;
    const char *ie = p, *fp = p, *fe = p;
    if (*p == '.') {
        fp = ++p;
        while (*p >= '0' && *p <= '9') p++;
        fe = p;
    }
    while (*p == ' ') p++;
    if (*p != '\0' || (ie == ip && fe == fp)) return IV_INVALID;

    while (ie - ip > 1 && *ip == '0') ip++;   /* leading zeros */
    while (fe > fp && fe[-1] == '0') fe--;    /* trailing zeros */
    int64_t whole = 0, frac = 0, scale = 1, v;
    if (ie > ip && !digits_to_int64(ip, (int)(ie - ip), &whole)) return IV_RANGE;
    if (fe - fp > 18) return IV_PRECISION;
    if (fe > fp && !digits_to_int64(fp, (int)(fe - fp), &frac)) return IV_PRECISION;
    for (const char *q = fp; q < fe; q++) scale *= 10;

    if (__builtin_mul_overflow(whole, unit, &v)) return IV_RANGE;
    if (frac) {
        int64_t f;
        if (__builtin_mul_overflow(frac, unit, &f) || f % scale != 0) return IV_PRECISION;
        if (__builtin_add_overflow(v, f / scale, &v)) return IV_RANGE;
    }
    *out = neg ? -v : v;
    return IV_OK;
}

AstNode *ast_lit_interval_new(ParseCtx *ctx, Token kw, Token value, Token unit)
{
    AstLiteral *l = literal(ctx, tok_loc(ctx, kw), LIT_INTERVAL);
    if (!l) return NULL;
    const char *text = value.z[0] == '\'' ? unquote(ctx, value)
                                          : copy(ctx, value.z, (size_t)value.n);
    if (!text) return NULL;
    int64_t micros;
    char    buf[64];

    if (unit.z) {
        l->text = text;
        l->unit = fold_upper(ctx, unit.z, unit.n);
        micros = unit_micros(unit.z, (size_t)unit.n);
    } else {
        /* INTERVAL '10 seconds': the unit is the last word of the string */
        const char *end = text + strlen(text);
        while (end > text && end[-1] == ' ') end--;
        const char *w = end;
        while (w > text && is_ascii_alpha(w[-1])) w--;
        micros = w < end ? unit_micros(w, (size_t)(end - w)) : 0;
        if (w == end) {
            sql_ctx_error(ctx, tok_loc(ctx, value),
                          "interval '%s' has no unit: write INTERVAL '%s' SECOND "
                          "(or MINUTE, HOUR, DAY, MILLISECOND, MICROSECOND)",
                          excerpt(text, buf, sizeof buf), excerpt(text, buf, sizeof buf));
            return &l->hdr;
        }
        if (!micros || w == text || w[-1] != ' ') {
            sql_ctx_error(ctx, tok_loc(ctx, value),
                          "invalid interval '%s': expected a number and a unit, as in '10 seconds'",
                          excerpt(text, buf, sizeof buf));
            return &l->hdr;
        }
        size_t n = (size_t)(w - text);
        while (n > 0 && text[n - 1] == ' ') n--;
        l->text = copy(ctx, text, n);
        l->unit = fold_upper(ctx, w, (int)(end - w));
        if (!l->text) return &l->hdr;
    }
    if (!l->unit) return &l->hdr;

    switch (interval_value(l->text, micros, &l->ival)) {
    case IV_OK:
        break;
    case IV_INVALID:
        sql_ctx_error(ctx, tok_loc(ctx, value), "invalid interval value '%s' for %s",
                      excerpt(l->text, buf, sizeof buf), l->unit);
        break;
    case IV_RANGE:
        sql_ctx_error(ctx, tok_loc(ctx, value), "interval value '%s' %s is out of range",
                      excerpt(l->text, buf, sizeof buf), l->unit);
        break;
    case IV_PRECISION:
        sql_ctx_error(ctx, tok_loc(ctx, value),
                      "interval value '%s' %s is finer than a microsecond",
                      excerpt(l->text, buf, sizeof buf), l->unit);
        break;
    }
    return &l->hdr;
}

/* ---- expressions --------------------------------------------------------------- */

AstNode *ast_column_new(ParseCtx *ctx, Token qualifier, Token name)
{
    AstColumnRef *c = NODE(ctx, AstColumnRef, AST_COLUMN_REF,
                           tok_loc(ctx, qualifier.z ? qualifier : name));
    if (!c) return NULL;
    c->qualifier = ast_name(ctx, qualifier);
    c->name = ast_name(ctx, name);
    return &c->hdr;
}

AstNode *ast_unary_new(ParseCtx *ctx, Token op, AstUnaryOp kind, AstNode *arg)
{
    if (kind == UOP_NEG && is_unsigned_number(arg)) {
        negate_literal(ctx, AST_AS(AstLiteral, arg));
        arg->loc = tok_loc(ctx, op);
        return arg;
    }
    AstUnary *u = NODE(ctx, AstUnary, AST_UNARY, tok_loc(ctx, op));
    if (!u) return NULL;
    u->op = kind;
    u->arg = arg;
    return &u->hdr;
}

AstNode *ast_binary_new(ParseCtx *ctx, Token op, AstBinaryOp kind, AstNode *l, AstNode *r)
{
    AstBinary *b = NODE(ctx, AstBinary, AST_BINARY, tok_loc(ctx, op));
    if (!b) return NULL;
    b->op = kind;
    b->left = l;
    b->right = r;
    return &b->hdr;
}

static char *func_name(ParseCtx *ctx, Token name)
{
    const char *s = ast_name(ctx, name);
    return s ? fold_lower(ctx, s, (int)strlen(s)) : NULL;
}

AstNode *ast_func_new(ParseCtx *ctx, Token name, AstList args, int star, int distinct,
                      AstNode *filter)
{
    AstFunc *f = NODE(ctx, AstFunc, AST_FUNC, tok_loc(ctx, name));
    if (!f) return NULL;
    f->name = func_name(ctx, name);
    f->args = args;
    f->star = star;
    f->distinct = distinct;
    f->filter = filter;
    /* POSITION(a IN (b)) arrives as position(a IN (b)), a one-element IN list */
    if (f->name && strcmp(f->name, "position") == 0 && args.n == 1 && !star && !distinct
        && IS_A(args.items[0], AST_IN_LIST)) {
        AstInList *in = AST_AS(AstInList, args.items[0]);
        if (!in->negated && in->list.n == 1) {
            AstList two = ast_list_add(ctx, ast_list_new(ctx, in->arg), in->list.items[0]);
            if (two.n == 2) f->args = two;
        }
    }
    return &f->hdr;
}

static AstNode *func2(ParseCtx *ctx, int loc, const char *name, AstNode *a, AstNode *b,
                      AstNode *c)
{
    AstFunc *f = NODE(ctx, AstFunc, AST_FUNC, loc);
    if (!f) return NULL;
    f->name = name;
    f->args = ast_list_new(ctx, a);
    if (b) f->args = ast_list_add(ctx, f->args, b);
    if (c) f->args = ast_list_add(ctx, f->args, c);
    return &f->hdr;
}

AstNode *ast_func_from_new(ParseCtx *ctx, Token name, Token from, AstNode *a, AstNode *b,
                           AstNode *c)
{
    char *fn = func_name(ctx, name);
    int   loc = tok_loc(ctx, name);
    if (!fn) return NULL;
    if (strcmp(fn, "substring") == 0 || strcmp(fn, "substr") == 0)
        return func2(ctx, loc, fn, a, b, c);
    if (c) {
        sql_ctx_error(ctx, node_loc(c), "FOR is only valid in SUBSTRING(s FROM a FOR b)");
        return NULL;
    }
    if (strcmp(fn, "extract") == 0) {
        const AstColumnRef *field = IS_A(a, AST_COLUMN_REF) ? AST_AS(AstColumnRef, a) : NULL;
        if (!field || field->qualifier || !field->name) {
            sql_ctx_error(ctx, node_loc(a),
                          "EXTRACT expects a field name such as YEAR, DAY or SECOND before FROM");
            return NULL;
        }
        AstLiteral *f = literal(ctx, a->loc, LIT_STRING);
        if (!f) return NULL;
        f->text = fold_upper(ctx, field->name, (int)strlen(field->name));
        return func2(ctx, loc, fn, &f->hdr, b, NULL);
    }
    if (strcmp(fn, "trim") == 0)   /* TRIM(chars FROM s) */
        return func2(ctx, loc, fn, b, a, NULL);
    sql_ctx_error(ctx, tok_loc(ctx, from),
                  "FROM is not valid in the arguments of %s() "
                  "(only EXTRACT, SUBSTRING and TRIM take FROM)", fn);
    return NULL;
}

AstNode *ast_func_trim_new(ParseCtx *ctx, Token name, TrimSpec spec, AstNode *chars,
                           AstNode *str)
{
    char *fn = func_name(ctx, name);
    if (!fn) return NULL;
    if (strcmp(fn, "trim") != 0) {
        sql_ctx_error(ctx, tok_loc(ctx, name),
                      "BOTH, LEADING and TRAILING are only valid in TRIM, not in %s()", fn);
        return NULL;
    }
    static const char *const names[] = {"trim", "ltrim", "rtrim"};
    return func2(ctx, tok_loc(ctx, name), names[spec], str, chars, NULL);
}

AstNode *ast_func_position_new(ParseCtx *ctx, Token name, Token in, AstNode *needle,
                               AstNode *haystack)
{
    char *fn = func_name(ctx, name);
    if (!fn) return NULL;
    if (strcmp(fn, "position") != 0) {
        sql_ctx_error(ctx, tok_loc(ctx, in),
                      "IN is not valid in the arguments of %s() (only POSITION(a IN b))", fn);
        return NULL;
    }
    return func2(ctx, tok_loc(ctx, name), fn, needle, haystack, NULL);
}

AstNode *ast_case_new(ParseCtx *ctx, Token kw, AstNode *operand, AstList whens, AstNode *else_)
{
    AstCase *c = NODE(ctx, AstCase, AST_CASE, tok_loc(ctx, kw));
    if (!c) return NULL;
    c->operand = operand;
    c->whens = whens;
    c->else_ = else_;
    return &c->hdr;
}

AstNode *ast_when_new(ParseCtx *ctx, Token kw, AstNode *cond, AstNode *result)
{
    AstWhen *w = NODE(ctx, AstWhen, AST_WHEN, tok_loc(ctx, kw));
    if (!w) return NULL;
    w->cond = cond;
    w->result = result;
    return &w->hdr;
}

AstNode *ast_cast_new(ParseCtx *ctx, Token kw, AstNode *arg, AstType type)
{
    AstCast *c = NODE(ctx, AstCast, AST_CAST, tok_loc(ctx, kw));
    if (!c) return NULL;
    c->arg = arg;
    c->type = type;
    return &c->hdr;
}

AstNode *ast_is_null_new(ParseCtx *ctx, Token kw, AstNode *arg, int negated)
{
    AstIsNull *n = NODE(ctx, AstIsNull, AST_IS_NULL, tok_loc(ctx, kw));
    if (!n) return NULL;
    n->arg = arg;
    n->negated = negated;
    return &n->hdr;
}

AstNode *ast_between_new(ParseCtx *ctx, Token kw, AstNode *arg, AstNode *lo, AstNode *hi,
                         int negated)
{
    AstBetween *b = NODE(ctx, AstBetween, AST_BETWEEN, tok_loc(ctx, kw));
    if (!b) return NULL;
    b->arg = arg;
    b->lo = lo;
    b->hi = hi;
    b->negated = negated;
    return &b->hdr;
}

AstNode *ast_in_list_new(ParseCtx *ctx, Token kw, AstNode *arg, AstList list, int negated)
{
    AstInList *in = NODE(ctx, AstInList, AST_IN_LIST, tok_loc(ctx, kw));
    if (!in) return NULL;
    in->arg = arg;
    in->list = list;
    in->negated = negated;
    return &in->hdr;
}

AstNode *ast_like_new(ParseCtx *ctx, Token kw, AstLikeKind kind, AstNode *arg,
                      AstNode *pattern, AstNode *escape, int negated)
{
    AstLike *l = NODE(ctx, AstLike, AST_LIKE, tok_loc(ctx, kw));
    if (!l) return NULL;
    l->kind = kind;
    l->arg = arg;
    l->pattern = pattern;
    l->escape = escape;
    l->negated = negated;
    return &l->hdr;
}

/* ---- FROM items -------------------------------------------------------------- */

AstNode *ast_table_ref_new(ParseCtx *ctx, Token name, Token alias)
{
    AstTableRef *t = NODE(ctx, AstTableRef, AST_TABLE_REF, tok_loc(ctx, name));
    if (!t) return NULL;
    t->name = ast_name(ctx, name);
    t->alias = ast_name(ctx, alias);
    return &t->hdr;
}

AstNode *ast_subquery_new(ParseCtx *ctx, Token lp, AstNode *select, Token alias)
{
    AstSubquery *s = NODE(ctx, AstSubquery, AST_SUBQUERY, tok_loc(ctx, lp));
    if (!s) return NULL;
    s->query = IS_A(select, AST_SELECT) ? AST_AS(AstSelect, select) : NULL;
    s->alias = ast_name(ctx, alias);
    return &s->hdr;
}

static const struct {
    const char   *name;
    AstWindowKind kind;
    int           nargs;   /* after the table and the time column */
    const char   *usage;
} window_fns[] = {
    {"tumble", WIN_TUMBLE, 1, "TUMBLE(table, time column, size)"},
    {"hop", WIN_HOP, 2, "HOP(table, time column, slide, size)"},
    {"session", WIN_SESSION, 1, "SESSION(table, time column, gap)"},
    {"cumulate", WIN_CUMULATE, 2, "CUMULATE(table, time column, step, size)"},
};

AstNode *ast_window_tvf_new(ParseCtx *ctx, Token fn, AstNode *source, AstNode *timecol,
                            AstList args, AstList partition_by, Token alias)
{
    const char *name = func_name(ctx, fn);
    if (!name) return NULL;
    int w = -1;
    for (int i = 0; i < (int)(sizeof window_fns / sizeof window_fns[0]); i++)
        if (strcmp(window_fns[i].name, name) == 0) w = i;
    if (w < 0) {
        sql_ctx_error(ctx, tok_loc(ctx, fn),
                      "unknown window function '%s' (expected TUMBLE, HOP, SESSION or CUMULATE)",
                      name);
        return NULL;
    }
    if (args.n != window_fns[w].nargs) {
        sql_ctx_error(ctx, tok_loc(ctx, fn), "wrong number of arguments: use %s",
                      window_fns[w].usage);
        return NULL;
    }
    if (partition_by.n && window_fns[w].kind != WIN_SESSION) {
        sql_ctx_error(ctx, node_loc(partition_by.items[0]),
                      "PARTITION BY is only valid in a SESSION window");
        return NULL;
    }
    AstWindowTvf *t = NODE(ctx, AstWindowTvf, AST_WINDOW_TVF, tok_loc(ctx, fn));
    if (!t) return NULL;
    t->kind = window_fns[w].kind;
    t->source = source;
    t->timecol = timecol;
    t->args = args;
    t->partition_by = partition_by;
    t->alias = ast_name(ctx, alias);
    return &t->hdr;
}

AstNode *ast_join_new(ParseCtx *ctx, JoinSpec spec, AstNode *left, AstNode *right, AstNode *on)
{
    AstJoin *j = NODE(ctx, AstJoin, AST_JOIN, tok_loc(ctx, spec.tok));
    if (!j) return NULL;
    j->kind = spec.kind;
    j->left = left;
    j->right = right;
    j->on = on;
    return &j->hdr;
}

/* ---- SELECT ------------------------------------------------------------------- */

AstNode *ast_select_item_new(ParseCtx *ctx, AstNode *expr, Token alias)
{
    AstSelectItem *it = NODE(ctx, AstSelectItem, AST_SELECT_ITEM, node_loc(expr));
    if (!it) return NULL;
    it->expr = expr;
    it->alias = ast_name(ctx, alias);
    return &it->hdr;
}

AstNode *ast_select_star_new(ParseCtx *ctx, Token star, Token qualifier)
{
    int      loc = tok_loc(ctx, qualifier.z ? qualifier : star);
    AstStar *s = NODE(ctx, AstStar, AST_STAR, loc);
    if (!s) return NULL;
    s->qualifier = ast_name(ctx, qualifier);
    AstSelectItem *it = NODE(ctx, AstSelectItem, AST_SELECT_ITEM, loc);
    if (!it) return NULL;
    it->expr = &s->hdr;
    return &it->hdr;
}

AstNode *ast_select_new(ParseCtx *ctx, Token kw, int distinct, AstList items, AstNode *from,
                        AstNode *where, AstList group_by, AstNode *having, SelectTail tail)
{
    AstSelect *s = NODE(ctx, AstSelect, AST_SELECT, tok_loc(ctx, kw));
    if (!s) return NULL;
    s->distinct = distinct;
    s->items = items;
    s->from = from;
    s->where = where;
    s->group_by = group_by;
    s->having = having;
    s->limit = tail.limit;
    s->emit = tail.emit;
    return &s->hdr;
}

SelectTail ast_select_tail(int64_t limit, AstEmit emit)
{
    return (SelectTail){limit, emit};
}

int64_t ast_limit_value(ParseCtx *ctx, Token n)
{
    int64_t v;
    if (!digits_to_int64(n.z, n.n, &v)) {
        sql_ctx_error(ctx, tok_loc(ctx, n), "integer literal out of range");
        return -1;
    }
    return v;
}

/* ---- DDL and other statements --------------------------------------------- */

AstNode *ast_column_def_new(ParseCtx *ctx, Token name, AstType type)
{
    AstColumnDef *c = NODE(ctx, AstColumnDef, AST_COLUMN_DEF, tok_loc(ctx, name));
    if (!c) return NULL;
    c->name = ast_name(ctx, name);
    c->type = type;
    return &c->hdr;
}

AstNode *ast_watermark_new(ParseCtx *ctx, Token kw, Token column, AstNode *expr)
{
    AstWatermark *w = NODE(ctx, AstWatermark, AST_WATERMARK, tok_loc(ctx, kw));
    if (!w) return NULL;
    w->column = ast_name(ctx, column);
    w->expr = expr;
    return &w->hdr;
}

AstNode *ast_option_new(ParseCtx *ctx, KeyText key, KeyText value)
{
    AstOption *o = NODE(ctx, AstOption, AST_OPTION, key.loc);
    if (!o) return NULL;
    o->key = key.s;
    o->value = value.s;
    o->value_loc = value.loc;
    return &o->hdr;
}

/* Split (column, ..., WATERMARK ...) into the columns and the watermark. */
static AstList split_elements(ParseCtx *ctx, AstList elements, AstWatermark **wm)
{
    AstList cols = ast_list_empty();
    for (int i = 0; i < elements.n; i++) {
        AstNode *e = elements.items[i];
        if (IS_A(e, AST_WATERMARK)) {
            if (*wm) {
                sql_ctx_error(ctx, e->loc, "only one WATERMARK clause is allowed");
                return cols;
            }
            *wm = AST_AS(AstWatermark, e);
        } else {
            cols = ast_list_add(ctx, cols, e);
        }
    }
    return cols;
}

AstNode *ast_create_stream_new(ParseCtx *ctx, Token kw, AstStreamKw which, int if_not_exists,
                               Token name, AstList elements, AstList options)
{
    AstCreateStream *c = NODE(ctx, AstCreateStream, AST_CREATE_STREAM, tok_loc(ctx, kw));
    if (!c) return NULL;
    c->name = ast_name(ctx, name);
    c->if_not_exists = if_not_exists;
    c->keyword = which;
    c->columns = split_elements(ctx, elements, &c->watermark);
    c->options = options;
    return &c->hdr;
}

AstNode *ast_create_sink_new(ParseCtx *ctx, Token kw, int if_not_exists, Token name,
                             AstList elements, AstList options)
{
    AstCreateSink *c = NODE(ctx, AstCreateSink, AST_CREATE_SINK, tok_loc(ctx, kw));
    if (!c) return NULL;
    AstWatermark *wm = NULL;
    c->name = ast_name(ctx, name);
    c->if_not_exists = if_not_exists;
    c->columns = split_elements(ctx, elements, &wm);
    c->options = options;
    if (wm) sql_ctx_error(ctx, wm->hdr.loc, "a sink cannot have a WATERMARK");
    return &c->hdr;
}

AstNode *ast_create_view_new(ParseCtx *ctx, Token kw, int if_not_exists, Token name,
                             AstNode *select)
{
    AstCreateView *v = NODE(ctx, AstCreateView, AST_CREATE_VIEW, tok_loc(ctx, kw));
    if (!v) return NULL;
    v->name = ast_name(ctx, name);
    v->if_not_exists = if_not_exists;
    v->query = IS_A(select, AST_SELECT) ? AST_AS(AstSelect, select) : NULL;
    return &v->hdr;
}

AstNode *ast_insert_new(ParseCtx *ctx, Token kw, Token target, AstNode *select)
{
    AstInsert *in = NODE(ctx, AstInsert, AST_INSERT, tok_loc(ctx, kw));
    if (!in) return NULL;
    in->target = ast_name(ctx, target);
    in->query = IS_A(select, AST_SELECT) ? AST_AS(AstSelect, select) : NULL;
    return &in->hdr;
}

AstNode *ast_explain_new(ParseCtx *ctx, Token kw, int analyze, int json, AstNode *stmt)
{
    AstExplain *e = NODE(ctx, AstExplain, AST_EXPLAIN, tok_loc(ctx, kw));
    if (!e) return NULL;
    e->analyze = analyze;
    e->json = json;
    e->stmt = stmt;
    return &e->hdr;
}

AstNode *ast_show_new(ParseCtx *ctx, Token kw, AstObjKind what)
{
    AstShow *s = NODE(ctx, AstShow, AST_SHOW, tok_loc(ctx, kw));
    if (!s) return NULL;
    s->what = what;
    return &s->hdr;
}

AstNode *ast_describe_new(ParseCtx *ctx, Token kw, Token name)
{
    AstDescribe *d = NODE(ctx, AstDescribe, AST_DESCRIBE, tok_loc(ctx, kw));
    if (!d) return NULL;
    d->name = ast_name(ctx, name);
    return &d->hdr;
}

AstNode *ast_describe_query_new(ParseCtx *ctx, Token kw, const char *id)
{
    AstDescribe *d = NODE(ctx, AstDescribe, AST_DESCRIBE, tok_loc(ctx, kw));
    if (!d) return NULL;
    d->query = 1;
    d->name = id;
    return &d->hdr;
}

AstNode *ast_drop_new(ParseCtx *ctx, Token kw, AstObjKind what, int if_exists, Token name)
{
    AstDrop *d = NODE(ctx, AstDrop, AST_DROP, tok_loc(ctx, kw));
    if (!d) return NULL;
    d->what = what;
    d->name = ast_name(ctx, name);
    d->if_exists = if_exists;
    return &d->hdr;
}

AstNode *ast_stop_query_new(ParseCtx *ctx, Token kw, const char *id)
{
    AstStopQuery *s = NODE(ctx, AstStopQuery, AST_STOP_QUERY, tok_loc(ctx, kw));
    if (!s) return NULL;
    s->id = id;
    return &s->hdr;
}

AstNode *ast_set_new(ParseCtx *ctx, Token kw, KeyText key, AstNode *value)
{
    AstSet *s = NODE(ctx, AstSet, AST_SET, tok_loc(ctx, kw));
    if (!s) return NULL;
    s->key = key.s;
    s->value = IS_A(value, AST_LITERAL) ? AST_AS(AstLiteral, value) : NULL;
    return &s->hdr;
}

AstNode *ast_reset_new(ParseCtx *ctx, Token kw, KeyText key)
{
    AstReset *r = NODE(ctx, AstReset, AST_RESET, tok_loc(ctx, kw));
    if (!r) return NULL;
    r->key = key.s;
    return &r->hdr;
}
