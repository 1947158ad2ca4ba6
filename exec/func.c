/*
 * func.c — the function catalog: names, arities, overload resolution, cast
 * rules (see func.h for the contract and the table of result types).
 *
 * Resolution is table-driven: SIGS lists the fixed signatures of every
 * function in preference order; resolve_sigs() scores each one with
 * fit_cost() and keeps the cheapest. Functions whose signature depends on
 * their arguments (COALESCE, NULLIF, CONCAT, ||) are resolved by rule in
 * func_resolve(). Messages name the operator in quotes ('+') and a function
 * by its name with its accepted forms (the USAGE column of FUNC_LIST).
 */
#include "exec/func.h"

#include <stdio.h>
#include <string.h>

/* ---- the catalog ---------------------------------------------------------- */

typedef struct FuncInfo {
    const char *name;
    const char *call;
    const char *op;
    FuncSyntax  syntax;
    int         min_args;
    int         max_args;
    const char *usage;
} FuncInfo;

static const FuncInfo funcs[FN__COUNT] = {
#define FUNC_INFO_(id, name, call, op, syn, mn, mx, usage) {name, call, op, syn, mn, mx, usage},
    FUNC_LIST(FUNC_INFO_)
#undef FUNC_INFO_
};

typedef struct FuncAlias {
    const char *name;
    int         fn;
} FuncAlias;

static const FuncAlias aliases[] = {
    {"char_length", FN_LENGTH},      {"character_length", FN_LENGTH},
    {"substr", FN_SUBSTRING},        {"ceiling", FN_CEIL},
    {"btrim", FN_TRIM},
};

#define B TYPE_BOOLEAN
#define I TYPE_BIGINT
#define D TYPE_DOUBLE
#define V TYPE_VARCHAR
#define T TYPE_TIMESTAMP
#define N TYPE_INTERVAL

typedef struct Sig {
    int     fn;
    int     nargs;
    SqlType args[3];
    SqlType ret;
} Sig;

/* fixed signatures, preferred first within a function */
static const Sig sigs[] = {
    {FN_ADD, 2, {I, I}, I},   {FN_ADD, 2, {D, D}, D},   {FN_ADD, 2, {T, N}, T},
    {FN_ADD, 2, {N, T}, T},   {FN_ADD, 2, {N, N}, N},
    {FN_SUB, 2, {I, I}, I},   {FN_SUB, 2, {D, D}, D},   {FN_SUB, 2, {T, N}, T},
    {FN_SUB, 2, {T, T}, N},   {FN_SUB, 2, {N, N}, N},
    {FN_MUL, 2, {I, I}, I},   {FN_MUL, 2, {D, D}, D},   {FN_MUL, 2, {N, I}, N},
    {FN_MUL, 2, {I, N}, N},   {FN_MUL, 2, {N, D}, N},   {FN_MUL, 2, {D, N}, N},
    {FN_DIV, 2, {I, I}, I},   {FN_DIV, 2, {D, D}, D},   {FN_DIV, 2, {N, I}, N},
    {FN_DIV, 2, {N, D}, N},
    {FN_MOD, 2, {I, I}, I},   {FN_MOD, 2, {D, D}, D},
    {FN_NEG, 1, {I}, I},      {FN_NEG, 1, {D}, D},      {FN_NEG, 1, {N}, N},
#define CMP_SIGS(F)                                                                     \
    {F, 2, {I, I}, B}, {F, 2, {D, D}, B}, {F, 2, {V, V}, B}, {F, 2, {T, T}, B},           \
    {F, 2, {N, N}, B}, {F, 2, {B, B}, B}
    CMP_SIGS(FN_EQ), CMP_SIGS(FN_NE), CMP_SIGS(FN_LT),
    CMP_SIGS(FN_LE), CMP_SIGS(FN_GT), CMP_SIGS(FN_GE),
#undef CMP_SIGS
    {FN_LIKE, 2, {V, V}, B},         {FN_LIKE, 3, {V, V, V}, B},
    {FN_SIMILAR, 2, {V, V}, B},      {FN_SIMILAR, 3, {V, V, V}, B},
    {FN_REGEXP_LIKE, 2, {V, V}, B},  {FN_REGEXP_LIKE, 3, {V, V, V}, B},
    {FN_LOWER, 1, {V}, V},           {FN_UPPER, 1, {V}, V},
    {FN_LENGTH, 1, {V}, I},
    {FN_SUBSTRING, 2, {V, I}, V},    {FN_SUBSTRING, 3, {V, I, I}, V},
    {FN_TRIM, 1, {V}, V},            {FN_TRIM, 2, {V, V}, V},
    {FN_LTRIM, 1, {V}, V},           {FN_LTRIM, 2, {V, V}, V},
    {FN_RTRIM, 1, {V}, V},           {FN_RTRIM, 2, {V, V}, V},
    {FN_ABS, 1, {I}, I},             {FN_ABS, 1, {D}, D},
    {FN_ROUND, 1, {I}, I},           {FN_ROUND, 1, {D}, D},
    {FN_ROUND, 2, {I, I}, I},        {FN_ROUND, 2, {D, I}, D},
    {FN_FLOOR, 1, {I}, I},           {FN_FLOOR, 1, {D}, D},
    {FN_CEIL, 1, {I}, I},            {FN_CEIL, 1, {D}, D},
    {FN_EXTRACT, 2, {V, T}, I},
    {FN_DATE_TRUNC, 2, {V, T}, T},
    {FN_TO_TIMESTAMP, 1, {V}, T},    {FN_TO_TIMESTAMP, 1, {I}, T},
    {FN_TO_TIMESTAMP, 1, {D}, T},
};

