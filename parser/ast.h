/*
 * ast.h — the abstract syntax tree of sluice SQL.
 *
 * Every node starts with an AstNode header: a tag and the byte offset of the
 * node in the statement text (-1 when unknown). Nodes are plain structs
 * allocated in the SqlParse arena (see parser.h); nothing here is freed on
 * its own. Downcast with AST_AS(Type, node) after checking IS_A(node, TAG).
 *
 * Names: unquoted identifiers are folded to lower case; "quoted" identifiers
 * keep their exact spelling. Function names are lower case. Strings are
 * NUL-terminated copies (escapes resolved).
 *
 * The tree is what the user wrote, with spellings normalized where they mean
 * the same thing: INT/INTEGER/BIGINT are one type; CREATE SOURCE/TABLE are
 * CREATE STREAM; TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), …)) and TUMBLE(s, ts, …)
 * are one AstWindowTvf; EXTRACT(f FROM x), SUBSTRING(s FROM a FOR b),
 * TRIM(LEADING c FROM s) and POSITION(a IN b) are AstFunc calls. Group-window
 * spellings (GROUP BY TUMBLE(ts, …), window(ts, '10 seconds'),
 * TUMBLE_START(…), window.start) stay function calls and column references:
 * mapping them to one plan is the planner's job, not the parser's.
 */
#ifndef SLUICE_PARSER_AST_H
#define SLUICE_PARSER_AST_H

#include <stdint.h>

typedef enum AstTag {
    /* statements */
    AST_CREATE_STREAM,
    AST_CREATE_SINK,
    AST_CREATE_VIEW,
    AST_INSERT,
    AST_SELECT,
    AST_EXPLAIN,
    AST_SHOW,
    AST_DESCRIBE,
    AST_DROP,
    AST_STOP_QUERY,
    AST_SET,
    AST_RESET,
    /* pieces of statements */
    AST_COLUMN_DEF,
    AST_WATERMARK,
    AST_OPTION,
    AST_SELECT_ITEM,
    AST_WHEN,
    /* FROM items */
    AST_TABLE_REF,
    AST_SUBQUERY,
    AST_WINDOW_TVF,
    AST_JOIN,
    /* expressions */
    AST_LITERAL,
    AST_COLUMN_REF,
    AST_STAR,
    AST_UNARY,
    AST_BINARY,
    AST_FUNC,
    AST_CASE,
    AST_CAST,
    AST_IS_NULL,
    AST_BETWEEN,
    AST_IN_LIST,
    AST_LIKE,
    AST_TAG_COUNT
} AstTag;

typedef struct AstNode {
    AstTag tag;   /* which struct this header starts     */
    int    loc;   /* byte offset in the text, -1 unknown */
} AstNode;

#define IS_A(n, T)        ((n) != NULL && ((const AstNode *)(n))->tag == (T))
#define AST_AS(Type, n)   ((Type *)(n))

typedef struct AstList {
    AstNode **items;   /* arena-owned array */
    int       n;
} AstList;

/* ---- types ----------------------------------------------------------------- */

typedef enum AstTypeName {
    AST_TYPE_BOOLEAN,
    AST_TYPE_BIGINT,     /* INT, INTEGER, BIGINT: all 64-bit */
    AST_TYPE_DOUBLE,     /* DOUBLE [PRECISION], FLOAT, REAL   */
    AST_TYPE_VARCHAR,    /* VARCHAR[(n)], STRING, TEXT        */
    AST_TYPE_TIMESTAMP,  /* TIMESTAMP[(p)]                    */
    AST_TYPE_INTERVAL
} AstTypeName;

typedef struct AstType {
    AstTypeName name;
    int         param;   /* TIMESTAMP(3) → 3, VARCHAR(20) → 20, -1 none */
} AstType;

/* ---- expressions ----------------------------------------------------------- */

typedef enum AstLiteralKind {
    LIT_NULL,
    LIT_BOOL,        /* ival 0/1                                       */
    LIT_INT,         /* ival; an integer too big for int64 is LIT_DOUBLE */
    LIT_DOUBLE,      /* dval; text keeps the spelling ("1.50", "1e3")  */
    LIT_STRING,      /* text                                           */
    LIT_INTERVAL,    /* ival = microseconds; text = the quoted value,  */
                     /* unit = the unit as written, upper case         */
    LIT_TIMESTAMP    /* TIMESTAMP '…': text, checked by the binder     */
} AstLiteralKind;

typedef struct AstLiteral {
    AstNode        hdr;
    AstLiteralKind kind;
    int64_t        ival;
    double         dval;
    const char    *text;   /* NULL for NULL/BOOL/INT */
    const char    *unit;   /* LIT_INTERVAL only: "SECOND", "MINUTE", … */
} AstLiteral;

