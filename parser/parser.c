/*
 * parser.c — the driver: SQL text in, statements and errors out.
 *
 *   sql_parse(text)
 *     for each statement (the tokens up to a top-level ';'):
 *       lex    sql_lex() until ';' or the end; blanks and comments dropped.
 *              A lexical error records an error and skips to the ';'.
 *       parse  feed the tokens, then end-of-input, to the lemon parser; the
 *              actions build the tree in the arena (ast_build.c).
 *       check  the nesting limit (SQL_MAX_DEPTH).
 *       on a syntax error: replay the tokens before the bad one into a
 *              fresh parser and ask its tables which tokens it would have
 *              accepted, to say "expected FROM, ',' or AS".
 *     one error per statement; the next statement starts clean, so a bad
 *     statement never hides the good ones after it.
 *
 * Memory: the SqlParse and everything it points to live in one arena,
 * released by sql_parse_free(). The lemon parser and the token buffer are
 * scratch, freed before sql_parse() returns. If any allocation fails,
 * sql_parse() frees everything and returns NULL.
 *
 * Errors are values with a byte offset; line, column and caret are computed
 * only by sql_error_format(), when someone shows the error.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser/ast_build.h"
#include "parser/grammar.h"
#include "parser/parser.h"

#define MAX_EXPECTED_SHOWN 6   /* "expected A, B, C, D, E, F, ..." */

typedef struct StmtToken {
    int   code;
    Token tok;
} StmtToken;

typedef struct Driver {
    SqlParse   *p;
    ParseCtx    ctx;
    void       *parser;      /* lemon parser, reset between statements */
    const char *text;
    StmtToken  *toks;        /* the statement being parsed             */
    int         ntoks, cap;
    int         cap_stmts, cap_errors;
    int         oom;
} Driver;

/* ---- errors recorded by the grammar and the builders ------------------------- */

void sql_ctx_error(ParseCtx *ctx, int loc, const char *fmt, ...)
{
    if (ctx->failed || ctx->replay) return;
    ctx->failed = 1;
    ctx->err.loc = loc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err.msg, sizeof ctx->err.msg, fmt, ap);
    va_end(ap);
}

void sql_ctx_syntax_error(ParseCtx *ctx)
{
    if (ctx->failed || ctx->replay) return;
    ctx->failed = 1;
    ctx->syntax = 1;
}

/* ---- token names for messages ----------------------------------------------- */

const char *sql_token_display(int code)
{
    switch (code) {
    case 0:          return "end of input";
    case TK_ID:      return "a name";
    case TK_STRING:  return "a string";
    case TK_INTEGER: return "an integer";
    case TK_FLOAT:   return "a decimal number";
    case TK_GROUP:   return "GROUP BY";
    case TK_COMMA:   return "','";
    case TK_LP:      return "'('";
    case TK_RP:      return "')'";
    case TK_EQ:      return "'='";
    case TK_DOT:     return "'.'";
    case TK_STAR:    return "'*'";
    case TK_PLUS:    return "'+'";
    case TK_MINUS:   return "'-'";
    case TK_SLASH:   return "'/'";
    case TK_REM:     return "'%'";
    case TK_CONCAT:  return "'||'";
    case TK_DCOLON:  return "'::'";
    case TK_NE:      return "'<>'";
    case TK_LT:      return "'<'";
    case TK_LE:      return "'<='";
    case TK_GT:      return "'>'";
    case TK_GE:      return "'>='";
    case TK_SEMI:    return "';'";
    default: {
        const char *kw = sql_keyword_spelling(code);
        return kw ? kw : "a token";
    }
    }
}

/* ---- wording a syntax error --------------------------------------------------- */

/* Groups of terminals named as one entry. A group is listed when its
 * trigger tokens are all acceptable, in place of its members. */
typedef struct TokenGroup {
    const char *name;
    int         trigger[4];   /* all must be expected (0 ends the list) */
    int         members[48];  /* removed from the list (0 ends it)      */
    int         at_end;       /* list the group last, not in order      */
} TokenGroup;

