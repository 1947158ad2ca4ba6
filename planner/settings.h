/*
 * settings.h — the session settings that SET / RESET / --set change.
 *
 * Each setting has a key, a kind (count, duration, size, text), a default
 * and a one-line description; values are validated when set, so a bad value
 * is an error at the SET, not a surprise at run time. Durations accept
 * '200ms', '5s', '1 min', '2 hours' or an INTERVAL literal; sizes accept
 * '64MB', '1 GiB', '512k' or a number of bytes.
 *
 * Ownership: a Settings is a plain value (no pointers out); copy it freely.
 */
#ifndef SLUICE_PLANNER_SETTINGS_H
#define SLUICE_PLANNER_SETTINGS_H

#include <stdint.h>

#include "parser/parser.h"

typedef enum SettingKind { SET_COUNT, SET_DURATION, SET_SIZE, SET_TEXT, SET_BOOL } SettingKind;

typedef struct Settings {
    int64_t parallelism;            /* worker threads / partitions per stage  */
    int64_t checkpoint_interval_us; /* time between checkpoint barriers       */
    char    state_dir[512];         /* LevelDB state and checkpoints; "" = off */
    int64_t state_reset;            /* 1: discard the state dir's checkpoint   */
    int64_t emit_interval_us;       /* EMIT CHANGES cadence                   */
    int64_t idle_timeout_us;        /* watermark.idle-timeout                 */
    int64_t state_ttl_us;           /* regular-join state TTL; 0 = none       */
    int64_t state_memory_bytes;     /* in-memory state budget before spilling */
    int64_t ui_port;                /* web UI port; 0 = off                   */
    char    deployment_group[128];  /* scale-out group name; "" = single node */
    int64_t deployment_partitions;  /* partitions of each repartition topic in group mode */
} Settings;

/* Defaults; parallelism defaults to ncores (at least 1). */
void settings_init(Settings *s, int ncores);

/* SET key = value (value as text). Keys are case-insensitive and may be
 * given quoted. 0, or -1 with err->msg set (err->loc left as given). */
int settings_set(Settings *s, const char *key, const char *value, SqlError *err);

/* SET key = <interval literal>: a duration given in microseconds. */
int settings_set_duration(Settings *s, const char *key, int64_t usec, SqlError *err);

/* RESET key (key NULL: every setting). */
int settings_reset(Settings *s, const char *key, int ncores, SqlError *err);

/* Enumerate: the i-th setting's key, current value as text, and description.
 * Returns 0, or -1 when i is past the end. */
int settings_describe(const Settings *s, int i, const char **key, char *value, size_t cap,
                      const char **description);

#endif
