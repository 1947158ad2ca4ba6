/*
 * json_fast.re — schema-directed JSON lines decoder (re2c), the hot path of
 * format = 'json' (issue 6 item 4).
 *
 * One pass over the record: an re2c lexer (whitespace, punctuation, numbers,
 * literals, and strings with UTF-8 validation and escape checks in the DFA)
 * drives a small parser. For each top-level key it compares the key against
 * the needed column names (length, then memcmp; no allocation) and records
 * where the value is (a span of the input); nested objects/arrays are
 * skipped, still validated, with an explicit stack. After the record is
 * known to be valid, only the recorded values of the needed columns are
 * converted and written straight into the batch's vectors.
 *
 * It is a drop-in replacement for the jansson decoder (format_json.c,
 * json_decode_line_jansson) and reproduces its results exactly; the
 * differential test tests/unit/test_conn_json_fast.c checks that:
 *   - the whole document is validated like jansson does: JSON grammar, top
 *     level an object (an array is "expected a JSON object, got an array";
 *     any other top-level value or an empty line is invalid JSON), only
 *     whitespace (space, tab, CR, LF) after it, nesting depth <= 2048
 *     (JSON_PARSER_MAX_DEPTH, counting every value), control characters in
 *     strings rejected, escapes \" \\ \/ \b \f \n \r \t \uXXXX only, lone or
 *     mismatched surrogates rejected, \u0000 allowed in values but not in
 *     keys, a real that overflows a double rejected;
 *   - invalid UTF-8 anywhere in the record (overlong forms, encoded
 *     surrogates, > U+10FFFF, truncated sequences, stray continuation bytes)
 *     rejects the record, as jansson does — no pass-through;
 *   - duplicate keys: the last value wins (jansson replaces the value);
 *   - field lookup: an exact name match, else the first key (in order of
 *     first appearance) equal to the name ignoring ASCII case, with that
 *     key's last value (jansson's json_object_get, then json_object_foreach
 *     with strcasecmp);
 *   - an integer beyond int64 anywhere in the record makes every number of
 *     the record a double (jansson's JSON_DECODE_INT_AS_REAL retry), and
 *     then a non-DOUBLE column refuses a value of magnitude >= 2^53;
 *   - conversions and messages of format_json.c (BOOLEAN, BIGINT incl.
 *     integral reals, DOUBLE, VARCHAR, TIMESTAMP/INTERVAL from a string or
 *     epoch milliseconds).
 * Only the text of "invalid JSON at column N: ..." differs (our own reason,
 * N = byte offset + 1).
 *
 * Strings without escapes are copied into the batch's arena as they are;
 * strings with escapes are decoded (UTF-8) straight into the arena.
 *
 * Speed (bench/json_decode.c): the line is first copied into a buffer with
 * 8 NUL bytes after it (on the stack up to 4 KB), so the DFA needs no
 * bounds checks (a raw NUL is never valid JSON; at the end it is EOF);
 * string bodies are scanned 8 bytes at a time while they are printable
 * ASCII without '"' or '\\'; the top-level loop takes ':' ',' '}' and
 * string starts directly and inlines the lexer; TIMESTAMP text of the
 * exact form YYYY-MM-DDTHH:MM:SS.fffZ is converted without ts_parse (same
 * checks, same result). Column names are matched by length, then bytes.
 */
#include "runtime/connectors/formats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/timefmt.h"
#include "exec/vector.h"
#include "runtime/connectors/conn_internal.h"

typedef unsigned char uc;

#define JF_MAX_DEPTH 2048      /* jansson's JSON_PARSER_MAX_DEPTH */

enum {
    T_ERR = 0, T_END, T_LBRACE, T_RBRACE, T_LBRACK, T_RBRACK, T_COLON, T_COMMA,
    T_STR, T_INT, T_REAL, T_TRUE, T_FALSE, T_NULL
};

/* value kinds of a recorded field (0: absent) */
enum { K_NONE = 0, K_OBJ, K_ARR, K_STR, K_INT, K_REAL, K_TRUE, K_FALSE, K_NULL };

