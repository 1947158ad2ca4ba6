/*
 * timefmt.c — civil dates and time text (see timefmt.h for the formats).
 *
 * The calendar math is Howard Hinnant's ("chrono-Compatible Low-Level Date
 * Algorithms"): shift the year to start in March so the leap day is last,
 * count 400-year eras with floor division, and the day of the era follows
 * from closed formulas. No tables, no loops, exact for negative years.
 *
 * Parsers walk a cursor (s, e) over the input with small helpers that return
 * 0 on success and -1 when the text does not match; every field is
 * range-checked before anything is computed. Formatters build the text in a
 * local buffer and copy it out with snprintf semantics (copy_out).
 */
#include "exec/timefmt.h"

#include <stdio.h>
#include <string.h>

/* ---- private helpers ---------------------------------------------------- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* floor division and non-negative remainder, safe for INT64_MIN */
static int64_t floor_div(int64_t a, int64_t b, int64_t *rem)
{
    int64_t q = a / b, r = a % b;
    if (r < 0) {
        q--;
        r += b;
    }
    *rem = r;
    return q;
}

/* copy a finished text into the caller's buffer, snprintf style */
static int copy_out(char *buf, size_t cap, const char *text, int len)
{
    if (cap > 0) {
        size_t n = (size_t)len < cap - 1 ? (size_t)len : cap - 1;
        memcpy(buf, text, n);
        buf[n] = '\0';
    }
    return len;
}

/* exactly `width` digits */
static int digits(const char **s, const char *e, int width, int *out)
{
    if (e - *s < width) return -1;
    int v = 0;
    for (int i = 0; i < width; i++) {
        char c = (*s)[i];
        if (!is_digit(c)) return -1;
        v = v * 10 + (c - '0');
    }
    *s += width;
    *out = v;
    return 0;
}

static int lit(const char **s, const char *e, char c)
{
    if (*s >= e || **s != c) return -1;
    (*s)++;
    return 0;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && is_blank(**s)) (*s)++;
    while (*e > *s && is_blank((*e)[-1])) (*e)--;
}

/* ".f": 1..9 digits; µs kept, the rest truncated */
static int fraction(const char **s, const char *e, int *usec)
{
    int v = 0, nd = 0;
    while (*s < e && is_digit(**s)) {
        if (++nd > 9) return -1;
        if (nd <= 6) v = v * 10 + (**s - '0');
        (*s)++;
    }
    if (nd == 0) return -1;
    for (int i = nd; i < 6; i++) v *= 10;
    *usec = v;
    return 0;
}

/* "Z" or +HH, +HH:MM, +HHMM (or '-') → offset in µs east of UTC */
static int utc_offset(const char **s, const char *e, int64_t *off)
{
    if (*s < e && (**s == 'Z' || **s == 'z')) {
        (*s)++;
        *off = 0;
        return 0;
    }
    if (*s >= e || (**s != '+' && **s != '-')) return -1;
    int neg = **s == '-', hh, mm = 0;
    (*s)++;
    if (digits(s, e, 2, &hh) < 0) return -1;
    if (*s < e && **s == ':') {
        (*s)++;
        if (digits(s, e, 2, &mm) < 0) return -1;
    } else if (*s < e && is_digit(**s)) {
        if (digits(s, e, 2, &mm) < 0) return -1;
    }
    if (hh > 23 || mm > 59) return -1;
    *off = (neg ? -1 : 1) * (hh * USEC_PER_HOUR + mm * USEC_PER_MINUTE);
    return 0;
}

/* ---- calendar ------------------------------------------------------------ */

int ts_days_in_month(int year, int month)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12) return 0;
    if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) return 29;
    return mdays[month - 1];
}

int64_t ts_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t  era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);                               /* [0, 399]    */
    unsigned doy = (153u * (unsigned)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (unsigned)d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                   /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *year, int *month, int *day)
{
    z += 719468;
    int64_t  era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                            /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;   /* [0, 399]    */
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                 /* [0, 365]    */
    unsigned mp = (5 * doy + 2) / 153;                                      /* [0, 11]     */
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)m;
    *year = (int)((int64_t)yoe + era * 400 + (m <= 2));
}

int64_t ts_from_civil(int year, int month, int day, int hour, int minute, int second,
                      int usec)
{
    int64_t days = ts_days_from_civil(year, month, day);
    return days * USEC_PER_DAY + hour * USEC_PER_HOUR + minute * USEC_PER_MINUTE +
           second * USEC_PER_SEC + usec;
}

