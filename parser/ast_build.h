/*
 * ast_build.h — parser/ internals: tokens, the arena, the parse context and
 * the builder functions that the grammar actions call.
 *
 * Nothing outside parser/ includes this file (tests do, to reach the lexer
 * and the fault injector). The public contract is parser.h and ast.h.
 *
 * Ownership: every builder allocates in the statement's arena (the SqlParse
 * arena) and never frees; a half-built tree left behind by a syntax error is
 * reclaimed when sql_parse_free() drops the arena. Builders accept NULL
 * children (what an earlier builder returns when out of memory) and never
 * crash on them; the driver discards the statement in that case.
 */
#ifndef SLUICE_PARSER_AST_BUILD_H
#define SLUICE_PARSER_AST_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "parser/ast.h"
#include "parser/parser.h"

/* ---- tokens ---------------------------------------------------------------- */

/* A token is a slice of the input text: no copy, no terminator. z == NULL
 * stands for "absent" where a grammar rule has an optional token. */
typedef struct Token {
    const char *z;   /* first byte, inside the text given to sql_parse() */
    int         n;   /* length in bytes                                     */
} Token;

/* Lexical error codes, returned through sql_lex()'s *err with TK_ILLEGAL. */
typedef enum LexError {
    LEX_OK,
    LEX_UNTERMINATED_STRING,   /* 'abc                */
    LEX_UNTERMINATED_IDENT,    /* "abc  or  `abc      */
    LEX_UNTERMINATED_COMMENT,  /* / * without * /     */
    LEX_EMPTY_IDENT,           /* ""  or  ``          */
    LEX_BAD_NUMBER,            /* 5s, 1e, 1.5x        */
    LEX_BAD_CHAR               /* # @ ? ...           */
} LexError;

/* Scan the token that starts at z (z < end). Returns its code (TK_* from
 * grammar.h) and sets *len: TK_SPACE for blanks and comments, TK_ILLEGAL with
 * *err set for a lexical error (the token then covers the bad text), 0 when
 * z == end. Never reads at or past end. */
int sql_lex(const char *z, const char *end, int *len, LexError *err);

/* The keyword code of the word z[0..n) (any case), or 0 if it is not a
 * keyword. */
int sql_keyword_code(const char *z, int n);

/* Is keyword `code` reserved, i.e. never accepted as a name? */
int sql_keyword_is_reserved(int code);


/* The display name of token code `code` for messages: "FROM", "','",
 * "a name", ... Never NULL. */
const char *sql_token_display(int code);

/* The keyword spelling of `code` ("SELECT"), or NULL if it is not a keyword. */
const char *sql_keyword_spelling(int code);

/* ---- arena ----------------------------------------------------------------- */

typedef struct SqlParseArena SqlParseArena;

SqlParseArena *sql_arena_new(void);
void           sql_arena_free(SqlParseArena *a);
void          *sql_arena_alloc(SqlParseArena *a, size_t n);   /* zeroed, aligned */
char          *sql_arena_strndup(SqlParseArena *a, const char *z, size_t n);
size_t         sql_arena_bytes(const SqlParseArena *a);      /* total reserved */

/* Every allocation of parser/ goes through sql_malloc(); the tests use the
 * countdown to fail the Nth allocation from now (0 disables). */
void *sql_malloc(size_t n);
void *sql_realloc(void *p, size_t n);
void  sql_test_fail_malloc_after(long n);

/* ---- the parse context (lemon's %extra_context) --------------------------- */

typedef struct ParseCtx {
    SqlParseArena *arena;
    const char    *text;      /* offsets (loc) are relative to this         */
    AstNode       *stmt;      /* set when the statement is accepted         */
    int            failed;    /* an error was recorded for this statement   */
    int            syntax;    /* ... and it is a syntax error to be worded  */
    int            replay;    /* re-parsing for the expected tokens: quiet  */
    int            oom;       /* an allocation failed                       */
    int            tok_loc;   /* offset of the token being fed              */
    SqlError       err;       /* the statement's first error                */
} ParseCtx;