typedef struct Lx {
    const uc   *start, *cur, *lim;
    const uc   *tp;         /* last token: string body (no quotes) or number text */
    size_t      tn;
    int         esc;        /* the string has escapes                           */
    int         nul;        /* the string has \u0000                            */
    int         ints_as_reals;   /* an integer beyond int64 was seen             */
    const char *err;        /* why the record is invalid                        */
    const uc   *errp;       /* where                                            */
    int         errc;       /* the control character for that message, or -1     */
} Lx;

static inline __attribute__((always_inline)) int lx_fail(Lx *x, const uc *at, const char *why)
{
    if (!x->err) {
        x->err = why;
        x->errp = at;
    }
    return T_ERR;
}

/* ---- numbers --------------------------------------------------------------------------- */

/* a valid JSON integer token → int64; -1 when it does not fit */
static int parse_i64(const uc *p, size_t n, int64_t *out)
{
    int neg = *p == '-';
    p += neg;
    n -= (size_t)neg;
    uint64_t v = 0;
    if (n <= 18) {
        for (size_t i = 0; i < n; i++) v = v * 10 + (uint64_t)(p[i] - '0');
    } else {
        for (size_t i = 0; i < n; i++) {
            uint64_t d = (uint64_t)(p[i] - '0');
            if (v > (UINT64_MAX - d) / 10) return -1;
            v = v * 10 + d;
        }
        if (v > (neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1)) return -1;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* a valid JSON number token → double, correctly rounded: Clinger's exact
 * fast path (<= 2^53 mantissa, |exponent| <= 22), else strtod on a copy */
static double to_double(const uc *p, size_t n)
{
    const uc *q = p, *e = p + n;
    int       neg = *q == '-';
    q += neg;
    uint64_t m = 0;
    int      sig = 0, fracd = 0, ok = 1;
    for (; q < e && *q >= '0' && *q <= '9'; q++) {
        if (m || *q != '0') {
            if (++sig > 19) ok = 0;
            else m = m * 10 + (uint64_t)(*q - '0');
        }
    }
    if (q < e && *q == '.') {
        for (q++; q < e && *q >= '0' && *q <= '9'; q++) {
            fracd++;
            if (m || *q != '0') {
                if (++sig > 19) ok = 0;
                else m = m * 10 + (uint64_t)(*q - '0');
            }
        }
    }
    long ex = 0;
    if (q < e && (*q == 'e' || *q == 'E')) {
        q++;
        int eneg = 0;
        if (*q == '+' || *q == '-') eneg = *q++ == '-';
        for (; q < e; q++)
            if (ex < 100000) ex = ex * 10 + (*q - '0');
        if (eneg) ex = -ex;
    }
    if (ok) {
        if (m == 0) return neg ? -0.0 : 0.0;
        long e10 = ex - fracd;
        if (m <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
            double d = (double)m;
            d = e10 >= 0 ? d * pow10_exact[e10] : d / pow10_exact[-e10];
            return neg ? -d : d;
        }
    }
    char  small[64];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) return strtod("nan", NULL);   /* OOM: cannot happen in practice */
    memcpy(buf, p, n);
    buf[n] = '\0';
    double d = strtod(buf, NULL);
    if (buf != small) free(buf);
    return d;
}

/* ---- strings ------------------------------------------------------------------------------ */

static unsigned hex4(const uc *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i];
        v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* Decode a string body that the lexer accepted (valid escapes, surrogates
 * paired) into out. Writes at most cap bytes; returns the decoded length,
 * or (size_t)-1 when it would exceed cap. The decoded length is <= n. */
static size_t decode_str(const uc *p, size_t n, char *out, size_t cap)
{
    const uc *e = p + n;
    size_t    o = 0;
    while (p < e) {
        const uc *bs = memchr(p, '\\', (size_t)(e - p));
        size_t    run = (size_t)((bs ? bs : e) - p);
        if (o + run > cap) return (size_t)-1;
        memcpy(out + o, p, run);
        o += run;
        p += run;
        if (!bs) break;
        uc      c = p[1];
        char    one = 0;
        switch (c) {
        case '"': one = '"'; break;
        case '\\': one = '\\'; break;
        case '/': one = '/'; break;
        case 'b': one = '\b'; break;
        case 'f': one = '\f'; break;
        case 'n': one = '\n'; break;
        case 'r': one = '\r'; break;
        case 't': one = '\t'; break;
        default: break;
        }
        if (c != 'u') {
            if (o + 1 > cap) return (size_t)-1;
            out[o++] = one;
            p += 2;
            continue;
        }
        unsigned cp = hex4(p + 2);
        p += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {   /* the lexer checked the pair */
            cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(p + 2) - 0xDC00);
            p += 6;
        }
        char   u[4];
        size_t k;
        if (cp < 0x80) {
            u[0] = (char)cp;
            k = 1;
        } else if (cp < 0x800) {
            u[0] = (char)(0xC0 | (cp >> 6));
            u[1] = (char)(0x80 | (cp & 0x3F));
            k = 2;
        } else if (cp < 0x10000) {
            u[0] = (char)(0xE0 | (cp >> 12));
            u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[2] = (char)(0x80 | (cp & 0x3F));
            k = 3;
        } else {
            u[0] = (char)(0xF0 | (cp >> 18));
            u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[3] = (char)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (o + k > cap) return (size_t)-1;
        memcpy(out + o, u, k);
        o += k;
    }
    return o;
}

/*!re2c
    re2c:api = custom;
    re2c:api:style = free-form;
    re2c:define:YYCTYPE = uc;
    re2c:define:YYPEEK = "*cur";
    re2c:define:YYSKIP = "++cur;";
    re2c:define:YYBACKUP = "mar = cur;";
    re2c:define:YYRESTORE = "cur = mar;";
    re2c:yyfill:enable = 0;

    hex    = [0-9a-fA-F];
    utf8   = [\xc2-\xdf][\x80-\xbf]
           | "\xe0"[\xa0-\xbf][\x80-\xbf]
           | [\xe1-\xec\xee\xef][\x80-\xbf]{2}
           | "\xed"[\x80-\x9f][\x80-\xbf]
           | "\xf0"[\x90-\xbf][\x80-\xbf]{2}
           | [\xf1-\xf3][\x80-\xbf]{3}
           | "\xf4"[\x80-\x8f][\x80-\xbf]{2};
    plain  = [\x20-\x21\x23-\x5b\x5d-\x7f] | utf8;
    hi     = "\\u" [dD][89abAB] hex hex;
    lo     = "\\u" [dD][c-fC-F] hex hex;
    int    = "-"? ("0" | [1-9][0-9]*);
    frac   = "." [0-9]+;
    exp    = [eE] [+-]? [0-9]+;
*/

/* the body of a string after its opening quote → T_STR (tp/tn/esc/nul) */
static inline __attribute__((always_inline)) int lex_string(Lx *x)
{
    const uc *cur = x->cur, *lim = x->lim, *mar = cur, *start = cur;
    int       esc = 0, nul = 0;
    for (;;) {
        /* fast path: 8 bytes at a time while they are all printable ASCII
         * other than '"' and '\\' (a flagged word goes to the DFA) */
        while (cur <= lim) {   /* the copy has 8 NUL bytes after lim */
            uint64_t w;
            memcpy(&w, cur, 8);
            const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
            uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
            uint64_t flag = (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs) | w) &
                            highs;
            if (flag) {
                /* the lowest flagged byte is exact (borrows only run upwards) */
                cur += __builtin_ctzll(flag) >> 3;
                if (*cur == '"') {
                    x->tp = start;
                    x->tn = (size_t)(cur - start);
                    x->esc = esc;
                    x->nul = nul;
                    x->cur = cur + 1;
                    return T_STR;
                }
                break;
            }
            cur += 8;
        }
        const uc *tok = cur;
        (void)mar;
        /*!re2c
            plain+          { continue; }
            ["]             { x->tp = start; x->tn = (size_t)(tok - start); x->esc = esc;
                              x->nul = nul; x->cur = cur; return T_STR; }
            "\\" ["\\/bfnrt] { esc = 1; continue; }
            "\\u0000"       { esc = nul = 1; continue; }
            hi lo           { esc = 1; continue; }
            hi | lo         { return lx_fail(x, tok, "invalid Unicode escape (lone surrogate)"); }
            "\\u" hex{4}    { esc = 1; continue; }
            "\\"            { return lx_fail(x, tok, "invalid escape"); }
            *               {
                if (tok >= lim) return lx_fail(x, tok, "premature end of input in a string");
                if (*tok < 0x20) {
                    if (!x->err) x->errc = *tok;
                    return lx_fail(x, tok, "control character in a string");
                }
                return lx_fail(x, tok, "invalid UTF-8 in a string");
            }
        */
    }
}

