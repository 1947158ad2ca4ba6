/*
 * source.c — source_open dispatches on the connector name; the other entry
 * points forward to the connector's operations and keep the row counter.
 */
#include "runtime/connectors/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/connectors/conn_internal.h"
#include "runtime/connectors/kafka.h"


Source *source_open(const ConnSpec *spec, char *err, size_t cap)
{
    if (err && cap) err[0] = 0;
    if (!spec || !spec->connector) {
        conn_errf(err, cap, "source: no connector given");
        return NULL;
    }
    if (spec->ncols < 0 || (spec->ncols > 0 && (!spec->col_names || !spec->col_types))) {
        conn_errf(err, cap, "%s: bad column list", spec->connector);
        return NULL;
    }
    Source *s = calloc(1, sizeof *s);
    if (!s) {
        conn_errf(err, cap, "out of memory");
        return NULL;
    }
    const char *c = spec->connector;
    int         rc;
    if (spec->group && spec->group[0] && strcasecmp(c, "kafka") != 0) {
        /* every instance of the group would read the whole input */
        conn_errf(err, cap, "deployment.group: a '%s' source cannot be shared by a group of "
                            "instances (only kafka sources can: Kafka assigns their partitions)", c);
        free(s);
        return NULL;
    }
    if (strcasecmp(c, "logs") == 0) rc = logs_source_open(s, spec, err, cap);
    else if (strcasecmp(c, "datagen") == 0) rc = datagen_source_open(s, spec, err, cap);
    else if (strcasecmp(c, "file") == 0) rc = file_source_open(s, spec, 0, err, cap);
    else if (strcasecmp(c, "stdin") == 0) rc = file_source_open(s, spec, 1, err, cap);
    else if (strcasecmp(c, "kafka") == 0) rc = kafka_source_open(s, spec, err, cap);
    else if (strcasecmp(c, "nexmark") == 0) rc = nexmark_source_open(s, spec, err, cap);
    else rc = conn_errf(err, cap, "unknown source connector '%s' (sources: logs, datagen, nexmark, file, stdin, kafka)", c);
    if (rc != 0) {
        free(s);
        return NULL;
    }
    return s;
}

SourceStatus source_next(Source *s, Batch *b, int64_t now_us, int64_t *wait_us)
{
    int64_t dummy;
    if (!wait_us) wait_us = &dummy;
    *wait_us = 0;
    int          before = b->nrows;
    s->nnext++;
    SourceStatus st = s->ops->next(s, b, now_us, wait_us);
    s->stats.rows += b->nrows - before;
    if (st == SOURCE_IDLE && *wait_us < 1) *wait_us = 1;
    if (st != SOURCE_IDLE) *wait_us = 0;
    return st;
}

long source_checkpoint(Source *s, void *buf, size_t cap)
{
    if (!s->ops->checkpoint) {
        conn_set_error(s, "this source cannot be checkpointed");
        return -1;
    }
    return s->ops->checkpoint(s, buf, cap);
}

int source_restore(Source *s, const void *buf, size_t len, char *err, size_t cap)
{
    if (err && cap) err[0] = 0;
    if (s->nnext > 0)
        return conn_errf(err, cap, "source_restore: the source has already been read from "
                                   "(restore a freshly opened source)");
    if (!buf || len == 0) return conn_errf(err, cap, "source_restore: the checkpoint blob is empty");
    if (!s->ops->restore) return conn_errf(err, cap, "this source cannot be restored from a checkpoint");
    return s->ops->restore(s, buf, len, err, cap);
}

void source_barrier(Source *s, int64_t epoch)
{
    if (s && s->on_barrier) s->on_barrier(s, epoch);
}

void source_committed(Source *s, int64_t epoch)
{
    if (s && s->on_committed) s->on_committed(s, epoch);
}

void source_set_commit_meta(Source *s, const char *meta)
{
    if (s) snprintf(s->commit_meta, sizeof s->commit_meta, "%s", meta ? meta : "");
}

void source_set_stopping(Source *s)
{
    if (s) s->stopping = 1;
}

void source_set_claim_meta(Source *s, const char *meta)
{
    if (s) snprintf(s->claim_meta, sizeof s->claim_meta, "%s", meta ? meta : "");
}

int64_t source_group_committed(const Source *s)
{
    return s ? s->group_committed : 0;
}

int64_t source_group_revokes(const Source *s)
{
    return s ? s->group_revokes : 0;
}

int64_t source_group_assigns(const Source *s)
{
    return s ? s->group_assigns : 0;
}

int source_group_revoking(const Source *s)
{
    return s ? s->group_revoking : 0;
}

void source_group_state(const Source *s, int *unsteady, int *ending)
{
    *unsteady = s ? s->group_unsteady : 0;
    *ending = s ? s->group_ending : 0;
}

int source_caught_up(const Source *s)
{
    return s ? s->caught_up : 0;
}

int source_group_rewind(Source *s, char *err, size_t cap)
{
    if (!s || !s->on_rewind) return conn_errf(err, cap, "this source cannot rewind to its group's offsets");
    return s->on_rewind(s, err, cap);
}

int source_group_take_metas(Source *s, char (*out)[SOURCE_META_MAX], int cap)
{
    if (!s) return 0;
    int n = s->nmetas < cap ? s->nmetas : cap;
    for (int i = 0; i < n; i++) memcpy(out[i], s->metas[i], SOURCE_META_MAX);
    s->nmetas = 0;
    return n;
}

int source_topic_partitions(Source *s, int timeout_ms, char *err, size_t cap)
{
    if (!s || !s->on_topic_partitions) return conn_errf(err, cap, "this source has no topic");
    return s->on_topic_partitions(s, timeout_ms, err, cap);
}

const char *source_error(const Source *s)
{
    return s->error;
}

void source_stats(const Source *s, SourceStats *out)
{
    *out = s->stats;
}

void source_close(Source *s)
{
    if (!s) return;
    if (s->ops && s->ops->close) s->ops->close(s);
    free(s->row_part);
    free(s);
}

int source_partition_count(const Source *s)
{
    return s && s->nparts > 1 ? s->nparts : 1;
}

const uint16_t *source_row_partitions(const Source *s)
{
    return s && s->nparts > 1 ? s->row_part : NULL;
}

int source_partition_live(const Source *s, int idx)
{
    if (!s || !s->part_live || idx < 0 || idx >= s->nparts) return 1;
    return s->part_live[idx] != 0;
}

int source_partition_owned(const Source *s, int idx)
{
    if (!s || idx < 0 || idx >= s->nparts) return 0;
    return !s->part_live || s->part_live[idx] != 0;
}

int source_partition_behind(const Source *s, int idx)
{
    if (!s || !s->on_behind || idx < 0 || idx >= s->nparts) return 0;
    return s->on_behind(s, idx);
}

int conn_row_partition(Source *s, int row, int part, int capacity)
{
    if (s->row_part_cap < capacity) {
        uint16_t *p = realloc(s->row_part, (size_t)capacity * sizeof *p);
        if (!p) return -1;
        s->row_part = p;
        s->row_part_cap = capacity;
    }
    if (row >= 0 && row < s->row_part_cap) s->row_part[row] = (uint16_t)part;
    return 0;
}

const char *source_warning(const Source *s)
{
    return s ? s->warning : "";
}
