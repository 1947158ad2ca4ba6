/*
 * grammar.y — the sluice SQL grammar (lemon).
 *
 * The driver (parser.c) feeds one statement at a time: the tokens between two
 * top-level ';' (the ';' itself is never fed), then the end-of-input token 0.
 * Every action is one builder call (ast_build.c); the builders allocate in
 * the statement's arena, so a half-built tree left by a syntax error is
 * reclaimed with the arena and no %destructor is needed (every non-terminal
 * value is either arena memory or a plain value).
 *
 * Keywords. A keyword listed in the %fallback below is non-reserved: where the
 * grammar has no use for it, lemon retries it as an ID, so `level`, `format`,
 * `window.end`, `timestamp`, `topic` or `value` work as names. Reserved words
 * (the rest) must be "quoted" to be names, except in settings and option
 * keys, which take any word (the `reserved` token class: keep it equal to
 * the keywords missing from %fallback). One trap, which
 * parser/check_grammar.py checks: lemon tries the fallback before a state's
 * default reduction, so a non-reserved keyword must never be a legal
 * continuation right after a place where an optional name (an alias) may
 * appear. That is why EMIT is reserved: `FROM t EMIT CHANGES` would otherwise
 * read EMIT as the alias of t.
 *
 * The order of the %token list below is the order in which expected tokens
 * are listed in syntax errors ("expected FROM, ',' or AS"): most useful first.
 */

%include {
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "parser/ast_build.h"
}

%name sqlParser
%token_prefix TK_
%token_type {Token}
%default_type {AstNode *}
%extra_context {ParseCtx *ctx}
%stack_size 2000          /* deeper nesting is an error, not a bigger stack */
%start_symbol input

%syntax_error {
    (void)yymajor;
    (void)TOKEN;
    sql_ctx_syntax_error(ctx);
}

%stack_overflow {
    sql_ctx_error(ctx, ctx->tok_loc, "statement nested too deeply");
}

/* ---- tokens, in the order syntax errors list them --------------------------- */

%token
    SELECT CREATE INSERT EXPLAIN SHOW DESCRIBE DESC DROP STOP SET RESET
    FROM COMMA RP ON ID AS WHERE GROUP HAVING LIMIT EMIT
    JOIN INNER LEFT RIGHT FULL CROSS OUTER EQ
    STREAM SOURCE TABLE SINK VIEW STREAMS SOURCES TABLES SINKS VIEWS QUERIES QUERY
    IF NOT EXISTS WITH WATERMARK FOR INTO ANALYZE FORMAT JSON
    CHANGES FINAL DISTINCT ALL BY
    WHEN THEN ELSE END LP DOT FILTER PARTITION DESCRIPTOR
    TO ESCAPE PRECISION
    STRING INTEGER FLOAT TRUE FALSE NULL INTERVAL TIMESTAMP CASE CAST
    T_BOOLEAN T_INT T_INTEGER T_BIGINT T_DOUBLE T_FLOAT T_REAL
    T_VARCHAR T_STRING T_TEXT
    SECOND SECONDS MINUTE MINUTES HOUR HOURS DAY DAYS
    MILLISECOND MILLISECONDS MICROSECOND MICROSECONDS
    OR AND IS IN LIKE SIMILAR BETWEEN NE LT LE GT GE
    CONCAT PLUS MINUS STAR SLASH REM DCOLON
    BOTH LEADING TRAILING
    SEMI SPACE ILLEGAL.

/* Non-reserved keywords: names wherever the grammar does not expect them. */
%fallback ID
    EXPLAIN SHOW DESCRIBE DESC STOP SET RESET
    STREAM SOURCE SINK VIEW STREAMS SOURCES TABLES SINKS VIEWS QUERIES QUERY
    IF EXISTS WATERMARK ANALYZE FORMAT JSON CHANGES FINAL
    END FILTER PARTITION DESCRIPTOR BOTH LEADING TRAILING TO ESCAPE PRECISION
    INTERVAL TIMESTAMP
    T_BOOLEAN T_INT T_INTEGER T_BIGINT T_DOUBLE T_FLOAT T_REAL
    T_VARCHAR T_STRING T_TEXT
    SECOND SECONDS MINUTE MINUTES HOUR HOURS DAY DAYS
    MILLISECOND MILLISECONDS MICROSECOND MICROSECONDS.

