/*
 * channel.h — a bounded single-producer single-consumer queue of messages
 * between two tasks (an exchange edge), with the batches it carries.
 *
 * A Channel owns a fixed pool of batches. The producer takes an empty batch
 * (channel_acquire), fills it, and sends it (channel_send); the consumer
 * receives it (channel_recv), uses it, and gives it back (channel_release),
 * which makes it available to the producer again. So steady state allocates
 * nothing, and memory in flight is bounded by the pool: when the consumer is
 * slow, the producer finds no free batch and must wait — that is the
 * back-pressure that reaches the sources.
 *
 * Control messages (watermarks, idle marks, end of stream) travel in order
 * with the batches. The rings are lock-free (C11 atomics, acquire/release);
 * each side touches only its own index.
 */
#ifndef SLUICE_RUNTIME_CHANNEL_H
#define SLUICE_RUNTIME_CHANNEL_H

#include <stdatomic.h>
#include <stdint.h>

#include "exec/batch.h"

typedef enum MsgKind {
    MSG_BATCH,       /* batch: rows                                          */
    MSG_WATERMARK,   /* wm: no later row on this channel has event time < wm */
    MSG_IDLE,        /* the producer has no data for a while: don't wait on it */
    MSG_END,         /* no more messages                                     */
    MSG_BARRIER      /* wm = a checkpoint epoch: the rows before it are in that
                        checkpoint, the rows after it are not                 */
} MsgKind;

typedef struct Msg {
    MsgKind kind;
    Batch  *batch;
    int64_t wm;
    int64_t at_us;   /* WATERMARK: when a source created it; BATCH: when the
                        watermark that released these rows was created (0: n/a) */
} Msg;

typedef struct Ring {
    void           **slots;   /* Msg* or Batch*, cap entries (a power of two) */
    uint32_t         mask;
    _Atomic uint32_t head;    /* consumer's index */
    _Atomic uint32_t tail;    /* producer's index */
} Ring;

typedef struct Channel {
    Ring    msgs;      /* producer → consumer: indexes into msgbuf           */
    Msg    *msgbuf;    /* the messages, by value (msgs.slots unused)         */
    Ring    free;      /* consumer → producer: empty batches                 */
    Batch  *pool;      /* nbatches batches, owned                            */
    int     nbatches;
    /* counters (written by the producer, read by anyone, relaxed) */
    _Atomic int64_t rows_sent;
    _Atomic int64_t bytes_sent;
} Channel;

/* A channel carrying batches of ncols columns of the given types.
 * 0, or -1 when out of memory (then channel_destroy is still safe). */
int  channel_init(Channel *c, int nbatches, int ncols, const SqlType *types);
void channel_destroy(Channel *c);

/* Producer side. */
Batch *channel_acquire(Channel *c);            /* an empty (reset) batch, or NULL if none is free */
int    channel_send(Channel *c, Msg m);        /* 0, or -1 when the ring is full (retry later)    */
int    channel_can_send(Channel *c);

/* Consumer side. */
int  channel_recv(Channel *c, Msg *m);          /* 0, or -1 when empty                   */
void channel_release(Channel *c, Batch *b);     /* give a received batch back            */

#endif