static const TokenGroup groups[] = {
    {"an expression",
     {TK_ID, TK_INTEGER, TK_STRING, TK_LP},
     {TK_ID, TK_STRING, TK_INTEGER, TK_FLOAT, TK_LP, TK_TRUE, TK_FALSE, TK_NULL, TK_INTERVAL,
      TK_TIMESTAMP, TK_CASE, TK_CAST, TK_NOT, TK_MINUS, TK_PLUS},
     0},
    {"a type",
     {TK_T_BIGINT, TK_T_VARCHAR},
     {TK_T_BOOLEAN, TK_T_INT, TK_T_INTEGER, TK_T_BIGINT, TK_T_DOUBLE, TK_T_FLOAT, TK_T_REAL,
      TK_T_VARCHAR, TK_T_STRING, TK_T_TEXT, TK_TIMESTAMP, TK_INTERVAL},
     0},
    {"a time unit (SECOND, MINUTE, HOUR, DAY, MILLISECOND or MICROSECOND)",
     {TK_SECOND, TK_MINUTE},
     {TK_SECOND, TK_SECONDS, TK_MINUTE, TK_MINUTES, TK_HOUR, TK_HOURS, TK_DAY, TK_DAYS,
      TK_MILLISECOND, TK_MILLISECONDS, TK_MICROSECOND, TK_MICROSECONDS},
     0},
    /* settings keys take any word, reserved or not */
    {"a name",
     {TK_ID, TK_SELECT, TK_FROM},
     {TK_ID, TK_SELECT, TK_CREATE, TK_INSERT, TK_DROP, TK_FROM, TK_AS, TK_WHERE, TK_GROUP,
      TK_HAVING, TK_LIMIT, TK_EMIT, TK_ON, TK_JOIN, TK_INNER, TK_LEFT, TK_RIGHT, TK_FULL,
      TK_CROSS, TK_OUTER, TK_TABLE, TK_NOT, TK_WITH, TK_FOR, TK_INTO, TK_DISTINCT, TK_ALL,
      TK_BY, TK_WHEN, TK_THEN, TK_ELSE, TK_TRUE, TK_FALSE, TK_NULL, TK_CASE, TK_CAST, TK_OR,
      TK_AND, TK_IS, TK_IN, TK_LIKE, TK_SIMILAR, TK_BETWEEN},
     0},
    {"an operator",
     {TK_AND, TK_OR, TK_EQ, TK_PLUS},
     {TK_OR, TK_AND, TK_IS, TK_IN, TK_LIKE, TK_SIMILAR, TK_BETWEEN, TK_NOT, TK_EQ, TK_NE,
      TK_LT, TK_LE, TK_GT, TK_GE, TK_CONCAT, TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_REM,
      TK_DCOLON},
     1},
};

#define NGROUPS ((int)(sizeof groups / sizeof groups[0]))

/* Optimal string alignment distance (edits, adjacent swaps), case-blind,
 * capped: enough to see that FORM was meant to be FROM. */
