/*
 * lexer.re — the sluice SQL tokenizer (re2c).
 *
 * sql_lex() scans one token at a time from a (pointer, end) slice: the input
 * need not be NUL-terminated, and a NUL byte inside it is just a stray
 * character. The generated DFA reads bytes through YYPEEK, which returns 0
 * at the end, and re2c's end-of-input rule ($) checks the bound whenever it
 * sees that 0, so the scanner never reads past `end`.
 *
 * Keywords are matched case-insensitively by the DFA ('select' in re2c
 * syntax); a word that is longer than a keyword ("selects") is an ID because
 * re2c takes the longest match. The keyword table at the end of the file
 * gives each keyword code its spelling, for messages and for the printer;
 * test_parser.c checks that table and these rules agree.
 *
 * Comments and blanks come back as TK_SPACE; the driver skips them.
 * Identifiers, strings and numbers come back as slices; unquoting, case
 * folding and number conversion happen in the builders (ast_build.c).
 */
#include <string.h>

#include "parser/ast_build.h"
#include "parser/grammar.h"

int sql_lex(const char *zIn, const char *endIn, int *len, LexError *err)
{
    const unsigned char *cur = (const unsigned char *)zIn;
    const unsigned char *end = (const unsigned char *)endIn;
    const unsigned char *start = cur, *mar = cur;
    int tk;

    *err = LEX_OK;
    (void)mar;
    /*!re2c
    re2c:api = custom;
    re2c:api:style = free-form;
    re2c:define:YYCTYPE = "unsigned char";
    re2c:define:YYPEEK = "(cur < end ? *cur : 0)";
    re2c:define:YYSKIP = "++cur;";
    re2c:define:YYBACKUP = "mar = cur;";
    re2c:define:YYRESTORE = "cur = mar;";
    re2c:define:YYLESSTHAN = "(end - cur) < @@{len}";
    re2c:yyfill:enable = 0;
    re2c:eof = 0;

    identstart = [a-zA-Z_\x80-\xff];
    identchar  = [a-zA-Z0-9_$\x80-\xff];
    digits     = [0-9]+;
    exponent   = [eE] [+-]? digits;
    decimal    = digits "." [0-9]* | "." digits;
    blank      = [ \t\n\r\f\v];

    $                               { *len = 0; return 0; }

    blank+                          { tk = TK_SPACE; goto done; }
    "--" [^\n]*                     { tk = TK_SPACE; goto done; }
    "/*" ([^*] | "*"+ [^*/])* "*"+ "/"
                                    { tk = TK_SPACE; goto done; }
    "/*" ([^*] | "*"+ [^*/])* "*"*  { *err = LEX_UNTERMINATED_COMMENT; tk = TK_ILLEGAL; goto done; }

    ['] ([^'] | ['][']) * [']       { tk = TK_STRING; goto done; }
    ['] ([^'] | ['][']) *           { *err = LEX_UNTERMINATED_STRING; tk = TK_ILLEGAL; goto done; }

    ["] ([^"] | ["]["]) * ["]       { tk = TK_ID; goto quoted; }
    ["] ([^"] | ["]["]) *           { *err = LEX_UNTERMINATED_IDENT; tk = TK_ILLEGAL; goto done; }
    [`] ([^`] | [`][`]) * [`]       { tk = TK_ID; goto quoted; }
    [`] ([^`] | [`][`]) *           { *err = LEX_UNTERMINATED_IDENT; tk = TK_ILLEGAL; goto done; }

    digits                          { tk = TK_INTEGER; goto done; }
    decimal | decimal exponent | digits exponent
                                    { tk = TK_FLOAT; goto done; }
    (digits | decimal | decimal exponent | digits exponent) identchar+
                                    { *err = LEX_BAD_NUMBER; tk = TK_ILLEGAL; goto done; }

    "||"  { tk = TK_CONCAT; goto done; }
    "::"  { tk = TK_DCOLON; goto done; }
    "<>"  { tk = TK_NE; goto done; }
    "!="  { tk = TK_NE; goto done; }
    "<="  { tk = TK_LE; goto done; }
    ">="  { tk = TK_GE; goto done; }
    "<"   { tk = TK_LT; goto done; }
    ">"   { tk = TK_GT; goto done; }
    "="   { tk = TK_EQ; goto done; }
    "+"   { tk = TK_PLUS; goto done; }
    "-"   { tk = TK_MINUS; goto done; }
    "*"   { tk = TK_STAR; goto done; }
    "/"   { tk = TK_SLASH; goto done; }
    "%"   { tk = TK_REM; goto done; }
    "("   { tk = TK_LP; goto done; }
    ")"   { tk = TK_RP; goto done; }
    ","   { tk = TK_COMMA; goto done; }
    "."   { tk = TK_DOT; goto done; }
    ";"   { tk = TK_SEMI; goto done; }

    'all'           { tk = TK_ALL; goto done; }
    'analyze'       { tk = TK_ANALYZE; goto done; }
    'and'           { tk = TK_AND; goto done; }
    'as'            { tk = TK_AS; goto done; }
    'between'       { tk = TK_BETWEEN; goto done; }
    'bigint'        { tk = TK_T_BIGINT; goto done; }
    'boolean'       { tk = TK_T_BOOLEAN; goto done; }
    'both'          { tk = TK_BOTH; goto done; }
    'by'            { tk = TK_BY; goto done; }
    'case'          { tk = TK_CASE; goto done; }
    'cast'          { tk = TK_CAST; goto done; }
    'changes'       { tk = TK_CHANGES; goto done; }
    'create'        { tk = TK_CREATE; goto done; }
    'cross'         { tk = TK_CROSS; goto done; }
    'day'           { tk = TK_DAY; goto done; }
    'days'          { tk = TK_DAYS; goto done; }
    'desc'          { tk = TK_DESC; goto done; }
    'describe'      { tk = TK_DESCRIBE; goto done; }
    'descriptor'    { tk = TK_DESCRIPTOR; goto done; }
    'distinct'      { tk = TK_DISTINCT; goto done; }
    'double'        { tk = TK_T_DOUBLE; goto done; }
    'drop'          { tk = TK_DROP; goto done; }
    'else'          { tk = TK_ELSE; goto done; }
    'emit'          { tk = TK_EMIT; goto done; }
    'end'           { tk = TK_END; goto done; }
    'escape'        { tk = TK_ESCAPE; goto done; }
    'exists'        { tk = TK_EXISTS; goto done; }
    'explain'       { tk = TK_EXPLAIN; goto done; }
    'false'         { tk = TK_FALSE; goto done; }
    'filter'        { tk = TK_FILTER; goto done; }
    'final'         { tk = TK_FINAL; goto done; }
    'float'         { tk = TK_T_FLOAT; goto done; }
    'for'           { tk = TK_FOR; goto done; }
    'format'        { tk = TK_FORMAT; goto done; }
    'from'          { tk = TK_FROM; goto done; }
    'full'          { tk = TK_FULL; goto done; }
    'group'         { tk = TK_GROUP; goto done; }
    'having'        { tk = TK_HAVING; goto done; }
    'hour'          { tk = TK_HOUR; goto done; }
    'hours'         { tk = TK_HOURS; goto done; }
    'if'            { tk = TK_IF; goto done; }
    'in'            { tk = TK_IN; goto done; }
    'inner'         { tk = TK_INNER; goto done; }
    'insert'        { tk = TK_INSERT; goto done; }
    'int'           { tk = TK_T_INT; goto done; }
    'integer'       { tk = TK_T_INTEGER; goto done; }
    'interval'      { tk = TK_INTERVAL; goto done; }
    'into'          { tk = TK_INTO; goto done; }
    'is'            { tk = TK_IS; goto done; }
    'join'          { tk = TK_JOIN; goto done; }
    'json'          { tk = TK_JSON; goto done; }
    'leading'       { tk = TK_LEADING; goto done; }
    'left'          { tk = TK_LEFT; goto done; }
    'like'          { tk = TK_LIKE; goto done; }
    'limit'         { tk = TK_LIMIT; goto done; }
    'microsecond'   { tk = TK_MICROSECOND; goto done; }
    'microseconds'  { tk = TK_MICROSECONDS; goto done; }
    'millisecond'   { tk = TK_MILLISECOND; goto done; }
    'milliseconds'  { tk = TK_MILLISECONDS; goto done; }
    'minute'        { tk = TK_MINUTE; goto done; }
    'minutes'       { tk = TK_MINUTES; goto done; }
    'not'           { tk = TK_NOT; goto done; }
    'null'          { tk = TK_NULL; goto done; }
    'on'            { tk = TK_ON; goto done; }
    'or'            { tk = TK_OR; goto done; }
    'outer'         { tk = TK_OUTER; goto done; }
    'partition'     { tk = TK_PARTITION; goto done; }
    'precision'     { tk = TK_PRECISION; goto done; }
    'queries'       { tk = TK_QUERIES; goto done; }
    'query'         { tk = TK_QUERY; goto done; }
    'real'          { tk = TK_T_REAL; goto done; }
    'reset'         { tk = TK_RESET; goto done; }
    'right'         { tk = TK_RIGHT; goto done; }
    'second'        { tk = TK_SECOND; goto done; }
    'seconds'       { tk = TK_SECONDS; goto done; }
    'select'        { tk = TK_SELECT; goto done; }
    'set'           { tk = TK_SET; goto done; }
    'show'          { tk = TK_SHOW; goto done; }
    'similar'       { tk = TK_SIMILAR; goto done; }
    'sink'          { tk = TK_SINK; goto done; }
    'sinks'         { tk = TK_SINKS; goto done; }
    'source'        { tk = TK_SOURCE; goto done; }
    'sources'       { tk = TK_SOURCES; goto done; }
    'stop'          { tk = TK_STOP; goto done; }
    'stream'        { tk = TK_STREAM; goto done; }
    'streams'       { tk = TK_STREAMS; goto done; }
    'string'        { tk = TK_T_STRING; goto done; }
    'table'         { tk = TK_TABLE; goto done; }
    'tables'        { tk = TK_TABLES; goto done; }
    'text'          { tk = TK_T_TEXT; goto done; }
    'then'          { tk = TK_THEN; goto done; }
    'timestamp'     { tk = TK_TIMESTAMP; goto done; }
    'to'            { tk = TK_TO; goto done; }
    'trailing'      { tk = TK_TRAILING; goto done; }
    'true'          { tk = TK_TRUE; goto done; }
    'varchar'       { tk = TK_T_VARCHAR; goto done; }
    'view'          { tk = TK_VIEW; goto done; }
    'views'         { tk = TK_VIEWS; goto done; }
    'watermark'     { tk = TK_WATERMARK; goto done; }
    'when'          { tk = TK_WHEN; goto done; }
    'where'         { tk = TK_WHERE; goto done; }
    'with'          { tk = TK_WITH; goto done; }

    identstart identchar*           { tk = TK_ID; goto done; }

    *                               { *err = LEX_BAD_CHAR; tk = TK_ILLEGAL; goto done; }
    */

quoted:
    if (cur - start == 2) {   /* "" or `` : an identifier needs a name */
        *err = LEX_EMPTY_IDENT;
        tk = TK_ILLEGAL;
    }
done:
    *len = (int)(cur - start);
    return tk;
}

/* ---- keyword table ----------------------------------------------------------- */

/* The spelling of every keyword code: the re2c rules above and this table
 * must list the same words (test_parser.c checks both directions). */
static const char *const keyword_spelling[TK_ILLEGAL + 1] = {
    [TK_ALL]           = "ALL",
    [TK_ANALYZE]       = "ANALYZE",
    [TK_AND]           = "AND",
    [TK_AS]            = "AS",
    [TK_BETWEEN]       = "BETWEEN",
    [TK_T_BIGINT]      = "BIGINT",
    [TK_T_BOOLEAN]     = "BOOLEAN",
    [TK_BOTH]          = "BOTH",
    [TK_BY]            = "BY",
    [TK_CASE]          = "CASE",
    [TK_CAST]          = "CAST",
    [TK_CHANGES]       = "CHANGES",
    [TK_CREATE]        = "CREATE",
    [TK_CROSS]         = "CROSS",
    [TK_DAY]           = "DAY",
    [TK_DAYS]          = "DAYS",
    [TK_DESC]          = "DESC",
    [TK_DESCRIBE]      = "DESCRIBE",
    [TK_DESCRIPTOR]    = "DESCRIPTOR",
    [TK_DISTINCT]      = "DISTINCT",
    [TK_T_DOUBLE]      = "DOUBLE",
    [TK_DROP]          = "DROP",
    [TK_ELSE]          = "ELSE",
    [TK_EMIT]          = "EMIT",
    [TK_END]           = "END",
    [TK_ESCAPE]        = "ESCAPE",
    [TK_EXISTS]        = "EXISTS",
    [TK_EXPLAIN]       = "EXPLAIN",
    [TK_FALSE]         = "FALSE",
    [TK_FILTER]        = "FILTER",
    [TK_FINAL]         = "FINAL",
    [TK_T_FLOAT]       = "FLOAT",
    [TK_FOR]           = "FOR",
    [TK_FORMAT]        = "FORMAT",
    [TK_FROM]          = "FROM",
    [TK_FULL]          = "FULL",
    [TK_GROUP]         = "GROUP",
    [TK_HAVING]        = "HAVING",
    [TK_HOUR]          = "HOUR",
    [TK_HOURS]         = "HOURS",
    [TK_IF]            = "IF",
    [TK_IN]            = "IN",
    [TK_INNER]         = "INNER",
    [TK_INSERT]        = "INSERT",
    [TK_T_INT]         = "INT",
    [TK_T_INTEGER]     = "INTEGER",
    [TK_INTERVAL]      = "INTERVAL",
    [TK_INTO]          = "INTO",
    [TK_IS]            = "IS",
    [TK_JOIN]          = "JOIN",
    [TK_JSON]          = "JSON",
    [TK_LEADING]       = "LEADING",
    [TK_LEFT]          = "LEFT",
    [TK_LIKE]          = "LIKE",
    [TK_LIMIT]         = "LIMIT",
    [TK_MICROSECOND]   = "MICROSECOND",
    [TK_MICROSECONDS]  = "MICROSECONDS",
    [TK_MILLISECOND]   = "MILLISECOND",
    [TK_MILLISECONDS]  = "MILLISECONDS",
    [TK_MINUTE]        = "MINUTE",
    [TK_MINUTES]       = "MINUTES",
    [TK_NOT]           = "NOT",
    [TK_NULL]          = "NULL",
    [TK_ON]            = "ON",
    [TK_OR]            = "OR",
    [TK_OUTER]         = "OUTER",
    [TK_PARTITION]     = "PARTITION",
    [TK_PRECISION]     = "PRECISION",
    [TK_QUERIES]       = "QUERIES",
    [TK_QUERY]         = "QUERY",
    [TK_T_REAL]        = "REAL",
    [TK_RESET]         = "RESET",
    [TK_RIGHT]         = "RIGHT",
    [TK_SECOND]        = "SECOND",
    [TK_SECONDS]       = "SECONDS",
    [TK_SELECT]        = "SELECT",
    [TK_SET]           = "SET",
    [TK_SHOW]          = "SHOW",
    [TK_SIMILAR]       = "SIMILAR",
    [TK_SINK]          = "SINK",
    [TK_SINKS]         = "SINKS",
    [TK_SOURCE]        = "SOURCE",
    [TK_SOURCES]       = "SOURCES",
    [TK_STOP]          = "STOP",
    [TK_STREAM]        = "STREAM",
    [TK_STREAMS]       = "STREAMS",
    [TK_T_STRING]      = "STRING",
    [TK_TABLE]         = "TABLE",
    [TK_TABLES]        = "TABLES",
    [TK_T_TEXT]        = "TEXT",
    [TK_THEN]          = "THEN",
    [TK_TIMESTAMP]     = "TIMESTAMP",
    [TK_TO]            = "TO",
    [TK_TRAILING]      = "TRAILING",
    [TK_TRUE]          = "TRUE",
    [TK_T_VARCHAR]     = "VARCHAR",
    [TK_VIEW]          = "VIEW",
    [TK_VIEWS]         = "VIEWS",
    [TK_WATERMARK]     = "WATERMARK",
    [TK_WHEN]          = "WHEN",
    [TK_WHERE]         = "WHERE",
    [TK_WITH]          = "WITH",
};

const char *sql_keyword_spelling(int code)
{
    if (code <= 0 || code > TK_ILLEGAL) return NULL;
    return keyword_spelling[code];
}

int sql_keyword_code(const char *z, int n)
{
    LexError err;
    int      len;
    if (n <= 0) return 0;
    int code = sql_lex(z, z + n, &len, &err);
    if (len != n || sql_keyword_spelling(code) == NULL) return 0;
    return code;
}

int sql_keyword_is_reserved(int code)
{
    return sql_keyword_spelling(code) != NULL && sqlParserFallback(code) == 0;
}