void ts_to_civil(int64_t ts, CivilTime *out)
{
    int64_t rem;
    int64_t days = floor_div(ts, USEC_PER_DAY, &rem);
    civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(rem / USEC_PER_HOUR);
    rem %= USEC_PER_HOUR;
    out->minute = (int)(rem / USEC_PER_MINUTE);
    rem %= USEC_PER_MINUTE;
    out->second = (int)(rem / USEC_PER_SEC);
    out->usec = (int)(rem % USEC_PER_SEC);
}

/* ---- timestamps ----------------------------------------------------------- */

int ts_parse(const char *p, size_t n, int64_t *out)
{
    if (!p) return -1;
    const char *s = p, *e = p + n;
    trim(&s, &e);

    int y, mo, d, hh = 0, mi = 0, ss = 0, us = 0;
    int64_t off = 0;
    if (digits(&s, e, 4, &y) < 0 || lit(&s, e, '-') < 0 || digits(&s, e, 2, &mo) < 0 ||
        lit(&s, e, '-') < 0 || digits(&s, e, 2, &d) < 0)
        return -1;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > ts_days_in_month(y, mo)) return -1;

    if (s < e) {
        if (*s != ' ' && *s != 'T' && *s != 't') return -1;
        s++;
        if (digits(&s, e, 2, &hh) < 0 || lit(&s, e, ':') < 0 || digits(&s, e, 2, &mi) < 0)
            return -1;
        if (s < e && *s == ':') {
            s++;
            if (digits(&s, e, 2, &ss) < 0) return -1;
            if (s < e && *s == '.') {
                s++;
                if (fraction(&s, e, &us) < 0) return -1;
            }
        }
        if (hh > 23 || mi > 59 || ss > 59) return -1;
        while (s < e && is_blank(*s)) s++;
        if (s < e && utc_offset(&s, e, &off) < 0) return -1;
        if (s != e) return -1;
    }
    *out = ts_from_civil(y, mo, d, hh, mi, ss, us) - off;
    return 0;
}

static char *put_digits(char *p, int v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10) p[i] = (char)('0' + v % 10);
    return p + n;
}

int ts_format(int64_t ts, char *buf, size_t cap, int iso)
{
    CivilTime c;
    char      text[TS_FORMAT_MAX];
    ts_to_civil(ts, &c);
    if (c.year >= 0 && c.year <= 9999) {
        /* the common case without printf: output formatting is hot */
        char *p = text;
        p = put_digits(p, c.year, 4);
        *p++ = '-';
        p = put_digits(p, c.month, 2);
        *p++ = '-';
        p = put_digits(p, c.day, 2);
        *p++ = iso ? 'T' : ' ';
        p = put_digits(p, c.hour, 2);
        *p++ = ':';
        p = put_digits(p, c.minute, 2);
        *p++ = ':';
        p = put_digits(p, c.second, 2);
        if (iso) {
            *p++ = '.';
            p = put_digits(p, c.usec / 1000, 3);
            *p++ = 'Z';
        } else if (c.usec) {
            *p++ = '.';
            p = put_digits(p, c.usec, 6);
            while (p[-1] == '0') p--;
        }
        *p = '\0';
        return copy_out(buf, cap, text, (int)(p - text));
    }
    int len = snprintf(text, sizeof text, c.year < 0 ? "-%04d-%02d-%02d%c%02d:%02d:%02d"
                                                     : "%04d-%02d-%02d%c%02d:%02d:%02d",
                       c.year < 0 ? -c.year : c.year, c.month, c.day, iso ? 'T' : ' ', c.hour,
                       c.minute, c.second);
    if (iso) {
        len += snprintf(text + len, sizeof text - (size_t)len, ".%03dZ", c.usec / 1000);
    } else if (c.usec) {
        len += snprintf(text + len, sizeof text - (size_t)len, ".%06d", c.usec);
        while (text[len - 1] == '0') len--;
        text[len] = '\0';
    }
    return copy_out(buf, cap, text, len);
}

/* ---- intervals ------------------------------------------------------------ */

typedef struct IntervalUnit {
    const char *name;
    int64_t     usec;
} IntervalUnit;

