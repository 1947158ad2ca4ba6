/*
 * ast.c — what can be done with a tree once it is built: print it back as
 * normalized SQL (ast_to_sql), compare two trees (ast_equal), dump the tree
 * shape for tests and debugging (ast_dump), name things for messages, and
 * check the nesting limit (ast_check_depth, used by the driver).
 *
 * The printer's contract is the round trip: parsing ast_to_sql(t) gives a
 * tree equal to t. So it quotes an identifier whenever the bare spelling
 * would read differently (not plain lower case, or a keyword that the
 * grammar could take as a keyword somewhere a name is printed), re-doubles
 * quotes in strings, and parenthesizes by the grammar's precedence: an
 * operand binding less tightly than its operator gets parentheses. At the
 * comparison level (= < IS BETWEEN IN LIKE) operands of the same level get
 * them too, for the reader: (a = b) = c. Spellings that mean the same are
 * printed one way: CAST(x AS T) for x::T, <> for !=, the short TUMBLE(...)
 * form for Flink's TABLE(TUMBLE(TABLE ...)) unless it needs PARTITION BY.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser/ast_build.h"
#include "parser/grammar.h"

/* ---- output buffer ---------------------------------------------------------- */

typedef struct Buf {
    char  *s;
    size_t n, cap;
    int    oom;
} Buf;

static void put(Buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = sql_realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void puts_(Buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(Buf *b, const char *fmt, ...)
{
    char    tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static char *buf_finish(Buf *b)
{
    if (b->oom) {
        free(b->s);
        return NULL;
    }
    if (!b->s) put(b, "", 0);
    return b->oom ? NULL : b->s;
}

/* ---- identifiers and strings ----------------------------------------------- */

static int is_plain_word(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || *s == '_')) return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '$'))
            return 0;
    return 1;
}

/* Non-reserved keywords that the grammar accepts as keywords right where a
 * name may be printed (at the start of an expression, after CREATE STREAM,
 * DESCRIBE or at the start of a column definition), so a name spelled like
 * them must be quoted. test_parser.c tries every keyword in every name
 * position to keep this list honest. */
static int keyword_ambiguous_as_name(int code)
{
    switch (code) {
    case TK_INTERVAL:    /* INTERVAL '1' SECOND                   */
    case TK_TIMESTAMP:   /* TIMESTAMP '...', and timestamp.col    */
    case TK_IF:          /* CREATE STREAM IF NOT EXISTS           */
    case TK_QUERY:       /* DESCRIBE QUERY id                     */
    case TK_WATERMARK:   /* (..., WATERMARK FOR ts AS ...)        */
    case TK_BOTH:        /* TRIM(BOTH ...), and so f(both)         */
    case TK_LEADING:
    case TK_TRAILING:
        return 1;
    default:
        return 0;
    }
}

int sql_ident_needs_quotes(const char *s)
{
    if (!s || !is_plain_word(s)) return 1;
    int code = sql_keyword_code(s, (int)strlen(s));
    return code && (sql_keyword_is_reserved(code) || keyword_ambiguous_as_name(code));
}

static void put_quoted(Buf *b, const char *s, char q)
{
    put(b, &q, 1);
    for (const char *p = s; *p; p++) {
        put(b, p, 1);
        if (*p == q) put(b, p, 1);
    }
    put(b, &q, 1);
}

static void put_ident(Buf *b, const char *s)
{
    if (!s) s = "";
    if (sql_ident_needs_quotes(s)) put_quoted(b, s, '"');
    else puts_(b, s);
}

static void put_string(Buf *b, const char *s)
{
    put_quoted(b, s ? s : "", '\'');
}

/* An option or setting key: bare when it reads back the same, i.e. plain
 * words joined by '.' and '-' (the grammar takes any word there, even a
 * reserved one), else as a string. */
static void put_key(Buf *b, const char *s)
{
    int bare = s && *s;
    for (const char *p = s; bare && *p; p++) {
        size_t n = strcspn(p, ".-");
        char   part[64];
        if (n == 0 || n >= sizeof part) {
            bare = 0;
            break;
        }
        memcpy(part, p, n);
        part[n] = '\0';
        bare = is_plain_word(part);
        p += n;
        if (!*p) break;
        if (!p[1]) bare = 0;   /* a trailing separator */
    }
    if (bare) puts_(b, s);
    else put_string(b, s);
}

/* A query id: bare when it is a number or a name that needs no quotes. */
static void put_query_id(Buf *b, const char *s)
{
    int digits = s && *s;
    for (const char *p = s; digits && *p; p++)
        if (*p < '0' || *p > '9') digits = 0;
    if (digits || !sql_ident_needs_quotes(s)) puts_(b, s);
    else put_string(b, s);
}

/* ---- names ------------------------------------------------------------------ */

const char *ast_type_name(AstTypeName t)
{
    switch (t) {
    case AST_TYPE_BOOLEAN:   return "BOOLEAN";
    case AST_TYPE_BIGINT:    return "BIGINT";
    case AST_TYPE_DOUBLE:    return "DOUBLE";
    case AST_TYPE_VARCHAR:   return "VARCHAR";
    case AST_TYPE_TIMESTAMP: return "TIMESTAMP";
    case AST_TYPE_INTERVAL:  return "INTERVAL";
    }
    return "?";
}

static const char *stream_keyword(AstStreamKw k)
{
    switch (k) {
    case STREAM_KW_SOURCE: return "SOURCE";
    case STREAM_KW_TABLE:  return "TABLE";
    default:               return "STREAM";
    }
}

static const char *obj_keyword(AstObjKind k)
{
    switch (k) {
    case OBJ_SINK:  return "SINK";
    case OBJ_VIEW:  return "VIEW";
    case OBJ_QUERY: return "QUERY";
    default:        return "STREAM";
    }
}

