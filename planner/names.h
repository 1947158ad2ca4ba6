/*
 * names.h — helpers for user-facing names: case-insensitive comparison and
 * "did you mean …?" suggestions (Damerau-Levenshtein distance).
 */
#ifndef SLUICE_PLANNER_NAMES_H
#define SLUICE_PLANNER_NAMES_H

#include <stddef.h>

/* Edit distance between a and b (insert, delete, substitute, transpose),
 * case-insensitive; capped at 99. */
int name_distance(const char *a, const char *b);

/* The candidate closest to name, or NULL when none is close enough to be a
 * plausible typo (distance ≤ 1 for short names, ≤ 2 for names of 5+ chars,
 * ≤ 3 for 9+). cands[0..n). */
const char *name_suggest(const char *name, const char *const *cands, size_t n);

/* Append " (did you mean 'x'?)" to buf[0..cap) when name_suggest finds x. */
void name_append_suggestion(char *buf, size_t cap, const char *name,
                            const char *const *cands, size_t n);

#endif