/* Operator precedence, lowest first (see docs/sql.md). */
%left OR.
%left AND.
%right NOT.
%left IS BETWEEN IN LIKE SIMILAR EQ NE LT LE GT GE.
%right ESCAPE.
%left CONCAT PLUS MINUS.
%left STAR SLASH REM.
%right UMINUS.
%left DCOLON.

%token_class unit SECOND|SECONDS|MINUTE|MINUTES|HOUR|HOURS|DAY|DAYS
    |MILLISECOND|MILLISECONDS|MICROSECOND|MICROSECONDS.
%token_class number INTEGER|FLOAT.
%token_class word ID|STRING|INTEGER|FLOAT|TRUE|FALSE.
%token_class reserved SELECT|CREATE|INSERT|DROP|FROM|AS|WHERE|GROUP|HAVING|LIMIT|EMIT
    |ON|JOIN|INNER|LEFT|RIGHT|FULL|CROSS|OUTER|TABLE|NOT|WITH|FOR|INTO|DISTINCT|ALL
    |BY|WHEN|THEN|ELSE|TRUE|FALSE|NULL|CASE|CAST|OR|AND|IS|IN|LIKE|SIMILAR|BETWEEN.

input ::= cmd(X).                    { ctx->stmt = X; }

/* ---- names ------------------------------------------------------------------ */

%type nm {Token}
nm(A) ::= ID(X).                     { A = X; }

/* [AS] alias, or nothing (A.z == NULL) */
%type as {Token}
as(A) ::= .                          { A.z = NULL; A.n = 0; }
as(A) ::= AS nm(X).                  { A = X; }
as(A) ::= nm(X).                     { A = X; }

/* ---- CREATE STREAM / SOURCE / TABLE, CREATE SINK, CREATE VIEW ---------------- */

cmd(A) ::= CREATE(K) streamkw(W) ifnotexists(E) nm(N) elements(C) with(O).
                                     { A = ast_create_stream_new(ctx, K, W, E, N, C, O); }
cmd(A) ::= CREATE(K) SINK ifnotexists(E) nm(N) elements(C) with(O).
                                     { A = ast_create_sink_new(ctx, K, E, N, C, O); }
cmd(A) ::= CREATE(K) VIEW ifnotexists(E) nm(N) AS select(S).
                                     { A = ast_create_view_new(ctx, K, E, N, S); }

%type streamkw {AstStreamKw}
streamkw(A) ::= STREAM.              { A = STREAM_KW_STREAM; }
streamkw(A) ::= SOURCE.              { A = STREAM_KW_SOURCE; }
streamkw(A) ::= TABLE.               { A = STREAM_KW_TABLE; }

%type ifnotexists {int}
ifnotexists(A) ::= .                 { A = 0; }
ifnotexists(A) ::= IF NOT EXISTS.    { A = 1; }

/* (column type, ..., WATERMARK FOR column AS expr), or nothing */
%type elements {AstList}
elements(A) ::= .                    { A = ast_list_empty(); }
elements(A) ::= LP elemlist(X) RP.   { A = X; }

%type elemlist {AstList}
elemlist(A) ::= element(X).          { A = ast_list_new(ctx, X); }
elemlist(A) ::= elemlist(L) COMMA element(X).
                                     { A = ast_list_add(ctx, L, X); }

element(A) ::= nm(N) typename(T).    { A = ast_column_def_new(ctx, N, T); }
element(A) ::= WATERMARK(K) FOR nm(C) AS expr(E).
                                     { A = ast_watermark_new(ctx, K, C, E); }

/* WITH (key = value, ...), or nothing */
%type with {AstList}
with(A) ::= .                        { A = ast_list_empty(); }
with(A) ::= WITH LP options(X) RP.   { A = X; }

%type options {AstList}
options(A) ::= option(X).            { A = ast_list_new(ctx, X); }
options(A) ::= options(L) COMMA option(X).
                                     { A = ast_list_add(ctx, L, X); }

option(A) ::= key(K) EQ optvalue(V). { A = ast_option_new(ctx, K, V); }

/* the value as text, with its position: 'kafka' → kafka, 2 → 2, -1.5 → -1.5 */
%type optvalue {KeyText}
optvalue(A) ::= word(X).             { A = ast_value_text(ctx, (Token){NULL, 0}, X); }
optvalue(A) ::= MINUS(M) number(X).  { A = ast_value_text(ctx, M, X); }