const char *ast_stmt_name(const AstNode *stmt)
{
    if (!stmt) return NULL;
    switch (stmt->tag) {
    case AST_CREATE_STREAM:
        switch (AST_AS(const AstCreateStream, stmt)->keyword) {
        case STREAM_KW_SOURCE: return "CREATE SOURCE";
        case STREAM_KW_TABLE:  return "CREATE TABLE";
        default:               return "CREATE STREAM";
        }
    case AST_CREATE_SINK: return "CREATE SINK";
    case AST_CREATE_VIEW: return "CREATE VIEW";
    case AST_INSERT:      return "INSERT";
    case AST_SELECT:      return "SELECT";
    case AST_EXPLAIN:     return "EXPLAIN";
    case AST_SHOW:        return "SHOW";
    case AST_DESCRIBE:    return "DESCRIBE";
    case AST_DROP:
        switch (AST_AS(const AstDrop, stmt)->what) {
        case OBJ_SINK: return "DROP SINK";
        case OBJ_VIEW: return "DROP VIEW";
        default:       return "DROP STREAM";
        }
    case AST_STOP_QUERY:  return "STOP QUERY";
    case AST_SET:         return "SET";
    case AST_RESET:       return "RESET";
    default:              return NULL;
    }
}

static const char *binary_op_text(AstBinaryOp op)
{
    switch (op) {
    case BOP_ADD:    return "+";
    case BOP_SUB:    return "-";
    case BOP_MUL:    return "*";
    case BOP_DIV:    return "/";
    case BOP_MOD:    return "%";
    case BOP_CONCAT: return "||";
    case BOP_EQ:     return "=";
    case BOP_NE:     return "<>";
    case BOP_LT:     return "<";
    case BOP_LE:     return "<=";
    case BOP_GT:     return ">";
    case BOP_GE:     return ">=";
    case BOP_AND:    return "AND";
    case BOP_OR:     return "OR";
    }
    return "?";
}

static const char *window_name(AstWindowKind k)
{
    switch (k) {
    case WIN_TUMBLE:   return "TUMBLE";
    case WIN_HOP:      return "HOP";
    case WIN_SESSION:  return "SESSION";
    case WIN_CUMULATE: return "CUMULATE";
    }
    return "?";
}

static const char *join_keyword(AstJoinKind k)
{
    switch (k) {
    case JOIN_LEFT:  return "LEFT JOIN";
    case JOIN_RIGHT: return "RIGHT JOIN";
    case JOIN_FULL:  return "FULL JOIN";
    case JOIN_CROSS: return "CROSS JOIN";
    default:         return "JOIN";
    }
}

/* ---- precedence ------------------------------------------------------------- */

/* Binding strength, as in the grammar's %left/%right lines. */
enum { P_OR = 1, P_AND, P_NOT, P_CMP, P_ADD, P_MUL, P_UNARY, P_PRIMARY };

static int binary_prec(AstBinaryOp op)
{
    switch (op) {
    case BOP_OR:  return P_OR;
    case BOP_AND: return P_AND;
    case BOP_EQ: case BOP_NE: case BOP_LT: case BOP_LE: case BOP_GT: case BOP_GE:
        return P_CMP;
    case BOP_ADD: case BOP_SUB: case BOP_CONCAT:
        return P_ADD;
    case BOP_MUL: case BOP_DIV: case BOP_MOD:
        return P_MUL;
    }
    return P_PRIMARY;
}

static int is_negative_literal(const AstNode *n)
{
    if (!IS_A(n, AST_LITERAL)) return 0;
    const AstLiteral *l = AST_AS(const AstLiteral, n);
    if (l->kind == LIT_INT) return l->ival < 0;
    return l->kind == LIT_DOUBLE && l->text && l->text[0] == '-';
}

static int prec(const AstNode *n)
{
    if (!n) return P_PRIMARY;
    switch (n->tag) {
    case AST_BINARY:
        return binary_prec(AST_AS(const AstBinary, n)->op);
    case AST_UNARY:
        return AST_AS(const AstUnary, n)->op == UOP_NOT ? P_NOT : P_UNARY;
    case AST_IS_NULL: case AST_BETWEEN: case AST_IN_LIST: case AST_LIKE:
        return P_CMP;
    case AST_LITERAL:
        return is_negative_literal(n) ? P_UNARY : P_PRIMARY;
    default:
        return P_PRIMARY;
    }
}

/* ---- printer ---------------------------------------------------------------- */

static void print_node(Buf *b, const AstNode *n);
static void print_expr(Buf *b, const AstNode *n, int min_prec);

static void print_list(Buf *b, AstList l, const char *sep)
{
    for (int i = 0; i < l.n; i++) {
        if (i) puts_(b, sep);
        print_expr(b, l.items[i], 0);
    }
}

static void print_type(Buf *b, AstType t)
{
    puts_(b, ast_type_name(t.name));
    if (t.param >= 0) putf(b, "(%d)", t.param);
}

static void print_literal(Buf *b, const AstLiteral *l)
{
    switch (l->kind) {
    case LIT_NULL:
        puts_(b, "NULL");
        break;
    case LIT_BOOL:
        puts_(b, l->ival ? "TRUE" : "FALSE");
        break;
    case LIT_INT:
        putf(b, "%" PRId64, l->ival);
        break;
    case LIT_DOUBLE:
        if (l->text) puts_(b, l->text);
        else putf(b, "%.17g", l->dval);
        break;
    case LIT_STRING:
        put_string(b, l->text);
        break;
    case LIT_INTERVAL:
        puts_(b, "INTERVAL ");
        put_string(b, l->text);
        puts_(b, " ");
        puts_(b, l->unit ? l->unit : "SECOND");
        break;
    case LIT_TIMESTAMP:
        puts_(b, "TIMESTAMP ");
        put_string(b, l->text);
        break;
    }
}

static void print_func(Buf *b, const AstFunc *f)
{
    put_ident(b, f->name);
    puts_(b, "(");
    if (f->star) {
        puts_(b, "*");
    } else {
        if (f->distinct) puts_(b, "DISTINCT ");
        print_list(b, f->args, ", ");
    }
    puts_(b, ")");
    if (f->filter) {
        puts_(b, " FILTER (WHERE ");
        print_expr(b, f->filter, 0);
        puts_(b, ")");
    }
}

