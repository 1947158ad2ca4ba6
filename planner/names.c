/*
 * names.c — typo suggestions for names (see names.h).
 */
#include "planner/names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAXN 64

int name_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n >= MAXN || m >= MAXN) return 99;
    int d[MAXN + 1][MAXN + 1];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best) best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[n][m] > 99 ? 99 : d[n][m];
}

const char *name_suggest(const char *name, const char *const *cands, size_t n)
{
    size_t      len = strlen(name);
    int         limit = len >= 9 ? 3 : len >= 5 ? 2 : 1;
    const char *best = NULL;
    int         bestd = limit + 1;
    for (size_t i = 0; i < n; i++) {
        int d = name_distance(name, cands[i]);
        if (d < bestd) {
            bestd = d;
            best = cands[i];
        }
    }
    return best;
}

void name_append_suggestion(char *buf, size_t cap, const char *name,
                            const char *const *cands, size_t n)
{
    const char *s = name_suggest(name, cands, n);
    size_t      used = strlen(buf);
    if (s && used < cap) snprintf(buf + used, cap - used, " (did you mean '%s'?)", s);
}