/* a settings / option key: 'quoted', or words joined by '.' and '-'
 * (emit.interval, watermark.idle-timeout): any word, even a reserved one */
%type key {KeyText}
key(A) ::= STRING(X).                { A = ast_key_first(ctx, X); }
key(A) ::= dottedkey(X).             { A = X; }

%type dottedkey {KeyText}
dottedkey(A) ::= keyword(X).         { A = ast_key_first(ctx, X); }
dottedkey(A) ::= dottedkey(L) DOT keyword(X).
                                     { A = ast_key_join(ctx, L, '.', X); }
dottedkey(A) ::= dottedkey(L) MINUS keyword(X).
                                     { A = ast_key_join(ctx, L, '-', X); }

%type keyword {Token}
keyword(A) ::= nm(X).                { A = X; }
keyword(A) ::= reserved(X).          { A = X; }

/* ---- types ------------------------------------------------------------------ */

%type typename {AstType}
typename(A) ::= T_BOOLEAN(X).        { A = ast_type(ctx, X, AST_TYPE_BOOLEAN); }
typename(A) ::= T_INT(X).            { A = ast_type(ctx, X, AST_TYPE_BIGINT); }
typename(A) ::= T_INTEGER(X).        { A = ast_type(ctx, X, AST_TYPE_BIGINT); }
typename(A) ::= T_BIGINT(X).         { A = ast_type(ctx, X, AST_TYPE_BIGINT); }
typename(A) ::= T_DOUBLE(X).         { A = ast_type(ctx, X, AST_TYPE_DOUBLE); }
typename(A) ::= T_DOUBLE(X) PRECISION.
                                     { A = ast_type(ctx, X, AST_TYPE_DOUBLE); }
typename(A) ::= T_FLOAT(X).          { A = ast_type(ctx, X, AST_TYPE_DOUBLE); }
typename(A) ::= T_REAL(X).           { A = ast_type(ctx, X, AST_TYPE_DOUBLE); }
typename(A) ::= T_VARCHAR(X).        { A = ast_type(ctx, X, AST_TYPE_VARCHAR); }
typename(A) ::= T_VARCHAR(X) LP INTEGER(P) RP.
                                     { A = ast_type_param(ctx, X, AST_TYPE_VARCHAR, P); }
typename(A) ::= T_STRING(X).         { A = ast_type(ctx, X, AST_TYPE_VARCHAR); }
typename(A) ::= T_TEXT(X).           { A = ast_type(ctx, X, AST_TYPE_VARCHAR); }
typename(A) ::= TIMESTAMP(X).        { A = ast_type(ctx, X, AST_TYPE_TIMESTAMP); }
typename(A) ::= TIMESTAMP(X) LP INTEGER(P) RP.
                                     { A = ast_type_param(ctx, X, AST_TYPE_TIMESTAMP, P); }
typename(A) ::= INTERVAL(X).         { A = ast_type(ctx, X, AST_TYPE_INTERVAL); }

/* ---- INSERT, EXPLAIN -------------------------------------------------------- */

cmd(A) ::= insert(X).                { A = X; }
insert(A) ::= INSERT(K) INTO nm(N) select(S).
                                     { A = ast_insert_new(ctx, K, N, S); }

cmd(A) ::= EXPLAIN(K) analyze(Z) format(F) explainable(S).
                                     { A = ast_explain_new(ctx, K, Z, F, S); }

%type analyze {int}
analyze(A) ::= .                     { A = 0; }
analyze(A) ::= ANALYZE.              { A = 1; }

%type format {int}
format(A) ::= .                      { A = 0; }
format(A) ::= FORMAT T_TEXT.         { A = 0; }
format(A) ::= FORMAT JSON.           { A = 1; }

explainable(A) ::= select(X).        { A = X; }
explainable(A) ::= insert(X).        { A = X; }

/* ---- SHOW, DESCRIBE, DROP, STOP QUERY ---------------------------------------- */

cmd(A) ::= SHOW(K) STREAMS.          { A = ast_show_new(ctx, K, OBJ_STREAM); }
cmd(A) ::= SHOW(K) SOURCES.          { A = ast_show_new(ctx, K, OBJ_STREAM); }
cmd(A) ::= SHOW(K) TABLES.           { A = ast_show_new(ctx, K, OBJ_STREAM); }
cmd(A) ::= SHOW(K) SINKS.            { A = ast_show_new(ctx, K, OBJ_SINK); }
cmd(A) ::= SHOW(K) VIEWS.            { A = ast_show_new(ctx, K, OBJ_VIEW); }
cmd(A) ::= SHOW(K) QUERIES.          { A = ast_show_new(ctx, K, OBJ_QUERY); }