/* A real that overflows a double makes the document invalid (jansson:
 * "real number overflow"); only long numbers or ones with an exponent can. */
static inline __attribute__((always_inline)) int check_real(Lx *x, const uc *tok, size_t n,
                                                             int has_exp)
{
    if ((has_exp || n > 300) && isinf(to_double(tok, n))) {
        lx_fail(x, tok, "real number overflow");
        return -1;
    }
    return 0;
}

/* the next token, after whitespace; inlined in the loop over the top-level
 * fields, called (lex) elsewhere */
static inline __attribute__((always_inline)) int lex_inline(Lx *x)
{
    const uc *cur = x->cur, *lim = x->lim, *mar = cur;
    for (;;) {
        const uc *tok = cur;
        (void)mar;
        /*!re2c
            [ \t\n\r]+  { continue; }
            "{"         { x->cur = cur; return T_LBRACE; }
            "}"         { x->cur = cur; return T_RBRACE; }
            "["         { x->cur = cur; return T_LBRACK; }
            "]"         { x->cur = cur; return T_RBRACK; }
            ":"         { x->cur = cur; return T_COLON; }
            ","         { x->cur = cur; return T_COMMA; }
            ["]         { x->cur = cur; return lex_string(x); }
            "true"      { x->cur = cur; return T_TRUE; }
            "false"     { x->cur = cur; return T_FALSE; }
            "null"      { x->cur = cur; return T_NULL; }
            int         {
                size_t  n = (size_t)(cur - tok);
                int64_t i;
                x->cur = cur;
                x->tp = tok;
                x->tn = n;
                if (n >= 19 && parse_i64(tok, n, &i) != 0) {
                    x->ints_as_reals = 1;
                    if (check_real(x, tok, n, 0)) return T_ERR;
                }
                return T_INT;
            }
            int frac    {
                x->cur = cur; x->tp = tok; x->tn = (size_t)(cur - tok);
                return check_real(x, tok, x->tn, 0) ? T_ERR : T_REAL;
            }
            int frac? exp {
                x->cur = cur; x->tp = tok; x->tn = (size_t)(cur - tok);
                return check_real(x, tok, x->tn, 1) ? T_ERR : T_REAL;
            }
            [\x00]      {
                if (tok >= lim) {
                    x->cur = lim;
                    return T_END;
                }
                return lx_fail(x, tok, "NUL byte");
            }
            *           { return lx_fail(x, tok, "invalid token"); }
        */
    }
}

