/*
 * settings.c — the table of settings and their parsing (see settings.h).
 *
 * One table row per key: where the value lives in Settings, its kind, its
 * default, and its description. set/reset/describe all walk the table, so a
 * new setting is one row.
 */
#include "planner/settings.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec/timefmt.h"
#include "planner/names.h"

typedef struct SettingDef {
    const char *key;
    SettingKind kind;
    size_t      offset;     /* into Settings                     */
    size_t      size;       /* SET_TEXT: capacity of the buffer  */
    const char *dflt;       /* default as text; NULL = see init  */
    int64_t     min;        /* SET_COUNT/DURATION/SIZE: smallest */
    const char *description;
} SettingDef;

#define F(field) offsetof(Settings, field), sizeof(((Settings *)0)->field)

static const SettingDef defs[] = {
    {"parallelism", SET_COUNT, F(parallelism), NULL, 1,
     "tasks per stage (worker threads); default: the number of cores"},
    {"checkpoint.interval", SET_DURATION, F(checkpoint_interval_us), "5s", 1000,
     "time between checkpoints of state and source offsets"},
    {"state.dir", SET_TEXT, F(state_dir), "", 0,
     "directory of the query's state and checkpoints (empty: no checkpoints)"},
    {"state.reset", SET_BOOL, F(state_reset), "false", 0,
     "start over: discard the checkpoint in state.dir instead of resuming from it"},
    {"emit.interval", SET_DURATION, F(emit_interval_us), "1s", 1000,
     "how often EMIT CHANGES queries emit changed rows"},
    {"watermark.idle-timeout", SET_DURATION, F(idle_timeout_us), "5s", 0,
     "a source partition with no rows for this long stops holding back the watermark"},
    {"state.ttl", SET_DURATION, F(state_ttl_us), "0s", 0,
     "how long regular-join state is kept (0s: forever)"},
    {"state.memory", SET_SIZE, F(state_memory_bytes), "512MB", 1 << 20,
     "state memory budget per query: aggregates over it spill to disk; joins and session windows stop with an error"},
    {"ui.port", SET_COUNT, F(ui_port), "0", 0,
     "port of the web UI on 127.0.0.1 (0: off)"},
    {"deployment.group", SET_TEXT, F(deployment_group), "", 0,
     "Kafka consumer group that several sluice instances share (empty: one instance)"},
    {"deployment.partitions", SET_COUNT, F(deployment_partitions), "12", 1,
     "partitions of each repartition topic in group mode (every instance must agree)"},
};
#define NDEFS (sizeof defs / sizeof defs[0])

static const SettingDef *find(const char *key)
{
    for (size_t i = 0; i < NDEFS; i++)
        if (strcasecmp(defs[i].key, key) == 0) return &defs[i];
    return NULL;
}

static int unknown_key(const char *key, SqlError *err)
{
    const char *names[NDEFS];
    for (size_t i = 0; i < NDEFS; i++) names[i] = defs[i].key;
    snprintf(err->msg, sizeof err->msg, "unknown setting '%s'", key);
    name_append_suggestion(err->msg, sizeof err->msg, key, names, NDEFS);
    return -1;
}

/* "64MB", "1 GiB", "512k", "1048576" → bytes. */
static int parse_size(const char *s, int64_t *out)
{
    char  *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0) return -1;
    while (isspace((unsigned char)*end)) end++;
    double mult = 1;
    char   unit[8] = {0};
    size_t k = 0;
    while (*end && k < sizeof unit - 1) unit[k++] = (char)tolower((unsigned char)*end++);
    if (*end) return -1;
    if (!strcmp(unit, "") || !strcmp(unit, "b")) mult = 1;
    else if (!strcmp(unit, "k") || !strcmp(unit, "kb") || !strcmp(unit, "kib")) mult = 1024.0;
    else if (!strcmp(unit, "m") || !strcmp(unit, "mb") || !strcmp(unit, "mib")) mult = 1024.0 * 1024;
    else if (!strcmp(unit, "g") || !strcmp(unit, "gb") || !strcmp(unit, "gib")) mult = 1024.0 * 1024 * 1024;
    else if (!strcmp(unit, "t") || !strcmp(unit, "tb") || !strcmp(unit, "tib")) mult = 1024.0 * 1024 * 1024 * 1024;
    else return -1;
    v *= mult;
    if (v > 9.2e18) return -1;
    *out = (int64_t)v;
    return 0;
}

static int parse_count(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    while (isspace((unsigned char)*end)) end++;
    if (end == s || *end || errno) return -1;
    *out = v;
    return 0;
}