#undef B
#undef I
#undef D
#undef V
#undef T
#undef N

/* ---- private helpers ---------------------------------------------------- */

static int valid_fn(int fn)
{
    return fn >= 0 && fn < FN__COUNT;
}

static int is_comparison(int fn)
{
    return fn >= FN_EQ && fn <= FN_GE;
}

static char lower_ascii(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* case-insensitive equality of p[0..n) with the lower-case C string s */
static int name_is(const char *p, size_t n, const char *s)
{
    size_t k = 0;
    for (; k < n && s[k]; k++)
        if (lower_ascii(p[k]) != s[k]) return 0;
    return k == n && s[k] == '\0';
}

/* cost of passing an argument of type a where p is expected; -1: no fit */
static int fit_cost(SqlType a, SqlType p, int str_to_time)
{
    if (a == p) return 0;
    if (a == TYPE_NULL) return 1;
    if (a == TYPE_BIGINT && p == TYPE_DOUBLE) return 2;
    if (str_to_time && a == TYPE_VARCHAR && (p == TYPE_TIMESTAMP || p == TYPE_INTERVAL))
        return 3;
    return -1;
}

/* the cheapest fixed signature of fn for these arguments, or NULL */
static const Sig *resolve_sigs(int fn, int nargs, const SqlType *args)
{
    const Sig *best = NULL;
    int        best_cost = 0;
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++) {
        const Sig *s = &sigs[k];
        if (s->fn != fn || s->nargs != nargs) continue;
        int cost = 0;
        for (int i = 0; i < nargs && cost >= 0; i++) {
            int c = fit_cost(args[i], s->args[i], is_comparison(fn));
            cost = c < 0 ? -1 : cost + c;
        }
        if (cost < 0) continue;
        if (!best || cost < best_cost) {
            best = s;
            best_cost = cost;
        }
    }
    return best;
}

/* "VARCHAR and BIGINT", "VARCHAR, BIGINT and BIGINT" */
static void type_list(char *buf, size_t cap, int nargs, const SqlType *args)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < nargs && len < cap; i++) {
        const char *sep = i == 0 ? "" : i == nargs - 1 ? " and " : ", ";
        int         w = snprintf(buf + len, cap - len, "%s%s", sep, sql_type_name(args[i]));
        if (w < 0) break;
        len += (size_t)w;
    }
}

static int fail_types(int fn, int nargs, const SqlType *args, char *why, size_t cap)
{
    char              list[160];
    const FuncInfo   *f = &funcs[fn];
    type_list(list, sizeof list, nargs, args);
    if (f->syntax == FSYN_PREFIX)
        snprintf(why, cap, "cannot apply unary '%s' to %s", f->op, list);
    else if (f->syntax == FSYN_INFIX && f->op[0] >= 'A' && f->op[0] <= 'Z')
        snprintf(why, cap, "cannot apply %s to %s (expected %s)", f->op, list, f->usage);
    else if (f->syntax == FSYN_INFIX)
        snprintf(why, cap, "cannot apply '%s' to %s", f->op, list);
    else
        snprintf(why, cap, "cannot apply %s to %s (expected %s)", f->name, list, f->usage);
    return -1;
}