cmd(A) ::= describe(K) nm(N).        { A = ast_describe_new(ctx, K, N); }
cmd(A) ::= describe(K) QUERY queryid(I).
                                     { A = ast_describe_query_new(ctx, K, I); }

%type describe {Token}
describe(A) ::= DESCRIBE(X).         { A = X; }
describe(A) ::= DESC(X).             { A = X; }

cmd(A) ::= DROP(K) objkind(W) ifexists(E) nm(N).
                                     { A = ast_drop_new(ctx, K, W, E, N); }

%type objkind {AstObjKind}
objkind(A) ::= STREAM.               { A = OBJ_STREAM; }
objkind(A) ::= SOURCE.               { A = OBJ_STREAM; }
objkind(A) ::= TABLE.                { A = OBJ_STREAM; }
objkind(A) ::= SINK.                 { A = OBJ_SINK; }
objkind(A) ::= VIEW.                 { A = OBJ_VIEW; }

%type ifexists {int}
ifexists(A) ::= .                    { A = 0; }
ifexists(A) ::= IF EXISTS.           { A = 1; }

cmd(A) ::= STOP(K) QUERY queryid(I). { A = ast_stop_query_new(ctx, K, I); }

/* a query id as written: q1, 1 or 'q1' */
%type queryid {const char *}
queryid(A) ::= nm(X).                { A = ast_word(ctx, X, 0); }
queryid(A) ::= INTEGER(X).           { A = ast_word(ctx, X, 0); }
queryid(A) ::= STRING(X).            { A = ast_word(ctx, X, 0); }

/* ---- SET, RESET ------------------------------------------------------------- */

cmd(A) ::= SET(K).                   { A = ast_set_new(ctx, K, (KeyText){NULL, -1}, NULL); }
cmd(A) ::= SET(K) key(N) EQ setvalue(V).
                                     { A = ast_set_new(ctx, K, N, V); }
cmd(A) ::= RESET(K).                 { A = ast_reset_new(ctx, K, (KeyText){NULL, -1}); }
cmd(A) ::= RESET(K) key(N).          { A = ast_reset_new(ctx, K, N); }

setvalue(A) ::= STRING(X).           { A = ast_lit_string_new(ctx, X); }
setvalue(A) ::= number(X).           { A = ast_lit_number_new(ctx, X); }
setvalue(A) ::= MINUS(M) number(X).  { A = ast_lit_negative_new(ctx, M, X); }
setvalue(A) ::= TRUE(X).             { A = ast_lit_bool_new(ctx, X, 1); }
setvalue(A) ::= FALSE(X).            { A = ast_lit_bool_new(ctx, X, 0); }
setvalue(A) ::= nm(X).               { A = ast_lit_word_new(ctx, X); }
setvalue(A) ::= interval(X).         { A = X; }

/* ---- SELECT ----------------------------------------------------------------- */

cmd(A) ::= select(X).                { A = X; }

select(A) ::= SELECT(K) distinct(D) selcols(L) from(F) where(W) groupby(G) having(H) tail(T).
                                     { A = ast_select_new(ctx, K, D, L, F, W, G, H, T); }

%type distinct {int}
distinct(A) ::= .                    { A = 0; }
distinct(A) ::= ALL.                 { A = 0; }
distinct(A) ::= DISTINCT.            { A = 1; }

%type selcols {AstList}
selcols(A) ::= selcol(X).            { A = ast_list_new(ctx, X); }
selcols(A) ::= selcols(L) COMMA selcol(X).
                                     { A = ast_list_add(ctx, L, X); }

selcol(A) ::= expr(X) as(N).         { A = ast_select_item_new(ctx, X, N); }
selcol(A) ::= STAR(S).               { A = ast_select_star_new(ctx, S, (Token){NULL, 0}); }
selcol(A) ::= nm(Q) DOT STAR(S).     { A = ast_select_star_new(ctx, S, Q); }

where(A) ::= .                       { A = NULL; }
where(A) ::= WHERE expr(X).          { A = X; }

%type groupby {AstList}
groupby(A) ::= .                     { A = ast_list_empty(); }
groupby(A) ::= GROUP BY exprlist(X). { A = X; }

