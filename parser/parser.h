/*
 * parser.h — the parser's public contract: SQL text in, AST statements out.
 *
 * The parser knows nothing of plans, catalogs or execution. It turns text into
 * a list of statements (AST, see ast.h) and reports lexical and syntax errors
 * as values with a byte offset; formatting "line L, column C" with the source
 * line and a caret happens only when an error is shown (sql_error_format).
 *
 * Ownership: sql_parse() returns a SqlParse that owns every node, string and
 * error it holds (one arena); sql_parse_free() releases all of it. Node
 * strings are NUL-terminated copies, so the input text may be freed after
 * parsing; offsets still refer to the original text.
 */
#ifndef SLUICE_PARSER_H
#define SLUICE_PARSER_H

#include <stddef.h>

#include "parser/ast.h"

/* No statement tree is deeper than this many nodes (counting the statement):
 * deeper input is an error, so code that walks a tree recursively needs no
 * guard of its own. */
#define SQL_MAX_DEPTH 1000

typedef struct SqlError {
    int  loc;        /* byte offset into the parsed text, -1 when unknown */
    char msg[512];   /* what was wrong, without position */
} SqlError;

typedef struct SqlParse {
    AstNode  **stmts;    /* the statements that parsed, in input order     */
    int       *stmt_end; /* stmt_end[i]: byte offset just past statement i  */
                         /* (before its ';'); stmts[i]->loc is its start    */
    int        nstmts;
    SqlError  *errors;   /* lexical/syntax errors, in input order; after an */
    int        nerrors;  /* error parsing resumes after the next ';'        */
    struct SqlParseArena *arena; /* private */
} SqlParse;

/* Parse every ';'-separated statement of text[0..len). Returns NULL only when
 * out of memory. Empty statements (";;") are skipped. */
SqlParse *sql_parse(const char *text, size_t len);
void      sql_parse_free(SqlParse *p);

/* Fill *err with loc and a printf-style message; returns -1 (so callers can
 * `return sql_errorf(err, loc, "…", …);`). */
int sql_errorf(SqlError *err, int loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Line and column (both 1-based, column counted in bytes) of byte offset loc. */
void sql_line_col(const char *text, size_t len, int loc, int *line, int *col);

/* "line L, column C: MSG\n<the source line>\n<spaces>^" into buf (always
 * NUL-terminated, truncated to cap). loc < 0 gives just MSG. Returns the
 * length written. */
size_t sql_error_format(const char *text, size_t len, int loc, const char *msg,
                        char *buf, size_t cap);

/* Does text end a statement: a ';' outside strings, quoted identifiers and
 * comments, followed by nothing but blanks and comments? Used by the shell to
 * decide when a multi-line statement is complete. */
int sql_is_complete(const char *text, size_t len);

#endif