static int fail_arity(int fn, int nargs, char *why, size_t cap)
{
    const FuncInfo *f = &funcs[fn];
    const char     *name = f->syntax == FSYN_CALL ? f->name : f->op;
    int             quote = f->syntax != FSYN_CALL && !(name[0] >= 'A' && name[0] <= 'Z');
    char            shown[32];
    snprintf(shown, sizeof shown, quote ? "'%s'" : "%s", name);
    if (f->max_args < 0)
        snprintf(why, cap, "%s takes at least %d argument%s, got %d", shown, f->min_args,
                 f->min_args == 1 ? "" : "s", nargs);
    else if (f->min_args == f->max_args)
        snprintf(why, cap, "%s takes %d argument%s, got %d", shown, f->min_args,
                 f->min_args == 1 ? "" : "s", nargs);
    else
        snprintf(why, cap, "%s takes %d or %d arguments, got %d", shown, f->min_args,
                 f->max_args, nargs);
    return -1;
}

/* COALESCE / NULLIF: every argument to the common type */
static int resolve_common(int fn, int nargs, const SqlType *args, SqlType *out, SqlType *ret,
                          char *why, size_t cap)
{
    SqlType t = TYPE_NULL;
    for (int i = 0; i < nargs; i++) {
        SqlType c = type_common(t, args[i]);
        if (c == TYPE_NULL && args[i] != TYPE_NULL) {
            snprintf(why, cap, "%s arguments have no common type: %s and %s", funcs[fn].name,
                     sql_type_name(t), sql_type_name(args[i]));
            return -1;
        }
        t = c;
    }
    for (int i = 0; i < nargs; i++) out[i] = t;
    *ret = t;
    return 0;
}

/* ---- API -------------------------------------------------------------------- */

int func_lookup(const char *name)
{
    if (!name) return -1;
    size_t n = strlen(name);
    for (int fn = 0; fn < FN__COUNT; fn++)
        if (funcs[fn].call && name_is(name, n, funcs[fn].call)) return fn;
    for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++)
        if (name_is(name, n, aliases[k].name)) return aliases[k].fn;
    return -1;
}

const char *func_name(int fn)
{
    return valid_fn(fn) ? funcs[fn].name : "?";
}

int func_is_operator(int fn)
{
    return valid_fn(fn) && funcs[fn].syntax != FSYN_CALL;
}

const char *func_operator(int fn)
{
    return valid_fn(fn) ? funcs[fn].op : NULL;
}

FuncSyntax func_syntax(int fn)
{
    return valid_fn(fn) ? funcs[fn].syntax : FSYN_CALL;
}

int func_arity(int fn, int *min_args, int *max_args)
{
    if (!valid_fn(fn)) return -1;
    if (min_args) *min_args = funcs[fn].min_args;
    if (max_args) *max_args = funcs[fn].max_args;
    return 0;
}

int func_resolve(int fn, int nargs, const SqlType *args, SqlType *arg_types_out, SqlType *ret,
                 char *why, size_t cap)
{
    if (cap > 0) why[0] = '\0';
    if (!valid_fn(fn)) {
        snprintf(why, cap, "unknown function id %d", fn);
        return -1;
    }
    const FuncInfo *f = &funcs[fn];
    if (nargs < f->min_args || (f->max_args >= 0 && nargs > f->max_args))
        return fail_arity(fn, nargs, why, cap);
    for (int i = 0; i < nargs; i++)
        if ((unsigned)args[i] >= SQL_TYPE_COUNT) {
            snprintf(why, cap, "argument %d of %s has an unknown type", i + 1, f->name);
            return -1;
        }

    switch (fn) {
    case FN_COALESCE:
    case FN_NULLIF:
        return resolve_common(fn, nargs, args, arg_types_out, ret, why, cap);
    case FN_CONCAT:
        for (int i = 0; i < nargs; i++) {
            if (!cast_allowed(args[i], TYPE_VARCHAR))
                return fail_types(fn, nargs, args, why, cap);
        }
        for (int i = 0; i < nargs; i++) arg_types_out[i] = TYPE_VARCHAR;
        *ret = TYPE_VARCHAR;
        return 0;
    case FN_CONCAT_OP: {
        /* one side must be text (the NULL literal counts as text here) */
        int has_str = args[0] == TYPE_VARCHAR || args[1] == TYPE_VARCHAR ||
                      args[0] == TYPE_NULL || args[1] == TYPE_NULL;
        if (!has_str || !cast_allowed(args[0], TYPE_VARCHAR) ||
            !cast_allowed(args[1], TYPE_VARCHAR))
            return fail_types(fn, nargs, args, why, cap);
        arg_types_out[0] = arg_types_out[1] = TYPE_VARCHAR;
        *ret = TYPE_VARCHAR;
        return 0;
    }
    default:
        break;
    }

    const Sig *s = resolve_sigs(fn, nargs, args);
    if (!s) return fail_types(fn, nargs, args, why, cap);
    for (int i = 0; i < nargs; i++) arg_types_out[i] = s->args[i];
    *ret = s->ret;
    return 0;
}