having(A) ::= .                      { A = NULL; }
having(A) ::= HAVING expr(X).        { A = X; }

/* [LIMIT n] [EMIT CHANGES | EMIT FINAL], in either order (ksqlDB puts EMIT first) */
%type tail {SelectTail}
tail(A) ::= .                        { A = ast_select_tail(-1, EMIT_DEFAULT); }
tail(A) ::= limit(L).                { A = ast_select_tail(L, EMIT_DEFAULT); }
tail(A) ::= emit(E).                 { A = ast_select_tail(-1, E); }
tail(A) ::= limit(L) emit(E).        { A = ast_select_tail(L, E); }
tail(A) ::= emit(E) limit(L).        { A = ast_select_tail(L, E); }

%type limit {int64_t}
limit(A) ::= LIMIT INTEGER(N).       { A = ast_limit_value(ctx, N); }

%type emit {AstEmit}
emit(A) ::= EMIT CHANGES.            { A = EMIT_CHANGES; }
emit(A) ::= EMIT FINAL.              { A = EMIT_FINAL; }

/* ---- FROM ------------------------------------------------------------------- */

from(A) ::= .                        { A = NULL; }
from(A) ::= FROM fromlist(X).        { A = X; }

/* joins associate to the left; FROM a, b is a cross join */
fromlist(A) ::= fromitem(X).         { A = X; }
fromlist(A) ::= fromlist(L) COMMA(K) fromitem(R).
    { A = ast_join_new(ctx, (JoinSpec){JOIN_CROSS, K}, L, R, NULL); }
fromlist(A) ::= fromlist(L) CROSS(K) JOIN fromitem(R).
    { A = ast_join_new(ctx, (JoinSpec){JOIN_CROSS, K}, L, R, NULL); }
fromlist(A) ::= fromlist(L) joinop(J) fromitem(R) ON expr(E).
                                     { A = ast_join_new(ctx, J, L, R, E); }

%type joinop {JoinSpec}
joinop(A) ::= JOIN(K).               { A = (JoinSpec){JOIN_INNER, K}; }
joinop(A) ::= INNER(K) JOIN.         { A = (JoinSpec){JOIN_INNER, K}; }
joinop(A) ::= LEFT(K) JOIN.          { A = (JoinSpec){JOIN_LEFT, K}; }
joinop(A) ::= LEFT(K) OUTER JOIN.    { A = (JoinSpec){JOIN_LEFT, K}; }
joinop(A) ::= RIGHT(K) JOIN.         { A = (JoinSpec){JOIN_RIGHT, K}; }
joinop(A) ::= RIGHT(K) OUTER JOIN.   { A = (JoinSpec){JOIN_RIGHT, K}; }
joinop(A) ::= FULL(K) JOIN.          { A = (JoinSpec){JOIN_FULL, K}; }
joinop(A) ::= FULL(K) OUTER JOIN.    { A = (JoinSpec){JOIN_FULL, K}; }

fromitem(A) ::= nm(N) as(L).         { A = ast_table_ref_new(ctx, N, L); }
fromitem(A) ::= LP(K) select(S) RP as(L).
                                     { A = ast_subquery_new(ctx, K, S, L); }
fromitem(A) ::= LP fromlist(X) RP.   { A = X; }

/* window table functions: TUMBLE(s, ts, size), HOP(s, ts, slide, size), ... */
fromitem(A) ::= nm(F) LP tvfsource(S) COMMA colref(T) COMMA exprlist(L) RP as(N).
    { A = ast_window_tvf_new(ctx, F, S, T, L, ast_list_empty(), N); }
/* ... and Flink's TABLE(TUMBLE(TABLE s [PARTITION BY k | (k, ...)], DESCRIPTOR(ts), size)) */
fromitem(A) ::= TABLE LP nm(F) LP TABLE tvfsource(S) partitionby(P) COMMA
                DESCRIPTOR LP colref(T) RP COMMA exprlist(L) RP RP as(N).
    { A = ast_window_tvf_new(ctx, F, S, T, L, P, N); }

tvfsource(A) ::= nm(N).              { A = ast_table_ref_new(ctx, N, (Token){NULL, 0}); }
tvfsource(A) ::= LP(K) select(S) RP. { A = ast_subquery_new(ctx, K, S, (Token){NULL, 0}); }