static void print_expr(Buf *b, const AstNode *n, int min_prec)
{
    if (!n) {
        puts_(b, "NULL");
        return;
    }
    int paren = prec(n) < min_prec;
    if (paren) puts_(b, "(");
    switch (n->tag) {
    case AST_LITERAL:
        print_literal(b, AST_AS(const AstLiteral, n));
        break;
    case AST_COLUMN_REF: {
        const AstColumnRef *c = AST_AS(const AstColumnRef, n);
        if (c->qualifier) {
            put_ident(b, c->qualifier);
            puts_(b, ".");
        }
        put_ident(b, c->name);
        break;
    }
    case AST_STAR: {
        const AstStar *s = AST_AS(const AstStar, n);
        if (s->qualifier) {
            put_ident(b, s->qualifier);
            puts_(b, ".");
        }
        puts_(b, "*");
        break;
    }
    case AST_UNARY: {
        const AstUnary *u = AST_AS(const AstUnary, n);
        if (u->op == UOP_NOT) {
            puts_(b, "NOT ");
            print_expr(b, u->arg, P_NOT);
        } else {
            puts_(b, u->op == UOP_NEG ? "-" : "+");
            /* "--" would start a comment: -(-x) */
            int nested = (IS_A(u->arg, AST_UNARY) && AST_AS(const AstUnary, u->arg)->op != UOP_NOT)
                         || is_negative_literal(u->arg);
            print_expr(b, u->arg, nested ? P_PRIMARY : P_UNARY);
        }
        break;
    }
    case AST_BINARY: {
        const AstBinary *x = AST_AS(const AstBinary, n);
        int p = binary_prec(x->op);
        print_expr(b, x->left, p == P_CMP ? p + 1 : p);
        puts_(b, " ");
        puts_(b, binary_op_text(x->op));
        puts_(b, " ");
        print_expr(b, x->right, p + 1);
        break;
    }
    case AST_FUNC:
        print_func(b, AST_AS(const AstFunc, n));
        break;
    case AST_CASE: {
        const AstCase *c = AST_AS(const AstCase, n);
        puts_(b, "CASE");
        if (c->operand) {
            puts_(b, " ");
            print_expr(b, c->operand, 0);
        }
        for (int i = 0; i < c->whens.n; i++) {
            puts_(b, " ");
            print_node(b, c->whens.items[i]);
        }
        if (c->else_) {
            puts_(b, " ELSE ");
            print_expr(b, c->else_, 0);
        }
        puts_(b, " END");
        break;
    }
    case AST_CAST: {
        const AstCast *c = AST_AS(const AstCast, n);
        puts_(b, "CAST(");
        print_expr(b, c->arg, 0);
        puts_(b, " AS ");
        print_type(b, c->type);
        puts_(b, ")");
        break;
    }
    case AST_IS_NULL: {
        const AstIsNull *x = AST_AS(const AstIsNull, n);
        print_expr(b, x->arg, P_CMP + 1);
        puts_(b, x->negated ? " IS NOT NULL" : " IS NULL");
        break;
    }
    case AST_BETWEEN: {
        const AstBetween *x = AST_AS(const AstBetween, n);
        print_expr(b, x->arg, P_CMP + 1);
        puts_(b, x->negated ? " NOT BETWEEN " : " BETWEEN ");
        print_expr(b, x->lo, P_CMP + 1);
        puts_(b, " AND ");
        print_expr(b, x->hi, P_CMP + 1);
        break;
    }
    case AST_IN_LIST: {
        const AstInList *x = AST_AS(const AstInList, n);
        print_expr(b, x->arg, P_CMP + 1);
        puts_(b, x->negated ? " NOT IN (" : " IN (");
        print_list(b, x->list, ", ");
        puts_(b, ")");
        break;
    }
    case AST_LIKE: {
        const AstLike *x = AST_AS(const AstLike, n);
        print_expr(b, x->arg, P_CMP + 1);
        if (x->negated) puts_(b, " NOT");
        puts_(b, x->kind == LIKE_SIMILAR ? " SIMILAR TO " : " LIKE ");
        print_expr(b, x->pattern, P_CMP + 1);
        if (x->escape) {
            puts_(b, " ESCAPE ");
            print_expr(b, x->escape, P_CMP + 1);
        }
        break;
    }
    default:
        print_node(b, n);
        break;
    }
    if (paren) puts_(b, ")");
}

static void print_alias(Buf *b, const char *alias)
{
    if (!alias) return;
    puts_(b, " AS ");
    put_ident(b, alias);
}

static void print_select(Buf *b, const AstSelect *s);

static void print_from(Buf *b, const AstNode *n)
{
    if (!n) return;
    switch (n->tag) {
    case AST_TABLE_REF: {
        const AstTableRef *t = AST_AS(const AstTableRef, n);
        put_ident(b, t->name);
        print_alias(b, t->alias);
        break;
    }
    case AST_SUBQUERY: {
        const AstSubquery *s = AST_AS(const AstSubquery, n);
        puts_(b, "(");
        print_select(b, s->query);
        puts_(b, ")");
        print_alias(b, s->alias);
        break;
    }
    case AST_WINDOW_TVF: {
        const AstWindowTvf *w = AST_AS(const AstWindowTvf, n);
        const AstNode      *src = w->source;
        if (w->partition_by.n) {
            /* only Flink's spelling has room for PARTITION BY */
            puts_(b, "TABLE(");
            puts_(b, window_name(w->kind));
            puts_(b, "(TABLE ");
            if (IS_A(src, AST_TABLE_REF)) put_ident(b, AST_AS(const AstTableRef, src)->name);
            else if (IS_A(src, AST_SUBQUERY)) {
                puts_(b, "(");
                print_select(b, AST_AS(const AstSubquery, src)->query);
                puts_(b, ")");
            }
            puts_(b, " PARTITION BY (");
            print_list(b, w->partition_by, ", ");
            puts_(b, "), DESCRIPTOR(");
            print_expr(b, w->timecol, 0);
            puts_(b, "), ");
            print_list(b, w->args, ", ");
            puts_(b, "))");
        } else {
            puts_(b, window_name(w->kind));
            puts_(b, "(");
            if (IS_A(src, AST_TABLE_REF)) put_ident(b, AST_AS(const AstTableRef, src)->name);
            else if (IS_A(src, AST_SUBQUERY)) {
                puts_(b, "(");
                print_select(b, AST_AS(const AstSubquery, src)->query);
                puts_(b, ")");
            }
            puts_(b, ", ");
            print_expr(b, w->timecol, 0);
            puts_(b, ", ");
            print_list(b, w->args, ", ");
            puts_(b, ")");
        }
        print_alias(b, w->alias);
        break;
    }
    case AST_JOIN: {
        const AstJoin *j = AST_AS(const AstJoin, n);
        print_from(b, j->left);
        puts_(b, " ");
        puts_(b, join_keyword(j->kind));
        puts_(b, " ");
        /* joins associate to the left: a join on the right needs parentheses */
        if (IS_A(j->right, AST_JOIN)) puts_(b, "(");
        print_from(b, j->right);
        if (IS_A(j->right, AST_JOIN)) puts_(b, ")");
        if (j->on) {
            puts_(b, " ON ");
            print_expr(b, j->on, 0);
        }
        break;
    }
    default:
        print_node(b, n);
        break;
    }
}