typedef struct AstColumnRef {
    AstNode     hdr;
    const char *qualifier;   /* "logs" in logs.user_id, "window" in window.start; NULL if none */
    const char *name;
} AstColumnRef;

typedef struct AstStar {
    AstNode     hdr;
    const char *qualifier;   /* t.* → "t"; NULL for * */
} AstStar;

typedef enum AstUnaryOp { UOP_NEG, UOP_PLUS, UOP_NOT } AstUnaryOp;

typedef struct AstUnary {
    AstNode    hdr;
    AstUnaryOp op;
    AstNode   *arg;
} AstUnary;

typedef enum AstBinaryOp {
    BOP_ADD, BOP_SUB, BOP_MUL, BOP_DIV, BOP_MOD, BOP_CONCAT,
    BOP_EQ, BOP_NE, BOP_LT, BOP_LE, BOP_GT, BOP_GE,
    BOP_AND, BOP_OR
} AstBinaryOp;

typedef struct AstBinary {
    AstNode     hdr;
    AstBinaryOp op;
    AstNode    *left;
    AstNode    *right;
} AstBinary;

typedef struct AstFunc {
    AstNode     hdr;
    const char *name;       /* lower case: "count", "tumble_start", "window" */
    AstList     args;       /* expressions                                    */
    int         star;       /* COUNT(*)                                       */
    int         distinct;   /* COUNT(DISTINCT x)                              */
    AstNode    *filter;     /* agg(x) FILTER (WHERE cond), else NULL          */
} AstFunc;

typedef struct AstWhen {
    AstNode  hdr;
    AstNode *cond;     /* WHEN cond (or value, for CASE x WHEN value) */
    AstNode *result;   /* THEN result                                  */
} AstWhen;

typedef struct AstCase {
    AstNode  hdr;
    AstNode *operand;   /* CASE operand WHEN …; NULL for searched CASE */
    AstList  whens;     /* AstWhen                                      */
    AstNode *else_;     /* NULL when absent                             */
} AstCase;

typedef struct AstCast {
    AstNode  hdr;
    AstNode *arg;
    AstType  type;      /* CAST(x AS type) and x::type */
} AstCast;

typedef struct AstIsNull {
    AstNode  hdr;
    AstNode *arg;
    int      negated;   /* IS NOT NULL */
} AstIsNull;

typedef struct AstBetween {
    AstNode  hdr;
    AstNode *arg, *lo, *hi;
    int      negated;
} AstBetween;

typedef struct AstInList {
    AstNode  hdr;
    AstNode *arg;
    AstList  list;
    int      negated;
} AstInList;

typedef enum AstLikeKind { LIKE_LIKE, LIKE_SIMILAR } AstLikeKind;

typedef struct AstLike {
    AstNode     hdr;
    AstLikeKind kind;      /* LIKE or SIMILAR TO   */
    AstNode    *arg;
    AstNode    *pattern;
    AstNode    *escape;    /* ESCAPE 'c', or NULL  */
    int         negated;
} AstLike;

/* ---- FROM items ------------------------------------------------------------ */

typedef struct AstTableRef {
    AstNode     hdr;
    const char *name;    /* stream or view name */
    const char *alias;   /* NULL if none        */
} AstTableRef;

struct AstSelect;

typedef struct AstSubquery {
    AstNode           hdr;
    struct AstSelect *query;
    const char       *alias;
} AstSubquery;

typedef enum AstWindowKind { WIN_TUMBLE, WIN_HOP, WIN_SESSION, WIN_CUMULATE } AstWindowKind;

typedef struct AstWindowTvf {
    AstNode       hdr;
    AstWindowKind kind;
    AstNode      *source;       /* AstTableRef or AstSubquery                    */
    AstNode      *timecol;      /* AstColumnRef: the event-time column           */
    AstList       args;         /* TUMBLE: size; HOP: slide, size; SESSION: gap; */
                                /* CUMULATE: step, size (expressions, usually    */
                                /* interval literals)                            */
    AstList       partition_by; /* SESSION(TABLE s PARTITION BY k, …); else empty */
    const char   *alias;
} AstWindowTvf;

typedef enum AstJoinKind { JOIN_INNER, JOIN_LEFT, JOIN_RIGHT, JOIN_FULL, JOIN_CROSS } AstJoinKind;

typedef struct AstJoin {
    AstNode     hdr;
    AstJoinKind kind;
    AstNode    *left, *right;   /* FROM items                         */
    AstNode    *on;             /* NULL for CROSS (and for FROM a, b) */
} AstJoin;

/* ---- SELECT ---------------------------------------------------------------- */

typedef struct AstSelectItem {
    AstNode     hdr;
    AstNode    *expr;    /* an expression or AstStar */
    const char *alias;   /* AS alias, or NULL        */
} AstSelectItem;