%type partitionby {AstList}
partitionby(A) ::= .                 { A = ast_list_empty(); }
partitionby(A) ::= PARTITION BY colref(X).
                                     { A = ast_list_new(ctx, X); }
partitionby(A) ::= PARTITION BY LP exprlist(X) RP.
                                     { A = X; }

colref(A) ::= nm(N).                 { A = ast_column_new(ctx, (Token){NULL, 0}, N); }
colref(A) ::= nm(Q) DOT nm(N).       { A = ast_column_new(ctx, Q, N); }

/* ---- expressions ------------------------------------------------------------ */

%type exprlist {AstList}
exprlist(A) ::= expr(X).             { A = ast_list_new(ctx, X); }
exprlist(A) ::= exprlist(L) COMMA expr(X).
                                     { A = ast_list_add(ctx, L, X); }

expr(A) ::= colref(X).               { A = X; }
expr(A) ::= TIMESTAMP(X).            { A = ast_column_new(ctx, (Token){NULL, 0}, X); }
expr(A) ::= LP expr(X) RP.           { A = X; }

/* literals */
expr(A) ::= number(X).               { A = ast_lit_number_new(ctx, X); }
expr(A) ::= STRING(X).               { A = ast_lit_string_new(ctx, X); }
expr(A) ::= NULL(X).                 { A = ast_lit_null_new(ctx, X); }
expr(A) ::= TRUE(X).                 { A = ast_lit_bool_new(ctx, X, 1); }
expr(A) ::= FALSE(X).                { A = ast_lit_bool_new(ctx, X, 0); }
expr(A) ::= interval(X).             { A = X; }
expr(A) ::= TIMESTAMP(K) STRING(V).  { A = ast_lit_timestamp_new(ctx, K, V); }

interval(A) ::= INTERVAL(K) STRING(V) unit(U).
                                     { A = ast_lit_interval_new(ctx, K, V, U); }
interval(A) ::= INTERVAL(K) number(V) unit(U).
                                     { A = ast_lit_interval_new(ctx, K, V, U); }
interval(A) ::= INTERVAL(K) STRING(V).
                                     { A = ast_lit_interval_new(ctx, K, V, (Token){NULL, 0}); }

/* operators */
expr(A) ::= expr(X) OR(O) expr(Y).      { A = ast_binary_new(ctx, O, BOP_OR, X, Y); }
expr(A) ::= expr(X) AND(O) expr(Y).     { A = ast_binary_new(ctx, O, BOP_AND, X, Y); }
expr(A) ::= NOT(O) expr(X).             { A = ast_unary_new(ctx, O, UOP_NOT, X); }
expr(A) ::= expr(X) EQ(O) expr(Y).      { A = ast_binary_new(ctx, O, BOP_EQ, X, Y); }
expr(A) ::= expr(X) NE(O) expr(Y).      { A = ast_binary_new(ctx, O, BOP_NE, X, Y); }
expr(A) ::= expr(X) LT(O) expr(Y).      { A = ast_binary_new(ctx, O, BOP_LT, X, Y); }
expr(A) ::= expr(X) LE(O) expr(Y).      { A = ast_binary_new(ctx, O, BOP_LE, X, Y); }
expr(A) ::= expr(X) GT(O) expr(Y).      { A = ast_binary_new(ctx, O, BOP_GT, X, Y); }
expr(A) ::= expr(X) GE(O) expr(Y).      { A = ast_binary_new(ctx, O, BOP_GE, X, Y); }
expr(A) ::= expr(X) CONCAT(O) expr(Y).  { A = ast_binary_new(ctx, O, BOP_CONCAT, X, Y); }
expr(A) ::= expr(X) PLUS(O) expr(Y).    { A = ast_binary_new(ctx, O, BOP_ADD, X, Y); }
expr(A) ::= expr(X) MINUS(O) expr(Y).   { A = ast_binary_new(ctx, O, BOP_SUB, X, Y); }
expr(A) ::= expr(X) STAR(O) expr(Y).    { A = ast_binary_new(ctx, O, BOP_MUL, X, Y); }
expr(A) ::= expr(X) SLASH(O) expr(Y).   { A = ast_binary_new(ctx, O, BOP_DIV, X, Y); }
expr(A) ::= expr(X) REM(O) expr(Y).     { A = ast_binary_new(ctx, O, BOP_MOD, X, Y); }
expr(A) ::= MINUS(O) expr(X). [UMINUS] { A = ast_unary_new(ctx, O, UOP_NEG, X); }
expr(A) ::= PLUS(O) expr(X). [UMINUS]  { A = ast_unary_new(ctx, O, UOP_PLUS, X); }
expr(A) ::= expr(X) DCOLON(O) typename(T).
                                        { A = ast_cast_new(ctx, O, X, T); }
