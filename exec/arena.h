/*
 * arena.h — a bump allocator made of chunks, for memory that dies together.
 *
 * sluice frees memory by lifetime, not object by object: the strings of a
 * batch die when the batch is reset, the plan-time objects of a query when the
 * query ends, the state of a window when the window is final. Each of those
 * lifetimes gets an Arena; allocating is a pointer bump, freeing is one call.
 *
 *   Arena a;
 *   arena_init(&a, 16384);          no allocation yet
 *   char *s = arena_strndup(&a, p, n);
 *   ...
 *   arena_reset(&a);                everything above is gone; memory kept
 *   ...
 *   arena_free(&a);                 memory returned to malloc
 *
 * Chunks. The arena obtains chunks from malloc as it needs them: the first of
 * first_chunk bytes, then each regular chunk twice the previous one (up to
 * 1 MiB). An allocation larger than the next regular chunk gets a chunk of its
 * own, linked behind the current chunk so the free tail of the current chunk
 * is not wasted.
 *
 * Reset and steady state. arena_reset() keeps exactly one chunk, the largest,
 * and frees the others. If the cycle that just ended needed more than that
 * chunk, the next regular chunk is sized to the whole cycle's use, so after at
 * most two cycles of the same shape the kept chunk holds a full cycle and a
 * per-batch arena allocates nothing in steady state. The price: an arena keeps
 * the largest chunk it ever needed until arena_free().
 *
 * Alignment. arena_alloc/arena_calloc return 16-byte aligned memory;
 * arena_alloc_bytes and arena_strndup (string data) are not aligned, so short
 * strings pack tightly.
 *
 * Under AddressSanitizer the free part of every chunk is poisoned, and a reset
 * poisons everything again: reading a string after its batch was reset, or
 * past the end of an arena allocation, is reported.
 *
 * Ownership: the Arena struct is caller memory (on the stack or inside another
 * object); the arena owns its chunks and every byte it handed out. Pointers
 * from an arena are valid until arena_reset() or arena_free(); never pass them
 * to free(). Errors are values: allocation functions return NULL when malloc
 * fails or a size overflows; they never abort or print.
 */
#ifndef SLUICE_EXEC_ARENA_H
#define SLUICE_EXEC_ARENA_H

#include <stddef.h>

#define ARENA_ALIGN         16
#define ARENA_DEFAULT_CHUNK 4096             /* first_chunk 0 means this     */
#define ARENA_MAX_CHUNK     ((size_t)1 << 20) /* regular chunks stop doubling */

typedef struct ArenaChunk ArenaChunk;

typedef struct Arena {
    ArenaChunk *head;        /* chunk being bumped into; older chunks follow     */
    char       *pos;         /* next free byte of head (NULL before first use)   */
    char       *end;         /* one past the last byte of head                   */
    size_t      first_chunk; /* data bytes of the first chunk, as given to init  */
    size_t      next_chunk;  /* data bytes of the next regular chunk             */
    size_t      used;        /* bytes handed out since init/reset, padding incl. */
    size_t      reserved;    /* bytes held from malloc, chunk headers included   */
} Arena;

/* Set up an empty arena on caller memory. Allocates nothing. */
void arena_init(Arena *a, size_t first_chunk);

/* n bytes, 16-byte aligned, uninitialized; NULL on OOM. n == 0 is served as 1. */
void *arena_alloc(Arena *a, size_t n);

/* count * size zeroed bytes, 16-byte aligned; NULL on OOM or overflow. */
void *arena_calloc(Arena *a, size_t count, size_t size);

/* n bytes with no alignment (for string data); NULL on OOM. */
void *arena_alloc_bytes(Arena *a, size_t n);

/* A copy of exactly n bytes of p (embedded NULs included) plus a NUL;
 * NULL on OOM. p may be NULL when n == 0. */
char *arena_strndup(Arena *a, const char *p, size_t n);

/* Forget every allocation; keep the largest chunk for reuse (see above). */
void arena_reset(Arena *a);

/* Release every chunk; the arena is empty and may be used again. */
void arena_free(Arena *a);

/* Bytes handed out since init/reset (including alignment padding). */
size_t arena_bytes_used(const Arena *a);

/* Bytes currently obtained from malloc (chunk headers included). */
size_t arena_bytes_reserved(const Arena *a);

#endif