static int lex(Lx *x)
{
    return lex_inline(x);
}

/* ---- skipping nested values ------------------------------------------------------------- */

static int is_scalar(int t)
{
    return t >= T_STR && t <= T_NULL;
}

/* Skip (and validate) the rest of the object/array whose opening bracket was
 * just read, at nesting `level` (the top-level object is level 1). 0/-1. */
static int skip_nested(Lx *x, int is_arr, int level)
{
    uint64_t  stk[JF_MAX_DEPTH / 64 + 2] = {0};
    const int base = level;
#define ARR_AT(l) ((int)((stk[(l) >> 6] >> ((l) & 63)) & 1))
#define SET_AT(l, a)                                                           \
    (stk[(l) >> 6] = (stk[(l) >> 6] & ~((uint64_t)1 << ((l) & 63))) |         \
                     ((uint64_t)(a) << ((l) & 63)))
    SET_AT(level, is_arr);
    int t = lex(x), first = 1;
    for (;;) {
        int arr = ARR_AT(level);
        if (t == T_ERR) return -1;
        if (first && t == (arr ? T_RBRACK : T_RBRACE)) goto close;
        if (!arr) {
            if (t != T_STR) return lx_fail(x, x->cur, "string or '}' expected"), -1;
            if (x->nul) return lx_fail(x, x->tp, "NUL byte in object key not supported"), -1;
            t = lex(x);
            if (t != T_COLON) return lx_fail(x, x->cur, "':' expected"), -1;
            t = lex(x);
            if (t == T_ERR) return -1;
        }
        if (level + 1 > JF_MAX_DEPTH) return lx_fail(x, x->cur, "maximum parsing depth reached"), -1;
        if (t == T_LBRACE || t == T_LBRACK) {
            level++;
            SET_AT(level, t == T_LBRACK);
            t = lex(x);
            first = 1;
            continue;
        }
        if (!is_scalar(t)) return lx_fail(x, x->cur, "unexpected token"), -1;
        for (;;) {   /* after a value */
            t = lex(x);
            if (t == T_COMMA) {
                t = lex(x);
                first = 0;
                break;
            }
            if (t != (ARR_AT(level) ? T_RBRACK : T_RBRACE)) {
                if (t == T_ERR) return -1;
                return lx_fail(x, x->cur, ARR_AT(level) ? "']' expected" : "'}' expected"), -1;
            }
        close:
            if (level == base) return 0;
            level--;
        }
    }
#undef ARR_AT
#undef SET_AT
}