static void print_select(Buf *b, const AstSelect *s)
{
    if (!s) return;
    puts_(b, "SELECT ");
    if (s->distinct) puts_(b, "DISTINCT ");
    for (int i = 0; i < s->items.n; i++) {
        if (i) puts_(b, ", ");
        print_node(b, s->items.items[i]);
    }
    if (s->from) {
        puts_(b, " FROM ");
        print_from(b, s->from);
    }
    if (s->where) {
        puts_(b, " WHERE ");
        print_expr(b, s->where, 0);
    }
    if (s->group_by.n) {
        puts_(b, " GROUP BY ");
        print_list(b, s->group_by, ", ");
    }
    if (s->having) {
        puts_(b, " HAVING ");
        print_expr(b, s->having, 0);
    }
    if (s->limit >= 0) putf(b, " LIMIT %" PRId64, s->limit);
    if (s->emit == EMIT_CHANGES) puts_(b, " EMIT CHANGES");
    if (s->emit == EMIT_FINAL) puts_(b, " EMIT FINAL");
}

static void print_options(Buf *b, AstList options)
{
    if (!options.n) return;
    puts_(b, " WITH (");
    for (int i = 0; i < options.n; i++) {
        if (i) puts_(b, ", ");
        print_node(b, options.items[i]);
    }
    puts_(b, ")");
}

static void print_elements(Buf *b, AstList columns, const AstWatermark *wm)
{
    if (!columns.n && !wm) return;
    puts_(b, " (");
    for (int i = 0; i < columns.n; i++) {
        if (i) puts_(b, ", ");
        print_node(b, columns.items[i]);
    }
    if (wm) {
        if (columns.n) puts_(b, ", ");
        print_node(b, &wm->hdr);
    }
    puts_(b, ")");
}

static void print_node(Buf *b, const AstNode *n)
{
    if (!n) return;
    switch (n->tag) {
    case AST_CREATE_STREAM: {
        const AstCreateStream *c = AST_AS(const AstCreateStream, n);
        puts_(b, "CREATE ");
        puts_(b, stream_keyword(c->keyword));
        puts_(b, c->if_not_exists ? " IF NOT EXISTS " : " ");
        put_ident(b, c->name);
        print_elements(b, c->columns, c->watermark);
        print_options(b, c->options);
        break;
    }
    case AST_CREATE_SINK: {
        const AstCreateSink *c = AST_AS(const AstCreateSink, n);
        puts_(b, c->if_not_exists ? "CREATE SINK IF NOT EXISTS " : "CREATE SINK ");
        put_ident(b, c->name);
        print_elements(b, c->columns, NULL);
        print_options(b, c->options);
        break;
    }
    case AST_CREATE_VIEW: {
        const AstCreateView *v = AST_AS(const AstCreateView, n);
        puts_(b, v->if_not_exists ? "CREATE VIEW IF NOT EXISTS " : "CREATE VIEW ");
        put_ident(b, v->name);
        puts_(b, " AS ");
        print_select(b, v->query);
        break;
    }
    case AST_INSERT: {
        const AstInsert *in = AST_AS(const AstInsert, n);
        puts_(b, "INSERT INTO ");
        put_ident(b, in->target);
        puts_(b, " ");
        print_select(b, in->query);
        break;
    }
    case AST_SELECT:
        print_select(b, AST_AS(const AstSelect, n));
        break;
    case AST_EXPLAIN: {
        const AstExplain *e = AST_AS(const AstExplain, n);
        puts_(b, "EXPLAIN ");
        if (e->analyze) puts_(b, "ANALYZE ");
        if (e->json) puts_(b, "FORMAT JSON ");
        print_node(b, e->stmt);
        break;
    }
    case AST_SHOW: {
        static const char *const what[] = {"STREAMS", "SINKS", "VIEWS", "QUERIES"};
        AstObjKind k = AST_AS(const AstShow, n)->what;
        puts_(b, "SHOW ");
        puts_(b, k <= OBJ_QUERY ? what[k] : "STREAMS");
        break;
    }
    case AST_DESCRIBE: {
        const AstDescribe *d = AST_AS(const AstDescribe, n);
        if (d->query) {
            puts_(b, "DESCRIBE QUERY ");
            put_query_id(b, d->name);
        } else {
            puts_(b, "DESCRIBE ");
            put_ident(b, d->name);
        }
        break;
    }
    case AST_DROP: {
        const AstDrop *d = AST_AS(const AstDrop, n);
        puts_(b, "DROP ");
        puts_(b, obj_keyword(d->what));
        puts_(b, d->if_exists ? " IF EXISTS " : " ");
        put_ident(b, d->name);
        break;
    }
    case AST_STOP_QUERY:
        puts_(b, "STOP QUERY ");
        put_query_id(b, AST_AS(const AstStopQuery, n)->id);
        break;
    case AST_SET: {
        const AstSet *s = AST_AS(const AstSet, n);
        puts_(b, "SET");
        if (s->key) {
            puts_(b, " ");
            put_key(b, s->key);
            puts_(b, " = ");
            if (s->value) print_literal(b, s->value);
            else puts_(b, "''");
        }
        break;
    }
    case AST_RESET: {
        const AstReset *r = AST_AS(const AstReset, n);
        puts_(b, "RESET");
        if (r->key) {
            puts_(b, " ");
            put_key(b, r->key);
        }
        break;
    }
    case AST_COLUMN_DEF: {
        const AstColumnDef *c = AST_AS(const AstColumnDef, n);
        put_ident(b, c->name);
        puts_(b, " ");
        print_type(b, c->type);
        break;
    }
    case AST_WATERMARK: {
        const AstWatermark *w = AST_AS(const AstWatermark, n);
        puts_(b, "WATERMARK FOR ");
        put_ident(b, w->column);
        puts_(b, " AS ");
        print_expr(b, w->expr, 0);
        break;
    }
    case AST_OPTION: {
        const AstOption *o = AST_AS(const AstOption, n);
        put_key(b, o->key);
        puts_(b, " = ");
        put_string(b, o->value);
        break;
    }
    case AST_SELECT_ITEM: {
        const AstSelectItem *it = AST_AS(const AstSelectItem, n);
        print_expr(b, it->expr, 0);
        print_alias(b, it->alias);
        break;
    }
    case AST_WHEN: {
        const AstWhen *w = AST_AS(const AstWhen, n);
        puts_(b, "WHEN ");
        print_expr(b, w->cond, 0);
        puts_(b, " THEN ");
        print_expr(b, w->result, 0);
        break;
    }
    case AST_TABLE_REF: case AST_SUBQUERY: case AST_WINDOW_TVF: case AST_JOIN:
        print_from(b, n);
        break;
    default:
        print_expr(b, n, 0);
        break;
    }
}