static int store(Settings *s, const SettingDef *d, const char *value, SqlError *err)
{
    char   *field = (char *)s + d->offset;
    int64_t v = 0;
    switch (d->kind) {
    case SET_TEXT:
        if (strlen(value) >= d->size) {
            snprintf(err->msg, sizeof err->msg, "value for '%s' is too long (at most %zu bytes)",
                     d->key, d->size - 1);
            return -1;
        }
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case SET_COUNT:
        if (parse_count(value, &v) != 0) {
            snprintf(err->msg, sizeof err->msg, "setting '%s' needs a whole number, got '%s'",
                     d->key, value);
            return -1;
        }
        break;
    case SET_DURATION:
        if (interval_parse(value, strlen(value), &v) != 0) {
            snprintf(err->msg, sizeof err->msg,
                     "setting '%s' needs a duration like '200ms', '5s' or '1 min', got '%s'",
                     d->key, value);
            return -1;
        }
        break;
    case SET_BOOL:
        if (!strcasecmp(value, "true") || !strcasecmp(value, "on") || !strcmp(value, "1")) v = 1;
        else if (!strcasecmp(value, "false") || !strcasecmp(value, "off") || !strcmp(value, "0")) v = 0;
        else {
            snprintf(err->msg, sizeof err->msg, "setting '%s' needs true or false, got '%s'",
                     d->key, value);
            return -1;
        }
        break;
    case SET_SIZE:
        if (parse_size(value, &v) != 0) {
            snprintf(err->msg, sizeof err->msg,
                     "setting '%s' needs a size like '64MB' or '1GB', got '%s'", d->key, value);
            return -1;
        }
        break;
    }
    if (v < d->min) {
        char buf[INTERVAL_FORMAT_MAX];
        if (d->kind == SET_DURATION) interval_format(d->min, buf, sizeof buf);
        else snprintf(buf, sizeof buf, "%" PRId64, d->min);
        snprintf(err->msg, sizeof err->msg, "setting '%s' must be at least %s, got '%s'", d->key,
                 buf, value);
        return -1;
    }
    if (d->kind == SET_COUNT && !strcmp(d->key, "ui.port") && v > 65535) {
        snprintf(err->msg, sizeof err->msg, "setting 'ui.port' must be a port number, got '%s'",
                 value);
        return -1;
    }
    if (d->kind == SET_COUNT && !strcmp(d->key, "parallelism") && v > 1024) {
        snprintf(err->msg, sizeof err->msg, "setting 'parallelism' must be at most 1024, got '%s'",
                 value);
        return -1;
    }
    memcpy(field, &v, sizeof v);
    return 0;
}

void settings_init(Settings *s, int ncores)
{
    SqlError err;
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < NDEFS; i++)
        if (defs[i].dflt) store(s, &defs[i], defs[i].dflt, &err);
    s->parallelism = ncores > 0 ? ncores : 1;
}

int settings_set(Settings *s, const char *key, const char *value, SqlError *err)
{
    const SettingDef *d = find(key);
    if (!d) return unknown_key(key, err);
    Settings tmp = *s;
    if (store(&tmp, d, value, err) != 0) return -1;
    *s = tmp;
    return 0;
}

int settings_set_duration(Settings *s, const char *key, int64_t usec, SqlError *err)
{
    const SettingDef *d = find(key);
    if (!d) return unknown_key(key, err);
    if (d->kind != SET_DURATION) {
        snprintf(err->msg, sizeof err->msg, "setting '%s' does not take an INTERVAL", d->key);
        return -1;
    }
    char buf[INTERVAL_FORMAT_MAX];
    if (usec < d->min) {
        interval_format(d->min, buf, sizeof buf);
        snprintf(err->msg, sizeof err->msg, "setting '%s' must be at least %s", d->key, buf);
        return -1;
    }
    memcpy((char *)s + d->offset, &usec, sizeof usec);
    return 0;
}

int settings_reset(Settings *s, const char *key, int ncores, SqlError *err)
{
    if (!key) {
        settings_init(s, ncores);
        return 0;
    }
    const SettingDef *d = find(key);
    if (!d) return unknown_key(key, err);
    Settings fresh;
    settings_init(&fresh, ncores);
    memcpy((char *)s + d->offset, (char *)&fresh + d->offset, d->size);
    return 0;
}

static void format_size(int64_t v, char *buf, size_t cap)
{
    static const char *units[] = {"B", "KB", "MB", "GB", "TB"};
    int                u = 0;
    while (u < 4 && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, "%" PRId64 "%s", v, units[u]);
}

int settings_describe(const Settings *s, int i, const char **key, char *value, size_t cap,
                      const char **description)
{
    if (i < 0 || (size_t)i >= NDEFS) return -1;
    const SettingDef *d = &defs[i];
    const char       *field = (const char *)s + d->offset;
    int64_t           v = 0;
    if (d->kind != SET_TEXT) memcpy(&v, field, sizeof v);
    *key = d->key;
    *description = d->description;
    switch (d->kind) {
    case SET_TEXT: snprintf(value, cap, "%s", field); break;
    case SET_COUNT: snprintf(value, cap, "%" PRId64, v); break;
    case SET_DURATION: interval_format(v, value, cap); break;
    case SET_SIZE: format_size(v, value, cap); break;
    case SET_BOOL: snprintf(value, cap, "%s", v ? "true" : "false"); break;
    }
    return 0;
}
