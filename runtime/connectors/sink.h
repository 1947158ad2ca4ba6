/*
 * sink.h — the contract between the runtime and every sink connector.
 *
 * A sink turns the live rows of batches into records: JSON lines, CSV or a
 * tab-separated table, on standard output or appended to a file.
 *
 *   Sink *k = sink_open(&spec, err, sizeof err);   spec: connector, format,
 *                                                  options, column names/types
 *   sink_write(k, &batch);  …                      the live rows (selection honoured)
 *   sink_flush(k);                                 make everything written visible
 *   sink_close(k);                                 flushes, then frees
 *
 * Output formats (spec->format; NULL = json):
 *   json   one object per row, keys = column names in order; NULL → null;
 *          TIMESTAMP → "2024-01-01T00:00:10.250Z" (ISO-8601 UTC, milliseconds);
 *          INTERVAL → "1 hour 30 minutes"; DOUBLE → a number (non-finite → null);
 *          strings escaped (", \, control characters; UTF-8 passes through).
 *   csv    a header line of column names (option csv.header, default true; a
 *          file sink writes it only when the file is empty), then RFC 4180
 *          rows: NULL → an empty field, the empty string → "", a field with
 *          the delimiter, a quote, CR or LF is quoted; TIMESTAMP as
 *          "2024-01-01 00:00:10.25" (full precision); lines end with LF.
 *   table  (stdout only) a header line, then tab-separated values as the
 *          shell shows them, NULL → NULL, tab/newline/backslash escaped.
 *
 * Rows are formatted into an output buffer owned by the sink and written out
 * when it passes 64 KiB, on sink_flush and on sink_close; sink_write allocates
 * nothing in steady state. A sink never starts threads; all calls on one Sink
 * come from one thread at a time. Errors are values: -1 with sink_error().
 */
#ifndef SLUICE_RUNTIME_CONNECTORS_SINK_H
#define SLUICE_RUNTIME_CONNECTORS_SINK_H

#include <stddef.h>

#include "exec/batch.h"
#include "runtime/connectors/source.h"   /* ConnSpec */

typedef struct Sink Sink;

/* Open "stdout", "file" or "kafka". file: option path is created with its
 * parent directories if missing, appended to otherwise; with
 * sink.rolling-policy.file-size ('128MB') and/or .rollover-interval
 * ('15 min') path is a directory of part files part-<n>.<ext> that roll
 * when a part reaches the size or age (in transactional mode only at commit
 * points: see "rolling files" in sink.c and runtime/connectors/README.md).
 * spec->col_names/col_types describe the columns of the batches that will
 * be written. NULL with err on failure. */
Sink *sink_open(const ConnSpec *spec, char *err, size_t cap);

/* Format the live rows of b (its columns match the spec's). 0, or -1. */
int sink_write(Sink *k, const Batch *b);

/* Write out everything buffered. 0, or -1.
 * kafka: waits up to KAFKA_FLUSH_WAIT_MS (500 ms) for the delivery reports;
 * messages still waiting for a broker then are NOT an error (they stay
 * queued and are retried without limit: sink_warning says so); -1 only for
 * an unrecoverable failure (a message the cluster refused or librdkafka gave
 * up on: unknown topic with auto-creation off, too large, not authorized,
 * properties.message.timeout.ms set and run out). */
int sink_flush(Sink *k);

/* A sink that waits for its target (kafka: room in the producer's queue
 * while no broker takes messages) asks stopped(ctx) every 100 ms, and once
 * it says 1 stops waiting: the rows from there on are dropped, sink_warning
 * counts them, and sink_flush/prepare never succeed again (nothing dropped
 * is ever committed). The runtime passes its stop request, so that SIGINT
 * ends a query whose brokers are gone. Other sinks never wait: ignored. */
void sink_set_interrupt(Sink *k, int (*stopped)(void *ctx), void *ctx);

/* The message of the last failure ("" if none). */
const char *sink_error(const Sink *k);

/* A transient problem the sink is waiting out right now, or "" when all is
 * well (mirrors source_warning): e.g. "kafka: 3 message(s) waiting for a
 * broker (1/1 brokers are down)". Nothing is lost meanwhile: the rows are
 * queued and retried, and sink_write/sink_flush keep returning 0; only an
 * unrecoverable problem makes them return -1 (sink_error). Valid until the
 * next call on k; call it from the sink's thread (e.g. after sink_flush).
 * stdout and file sinks: always "". NULL is fine. */
const char *sink_warning(const Sink *k);

/* The clock rolling files measure a part's age with (µs, monotonic; NULL
 * = CLOCK_MONOTONIC, the default). Tests pass a fake one. */
void sink_set_clock(Sink *k, int64_t (*now_us)(void *ctx), void *ctx);

/* Flush, close the file, free. NULL is fine. Returns nothing: a caller that
 * needs to know that the last bytes were written calls sink_flush first.
 * A transactional sink neither commits nor drops on close: rows not
 * committed stay in the pending file until the next sink_recover drops them
 * (a clean stop prepares, checkpoints and commits before closing). */
void sink_close(Sink *k);

/* ---- exactly-once output ----------------------------------------------------------------
 *
 * With spec->transactional != 0 (file sink only), rows written go to a
 * PENDING area, not to the visible output, until committed:
 *
 *   sink_prepare(k, buf, cap) makes every row written so far durable in the
 *     pending area (write + fsync) and writes into buf a blob describing the
 *     committed and pending state; returns its length (>= 0), or -1 with
 *     sink_error() (cap too small: the message says how much is needed). The
 *     runtime stores the blob in the checkpoint, atomically with the state.
 *     Rows written after a prepare belong to the next epoch.
 *   sink_commit(k) makes the rows of the last prepare visible (called after
 *     the checkpoint is durable). 0/-1. Nothing prepared: does nothing.
 *   sink_recover(k, blob, len), at restart, on a fresh sink (same spec),
 *     once, before any write: brings the output to exactly what the blob
 *     describes plus its commit — finishes a commit that a crash interrupted,
 *     drops rows written after that prepare. blob NULL / len 0 = a fresh
 *     start with no checkpoint: drop any pending leftovers (the visible
 *     output is kept as is). 0/-1 (the blob is of another file, malformed,
 *     or the output is not what it describes: committed bytes missing).
 *     A transactional sink that is written to without sink_recover does
 *     sink_recover(k, NULL, 0) first.
 *
 * The file sink's scheme (crash-safe at every point; details in sink.c):
 * rows go to <dir>/.<name>.pending; prepare fsyncs it and records
 * {path, committed length C of the target, pending length L, hash of the
 * pending bytes}; commit copies those L bytes into the target at offset C,
 * fsyncs, then drops them from the pending file; recover redoes the copy if
 * the pending file still holds the prepared bytes (same hash), truncates the
 * target to C + L, and empties the pending file. The CSV header is written
 * only when the committed target is empty, so it appears exactly once.
 *
 * Without transactional these are cheap: prepare flushes and returns 0,
 * commit and recover do nothing. stdout is best-effort (prepare = flush;
 * transactional is ignored). kafka: prepare = flush and wait until every
 * message has its delivery report (a failed delivery → -1): at-least-once;
 * commit and recover do nothing. Kafka transactions (a transactional
 * producer committed on checkpoint) are future work. */
long sink_prepare(Sink *k, void *buf, size_t cap);
int  sink_commit(Sink *k);
int  sink_recover(Sink *k, const void *blob, size_t len);

#endif