char *ast_to_sql(const AstNode *n)
{
    Buf b = {0};
    print_node(&b, n);
    return buf_finish(&b);
}

/* ---- equality ------------------------------------------------------------------ */

static int str_eq(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

static int list_eq(AstList a, AstList b)
{
    if (a.n != b.n) return 0;
    for (int i = 0; i < a.n; i++)
        if (!ast_equal(a.items[i], b.items[i])) return 0;
    return 1;
}

static int type_eq(AstType a, AstType b)
{
    return a.name == b.name && a.param == b.param;
}

static int literal_eq(const AstLiteral *a, const AstLiteral *b)
{
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case LIT_NULL:      return 1;
    case LIT_BOOL:
    case LIT_INT:       return a->ival == b->ival;
    case LIT_DOUBLE:    return str_eq(a->text, b->text)
                               && memcmp(&a->dval, &b->dval, sizeof a->dval) == 0;
    case LIT_STRING:
    case LIT_TIMESTAMP: return str_eq(a->text, b->text);
    case LIT_INTERVAL:  return a->ival == b->ival && str_eq(a->text, b->text)
                               && str_eq(a->unit, b->unit);
    }
    return 0;
}

int ast_equal(const AstNode *a, const AstNode *b)
{
    if (!a || !b) return a == b;
    if (a->tag != b->tag) return 0;
#define BOTH(T) const T *x = AST_AS(const T, a), *y = AST_AS(const T, b)
    switch (a->tag) {
    case AST_CREATE_STREAM: {
        BOTH(AstCreateStream);
        return str_eq(x->name, y->name) && x->if_not_exists == y->if_not_exists
               && x->keyword == y->keyword && list_eq(x->columns, y->columns)
               && ast_equal((const AstNode *)x->watermark, (const AstNode *)y->watermark)
               && list_eq(x->options, y->options);
    }
    case AST_CREATE_SINK: {
        BOTH(AstCreateSink);
        return str_eq(x->name, y->name) && x->if_not_exists == y->if_not_exists
               && list_eq(x->columns, y->columns) && list_eq(x->options, y->options);
    }
    case AST_CREATE_VIEW: {
        BOTH(AstCreateView);
        return str_eq(x->name, y->name) && x->if_not_exists == y->if_not_exists
               && ast_equal((const AstNode *)x->query, (const AstNode *)y->query);
    }
    case AST_INSERT: {
        BOTH(AstInsert);
        return str_eq(x->target, y->target)
               && ast_equal((const AstNode *)x->query, (const AstNode *)y->query);
    }
    case AST_SELECT: {
        BOTH(AstSelect);
        return x->distinct == y->distinct && list_eq(x->items, y->items)
               && ast_equal(x->from, y->from) && ast_equal(x->where, y->where)
               && list_eq(x->group_by, y->group_by) && ast_equal(x->having, y->having)
               && x->limit == y->limit && x->emit == y->emit;
    }
    case AST_EXPLAIN: {
        BOTH(AstExplain);
        return x->analyze == y->analyze && x->json == y->json && ast_equal(x->stmt, y->stmt);
    }
    case AST_SHOW: {
        BOTH(AstShow);
        return x->what == y->what;
    }
    case AST_DESCRIBE: {
        BOTH(AstDescribe);
        return x->query == y->query && str_eq(x->name, y->name);
    }
    case AST_DROP: {
        BOTH(AstDrop);
        return x->what == y->what && x->if_exists == y->if_exists && str_eq(x->name, y->name);
    }
    case AST_STOP_QUERY: {
        BOTH(AstStopQuery);
        return str_eq(x->id, y->id);
    }
    case AST_SET: {
        BOTH(AstSet);
        return str_eq(x->key, y->key)
               && ast_equal((const AstNode *)x->value, (const AstNode *)y->value);
    }
    case AST_RESET: {
        BOTH(AstReset);
        return str_eq(x->key, y->key);
    }
    case AST_COLUMN_DEF: {
        BOTH(AstColumnDef);
        return str_eq(x->name, y->name) && type_eq(x->type, y->type);
    }
    case AST_WATERMARK: {
        BOTH(AstWatermark);
        return str_eq(x->column, y->column) && ast_equal(x->expr, y->expr);
    }
    case AST_OPTION: {
        BOTH(AstOption);
        return str_eq(x->key, y->key) && str_eq(x->value, y->value);
    }
    case AST_SELECT_ITEM: {
        BOTH(AstSelectItem);
        return str_eq(x->alias, y->alias) && ast_equal(x->expr, y->expr);
    }
    case AST_WHEN: {
        BOTH(AstWhen);
        return ast_equal(x->cond, y->cond) && ast_equal(x->result, y->result);
    }
    case AST_TABLE_REF: {
        BOTH(AstTableRef);
        return str_eq(x->name, y->name) && str_eq(x->alias, y->alias);
    }
    case AST_SUBQUERY: {
        BOTH(AstSubquery);
        return str_eq(x->alias, y->alias)
               && ast_equal((const AstNode *)x->query, (const AstNode *)y->query);
    }
    case AST_WINDOW_TVF: {
        BOTH(AstWindowTvf);
        return x->kind == y->kind && ast_equal(x->source, y->source)
               && ast_equal(x->timecol, y->timecol) && list_eq(x->args, y->args)
               && list_eq(x->partition_by, y->partition_by) && str_eq(x->alias, y->alias);
    }
    case AST_JOIN: {
        BOTH(AstJoin);
        return x->kind == y->kind && ast_equal(x->left, y->left)
               && ast_equal(x->right, y->right) && ast_equal(x->on, y->on);
    }
    case AST_LITERAL:
        return literal_eq(AST_AS(const AstLiteral, a), AST_AS(const AstLiteral, b));
    case AST_COLUMN_REF: {
        BOTH(AstColumnRef);
        return str_eq(x->qualifier, y->qualifier) && str_eq(x->name, y->name);
    }
    case AST_STAR: {
        BOTH(AstStar);
        return str_eq(x->qualifier, y->qualifier);
    }
    case AST_UNARY: {
        BOTH(AstUnary);
        return x->op == y->op && ast_equal(x->arg, y->arg);
    }
    case AST_BINARY: {
        BOTH(AstBinary);
        return x->op == y->op && ast_equal(x->left, y->left) && ast_equal(x->right, y->right);
    }
    case AST_FUNC: {
        BOTH(AstFunc);
        return str_eq(x->name, y->name) && x->star == y->star && x->distinct == y->distinct
               && list_eq(x->args, y->args) && ast_equal(x->filter, y->filter);
    }
    case AST_CASE: {
        BOTH(AstCase);
        return ast_equal(x->operand, y->operand) && list_eq(x->whens, y->whens)
               && ast_equal(x->else_, y->else_);
    }
    case AST_CAST: {
        BOTH(AstCast);
        return type_eq(x->type, y->type) && ast_equal(x->arg, y->arg);
    }
    case AST_IS_NULL: {
        BOTH(AstIsNull);
        return x->negated == y->negated && ast_equal(x->arg, y->arg);
    }
    case AST_BETWEEN: {
        BOTH(AstBetween);
        return x->negated == y->negated && ast_equal(x->arg, y->arg)
               && ast_equal(x->lo, y->lo) && ast_equal(x->hi, y->hi);
    }
    case AST_IN_LIST: {
        BOTH(AstInList);
        return x->negated == y->negated && ast_equal(x->arg, y->arg)
               && list_eq(x->list, y->list);
    }
    case AST_LIKE: {
        BOTH(AstLike);
        return x->kind == y->kind && x->negated == y->negated && ast_equal(x->arg, y->arg)
               && ast_equal(x->pattern, y->pattern) && ast_equal(x->escape, y->escape);
    }
    case AST_TAG_COUNT:
        break;
    }
#undef BOTH
    return 0;
}