typedef enum AstEmit { EMIT_DEFAULT, EMIT_CHANGES, EMIT_FINAL } AstEmit;

typedef struct AstSelect {
    AstNode  hdr;
    int      distinct;
    AstList  items;       /* AstSelectItem               */
    AstNode *from;        /* a FROM item, NULL if none   */
    AstNode *where;
    AstList  group_by;    /* expressions                 */
    AstNode *having;
    int64_t  limit;       /* -1 when absent              */
    AstEmit  emit;
} AstSelect;

/* ---- DDL and other statements ---------------------------------------------- */

typedef struct AstColumnDef {
    AstNode     hdr;
    const char *name;
    AstType     type;
} AstColumnDef;

typedef struct AstWatermark {
    AstNode     hdr;
    const char *column;   /* WATERMARK FOR column AS expr */
    AstNode    *expr;
} AstWatermark;

typedef struct AstOption {
    AstNode     hdr;
    const char *key;     /* connector, 'properties.bootstrap.servers', … (as text) */
    const char *value;   /* the value as text: 'kafka' → kafka, 2 → 2, true → true  */
    int         value_loc; /* byte offset of the value (the key is at hdr.loc)      */
} AstOption;

typedef enum AstStreamKw { STREAM_KW_STREAM, STREAM_KW_SOURCE, STREAM_KW_TABLE } AstStreamKw;

typedef struct AstCreateStream {
    AstNode       hdr;
    const char   *name;
    int           if_not_exists;
    AstStreamKw   keyword;     /* as written, for messages only */
    AstList       columns;     /* AstColumnDef                   */
    AstWatermark *watermark;   /* NULL when absent               */
    AstList       options;     /* AstOption, WITH (…)            */
} AstCreateStream;

typedef struct AstCreateSink {
    AstNode     hdr;
    const char *name;
    int         if_not_exists;
    AstList     columns;   /* optional column list; usually empty */
    AstList     options;   /* AstOption                            */
} AstCreateSink;

typedef struct AstCreateView {
    AstNode     hdr;
    const char *name;
    int         if_not_exists;
    AstSelect  *query;
} AstCreateView;

typedef struct AstInsert {
    AstNode     hdr;
    const char *target;   /* sink name */
    AstSelect  *query;
} AstInsert;

typedef struct AstExplain {
    AstNode  hdr;
    int      analyze;
    int      json;    /* FORMAT JSON */
    AstNode *stmt;    /* AstSelect or AstInsert */
} AstExplain;

typedef enum AstObjKind { OBJ_STREAM, OBJ_SINK, OBJ_VIEW, OBJ_QUERY } AstObjKind;

typedef struct AstShow {
    AstNode    hdr;
    AstObjKind what;   /* SHOW STREAMS|SOURCES|TABLES → OBJ_STREAM; SINKS; VIEWS; QUERIES */
} AstShow;

typedef struct AstDescribe {
    AstNode     hdr;
    int         query;   /* DESCRIBE QUERY id */
    const char *name;    /* object name or query id */
} AstDescribe;

typedef struct AstDrop {
    AstNode     hdr;
    AstObjKind  what;    /* OBJ_STREAM, OBJ_SINK or OBJ_VIEW */
    const char *name;
    int         if_exists;
} AstDrop;

typedef struct AstStopQuery {
    AstNode     hdr;
    const char *id;      /* as written: q1, 1, 'q1' */
} AstStopQuery;

typedef struct AstSet {
    AstNode     hdr;
    const char *key;     /* NULL for a bare SET (show all settings) */
    AstLiteral *value;   /* string, number, boolean, interval; a bare word is LIT_STRING */
} AstSet;

typedef struct AstReset {
    AstNode     hdr;
    const char *key;     /* NULL for RESET (all) */
} AstReset;

/* ---- utilities ------------------------------------------------------------- */

/* Normalized SQL for a statement or expression; malloc'd, caller frees.
 * Parsing the output gives an equal tree (ast_equal), which the tests check
 * for every valid statement. Identifiers are quoted only when they must be. */
char *ast_to_sql(const AstNode *n);

/* Structural equality, ignoring loc. */
int ast_equal(const AstNode *a, const AstNode *b);

/* "SELECT", "CREATE STREAM", …: the statement kind as a user would name it.
 * NULL when stmt is not a statement. */
const char *ast_stmt_name(const AstNode *stmt);

const char *ast_type_name(AstTypeName t);   /* "BIGINT", … */

/* The tree's shape as an S-expression, for tests and debugging:
 * a + b * c → "(+ a (* b c))". malloc'd, caller frees (NULL if out of memory). */
char *ast_dump(const AstNode *n);

#endif
