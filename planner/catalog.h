/*
 * catalog.h — the streams, sinks and views a session knows.
 *
 * CREATE STREAM/SINK/VIEW validate their definition here, at create time, so
 * a typo in a connector option is an error at the option, not a surprise
 * when the query starts: unknown connector, unknown or duplicate option
 * (with "did you mean"), a missing required option, a bad enum/number/
 * duration value, duplicate columns, a watermark on a missing or non-
 * TIMESTAMP column. A view keeps its query as normalized SQL text.
 *
 * Ownership: the Catalog owns every CatObject and all its strings (copied
 * out of the AST, so the parse may be freed right after). Pointers returned
 * by catalog_find stay valid until that object is dropped or the catalog
 * freed. Errors: 0 or -1 with *err (loc = offset into the statement text).
 */
#ifndef SLUICE_PLANNER_CATALOG_H
#define SLUICE_PLANNER_CATALOG_H

#include <stdint.h>

#include "exec/types.h"
#include "parser/parser.h"

typedef enum CatKind { CAT_STREAM, CAT_SINK, CAT_VIEW } CatKind;

typedef struct CatColumn {
    char   *name;
    SqlType type;
    int     param;    /* TIMESTAMP(3) → 3; -1 none */
} CatColumn;

typedef struct CatOption {
    char *key;        /* lower-case key as written, e.g. "properties.bootstrap.servers" */
    char *value;
} CatOption;

typedef struct CatObject {
    CatKind    kind;
    char      *name;
    CatColumn *cols;         /* streams (and sinks with a column list)        */
    int        ncols;
    int        wm_col;       /* index of the watermark column, -1 none        */
    int64_t    wm_delay_us;  /* WATERMARK FOR c AS c - INTERVAL d: d in µs    */
    CatOption *opts;
    int        nopts;
    char      *connector;    /* "kafka", "file", …; NULL for views            */
    char      *format;       /* "json", "csv" or NULL when not applicable     */
    char      *view_sql;     /* views: the SELECT as normalized SQL           */
} CatObject;

typedef struct Catalog Catalog;

Catalog *catalog_new(void);
void     catalog_free(Catalog *c);

/* Find by name (exact; names are already case-folded by the parser). */
const CatObject *catalog_find(const Catalog *c, const char *name);

/* Objects of a kind in creation order: i-th, or NULL past the end. */
const CatObject *catalog_nth(const Catalog *c, CatKind kind, int i);

/* A " (did you mean 'x'?)" hint for an unknown name, or "" (static buffer
 * in c, valid until the next call). */
const char *catalog_suggest(const Catalog *c, const char *name);

int catalog_create_stream(Catalog *c, const AstCreateStream *st, SqlError *err);
int catalog_create_sink(Catalog *c, const AstCreateSink *st, SqlError *err);
int catalog_create_view(Catalog *c, const AstCreateView *st, SqlError *err);
int catalog_drop(Catalog *c, const AstDrop *st, SqlError *err);

/* An option's value, or NULL. */
const char *cat_option(const CatObject *o, const char *key);

const char *cat_kind_name(CatKind k);   /* "stream", "sink", "view" */

/* The connectors known to the catalog: a NULL-terminated list of names. */
const char *const *catalog_connectors(void);

#endif