/* ---- dump (S-expressions, for tests and debugging) ---------------------------- */

static void dump(Buf *b, const AstNode *n);

static void dump_list(Buf *b, const char *head, AstList l)
{
    puts_(b, " (");
    puts_(b, head);
    for (int i = 0; i < l.n; i++) {
        puts_(b, " ");
        dump(b, l.items[i]);
    }
    puts_(b, ")");
}

static void dump_opt(Buf *b, const char *head, const AstNode *n)
{
    if (!n) return;
    puts_(b, " (");
    puts_(b, head);
    puts_(b, " ");
    dump(b, n);
    puts_(b, ")");
}

static void dump_name(Buf *b, const char *head, const char *s)
{
    if (!s) return;
    puts_(b, " (");
    puts_(b, head);
    puts_(b, " ");
    put_ident(b, s);
    puts_(b, ")");
}

static void dump(Buf *b, const AstNode *n)
{
    if (!n) {
        puts_(b, "nil");
        return;
    }
    switch (n->tag) {
    case AST_LITERAL: {
        const AstLiteral *l = AST_AS(const AstLiteral, n);
        if (l->kind == LIT_INTERVAL) {
            putf(b, "(interval %" PRId64 ")", l->ival);
        } else if (l->kind == LIT_TIMESTAMP) {
            puts_(b, "(timestamp ");
            put_string(b, l->text);
            puts_(b, ")");
        } else if (l->kind == LIT_DOUBLE) {
            puts_(b, "(double ");
            print_literal(b, l);
            puts_(b, ")");
        } else {
            print_literal(b, l);
        }
        return;
    }
    case AST_COLUMN_REF:
    case AST_STAR:
        print_expr(b, n, 0);
        return;
    case AST_UNARY: {
        const AstUnary *u = AST_AS(const AstUnary, n);
        puts_(b, u->op == UOP_NOT ? "(not " : u->op == UOP_NEG ? "(neg " : "(pos ");
        dump(b, u->arg);
        puts_(b, ")");
        return;
    }
    case AST_BINARY: {
        const AstBinary *x = AST_AS(const AstBinary, n);
        puts_(b, "(");
        puts_(b, x->op == BOP_AND ? "and" : x->op == BOP_OR ? "or" : binary_op_text(x->op));
        puts_(b, " ");
        dump(b, x->left);
        puts_(b, " ");
        dump(b, x->right);
        puts_(b, ")");
        return;
    }
    case AST_FUNC: {
        const AstFunc *f = AST_AS(const AstFunc, n);
        puts_(b, "(call ");
        put_ident(b, f->name);
        if (f->star) puts_(b, " *");
        if (f->distinct) puts_(b, " distinct");
        for (int i = 0; i < f->args.n; i++) {
            puts_(b, " ");
            dump(b, f->args.items[i]);
        }
        dump_opt(b, "filter", f->filter);
        puts_(b, ")");
        return;
    }
    case AST_CASE: {
        const AstCase *c = AST_AS(const AstCase, n);
        puts_(b, "(case");
        dump_opt(b, "operand", c->operand);
        for (int i = 0; i < c->whens.n; i++) {
            puts_(b, " ");
            dump(b, c->whens.items[i]);
        }
        dump_opt(b, "else", c->else_);
        puts_(b, ")");
        return;
    }
    case AST_WHEN: {
        const AstWhen *w = AST_AS(const AstWhen, n);
        puts_(b, "(when ");
        dump(b, w->cond);
        puts_(b, " ");
        dump(b, w->result);
        puts_(b, ")");
        return;
    }
    case AST_CAST: {
        const AstCast *c = AST_AS(const AstCast, n);
        puts_(b, "(cast ");
        dump(b, c->arg);
        puts_(b, " ");
        print_type(b, c->type);
        puts_(b, ")");
        return;
    }
    case AST_IS_NULL: {
        const AstIsNull *x = AST_AS(const AstIsNull, n);
        puts_(b, x->negated ? "(is-not-null " : "(is-null ");
        dump(b, x->arg);
        puts_(b, ")");
        return;
    }
    case AST_BETWEEN: {
        const AstBetween *x = AST_AS(const AstBetween, n);
        puts_(b, x->negated ? "(not-between " : "(between ");
        dump(b, x->arg);
        puts_(b, " ");
        dump(b, x->lo);
        puts_(b, " ");
        dump(b, x->hi);
        puts_(b, ")");
        return;
    }
    case AST_IN_LIST: {
        const AstInList *x = AST_AS(const AstInList, n);
        puts_(b, x->negated ? "(not-in " : "(in ");
        dump(b, x->arg);
        for (int i = 0; i < x->list.n; i++) {
            puts_(b, " ");
            dump(b, x->list.items[i]);
        }
        puts_(b, ")");
        return;
    }
    case AST_LIKE: {
        const AstLike *x = AST_AS(const AstLike, n);
        puts_(b, "(");
        if (x->negated) puts_(b, "not-");
        puts_(b, x->kind == LIKE_SIMILAR ? "similar " : "like ");
        dump(b, x->arg);
        puts_(b, " ");
        dump(b, x->pattern);
        dump_opt(b, "escape", x->escape);
        puts_(b, ")");
        return;
    }
    case AST_TABLE_REF: {
        const AstTableRef *t = AST_AS(const AstTableRef, n);
        puts_(b, "(table ");
        put_ident(b, t->name);
        dump_name(b, "as", t->alias);
        puts_(b, ")");
        return;
    }
    case AST_SUBQUERY: {
        const AstSubquery *s = AST_AS(const AstSubquery, n);
        puts_(b, "(subquery ");
        dump(b, (const AstNode *)s->query);
        dump_name(b, "as", s->alias);
        puts_(b, ")");
        return;
    }
    case AST_WINDOW_TVF: {
        const AstWindowTvf *w = AST_AS(const AstWindowTvf, n);
        static const char *const kind[] = {"tumble", "hop", "session", "cumulate"};
        puts_(b, "(");
        puts_(b, w->kind <= WIN_CUMULATE ? kind[w->kind] : "?");
        puts_(b, " ");
        dump(b, w->source);
        puts_(b, " ");
        dump(b, w->timecol);
        for (int i = 0; i < w->args.n; i++) {
            puts_(b, " ");
            dump(b, w->args.items[i]);
        }
        if (w->partition_by.n) dump_list(b, "partition", w->partition_by);
        dump_name(b, "as", w->alias);
        puts_(b, ")");
        return;
    }
    case AST_JOIN: {
        const AstJoin *j = AST_AS(const AstJoin, n);
        static const char *const kind[] = {"join", "left-join", "right-join", "full-join",
                                           "cross-join"};
        puts_(b, "(");
        puts_(b, j->kind <= JOIN_CROSS ? kind[j->kind] : "?");
        puts_(b, " ");
        dump(b, j->left);
        puts_(b, " ");
        dump(b, j->right);
        dump_opt(b, "on", j->on);
        puts_(b, ")");
        return;
    }
    case AST_SELECT_ITEM: {
        const AstSelectItem *it = AST_AS(const AstSelectItem, n);
        if (!it->alias) {
            dump(b, it->expr);
            return;
        }
        puts_(b, "(as ");
        dump(b, it->expr);
        puts_(b, " ");
        put_ident(b, it->alias);
        puts_(b, ")");
        return;
    }
    case AST_SELECT: {
        const AstSelect *s = AST_AS(const AstSelect, n);
        puts_(b, "(select");
        if (s->distinct) puts_(b, " distinct");
        for (int i = 0; i < s->items.n; i++) {
            puts_(b, " ");
            dump(b, s->items.items[i]);
        }
        dump_opt(b, "from", s->from);
        dump_opt(b, "where", s->where);
        if (s->group_by.n) dump_list(b, "group-by", s->group_by);
        dump_opt(b, "having", s->having);
        if (s->limit >= 0) putf(b, " (limit %" PRId64 ")", s->limit);
        if (s->emit == EMIT_CHANGES) puts_(b, " (emit changes)");
        if (s->emit == EMIT_FINAL) puts_(b, " (emit final)");
        puts_(b, ")");
        return;
    }
    case AST_COLUMN_DEF: {
        const AstColumnDef *c = AST_AS(const AstColumnDef, n);
        puts_(b, "(column ");
        put_ident(b, c->name);
        puts_(b, " ");
        print_type(b, c->type);
        puts_(b, ")");
        return;
    }
    case AST_WATERMARK: {
        const AstWatermark *w = AST_AS(const AstWatermark, n);
        puts_(b, "(watermark ");
        put_ident(b, w->column);
        puts_(b, " ");
        dump(b, w->expr);
        puts_(b, ")");
        return;
    }
    case AST_OPTION: {
        const AstOption *o = AST_AS(const AstOption, n);
        puts_(b, "(");
        put_string(b, o->key);
        puts_(b, " ");
        put_string(b, o->value);
        puts_(b, ")");
        return;
    }
    case AST_CREATE_STREAM: {
        const AstCreateStream *c = AST_AS(const AstCreateStream, n);
        puts_(b, "(create-");
        puts_(b, c->keyword == STREAM_KW_SOURCE ? "source " : c->keyword == STREAM_KW_TABLE
                                                                  ? "table " : "stream ");
        put_ident(b, c->name);
        if (c->if_not_exists) puts_(b, " if-not-exists");
        for (int i = 0; i < c->columns.n; i++) {
            puts_(b, " ");
            dump(b, c->columns.items[i]);
        }
        if (c->watermark) {
            puts_(b, " ");
            dump(b, &c->watermark->hdr);
        }
        if (c->options.n) dump_list(b, "with", c->options);
        puts_(b, ")");
        return;
    }
    case AST_CREATE_SINK: {
        const AstCreateSink *c = AST_AS(const AstCreateSink, n);
        puts_(b, "(create-sink ");
        put_ident(b, c->name);
        if (c->if_not_exists) puts_(b, " if-not-exists");
        for (int i = 0; i < c->columns.n; i++) {
            puts_(b, " ");
            dump(b, c->columns.items[i]);
        }
        if (c->options.n) dump_list(b, "with", c->options);
        puts_(b, ")");
        return;
    }
    case AST_CREATE_VIEW: {
        const AstCreateView *v = AST_AS(const AstCreateView, n);
        puts_(b, "(create-view ");
        put_ident(b, v->name);
        if (v->if_not_exists) puts_(b, " if-not-exists");
        puts_(b, " ");
        dump(b, (const AstNode *)v->query);
        puts_(b, ")");
        return;
    }
    case AST_INSERT: {
        const AstInsert *in = AST_AS(const AstInsert, n);
        puts_(b, "(insert ");
        put_ident(b, in->target);
        puts_(b, " ");
        dump(b, (const AstNode *)in->query);
        puts_(b, ")");
        return;
    }
    case AST_EXPLAIN: {
        const AstExplain *e = AST_AS(const AstExplain, n);
        puts_(b, "(explain");
        if (e->analyze) puts_(b, " analyze");
        if (e->json) puts_(b, " json");
        puts_(b, " ");
        dump(b, e->stmt);
        puts_(b, ")");
        return;
    }
    case AST_SET: {
        const AstSet *s = AST_AS(const AstSet, n);
        puts_(b, "(set");
        if (s->key) {
            puts_(b, " ");
            put_string(b, s->key);
            puts_(b, " ");
            dump(b, (const AstNode *)s->value);
        }
        puts_(b, ")");
        return;
    }
    case AST_RESET: {
        const AstReset *r = AST_AS(const AstReset, n);
        puts_(b, "(reset");
        if (r->key) {
            puts_(b, " ");
            put_string(b, r->key);
        }
        puts_(b, ")");
        return;
    }
    default:
        /* the remaining statements read well as SQL */
        puts_(b, "(");
        print_node(b, n);
        puts_(b, ")");
        return;
    }
}