static inline const uc *skip_ws(const uc *c)
{
    while (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r') c++;
    return c;
}

/* skip_nested on a copy of the lexer state: the caller's Lx never has its
 * address taken, so the compiler keeps it in registers */
static inline __attribute__((always_inline)) int skip_nested_copy(Lx *x, int is_arr, int level)
{
    Lx  y = *x;
    int r = skip_nested(&y, is_arr, level);
    *x = y;
    return r;
}

/* ---- the record --------------------------------------------------------------------------- */

typedef struct Val {
    const uc *p;
    size_t    n;
    uint8_t   kind;
    uint8_t   esc;
} Val;

typedef struct Slot {
    Val       exact;    /* the value of the key equal to the name (last wins)      */
    Val       ci;       /* the value of the first key equal ignoring case          */
    const uc *cik;      /* that key, raw                                            */
    uint32_t  cikn;
    uint8_t   cikesc;
} Slot;

static inline int bytes_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static int ascii_caseeq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x != y) {
            if (x >= 'A' && x <= 'Z') x = (unsigned char)(x | 0x20);
            if (y >= 'A' && y <= 'Z') y = (unsigned char)(y | 0x20);
            if (x != y) return 0;
        }
    }
    return 1;
}

static const char *kind_name(int k)
{
    switch (k) {
    case K_OBJ: return "an object";
    case K_ARR: return "an array";
    case K_STR: return "a string";
    case K_INT: return "an integer";
    case K_REAL: return "a number";
    case K_TRUE:
    case K_FALSE: return "a boolean";
    case K_NULL: return "null";
    }
    return "a value";
}

/* ts_parse for the form the generators and ts_format(iso) write,
 * "YYYY-MM-DDTHH:MM:SS.fffZ" (24 bytes, 'T' or ' '), with ts_parse's range
 * checks; anything else goes to ts_parse. Same results (the differential
 * test compares against the jansson decoder, which calls ts_parse). */
static int ts_parse_fast(const char *p, size_t n, int64_t *out)
{
    if (n != 24) return ts_parse(p, n, out);
    const uc *u = (const uc *)p;
#define D(i) ((unsigned)u[i] - '0')
#define B(i) (D(i) > 9)
    int nd = B(0) | B(1) | B(2) | B(3) | B(5) | B(6) | B(8) | B(9) | B(11) | B(12) | B(14) |
             B(15) | B(17) | B(18) | B(20) | B(21) | B(22);
#undef B
    if (nd || u[4] != '-' || u[7] != '-' || (u[10] != 'T' && u[10] != 't' && u[10] != ' ') ||
        u[13] != ':' || u[16] != ':' || u[19] != '.' || u[23] != 'Z')
        return ts_parse(p, n, out);
    int y = (int)(D(0) * 1000 + D(1) * 100 + D(2) * 10 + D(3)), mo = (int)(D(5) * 10 + D(6)),
        d = (int)(D(8) * 10 + D(9)), hh = (int)(D(11) * 10 + D(12)),
        mi = (int)(D(14) * 10 + D(15)), ss = (int)(D(17) * 10 + D(18)),
        us = (int)(D(20) * 100 + D(21) * 10 + D(22)) * 1000;
#undef D
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > ts_days_in_month(y, mo) || hh > 23 ||
        mi > 59 || ss > 59)
        return -1;
    *out = ts_from_civil(y, mo, d, hh, mi, ss, us);
    return 0;
}