static const IntervalUnit units[] = {
    {"us", 1}, {"usec", 1}, {"usecs", 1}, {"micro", 1}, {"micros", 1},
    {"microsecond", 1}, {"microseconds", 1},
    {"ms", USEC_PER_MSEC}, {"msec", USEC_PER_MSEC}, {"msecs", USEC_PER_MSEC},
    {"milli", USEC_PER_MSEC}, {"millis", USEC_PER_MSEC},
    {"millisecond", USEC_PER_MSEC}, {"milliseconds", USEC_PER_MSEC},
    {"s", USEC_PER_SEC}, {"sec", USEC_PER_SEC}, {"secs", USEC_PER_SEC},
    {"second", USEC_PER_SEC}, {"seconds", USEC_PER_SEC},
    {"m", USEC_PER_MINUTE}, {"min", USEC_PER_MINUTE}, {"mins", USEC_PER_MINUTE},
    {"minute", USEC_PER_MINUTE}, {"minutes", USEC_PER_MINUTE},
    {"h", USEC_PER_HOUR}, {"hr", USEC_PER_HOUR}, {"hrs", USEC_PER_HOUR},
    {"hour", USEC_PER_HOUR}, {"hours", USEC_PER_HOUR},
    {"d", USEC_PER_DAY}, {"day", USEC_PER_DAY}, {"days", USEC_PER_DAY},
    {"w", 7 * USEC_PER_DAY}, {"week", 7 * USEC_PER_DAY}, {"weeks", 7 * USEC_PER_DAY},
};

static int64_t unit_lookup(const char *p, size_t n)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        const char *u = units[i].name;
        if (strlen(u) != n) continue;
        size_t k = 0;
        while (k < n && lower(p[k]) == u[k]) k++;
        if (k == n) return units[i].usec;
    }
    return 0;
}

#define MAX_INT_DIGITS  19   /* 10^19 < 2^64: "9223372036854775807 us" fits */
#define MAX_FRAC_DIGITS 18   /* 10^18 < 2^63: the fraction's scale fits int64 */

int interval_parse(const char *p, size_t n, int64_t *usec)
{
    if (!p) return -1;
    const char *s = p, *e = p + n;
    trim(&s, &e);
    if (s == e) return -1;

    __int128 total = 0;
    while (s < e) {
        int neg = 0;
        if (*s == '+' || *s == '-') neg = *s++ == '-';

        uint64_t ipart = 0;
        int64_t  fpart = 0, fscale = 1;
        int      nint = 0, nfrac = 0;
        while (s < e && is_digit(*s)) {
            if (++nint > MAX_INT_DIGITS) return -1;
            ipart = ipart * 10 + (uint64_t)(*s++ - '0');
        }
        if (s < e && *s == '.') {
            s++;
            while (s < e && is_digit(*s)) {
                if (++nfrac > MAX_FRAC_DIGITS) return -1;
                fpart = fpart * 10 + (*s++ - '0');
                fscale *= 10;
            }
        }
        if (nint + nfrac == 0) return -1;

        while (s < e && is_blank(*s)) s++;
        const char *u = s;
        while (s < e && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) s++;
        int64_t unit = unit_lookup(u, (size_t)(s - u));
        if (unit == 0) return -1;

        __int128 v = (__int128)ipart * unit + (__int128)fpart * unit / fscale;
        total += neg ? -v : v;
        if (total > INT64_MAX || total < INT64_MIN) return -1;
        while (s < e && is_blank(*s)) s++;
    }
    *usec = (int64_t)total;
    return 0;
}

/* append "<sign><n> <unit>[s]" with a separating blank */
static int put_part(char *text, int len, int neg, uint64_t v, const char *unit)
{
    return len + sprintf(text + len, "%s%s%llu %s%s", len ? " " : "", neg ? "-" : "",
                         (unsigned long long)v, unit, v == 1 ? "" : "s");
}

int interval_format(int64_t usec, char *buf, size_t cap)
{
    char     text[INTERVAL_FORMAT_MAX];
    int      len = 0, neg = usec < 0;
    uint64_t mag = neg ? (uint64_t)0 - (uint64_t)usec : (uint64_t)usec;

    uint64_t days = mag / (uint64_t)USEC_PER_DAY;
    mag %= (uint64_t)USEC_PER_DAY;
    uint64_t hours = mag / (uint64_t)USEC_PER_HOUR;
    mag %= (uint64_t)USEC_PER_HOUR;
    uint64_t minutes = mag / (uint64_t)USEC_PER_MINUTE;
    mag %= (uint64_t)USEC_PER_MINUTE;
    uint64_t seconds = mag / (uint64_t)USEC_PER_SEC;
    uint64_t frac = mag % (uint64_t)USEC_PER_SEC;

    if (days) len = put_part(text, len, neg, days, "day");
    if (hours) len = put_part(text, len, neg, hours, "hour");
    if (minutes) len = put_part(text, len, neg, minutes, "minute");
    if (frac) {
        len += sprintf(text + len, "%s%s%llu.%06llu", len ? " " : "", neg ? "-" : "",
                       (unsigned long long)seconds, (unsigned long long)frac);
        while (text[len - 1] == '0') len--;
        len += sprintf(text + len, " seconds");
    } else if (seconds || len == 0) {
        len = put_part(text, len, neg, seconds, "second");
    }
    return copy_out(buf, cap, text, len);
}