/* Record an error for the statement (only the first one counts). */
void sql_ctx_error(ParseCtx *ctx, int loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Called from %syntax_error; the driver words the message afterwards. */
void sql_ctx_syntax_error(ParseCtx *ctx);

static inline int tok_loc(const ParseCtx *ctx, Token t)
{
    return t.z ? (int)(t.z - ctx->text) : -1;
}

/* ---- the lemon parser (grammar.y) ------------------------------------------ */

void *sqlParserAlloc(void *(*mallocProc)(size_t), ParseCtx *ctx);
void  sqlParserFree(void *parser, void (*freeProc)(void *));
void  sqlParser(void *parser, int code, Token token);
void  sqlParserReset(void *parser, ParseCtx *ctx);
int   sqlParserFallback(int code);   /* TK_ID for a non-reserved keyword, else 0 */
int   sqlParserTokenCount(void);     /* terminals, including 0 (end of input)   */
void  sqlParserExpected(void *parser, unsigned char *out);

/* ---- values carried by grammar non-terminals ------------------------------ */

typedef struct SelectTail {
    int64_t limit;   /* -1 when absent */
    AstEmit emit;
} SelectTail;

typedef struct JoinSpec {
    AstJoinKind kind;
    Token       tok;   /* the first keyword, for the node's loc */
} JoinSpec;

/* A text and where it starts: a settings or WITH-option key being assembled
 * (checkpoint.interval, watermark.idle-timeout, 'properties.bootstrap.servers'),
 * or an option value. */
typedef struct KeyText {
    const char *s;     /* NULL: no key (SET, RESET alone) */
    int         loc;
} KeyText;

typedef enum TrimSpec { TRIM_BOTH, TRIM_LEADING, TRIM_TRAILING } TrimSpec;

/* ---- builders (one per grammar rule family) ------------------------------- */

/* names, keys and lists */
const char *ast_name(ParseCtx *ctx, Token t);           /* folded / unquoted */
const char *ast_word(ParseCtx *ctx, Token t, int negative); /* any word's text */
KeyText     ast_key_first(ParseCtx *ctx, Token t);
KeyText     ast_key_join(ParseCtx *ctx, KeyText left, char sep, Token t);
KeyText     ast_value_text(ParseCtx *ctx, Token minus, Token value);
AstList     ast_list_empty(void);
AstList     ast_list_new(ParseCtx *ctx, AstNode *first);
AstList     ast_list_add(ParseCtx *ctx, AstList list, AstNode *item);

/* types */
AstType ast_type(ParseCtx *ctx, Token name, AstTypeName t);
AstType ast_type_param(ParseCtx *ctx, Token name, AstTypeName t, Token param);

/* literals */
AstNode *ast_lit_number_new(ParseCtx *ctx, Token t);      /* INTEGER or FLOAT   */
AstNode *ast_lit_string_new(ParseCtx *ctx, Token t);
AstNode *ast_lit_null_new(ParseCtx *ctx, Token t);
AstNode *ast_lit_bool_new(ParseCtx *ctx, Token t, int value);
AstNode *ast_lit_word_new(ParseCtx *ctx, Token t);        /* SET k = word       */
AstNode *ast_lit_negative_new(ParseCtx *ctx, Token minus, Token number);
AstNode *ast_lit_interval_new(ParseCtx *ctx, Token kw, Token value, Token unit);
AstNode *ast_lit_timestamp_new(ParseCtx *ctx, Token kw, Token value);

/* expressions */
AstNode *ast_column_new(ParseCtx *ctx, Token qualifier, Token name);
AstNode *ast_unary_new(ParseCtx *ctx, Token op, AstUnaryOp kind, AstNode *arg);
AstNode *ast_binary_new(ParseCtx *ctx, Token op, AstBinaryOp kind, AstNode *l, AstNode *r);
AstNode *ast_func_new(ParseCtx *ctx, Token name, AstList args, int star, int distinct,
                  AstNode *filter);
AstNode *ast_func_from_new(ParseCtx *ctx, Token name, Token from, AstNode *a, AstNode *b,
                       AstNode *c);
AstNode *ast_func_trim_new(ParseCtx *ctx, Token name, TrimSpec spec, AstNode *chars,
                       AstNode *str);
AstNode *ast_func_position_new(ParseCtx *ctx, Token name, Token in, AstNode *needle,
                           AstNode *haystack);
AstNode *ast_case_new(ParseCtx *ctx, Token kw, AstNode *operand, AstList whens, AstNode *else_);
AstNode *ast_when_new(ParseCtx *ctx, Token kw, AstNode *cond, AstNode *result);
AstNode *ast_cast_new(ParseCtx *ctx, Token kw, AstNode *arg, AstType type);
AstNode *ast_is_null_new(ParseCtx *ctx, Token kw, AstNode *arg, int negated);
AstNode *ast_between_new(ParseCtx *ctx, Token kw, AstNode *arg, AstNode *lo, AstNode *hi,
                     int negated);
AstNode *ast_in_list_new(ParseCtx *ctx, Token kw, AstNode *arg, AstList list, int negated);
AstNode *ast_like_new(ParseCtx *ctx, Token kw, AstLikeKind kind, AstNode *arg,
                  AstNode *pattern, AstNode *escape, int negated);

/* FROM items */
AstNode *ast_table_ref_new(ParseCtx *ctx, Token name, Token alias);
AstNode *ast_subquery_new(ParseCtx *ctx, Token lp, AstNode *select, Token alias);
AstNode *ast_window_tvf_new(ParseCtx *ctx, Token fn, AstNode *source, AstNode *timecol,
                        AstList args, AstList partition_by, Token alias);
AstNode *ast_join_new(ParseCtx *ctx, JoinSpec spec, AstNode *left, AstNode *right, AstNode *on);

/* SELECT */
AstNode   *ast_select_item_new(ParseCtx *ctx, AstNode *expr, Token alias);
AstNode   *ast_select_star_new(ParseCtx *ctx, Token star, Token qualifier);
AstNode   *ast_select_new(ParseCtx *ctx, Token kw, int distinct, AstList items, AstNode *from,
                      AstNode *where, AstList group_by, AstNode *having, SelectTail tail);
SelectTail ast_select_tail(int64_t limit, AstEmit emit);
int64_t    ast_limit_value(ParseCtx *ctx, Token n);

/* DDL and other statements */
AstNode *ast_column_def_new(ParseCtx *ctx, Token name, AstType type);
AstNode *ast_watermark_new(ParseCtx *ctx, Token kw, Token column, AstNode *expr);
AstNode *ast_option_new(ParseCtx *ctx, KeyText key, KeyText value);
AstNode *ast_create_stream_new(ParseCtx *ctx, Token kw, AstStreamKw which, int if_not_exists,
                           Token name, AstList elements, AstList options);
AstNode *ast_create_sink_new(ParseCtx *ctx, Token kw, int if_not_exists, Token name,
                         AstList elements, AstList options);
AstNode *ast_create_view_new(ParseCtx *ctx, Token kw, int if_not_exists, Token name,
                         AstNode *select);
AstNode *ast_insert_new(ParseCtx *ctx, Token kw, Token target, AstNode *select);
AstNode *ast_explain_new(ParseCtx *ctx, Token kw, int analyze, int json, AstNode *stmt);
AstNode *ast_show_new(ParseCtx *ctx, Token kw, AstObjKind what);
AstNode *ast_describe_new(ParseCtx *ctx, Token kw, Token name);
AstNode *ast_describe_query_new(ParseCtx *ctx, Token kw, const char *id);
AstNode *ast_drop_new(ParseCtx *ctx, Token kw, AstObjKind what, int if_exists, Token name);
AstNode *ast_stop_query_new(ParseCtx *ctx, Token kw, const char *id);
AstNode *ast_set_new(ParseCtx *ctx, Token kw, KeyText key, AstNode *value);
AstNode *ast_reset_new(ParseCtx *ctx, Token kw, KeyText key);

/* Must the name s be "quoted" to read back as the same name? */
int sql_ident_needs_quotes(const char *s);

/* Is every path from n at most SQL_MAX_DEPTH nodes long? If not, returns 0
 * and sets *loc to the loc of a node past the limit. */
int ast_check_depth(const AstNode *n, int *loc);

#endif
