/*
 * timefmt.h — pure time arithmetic: civil dates, TIMESTAMP and INTERVAL text.
 *
 * A TIMESTAMP is an int64 count of microseconds since 1970-01-01 00:00:00 UTC
 * (negative before it); an INTERVAL is an int64 count of microseconds. There
 * are no time zones here beyond parsing a numeric UTC offset, no clocks and no
 * locale: the same input gives the same output on every machine.
 *
 * Civil dates use the proleptic Gregorian calendar with Howard Hinnant's
 * days_from_civil / civil_from_days algorithms (floor division by 400-year
 * eras), so they are exact before 1970 and for every year a TIMESTAMP can
 * hold. Text input accepts years 0001..9999; formatting handles any int64.
 *
 * Text formats
 *
 *   ts_parse accepts, with optional surrounding blanks:
 *     YYYY-MM-DD
 *     YYYY-MM-DD HH:MM[:SS[.f]]     or with 'T' instead of the blank
 *   where .f is 1 to 9 fraction digits (digits beyond microseconds are
 *   truncated), optionally followed (after optional blanks) by 'Z' or a UTC
 *   offset +HH, +HH:MM or +HHMM (or -). The result is UTC: local - offset.
 *   Fields are range-checked: month 13, Feb 30 (or Feb 29 of a common year),
 *   hour 24, minute/second 60 are errors.
 *
 *   ts_format(iso = 0):  2024-01-01 00:00:10          (whole second)
 *                        2024-01-01 00:00:10.25       (fraction, trailing
 *                                                      zeros trimmed)
 *   ts_format(iso = 1):  2024-01-01T00:00:10.250Z     (always milliseconds,
 *                                                      floor; for JSON)
 *
 *   interval_parse accepts one or more terms "<number> <unit>", e.g.
 *   '10 seconds', '5 minutes', '1 hour', '200ms', '1.5s', '1 min', '2 hours',
 *   '1 day', '1h 30m', '-2 days'. The blank between number and unit and
 *   between terms is optional. A number may have a sign, up to 19 integer
 *   digits and a fraction of up to 18 digits ('1.5s', '.5s'); each term is
 *   truncated toward zero to whole microseconds, the terms are summed, and a
 *   sum outside int64 is an error. Units, case-insensitive:
 *     us usec usecs micro micros microsecond microseconds
 *     ms msec msecs milli millis millisecond milliseconds
 *     s sec secs second seconds     m min mins minute minutes
 *     h hr hrs hour hours           d day days      w week weeks
 *   Months and years have no fixed length and are rejected.
 *
 *   interval_format writes days, hours, minutes and seconds, largest first,
 *   zero parts left out, seconds with a trimmed fraction, singular for 1:
 *     10 seconds   1 minute   1 hour 30 minutes   0.2 seconds   1.5 seconds
 *     2 days 3 hours 0.000001 seconds   0 seconds
 *   A negative interval has every part negative ("-1 hour -30 minutes"), so
 *   interval_parse(interval_format(x)) == x for every int64 x.
 *
 * Ownership: nothing allocates. Formatting functions follow snprintf: they
 * write at most cap bytes including a NUL (when cap > 0) and return the full
 * length of the text, so a return value >= cap means the text was truncated.
 * Parsers return 0, or -1 on malformed input (leaving *out unchanged).
 */
#ifndef SLUICE_EXEC_TIMEFMT_H
#define SLUICE_EXEC_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define USEC_PER_MSEC   INT64_C(1000)
#define USEC_PER_SEC    INT64_C(1000000)
#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR   (60 * USEC_PER_MINUTE)
#define USEC_PER_DAY    (24 * USEC_PER_HOUR)

/* longest ts_format / interval_format output for any int64, NUL included */
#define TS_FORMAT_MAX       48
#define INTERVAL_FORMAT_MAX 96

typedef struct CivilTime {
    int year;     /* proleptic Gregorian; may be <= 0 far from the epoch */
    int month;    /* 1..12                                               */
    int day;      /* 1..31                                               */
    int hour;     /* 0..23                                               */
    int minute;   /* 0..59                                               */
    int second;   /* 0..59                                               */
    int usec;     /* 0..999999                                           */
} CivilTime;

/* Days in the month (1..12) of the year; 0 for a month out of range. */
int ts_days_in_month(int year, int month);

/* Days since 1970-01-01 of a civil date (month 1..12, day 1..31). */
int64_t ts_days_from_civil(int64_t year, int month, int day);

/* The timestamp of a UTC civil time. The fields must be in range (as in
 * CivilTime) and the result must fit int64 (any year 1..9999 does). */
int64_t ts_from_civil(int year, int month, int day, int hour, int minute, int second,
                      int usec);

/* Split a timestamp (any int64) into UTC civil fields. */
void ts_to_civil(int64_t ts, CivilTime *out);

/* Parse timestamp text (see above) into *out; 0, or -1 if malformed. */
int ts_parse(const char *p, size_t n, int64_t *out);

/* Format a timestamp; iso 0: "YYYY-MM-DD HH:MM:SS[.ffffff]", iso 1:
 * "YYYY-MM-DDTHH:MM:SS.mmmZ". Returns the text length (snprintf rules). */
int ts_format(int64_t ts, char *buf, size_t cap, int iso);

/* Parse interval text (see above) into *usec; 0, or -1 if malformed or out
 * of the int64 range. */
int interval_parse(const char *p, size_t n, int64_t *usec);

/* Format an interval (see above). Returns the text length (snprintf rules). */
int interval_format(int64_t usec, char *buf, size_t cap);

#endif