char *ast_dump(const AstNode *n)
{
    Buf b = {0};
    dump(&b, n);
    return buf_finish(&b);
}

/* ---- depth limit ------------------------------------------------------------- */

static int depth_ok(const AstNode *n, int depth, int *loc);

static int list_ok(AstList l, int depth, int *loc)
{
    for (int i = 0; i < l.n; i++)
        if (!depth_ok(l.items[i], depth, loc)) return 0;
    return 1;
}

static int depth_ok(const AstNode *n, int depth, int *loc)
{
    if (!n) return 1;
    if (depth > SQL_MAX_DEPTH) {
        *loc = n->loc;
        return 0;
    }
    int d = depth + 1;
#define OK(x) depth_ok((const AstNode *)(x), d, loc)
    switch (n->tag) {
    case AST_CREATE_STREAM: {
        const AstCreateStream *c = AST_AS(const AstCreateStream, n);
        return list_ok(c->columns, d, loc) && OK(c->watermark) && list_ok(c->options, d, loc);
    }
    case AST_CREATE_SINK: {
        const AstCreateSink *c = AST_AS(const AstCreateSink, n);
        return list_ok(c->columns, d, loc) && list_ok(c->options, d, loc);
    }
    case AST_CREATE_VIEW:  return OK(AST_AS(const AstCreateView, n)->query);
    case AST_INSERT:       return OK(AST_AS(const AstInsert, n)->query);
    case AST_EXPLAIN:      return OK(AST_AS(const AstExplain, n)->stmt);
    case AST_SET:          return OK(AST_AS(const AstSet, n)->value);
    case AST_WATERMARK:    return OK(AST_AS(const AstWatermark, n)->expr);
    case AST_SELECT_ITEM:  return OK(AST_AS(const AstSelectItem, n)->expr);
    case AST_SUBQUERY:     return OK(AST_AS(const AstSubquery, n)->query);
    case AST_UNARY:        return OK(AST_AS(const AstUnary, n)->arg);
    case AST_CAST:         return OK(AST_AS(const AstCast, n)->arg);
    case AST_IS_NULL:      return OK(AST_AS(const AstIsNull, n)->arg);
    case AST_SELECT: {
        const AstSelect *s = AST_AS(const AstSelect, n);
        return list_ok(s->items, d, loc) && OK(s->from) && OK(s->where)
               && list_ok(s->group_by, d, loc) && OK(s->having);
    }
    case AST_WHEN: {
        const AstWhen *w = AST_AS(const AstWhen, n);
        return OK(w->cond) && OK(w->result);
    }
    case AST_WINDOW_TVF: {
        const AstWindowTvf *w = AST_AS(const AstWindowTvf, n);
        return OK(w->source) && OK(w->timecol) && list_ok(w->args, d, loc)
               && list_ok(w->partition_by, d, loc);
    }
    case AST_JOIN: {
        const AstJoin *j = AST_AS(const AstJoin, n);
        return OK(j->left) && OK(j->right) && OK(j->on);
    }
    case AST_BINARY: {
        const AstBinary *x = AST_AS(const AstBinary, n);
        return OK(x->left) && OK(x->right);
    }
    case AST_FUNC: {
        const AstFunc *f = AST_AS(const AstFunc, n);
        return list_ok(f->args, d, loc) && OK(f->filter);
    }
    case AST_CASE: {
        const AstCase *c = AST_AS(const AstCase, n);
        return OK(c->operand) && list_ok(c->whens, d, loc) && OK(c->else_);
    }
    case AST_BETWEEN: {
        const AstBetween *x = AST_AS(const AstBetween, n);
        return OK(x->arg) && OK(x->lo) && OK(x->hi);
    }
    case AST_IN_LIST: {
        const AstInList *x = AST_AS(const AstInList, n);
        return OK(x->arg) && list_ok(x->list, d, loc);
    }
    case AST_LIKE: {
        const AstLike *x = AST_AS(const AstLike, n);
        return OK(x->arg) && OK(x->pattern) && OK(x->escape);
    }
    default:
        return 1;   /* leaves */
    }
#undef OK
}

int ast_check_depth(const AstNode *n, int *loc)
{
    return depth_ok(n, 1, loc);
}
