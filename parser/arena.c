/*
 * arena.c — the bump allocator that owns a SqlParse's memory.
 *
 * A parse allocates many small objects (nodes, strings, list arrays) that all
 * live exactly as long as the SqlParse, so they come from chunks that are
 * freed together: no per-node free, no destructors in the grammar, and a
 * syntax error leaks nothing. Chunks grow geometrically (4 KB doubling up to
 * 256 KB); a request bigger than the chunk size gets a chunk of its own.
 *
 * Every malloc of parser/ goes through sql_malloc(), whose countdown lets the
 * tests fail the Nth allocation and check that out-of-memory is handled.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parser/ast_build.h"

#define CHUNK_MIN  4096
#define CHUNK_MAX  (256 * 1024)
#define ALIGN      alignof(max_align_t)

typedef struct Chunk {
    struct Chunk *next;
    size_t        cap;    /* bytes of data[] */
    size_t        used;
    alignas(max_align_t) unsigned char data[];
} Chunk;

struct SqlParseArena {
    Chunk  *head;        /* the chunk being filled; older ones follow */
    size_t  next_cap;    /* size of the next regular chunk            */
    size_t  total;       /* bytes reserved in all chunks              */
};

/* ---- allocation with fault injection -------------------------------------- */

static long fail_countdown;   /* test hook: fail when it reaches 0 */

void sql_test_fail_malloc_after(long n)
{
    fail_countdown = n;
}

static int should_fail(void)
{
    if (fail_countdown <= 0) return 0;
    return --fail_countdown == 0;
}

void *sql_malloc(size_t n)
{
    if (should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *sql_realloc(void *p, size_t n)
{
    if (should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

/* ---- arena ----------------------------------------------------------------- */

SqlParseArena *sql_arena_new(void)
{
    SqlParseArena *a = sql_malloc(sizeof *a);
    if (!a) return NULL;
    a->head = NULL;
    a->next_cap = CHUNK_MIN;
    a->total = 0;
    return a;
}

void sql_arena_free(SqlParseArena *a)
{
    if (!a) return;
    Chunk *c = a->head;
    while (c) {
        Chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

/* A new chunk for a request of `need` bytes. A request bigger than the
 * regular chunk size gets a chunk of its own, linked behind the head so
 * that the head keeps filling; *own says which happened. */
static Chunk *chunk_new(SqlParseArena *a, size_t need, int *own)
{
    size_t cap = a->next_cap;
    *own = need > cap;
    if (*own) cap = need;
    if (cap > SIZE_MAX - sizeof(Chunk)) return NULL;
    Chunk *c = sql_malloc(sizeof(Chunk) + cap);
    if (!c) return NULL;
    c->cap = cap;
    c->used = 0;
    a->total += cap;
    if (*own && a->head) {
        c->next = a->head->next;
        a->head->next = c;
    } else {
        c->next = a->head;
        a->head = c;
        if (!*own && a->next_cap < CHUNK_MAX) a->next_cap *= 2;
    }
    return c;
}

void *sql_arena_alloc(SqlParseArena *a, size_t n)
{
    if (!a || n > SIZE_MAX - ALIGN) return NULL;
    n = n ? (n + ALIGN - 1) & ~(size_t)(ALIGN - 1) : ALIGN;
    Chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        int own;
        c = chunk_new(a, n, &own);
        if (!c) return NULL;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *sql_arena_strndup(SqlParseArena *a, const char *z, size_t n)
{
    char *s = sql_arena_alloc(a, n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, z, n);
    s[n] = '\0';
    return s;
}

size_t sql_arena_bytes(const SqlParseArena *a)
{
    return a ? a->total : 0;
}