/* write the decoded string of x into row of v (arena) */
static int store_str(Vector *v, int row, const Val *x)
{
    if (!v->arena) return -1;
    char *buf = arena_alloc_bytes(v->arena, (size_t)x->n + 1);
    if (!buf) return -1;
    size_t n = x->n;
    if (x->esc) n = decode_str(x->p, x->n, buf, x->n);
    else memcpy(buf, x->p, n);
    buf[n] = '\0';
    vector_set_str_ref(v, row, buf, (uint32_t)n);
    return 0;
}

static int convert(Vector *v, int row, const Val *x, int iar, const char *col, char *why,
                   size_t cap)
{
    int kind = x->kind;
    if (kind == K_NONE || kind == K_NULL) {
        vector_set_null(v, row);
        return 0;
    }
    if (iar && kind == K_INT) kind = K_REAL;
    int64_t i = 0;
    double  d = 0;
    if (kind == K_INT) {
        parse_i64(x->p, x->n, &i);   /* fits: otherwise iar */
        d = (double)i;
    } else if (kind == K_REAL) {
        d = to_double(x->p, x->n);
        if (iar && v->type != TYPE_DOUBLE && fabs(d) >= 9007199254740992.0)
            return conn_errf(why, cap, "field '%s': %g is too large for %s", col, d,
                             sql_type_name(v->type));
    }
    int num = kind == K_INT || kind == K_REAL;
    switch (v->type) {
    case TYPE_BOOLEAN:
        if (kind != K_TRUE && kind != K_FALSE) break;
        vector_bool(v)[row] = kind == K_TRUE;
        vector_set_valid(v, row);
        return 0;
    case TYPE_BIGINT:
        if (kind == K_REAL) {
            if (!(d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0))
                return conn_errf(why, cap, "field '%s': %g is not a BIGINT", col, d);
            i = (int64_t)d;
        } else if (kind != K_INT) {
            break;
        }
        vector_i64(v)[row] = i;
        vector_set_valid(v, row);
        return 0;
    case TYPE_DOUBLE:
        if (!num) break;
        vector_f64(v)[row] = d;
        vector_set_valid(v, row);
        return 0;
    case TYPE_VARCHAR:
        if (kind != K_STR) break;
        if (x->n > UINT32_MAX || store_str(v, row, x) != 0)
            return conn_errf(why, cap, "out of memory");
        return 0;
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL: {
        int64_t us;
        if (kind == K_INT) {
            if (i > INT64_MAX / 1000 || i < INT64_MIN / 1000)
                return conn_errf(why, cap, "field '%s': %g milliseconds is out of range", col, d);
            us = i * 1000;
        } else if (kind == K_REAL) {
            double u = d * 1000.0;
            if (!(u >= -9.2e18 && u <= 9.2e18))
                return conn_errf(why, cap, "field '%s': %g milliseconds is out of range", col, d);
            us = (int64_t)llround(u);
        } else if (kind == K_STR) {
            char        small[128], *heap = NULL;
            const char *s = (const char *)x->p;
            size_t      n = x->n;
            if (x->esc) {
                char *buf = n <= sizeof small ? small : (heap = malloc(n ? n : 1));
                if (!buf) return conn_errf(why, cap, "out of memory");
                n = decode_str(x->p, x->n, buf, x->n);
                s = buf;
            }
            int rc = v->type == TYPE_TIMESTAMP ? ts_parse_fast(s, n, &us)
                                               : interval_parse(s, n, &us);
            if (rc != 0)
                conn_errf(why, cap, "field '%s': '%.*s' is not a valid %s", col,
                          n > 40 ? 40 : (int)n, s, sql_type_name(v->type));
            free(heap);
            if (rc != 0) return -1;
        } else {
            break;
        }
        if (v->type == TYPE_TIMESTAMP && kind != K_STR && (us < CONN_TS_MIN_US || us > CONN_TS_MAX_US))
            return conn_errf(why, cap, "field '%s': %g milliseconds is out of range", col,
                             d);
        vector_i64(v)[row] = us;
        vector_set_valid(v, row);
        return 0;
    }
    case TYPE_NULL:
        vector_set_null(v, row);
        return 0;
    }
    return conn_errf(why, cap, "field '%s': expected %s, got %s", col, sql_type_name(v->type),
                     kind_name(kind));
}