expr(A) ::= CAST(K) LP expr(X) AS typename(T) RP.
                                        { A = ast_cast_new(ctx, K, X, T); }

/* predicates */
expr(A) ::= expr(X) IS(K) NULL.         { A = ast_is_null_new(ctx, K, X, 0); }
expr(A) ::= expr(X) IS(K) NOT NULL.     { A = ast_is_null_new(ctx, K, X, 1); }
expr(A) ::= expr(X) BETWEEN(K) expr(L) AND expr(H). [BETWEEN]
                                        { A = ast_between_new(ctx, K, X, L, H, 0); }
expr(A) ::= expr(X) NOT(K) BETWEEN expr(L) AND expr(H). [BETWEEN]
                                        { A = ast_between_new(ctx, K, X, L, H, 1); }
expr(A) ::= expr(X) IN(K) LP exprlist(L) RP. [IN]
                                        { A = ast_in_list_new(ctx, K, X, L, 0); }
expr(A) ::= expr(X) NOT(K) IN LP exprlist(L) RP. [IN]
                                        { A = ast_in_list_new(ctx, K, X, L, 1); }
expr(A) ::= expr(X) LIKE(K) expr(P). [LIKE]
                                        { A = ast_like_new(ctx, K, LIKE_LIKE, X, P, NULL, 0); }
expr(A) ::= expr(X) LIKE(K) expr(P) ESCAPE expr(E). [LIKE]
                                        { A = ast_like_new(ctx, K, LIKE_LIKE, X, P, E, 0); }
expr(A) ::= expr(X) NOT(K) LIKE expr(P). [LIKE]
                                        { A = ast_like_new(ctx, K, LIKE_LIKE, X, P, NULL, 1); }
expr(A) ::= expr(X) NOT(K) LIKE expr(P) ESCAPE expr(E). [LIKE]
                                        { A = ast_like_new(ctx, K, LIKE_LIKE, X, P, E, 1); }
expr(A) ::= expr(X) SIMILAR(K) TO expr(P). [LIKE]
                                        { A = ast_like_new(ctx, K, LIKE_SIMILAR, X, P, NULL, 0); }
expr(A) ::= expr(X) SIMILAR(K) TO expr(P) ESCAPE expr(E). [LIKE]
                                        { A = ast_like_new(ctx, K, LIKE_SIMILAR, X, P, E, 0); }
expr(A) ::= expr(X) NOT(K) SIMILAR TO expr(P). [LIKE]
                                        { A = ast_like_new(ctx, K, LIKE_SIMILAR, X, P, NULL, 1); }
expr(A) ::= expr(X) NOT(K) SIMILAR TO expr(P) ESCAPE expr(E). [LIKE]
                                        { A = ast_like_new(ctx, K, LIKE_SIMILAR, X, P, E, 1); }

/* CASE [operand] WHEN … THEN … [ELSE …] END */
expr(A) ::= CASE(K) caseoperand(O) whens(W) caseelse(E) END.
                                        { A = ast_case_new(ctx, K, O, W, E); }

caseoperand(A) ::= .                    { A = NULL; }
caseoperand(A) ::= expr(X).             { A = X; }

%type whens {AstList}
whens(A) ::= when(X).                   { A = ast_list_new(ctx, X); }
whens(A) ::= whens(L) when(X).          { A = ast_list_add(ctx, L, X); }

when(A) ::= WHEN(K) expr(C) THEN expr(R).
                                        { A = ast_when_new(ctx, K, C, R); }

caseelse(A) ::= .                       { A = NULL; }
caseelse(A) ::= ELSE expr(X).           { A = X; }

/* function calls: f(), f(x, y), COUNT(*), COUNT(DISTINCT x), agg(x) FILTER (WHERE c) */
expr(A) ::= nm(N) LP RP filter(F).      { A = ast_func_new(ctx, N, ast_list_empty(), 0, 0, F); }
expr(A) ::= nm(N) LP STAR RP filter(F). { A = ast_func_new(ctx, N, ast_list_empty(), 1, 0, F); }
expr(A) ::= nm(N) LP exprlist(L) RP filter(F).
                                        { A = ast_func_new(ctx, N, L, 0, 0, F); }
