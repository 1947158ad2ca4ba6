/*
 * arena.c — chunked bump allocator (see arena.h for the design).
 *
 * A chunk is one malloc block: a small header (next, capacity), then the data
 * bytes. The current chunk (head) is bumped from pos to end; when a request
 * does not fit, alloc_slow() either adds a new regular chunk in front (it
 * becomes head) or, for a request bigger than a regular chunk, a dedicated
 * chunk behind head. Chunk capacities are multiples of ARENA_ALIGN and data
 * starts ARENA_ALIGN-aligned, so aligning pos up never passes end.
 */
#include "exec/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif

#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* malloc memory must be aligned enough for chunk data to start aligned */
_Static_assert(alignof(max_align_t) >= ARENA_ALIGN, "malloc alignment < ARENA_ALIGN");

struct ArenaChunk {
    ArenaChunk *next;   /* older chunk                      */
    size_t      cap;    /* data bytes after the header      */
};

#define CHUNK_HDR  (((sizeof(ArenaChunk)) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))
#define MIN_CHUNK  64

static char *chunk_data(ArenaChunk *c)
{
    return (char *)c + CHUNK_HDR;
}

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* NULL on OOM or when cap is too large to represent */
static ArenaChunk *chunk_new(Arena *a, size_t cap)
{
    if (cap > SIZE_MAX - CHUNK_HDR - ARENA_ALIGN) return NULL;
    cap = round_up(cap, ARENA_ALIGN);
    ArenaChunk *c = malloc(CHUNK_HDR + cap);
    if (!c) return NULL;
    c->next = NULL;
    c->cap = cap;
    a->reserved += CHUNK_HDR + cap;
    POISON(chunk_data(c), cap);
    return c;
}

static void chunk_free(Arena *a, ArenaChunk *c)
{
    UNPOISON(chunk_data(c), c->cap);
    a->reserved -= CHUNK_HDR + c->cap;
    free(c);
}

/* The request does not fit in head: add a chunk and serve it from there. */
static void *alloc_slow(Arena *a, size_t n)
{
    if (n > a->next_chunk) {
        ArenaChunk *c = chunk_new(a, n);
        if (!c) return NULL;
        char *p = chunk_data(c);
        if (a->head) {                  /* keep bumping into head's tail */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            a->head = c;
            a->pos = p + n;
            a->end = p + c->cap;
        }
        a->used += n;
        UNPOISON(p, n);
        return p;
    }
    ArenaChunk *c = chunk_new(a, a->next_chunk);
    if (!c) return NULL;
    c->next = a->head;
    a->head = c;
    a->pos = chunk_data(c) + n;
    a->end = chunk_data(c) + c->cap;
    a->used += n;
    if (a->next_chunk < ARENA_MAX_CHUNK)
        a->next_chunk = a->next_chunk * 2 < ARENA_MAX_CHUNK ? a->next_chunk * 2 : ARENA_MAX_CHUNK;
    UNPOISON(chunk_data(c), n);
    return chunk_data(c);
}

void arena_init(Arena *a, size_t first_chunk)
{
    if (first_chunk == 0) first_chunk = ARENA_DEFAULT_CHUNK;
    if (first_chunk < MIN_CHUNK) first_chunk = MIN_CHUNK;
    if (first_chunk > SIZE_MAX / 4) first_chunk = SIZE_MAX / 4;
    a->head = NULL;
    a->pos = NULL;
    a->end = NULL;
    a->first_chunk = round_up(first_chunk, ARENA_ALIGN);
    a->next_chunk = a->first_chunk;
    a->used = 0;
    a->reserved = 0;
}

void *arena_alloc(Arena *a, size_t n)
{
    if (n == 0) n = 1;
    uintptr_t pos = ((uintptr_t)a->pos + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
    if (a->head && n <= (size_t)((uintptr_t)a->end - pos)) {
        char *p = (char *)pos;
        a->used += (size_t)(p + n - a->pos);
        a->pos = p + n;
        UNPOISON(p, n);
        return p;
    }
    return alloc_slow(a, n);
}

void *arena_alloc_bytes(Arena *a, size_t n)
{
    if (n == 0) n = 1;
    if (a->head && n <= (size_t)(a->end - a->pos)) {
        char *p = a->pos;
        a->pos += n;
        a->used += n;
        UNPOISON(p, n);
        return p;
    }
    return alloc_slow(a, n);
}

void *arena_calloc(Arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = arena_alloc(a, count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

char *arena_strndup(Arena *a, const char *p, size_t n)
{
    if (n == SIZE_MAX) return NULL;
    char *s = arena_alloc_bytes(a, n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

void arena_reset(Arena *a)
{
    size_t used = a->used;
    a->used = 0;
    if (!a->head) return;

    ArenaChunk *keep = a->head;
    for (ArenaChunk *c = a->head->next; c; c = c->next)
        if (c->cap > keep->cap) keep = c;
    for (ArenaChunk *c = a->head, *next; c; c = next) {
        next = c->next;
        if (c != keep) chunk_free(a, c);
    }
    keep->next = NULL;
    a->head = keep;
    a->pos = chunk_data(keep);
    a->end = a->pos + keep->cap;
    POISON(a->pos, keep->cap);

    /* The cycle that ended overflowed the kept chunk: size the next regular
     * chunk to hold a whole such cycle (with 1/8 slack for alignment padding
     * that a different layout may need), so it becomes the kept chunk. */
    if (used > keep->cap) {
        size_t want = round_up(used + used / 8, 4096);
        a->next_chunk = want > a->first_chunk ? want : a->first_chunk;
    }
}

void arena_free(Arena *a)
{
    for (ArenaChunk *c = a->head, *next; c; c = next) {
        next = c->next;
        chunk_free(a, c);
    }
    arena_init(a, a->first_chunk);
}

size_t arena_bytes_used(const Arena *a)
{
    return a->used;
}

size_t arena_bytes_reserved(const Arena *a)
{
    return a->reserved;
}