int cast_allowed(SqlType from, SqlType to)
{
    if ((unsigned)from >= SQL_TYPE_COUNT || (unsigned)to >= SQL_TYPE_COUNT) return 0;
    if (from == to || from == TYPE_NULL) return 1;
    switch (to) {
    case TYPE_NULL:
        return 0;
    case TYPE_VARCHAR:
        return 1;
    case TYPE_BOOLEAN:
        return from == TYPE_VARCHAR || from == TYPE_BIGINT;
    case TYPE_BIGINT:
        return from == TYPE_VARCHAR || from == TYPE_DOUBLE || from == TYPE_BOOLEAN;
    case TYPE_DOUBLE:
        return from == TYPE_VARCHAR || from == TYPE_BIGINT;
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL:
        return from == TYPE_VARCHAR;
    }
    return 0;
}

SqlType type_common(SqlType a, SqlType b)
{
    if (a == b) return a;
    if (a == TYPE_NULL) return b;
    if (b == TYPE_NULL) return a;
    if ((a == TYPE_BIGINT && b == TYPE_DOUBLE) || (a == TYPE_DOUBLE && b == TYPE_BIGINT))
        return TYPE_DOUBLE;
    return TYPE_NULL;
}

typedef struct NamedCode {
    const char *name;
    int         code;
} NamedCode;

static const NamedCode extract_fields[] = {
    {"year", EXTRACT_YEAR},           {"years", EXTRACT_YEAR},
    {"quarter", EXTRACT_QUARTER},     {"month", EXTRACT_MONTH},
    {"months", EXTRACT_MONTH},        {"week", EXTRACT_WEEK},
    {"weeks", EXTRACT_WEEK},          {"day", EXTRACT_DAY},
    {"days", EXTRACT_DAY},            {"dayofmonth", EXTRACT_DAY},
    {"dow", EXTRACT_DOW},             {"dayofweek", EXTRACT_DOW},
    {"isodow", EXTRACT_ISODOW},       {"doy", EXTRACT_DOY},
    {"dayofyear", EXTRACT_DOY},       {"hour", EXTRACT_HOUR},
    {"hours", EXTRACT_HOUR},          {"minute", EXTRACT_MINUTE},
    {"minutes", EXTRACT_MINUTE},      {"second", EXTRACT_SECOND},
    {"seconds", EXTRACT_SECOND},      {"millisecond", EXTRACT_MILLISECOND},
    {"milliseconds", EXTRACT_MILLISECOND}, {"ms", EXTRACT_MILLISECOND},
    {"microsecond", EXTRACT_MICROSECOND},  {"microseconds", EXTRACT_MICROSECOND},
    {"us", EXTRACT_MICROSECOND},      {"epoch", EXTRACT_EPOCH},
};

static const NamedCode trunc_units[] = {
    {"microsecond", TRUNC_MICROSECOND}, {"microseconds", TRUNC_MICROSECOND},
    {"millisecond", TRUNC_MILLISECOND}, {"milliseconds", TRUNC_MILLISECOND},
    {"second", TRUNC_SECOND},           {"seconds", TRUNC_SECOND},
    {"minute", TRUNC_MINUTE},           {"minutes", TRUNC_MINUTE},
    {"hour", TRUNC_HOUR},               {"hours", TRUNC_HOUR},
    {"day", TRUNC_DAY},                 {"days", TRUNC_DAY},
    {"week", TRUNC_WEEK},               {"weeks", TRUNC_WEEK},
    {"month", TRUNC_MONTH},             {"months", TRUNC_MONTH},
    {"quarter", TRUNC_QUARTER},         {"quarters", TRUNC_QUARTER},
    {"year", TRUNC_YEAR},               {"years", TRUNC_YEAR},
};

static int named_lookup(const NamedCode *t, size_t n, const char *p, size_t len)
{
    if (!p && len) return -1;
    /* surrounding blanks are forgiven: EXTRACT(' year' …) is still YEAR */
    while (len && (*p == ' ' || *p == '\t')) p++, len--;
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    for (size_t k = 0; k < n; k++)
        if (name_is(p, len, t[k].name)) return t[k].code;
    return -1;
}

int func_extract_field(const char *p, size_t n)
{
    return named_lookup(extract_fields, sizeof extract_fields / sizeof extract_fields[0], p, n);
}

int func_trunc_unit(const char *p, size_t n)
{
    return named_lookup(trunc_units, sizeof trunc_units / sizeof trunc_units[0], p, n);
}