expr(A) ::= nm(N) LP DISTINCT exprlist(L) RP filter(F).
                                        { A = ast_func_new(ctx, N, L, 0, 1, F); }

filter(A) ::= .                         { A = NULL; }
filter(A) ::= FILTER LP WHERE expr(X) RP.
                                        { A = X; }

/* the standard's keyword-argument forms, mapped to ordinary calls:
 * EXTRACT(f FROM x), SUBSTRING(s FROM a [FOR b]), TRIM([spec] [c] FROM s),
 * POSITION(a IN b) */
expr(A) ::= nm(N) LP expr(X) FROM(K) expr(Y) RP.
                                        { A = ast_func_from_new(ctx, N, K, X, Y, NULL); }
expr(A) ::= nm(N) LP expr(X) FROM(K) expr(Y) FOR expr(Z) RP.
                                        { A = ast_func_from_new(ctx, N, K, X, Y, Z); }
expr(A) ::= nm(N) LP trimspec(S) FROM expr(Y) RP.
                                        { A = ast_func_trim_new(ctx, N, S, NULL, Y); }
expr(A) ::= nm(N) LP trimspec(S) expr(X) FROM expr(Y) RP.
                                        { A = ast_func_trim_new(ctx, N, S, X, Y); }
expr(A) ::= nm(N) LP expr(X) IN(K) posarg(Y) RP.
                                        { A = ast_func_position_new(ctx, N, K, X, Y); }

%type trimspec {TrimSpec}
trimspec(A) ::= BOTH.                   { A = TRIM_BOTH; }
trimspec(A) ::= LEADING.                { A = TRIM_LEADING; }
trimspec(A) ::= TRAILING.               { A = TRIM_TRAILING; }

/* POSITION(a IN b): b is a name, a string or a call; POSITION(a IN (b)) is
 * read as a one-element IN list and turned into the same call by the builder */
posarg(A) ::= colref(X).                { A = X; }
posarg(A) ::= STRING(X).                { A = ast_lit_string_new(ctx, X); }
posarg(A) ::= nm(N) LP exprlist(L) RP.  { A = ast_func_new(ctx, N, L, 0, 0, NULL); }

/* ---- support for the driver (appended to the generated parser) --------------- */

%code {
/* Would the parser accept each terminal next? out[t] (t < sqlParserTokenCount())
 * becomes 1 if t would be shifted as itself, 2 if only as an ID through
 * %fallback, 0 if t is a syntax error here. Each lookahead is simulated on a
 * copy of the state stack, reductions included, so the answer is exact even
 * where the tables use default reductions. */
void sqlParserExpected(void *p, unsigned char *out)
{
    yyParser     *pp = (yyParser *)p;
    int           depth = (int)(pp->yytos - pp->yystack) + 1;
    enum { CAP = YYSTACKDEPTH + 64 };
    YYACTIONTYPE  st[CAP];

    for (int t = 0; t < YYNTOKEN; t++) {
        int top = depth - 1;
        out[t] = 0;
        for (int i = 0; i < depth; i++) st[i] = pp->yystack[i].stateno;
        for (int steps = 0; steps < 10 * CAP; steps++) {
            YYACTIONTYPE act = yy_find_shift_action((YYCODETYPE)t, st[top]);
            if (act >= YY_MIN_REDUCE) {
                unsigned rule = act - YY_MIN_REDUCE;
                top += yyRuleInfoNRhs[rule];
                if (top < 0 || top + 1 >= CAP) break;
                st[top + 1] = yy_find_reduce_action(st[top], yyRuleInfoLhs[rule]);
                top++;
                continue;
            }
            if (act <= YY_MAX_SHIFTREDUCE) {
                int s = st[top];
                out[t] = yy_lookahead[yy_shift_ofst[s] + t] == t ? 1 : 2;
            } else if (act == YY_ACCEPT_ACTION) {
                out[t] = 1;
            }
            break;
        }
    }
}

int sqlParserTokenCount(void)
{
    return YYNTOKEN;
}

/* Back to the initial state, as if freshly allocated. */
void sqlParserReset(void *p, ParseCtx *ctx)
{
    sqlParserFinalize(p);
    sqlParserInit(p, ctx);
}
}