static int edit_distance(const char *a, int an, const char *b, int bn)
{
    enum { MAXW = 24 };
    if (an > MAXW || bn > MAXW) return 99;
    int d[MAXW + 1][MAXW + 1];
    for (int i = 0; i <= an; i++) d[i][0] = i;
    for (int j = 0; j <= bn; j++) d[0][j] = j;
    for (int i = 1; i <= an; i++) {
        for (int j = 1; j <= bn; j++) {
            int ca = a[i - 1] | 0x20, cb = b[j - 1] | 0x20;
            int v = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == (b[j - 2] | 0x20) && (a[i - 2] | 0x20) == cb
                && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[an][bn];
}

/* snprintf at the end of msg[cap], which is always NUL-terminated */
static void append(char *msg, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void append(char *msg, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(msg);
    if (len + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + len, cap - len, fmt, ap);
    va_end(ap);
}

static int is_word(Token t)
{
    if (t.n <= 0) return 0;
    char c = t.z[0];
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Append ", expected A, B or C" for the acceptable terminals ok[]. */
static void append_expected(char *msg, size_t cap, const unsigned char *ok, int ntok, Token bad)
{
    const char *names[160];
    int         codes[160];
    int         n = 0, group_used[NGROUPS] = {0}, skip[256] = {0};

    for (int g = 0; g < NGROUPS; g++) {
        int all = 1;
        for (int i = 0; i < 4 && groups[g].trigger[i]; i++)
            if (groups[g].trigger[i] >= ntok || ok[groups[g].trigger[i]] != 1) all = 0;
        if (!all) continue;
        group_used[g] = 1;
        for (int i = 0; i < 48 && groups[g].members[i]; i++) skip[groups[g].members[i]] = g + 1;
    }
    for (int t = 1; t < ntok && t < 256 && n < 150; t++) {
        if (ok[t] != 1 || t == TK_SEMI || t == TK_SPACE || t == TK_ILLEGAL) continue;
        if (skip[t]) {
            int g = skip[t] - 1;
            if (group_used[g] == 1 && !groups[g].at_end) {   /* first member: the group's place */
                names[n] = groups[g].name;
                codes[n++] = 0;
                group_used[g] = 2;
            }
            continue;
        }
        names[n] = sql_token_display(t);
        codes[n++] = t;
    }
    for (int g = 0; g < NGROUPS; g++)
        if (group_used[g] == 1 && groups[g].at_end) {
            names[n] = groups[g].name;
            codes[n++] = 0;
        }
    if (n == 0) {
        if (ok[0] == 1) append(msg, cap, ", expected end of statement");
        return;
    }

    /* a misspelt keyword (FORM for FROM) goes first */
    if (is_word(bad)) {
        int best = -1, best_d = bad.n <= 4 ? 2 : 3;
        for (int i = 0; i < n; i++) {
            const char *kw = codes[i] ? sql_keyword_spelling(codes[i]) : NULL;
            if (!kw) continue;
            int d = edit_distance(bad.z, bad.n, kw, (int)strlen(kw));
            if (d < best_d) {
                best = i;
                best_d = d;
            }
        }
        for (int i = best; i > 0; i--) {
            const char *tn = names[i];
            int         tc = codes[i];
            names[i] = names[i - 1];
            codes[i] = codes[i - 1];
            names[i - 1] = tn;
            codes[i - 1] = tc;
        }
    }

    int shown = n > MAX_EXPECTED_SHOWN ? MAX_EXPECTED_SHOWN : n;
    append(msg, cap, ", expected ");
    for (int i = 0; i < shown; i++)
        append(msg, cap, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ", names[i]);
    if (shown < n) append(msg, cap, ", ...");
}

/* "near 'text'": the token as written, cut at a newline or after 40 bytes */
static void describe_token(char *out, size_t cap, Token t)
{
    int n = 0;
    while (n < t.n && n < 40 && t.z[n] != '\n' && t.z[n] != '\r') n++;
    while (n > 0 && n < t.n && ((unsigned char)t.z[n] & 0xC0) == 0x80) n--;
    snprintf(out, cap, "'%.*s%s'", n, t.z, n < t.n ? "..." : "");
}

/* ---- the statement loop --------------------------------------------------------- */

static int push_token(Driver *d, int code, const char *z, int n)
{
    if (d->ntoks == d->cap) {
        int        cap = d->cap ? d->cap * 2 : 64;
        StmtToken *t = sql_realloc(d->toks, (size_t)cap * sizeof *t);
        if (!t) return 0;
        d->toks = t;
        d->cap = cap;
    }
    d->toks[d->ntoks++] = (StmtToken){code, {z, n}};
    return 1;
}

/* Make room for one more statement / error. The arrays live in the arena
 * and double; an outgrown copy stays there until sql_parse_free(). */
static int room_for_stmt(Driver *d)
{
    SqlParse *p = d->p;
    if (p->nstmts < d->cap_stmts) return 1;
    int       cap = d->cap_stmts ? d->cap_stmts * 2 : 8;
    AstNode **s = sql_arena_alloc(d->ctx.arena, (size_t)cap * sizeof *s);
    int      *e = sql_arena_alloc(d->ctx.arena, (size_t)cap * sizeof *e);
    if (!s || !e) return 0;
    if (p->nstmts) {
        memcpy(s, p->stmts, (size_t)p->nstmts * sizeof *s);
        memcpy(e, p->stmt_end, (size_t)p->nstmts * sizeof *e);
    }
    p->stmts = s;
    p->stmt_end = e;
    d->cap_stmts = cap;
    return 1;
}

static int room_for_error(Driver *d)
{
    SqlParse *p = d->p;
    if (p->nerrors < d->cap_errors) return 1;
    int       cap = d->cap_errors ? d->cap_errors * 2 : 8;
    SqlError *e = sql_arena_alloc(d->ctx.arena, (size_t)cap * sizeof *e);
    if (!e) return 0;
    if (p->nerrors) memcpy(e, p->errors, (size_t)p->nerrors * sizeof *e);
    p->errors = e;
    d->cap_errors = cap;
    return 1;
}

static void add_error(Driver *d, int loc, const char *msg)
{
    if (!room_for_error(d)) {
        d->oom = 1;
        return;
    }
    SqlError *e = &d->p->errors[d->p->nerrors++];
    e->loc = loc;
    snprintf(e->msg, sizeof e->msg, "%s", msg);
}

static void add_stmt(Driver *d, AstNode *stmt, int end)
{
    if (!room_for_stmt(d)) {
        d->oom = 1;
        return;
    }
    d->p->stmts[d->p->nstmts] = stmt;
    d->p->stmt_end[d->p->nstmts] = end;
    d->p->nstmts++;
}

static void lex_error_message(char *msg, size_t cap, LexError err, const char *z, int n)
{
    switch (err) {
    case LEX_UNTERMINATED_STRING:
        snprintf(msg, cap, "unterminated string literal");
        break;
    case LEX_UNTERMINATED_IDENT:
        snprintf(msg, cap, "unterminated quoted identifier");
        break;
    case LEX_UNTERMINATED_COMMENT:
        snprintf(msg, cap, "unterminated /* comment");
        break;
    case LEX_EMPTY_IDENT:
        snprintf(msg, cap, "zero-length quoted identifier");
        break;
    case LEX_BAD_NUMBER: {
        char tok[64];
        describe_token(tok, sizeof tok, (Token){z, n});
        snprintf(msg, cap, "invalid number %s", tok);
        break;
    }
    default: {
        unsigned char c = (unsigned char)z[0];
        if (c > 0x20 && c < 0x7f) snprintf(msg, cap, "unexpected character '%c'", c);
        else snprintf(msg, cap, "unexpected byte 0x%02X", c);
        break;
    }
    }
}

/* Word the syntax error at token `bad` (== ntoks: at the end). */
static void word_syntax_error(Driver *d, int bad, int semi_loc, int eof_loc)
{
    ParseCtx *ctx = &d->ctx;
    char      msg[sizeof ctx->err.msg];
    int       loc;
    Token     badtok = {NULL, 0};

    if (bad < d->ntoks) {
        char tok[64];
        badtok = d->toks[bad].tok;
        describe_token(tok, sizeof tok, badtok);
        snprintf(msg, sizeof msg, "syntax error near %s", tok);
        loc = tok_loc(ctx, badtok);
    } else if (semi_loc >= 0) {
        snprintf(msg, sizeof msg, "syntax error near ';'");
        loc = semi_loc;
    } else {
        snprintf(msg, sizeof msg, "syntax error at end of input");
        loc = eof_loc;
    }

    /* replay the good prefix: the parser's stack is then the one the bad
     * token met, before the reductions it triggered */
    int            ntok = sqlParserTokenCount();
    unsigned char *ok = sql_malloc((size_t)ntok);
    if (ok) {
        sqlParserReset(d->parser, ctx);
        ctx->replay = 1;
        for (int i = 0; i < bad; i++) {
            ctx->tok_loc = tok_loc(ctx, d->toks[i].tok);
            sqlParser(d->parser, d->toks[i].code, d->toks[i].tok);
        }
        ctx->replay = 0;
        if (ctx->oom) d->oom = 1;
        sqlParserExpected(d->parser, ok);
        append_expected(msg, sizeof msg, ok, ntok, badtok);
        free(ok);
    } else {
        d->oom = 1;
    }
    ctx->err.loc = loc;
    memcpy(ctx->err.msg, msg, sizeof msg);
}

static void parse_statement(Driver *d, int semi_loc)
{
    ParseCtx *ctx = &d->ctx;
    int       last_end = tok_loc(ctx, d->toks[d->ntoks - 1].tok) + d->toks[d->ntoks - 1].tok.n;
    int       bad = -1;

    ctx->stmt = NULL;
    ctx->failed = ctx->syntax = 0;
    sqlParserReset(d->parser, ctx);
    for (int i = 0; i < d->ntoks && !ctx->failed && !ctx->oom; i++) {
        ctx->tok_loc = tok_loc(ctx, d->toks[i].tok);
        sqlParser(d->parser, d->toks[i].code, d->toks[i].tok);
        if (ctx->failed) bad = i;
    }
    if (!ctx->failed && !ctx->oom) {
        Token eof = semi_loc >= 0 ? (Token){d->text + semi_loc, 1} : (Token){d->text + last_end, 0};
        ctx->tok_loc = tok_loc(ctx, eof);
        sqlParser(d->parser, 0, eof);
        if (ctx->failed) bad = d->ntoks;
    }
    if (ctx->oom) {
        d->oom = 1;
        return;
    }
    if (ctx->failed) {
        if (ctx->syntax) word_syntax_error(d, bad, semi_loc, last_end);
        add_error(d, ctx->err.loc, ctx->err.msg);
        return;
    }
    int loc;
    if (!ast_check_depth(ctx->stmt, &loc)) {
        char msg[80];
        snprintf(msg, sizeof msg, "statement nested too deeply (more than %d levels)",
                 SQL_MAX_DEPTH);
        add_error(d, loc, msg);
        return;
    }
    if (ctx->stmt) add_stmt(d, ctx->stmt, last_end);
}

SqlParse *sql_parse(const char *text, size_t len)
{
    Driver d = {0};
    d.text = text ? text : "";
    if (!text) len = 0;

    SqlParseArena *arena = sql_arena_new();
    if (!arena) return NULL;
    d.p = sql_arena_alloc(arena, sizeof *d.p);
    if (!d.p) {
        sql_arena_free(arena);
        return NULL;
    }
    d.p->arena = arena;
    d.ctx.arena = arena;
    d.ctx.text = d.text;

    if (len > INT_MAX) {   /* offsets are ints */
        add_error(&d, -1, "input too large (more than 2 GB)");
        if (!d.oom) return d.p;
        sql_parse_free(d.p);
        return NULL;
    }
    d.parser = sqlParserAlloc(sql_malloc, &d.ctx);
    if (!d.parser) {
        sql_parse_free(d.p);
        return NULL;
    }

    const char *z = d.text, *end = d.text + len;
    for (int done = 0; !done && !d.oom;) {
        int      semi_loc = -1, lexed_error = 0;
        char     msg[sizeof d.ctx.err.msg];
        int      err_loc = -1;
        d.ntoks = 0;
        for (;;) {
            int      n;
            LexError err;
            int      code = sql_lex(z, end, &n, &err);
            const char *tz = z;
            z += n;
            if (code == 0) {
                done = 1;
                break;
            }
            if (code == TK_SPACE) continue;
            if (code == TK_SEMI) {
                semi_loc = (int)(tz - d.text);
                break;
            }
            if (code == TK_ILLEGAL) {
                if (!lexed_error) {
                    lex_error_message(msg, sizeof msg, err, tz, n);
                    err_loc = (int)(tz - d.text);
                }
                lexed_error = 1;
                continue;
            }
            if (!lexed_error && !push_token(&d, code, tz, n)) {
                d.oom = 1;
                break;
            }
        }
        if (d.oom) break;
        if (lexed_error) add_error(&d, err_loc, msg);
        else if (d.ntoks > 0) parse_statement(&d, semi_loc);
    }

    sqlParserFree(d.parser, free);
    free(d.toks);
    if (d.oom) {
        sql_parse_free(d.p);
        return NULL;
    }
    return d.p;
}

void sql_parse_free(SqlParse *p)
{
    if (p) sql_arena_free(p->arena);   /* p itself lives in the arena */
}

/* ---- positions ---------------------------------------------------------------- */

void sql_line_col(const char *text, size_t len, int loc, int *line, int *col)
{
    if (loc < 0 || !text) {
        *line = *col = 0;
        return;
    }
    size_t end = (size_t)loc < len ? (size_t)loc : len;
    int    l = 1;
    size_t start = 0;
    for (size_t i = 0; i < end; i++)
        if (text[i] == '\n') {
            l++;
            start = i + 1;
        }
    *line = l;
    *col = (int)(end - start) + 1;
}

/* A bounded writer: like snprintf into buf[cap], but appendable. */
typedef struct Out {
    char  *buf;
    size_t cap, n;
} Out;

static void out_put(Out *o, const char *s, size_t n)
{
    if (o->cap == 0) return;
    size_t room = o->cap - 1 - o->n;
    if (n > room) n = room;
    memcpy(o->buf + o->n, s, n);
    o->n += n;
    o->buf[o->n] = '\0';
}

static void out_char(Out *o, char c)
{
    out_put(o, &c, 1);
}

#define LINE_WINDOW 120   /* longer source lines are shown around the error */

size_t sql_error_format(const char *text, size_t len, int loc, const char *msg, char *buf,
                        size_t cap)
{
    Out o = {buf, cap, 0};
    if (cap) buf[0] = '\0';
    if (!msg) msg = "";
    if (loc < 0 || !text) {
        out_put(&o, msg, strlen(msg));
        return o.n;
    }
    int line, col;
    sql_line_col(text, len, loc, &line, &col);
    char head[64];
    int  hn = snprintf(head, sizeof head, "line %d, column %d: ", line, col);
    out_put(&o, head, (size_t)hn);
    out_put(&o, msg, strlen(msg));
    out_char(&o, '\n');

    size_t at = (size_t)loc < len ? (size_t)loc : len;
    size_t ls = at - (size_t)(col - 1), le = at;
    while (le < len && text[le] != '\n') le++;
    if (le > ls && text[le - 1] == '\r') le--;

    /* a window of the line around the error, cut on character boundaries */
    size_t ws = ls, we = le;
    if (le - ls > LINE_WINDOW) {
        ws = at > ls + LINE_WINDOW / 2 ? at - LINE_WINDOW / 2 : ls;
        we = ws + LINE_WINDOW < le ? ws + LINE_WINDOW : le;
        while (ws > ls && ((unsigned char)text[ws] & 0xC0) == 0x80) ws--;
        while (we < le && ((unsigned char)text[we] & 0xC0) == 0x80) we++;
    }
    if (ws > ls) out_put(&o, "...", 3);
    for (size_t i = ws; i < we; i++) {
        unsigned char c = (unsigned char)text[i];
        out_char(&o, (c < 0x20 && c != '\t') || c == 0x7f ? ' ' : (char)c);
    }
    if (we < le) out_put(&o, "...", 3);
    out_char(&o, '\n');

    /* the caret: a tab under a tab, one space per character otherwise */
    if (ws > ls) out_put(&o, "   ", 3);
    for (size_t i = ws; i < at && i < we; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c & 0xC0) == 0x80) continue;
        out_char(&o, c == '\t' ? '\t' : ' ');
    }
    out_char(&o, '^');
    return o.n;
}

int sql_is_complete(const char *text, size_t len)
{
    const char *z = text, *end = text + len;
    int         complete = 0;
    if (!text) return 0;
    for (;;) {
        int      n;
        LexError err;
        int      code = sql_lex(z, end, &n, &err);
        if (code == 0) return complete;
        z += n;
        if (code == TK_SPACE) continue;
        if (code == TK_ILLEGAL && err != LEX_BAD_CHAR && err != LEX_BAD_NUMBER
            && err != LEX_EMPTY_IDENT)
            return 0;   /* an open string, identifier or comment */
        complete = code == TK_SEMI;
    }
}

int sql_errorf(SqlError *err, int loc, const char *fmt, ...)
{
    va_list ap;
    err->loc = loc;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}
