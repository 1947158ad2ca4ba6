/*
 * channel.c — bounded SPSC channel with a batch pool (see channel.h).
 */
#include "runtime/channel.h"

#include <stdlib.h>
#include <string.h>

static int ring_init(Ring *r, uint32_t cap)
{
    uint32_t n = 1;
    while (n < cap) n <<= 1;
    r->slots = calloc(n, sizeof *r->slots);
    if (!r->slots) return -1;
    r->mask = n - 1;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

static int ring_push(Ring *r, void *p)
{
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    if (t - h > r->mask) return -1;   /* full */
    r->slots[t & r->mask] = p;
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    return 0;
}

static void *ring_pop(Ring *r)
{
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (h == t) return NULL;
    void *p = r->slots[h & r->mask];
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return p;
}

static int ring_full(Ring *r)
{
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    return t - h > r->mask;
}

int channel_init(Channel *c, int nbatches, int ncols, const SqlType *types)
{
    memset(c, 0, sizeof *c);
    /* room for every batch plus plenty of control messages */
    uint32_t cap = (uint32_t)nbatches * 2 + 64;
    if (ring_init(&c->msgs, cap) || ring_init(&c->free, (uint32_t)nbatches + 1)) return -1;
    c->msgbuf = calloc(c->msgs.mask + 1, sizeof *c->msgbuf);
    c->pool = calloc((size_t)nbatches, sizeof *c->pool);
    if (!c->msgbuf || !c->pool) return -1;
    for (int i = 0; i < nbatches; i++) {
        if (batch_init(&c->pool[i], ncols, types, SLUICE_VECTOR_SIZE) != 0) return -1;
        c->nbatches = i + 1;
        ring_push(&c->free, &c->pool[i]);
    }
    atomic_init(&c->rows_sent, 0);
    atomic_init(&c->bytes_sent, 0);
    return 0;
}

void channel_destroy(Channel *c)
{
    for (int i = 0; i < c->nbatches; i++) batch_destroy(&c->pool[i]);
    free(c->pool);
    free(c->msgbuf);
    free(c->msgs.slots);
    free(c->free.slots);
    memset(c, 0, sizeof *c);
}

Batch *channel_acquire(Channel *c)
{
    Batch *b = ring_pop(&c->free);
    if (b) batch_reset(b);
    return b;
}

int channel_can_send(Channel *c)
{
    return !ring_full(&c->msgs);
}

int channel_send(Channel *c, Msg m)
{
    uint32_t t = atomic_load_explicit(&c->msgs.tail, memory_order_relaxed);
    if (ring_full(&c->msgs)) return -1;
    c->msgbuf[t & c->msgs.mask] = m;
    if (m.kind == MSG_BATCH && m.batch) {
        atomic_fetch_add_explicit(&c->rows_sent, m.batch->count, memory_order_relaxed);
        int64_t bytes = 0;
        for (int i = 0; i < m.batch->ncols; i++)
            bytes += (int64_t)sql_type_size(m.batch->cols[i].type) * m.batch->count;
        bytes += (int64_t)arena_bytes_used(&m.batch->arena);
        atomic_fetch_add_explicit(&c->bytes_sent, bytes, memory_order_relaxed);
    }
    atomic_store_explicit(&c->msgs.tail, t + 1, memory_order_release);
    return 0;
}

int channel_recv(Channel *c, Msg *m)
{
    /* copy the message out before the slot is handed back to the producer */
    uint32_t h = atomic_load_explicit(&c->msgs.head, memory_order_relaxed);
    uint32_t t = atomic_load_explicit(&c->msgs.tail, memory_order_acquire);
    if (h == t) return -1;
    *m = c->msgbuf[h & c->msgs.mask];
    atomic_store_explicit(&c->msgs.head, h + 1, memory_order_release);
    return 0;
}

void channel_release(Channel *c, Batch *b)
{
    ring_push(&c->free, b);
}