#define JF_STACK_COLS 64
#define JF_KEYBUF 256
#define JF_LOCAL_LINE 4096   /* longer lines are copied to the heap */
#define JF_PAD 8

int json_fast_decode_line(const char *p, size_t n, int ncols, const char *const *names,
                          Batch *b, int row, char *why, size_t cap)
{
    /* A copy of the line followed by NUL bytes: the lexer needs no bounds
     * checks (a raw NUL is never valid JSON; at lim it is the end). */
    char  local[JF_LOCAL_LINE + JF_PAD];
    char *copy = local, *bigcopy = NULL;
    if (n > JF_LOCAL_LINE) {
        if (n > SIZE_MAX - JF_PAD || !(bigcopy = malloc(n + JF_PAD)))
            return conn_errf(why, cap, "out of memory");
        copy = bigcopy;
    }
    memcpy(copy, p, n);
    memset(copy + n, 0, JF_PAD);

    Lx x;
    x.start = x.cur = (const uc *)copy;
    x.lim = (const uc *)copy + n;
    x.tp = NULL;
    x.tn = 0;
    x.esc = x.nul = x.ints_as_reals = 0;
    x.err = NULL;
    x.errp = NULL;
    x.errc = -1;

    Slot     slots_s[JF_STACK_COLS];
    uint32_t nlen_s[JF_STACK_COLS];
    char     kbuf_s[2][JF_KEYBUF];
    Slot    *slots = slots_s;
    uint32_t *nlen = nlen_s;
    char    *kbuf[2] = {kbuf_s[0], kbuf_s[1]};
    char    *heap = NULL;
    size_t   maxn = 0;
    int      rc = 0;
    if (ncols < 0) ncols = 0;
    for (int c = 0; c < ncols && c < JF_STACK_COLS; c++) {
        nlen[c] = (uint32_t)strlen(names[c]);
        if (nlen[c] > maxn) maxn = nlen[c];
    }
    if (ncols > JF_STACK_COLS || maxn > JF_KEYBUF) {
        size_t ns = (size_t)ncols;
        for (int c = JF_STACK_COLS; c < ncols; c++)
            if (strlen(names[c]) > maxn) maxn = strlen(names[c]);
        heap = malloc(ns * (sizeof(Slot) + sizeof(uint32_t)) + 2 * (maxn + 1));
        if (!heap) {
            free(bigcopy);
            return conn_errf(why, cap, "out of memory");
        }
        slots = (Slot *)heap;
        nlen = (uint32_t *)(heap + ns * sizeof(Slot));
        kbuf[0] = heap + ns * (sizeof(Slot) + sizeof(uint32_t));
        kbuf[1] = kbuf[0] + maxn + 1;
        for (int c = 0; c < ncols; c++) nlen[c] = (uint32_t)strlen(names[c]);
    }
    for (int c = 0; c < ncols; c++) slots[c].exact.kind = slots[c].ci.kind = K_NONE;

    int t = lex_inline(&x);
    if (t == T_LBRACK) {
        if (skip_nested_copy(&x, 1, 1) != 0) goto invalid;
        if (lex_inline(&x) != T_END) {
            lx_fail(&x, x.cur, "end of file expected");
            goto invalid;
        }
        rc = conn_errf(why, cap, "expected a JSON object, got %s", "an array");
        goto out;
    }
    if (t != T_LBRACE) {
        lx_fail(&x, x.cur, "'[' or '{' expected");
        goto invalid;
    }
    t = lex_inline(&x);
    if (t != T_RBRACE) {
        for (;;) {
            if (t != T_STR) {
                lx_fail(&x, x.cur, "string or '}' expected");
                goto invalid;
            }
            if (x.nul) {
                lx_fail(&x, x.tp, "NUL byte in object key not supported");
                goto invalid;
            }
            const uc *kp = x.tp;
            size_t    kn = x.tn;
            int       kesc = x.esc;
            x.cur = skip_ws(x.cur);
            if (*x.cur == ':') x.cur++;   /* fast path; the lexer tells errors */
            else if (lex_inline(&x) != T_COLON) {
                lx_fail(&x, x.cur, "':' expected");
                goto invalid;
            }
            x.cur = skip_ws(x.cur);
            if (*x.cur == '"') {
                x.cur++;
                t = lex_string(&x);
            } else {
                t = lex_inline(&x);
            }
            Val v = {x.cur, 0, K_NONE, 0};
            switch (t) {
            case T_LBRACE:
            case T_LBRACK:
                v.kind = t == T_LBRACE ? K_OBJ : K_ARR;
                if (skip_nested_copy(&x, t == T_LBRACK, 2) != 0) goto invalid;
                break;
            case T_STR:
                v.p = x.tp;
                v.n = x.tn;   /* > 4 GB strings are refused when stored */
                v.kind = K_STR;
                v.esc = (uint8_t)x.esc;
                break;
            case T_INT:
            case T_REAL:
                v.p = x.tp;
                v.n = x.tn;
                v.kind = t == T_INT ? K_INT : K_REAL;
                break;
            case T_TRUE: v.kind = K_TRUE; break;
            case T_FALSE: v.kind = K_FALSE; break;
            case T_NULL: v.kind = K_NULL; break;
            case T_ERR: goto invalid;
            default:
                lx_fail(&x, x.cur, "unexpected token");
                goto invalid;
            }
            /* the key, decoded when it has escapes (only names' lengths matter) */
            const char *dk = (const char *)kp;
            size_t      dn = kn;
            if (kesc) {
                dn = decode_str(kp, kn, kbuf[0], maxn);
                dk = kbuf[0];
            }
            if (dn != (size_t)-1 && dn <= maxn) {
                for (int c = 0; c < ncols; c++) {
                    if (nlen[c] != dn) continue;
                    Slot *s = &slots[c];
                    if (bytes_eq(dk, names[c], dn)) {
                        s->exact = v;
                    } else if (ascii_caseeq(dk, names[c], dn)) {
                        if (s->ci.kind == K_NONE) {
                            s->ci = v;
                            s->cik = kp;
                            s->cikn = (uint32_t)kn;
                            s->cikesc = (uint8_t)kesc;
                        } else {
                            const char *ck = (const char *)s->cik;
                            size_t      cn = s->cikn;
                            if (s->cikesc) {
                                cn = decode_str(s->cik, s->cikn, kbuf[1], maxn);
                                ck = kbuf[1];
                            }
                            if (cn == dn && memcmp(ck, dk, dn) == 0) s->ci = v;
                        }
                    }
                }
            }
            x.cur = skip_ws(x.cur);
            if (*x.cur == ',') {
                x.cur = skip_ws(x.cur + 1);
                if (*x.cur == '"') {
                    x.cur++;
                    t = lex_string(&x);
                } else {
                    t = lex_inline(&x);
                }
                continue;
            }
            if (*x.cur == '}') {
                x.cur++;
                break;
            }
            t = lex_inline(&x);
            if (t != T_ERR) lx_fail(&x, x.cur, "'}' expected");
            goto invalid;
        }
    }
    if (lex_inline(&x) != T_END) {
        lx_fail(&x, x.cur, "end of file expected");
        goto invalid;
    }

    for (int c = 0; c < ncols && rc == 0; c++) {
        const Val *v = slots[c].exact.kind ? &slots[c].exact : &slots[c].ci;
        rc = convert(&b->cols[c], row, v, x.ints_as_reals, names[c], why, cap);
    }
    goto out;

invalid:
    if (x.errc >= 0)
        rc = conn_errf(why, cap, "invalid JSON at column %d: control character 0x%x in a string",
                       (int)(x.errp - x.start) + 1, x.errc);
    else
        rc = conn_errf(why, cap, "invalid JSON at column %d: %s",
                       (int)((x.errp ? x.errp : x.cur) - x.start) + 1,
                       x.err ? x.err : "syntax error");
out:
    free(heap);
    free(bigcopy);
    return rc;
}
