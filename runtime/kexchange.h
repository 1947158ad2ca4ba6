/*
 * kexchange.h — the Kafka exchange: rows and watermarks of one stage
 * boundary written into a Kafka topic and read back on the other side.
 *
 * What it is for (issue 13, deliverable 2; docs/scaling.md). In group mode
 * several sluice instances run one query; an exchange between two stages
 * cannot be a Channel (the tasks on either side live in different
 * processes), so it becomes a repartition topic `<group>-<stage>-repartition`
 * with the exchange's partition count P. Every upstream task is a KxWriter:
 * it hash-partitions its rows by the exchange key into the topic's
 * partitions — the same hash and the same reduction as query.c's local
 * exchange, so a key lands on the partition index a local exchange would
 * send it to — and publishes its watermark (and, for a bounded input, its
 * end) to EVERY partition. Every downstream task is a KxReader: a member of
 * a consumer group subscribed to the topic; Kafka assigns it partitions (and
 * moves them when instances join, leave or die), and it reads their rows and
 * keeps the watermark of what it reads. query.c wires it in group mode
 * (kx_setup, kx_step; docs/scaling.md, "How it works").
 *
 *   KxWriter *w = kx_writer_open(&spec, err, sizeof err);     creates the topic
 *   kx_write(w, batch, keys, nkeys);                          rows → partitions
 *   kx_write_watermark(w, origin, wm);                        to every partition
 *   kx_write_end(w, origin);                                  bounded input done
 *   kx_flush(w, 30000);  kx_writer_close(w);
 *
 *   KxReader *r = kx_reader_open(&spec, "grp", norigins, err, sizeof err);
 *   Batch out; batch_init(&out, spec.ncols, spec.types, 0);
 *   loop: batch_reset(&out); n = kx_read(r, &out, &wm, 100);  rows, then wm
 *         at a checkpoint: kx_reader_commit(r);
 *   until kx_reader_ended(r);   kx_reader_close(r);
 *
 * ---- Partitioning ----------------------------------------------------------
 *
 * A row's partition is kx_partition_of(h, P) = ((h >> 32) * P) >> 32 where h
 * is the row's key hash built by exec/hash.h's hash_vector over the key
 * columns in order (hash_value of the first, hash_combine with each next):
 * the exact formula of query.c's emit_rows (a multiply-shift range
 * reduction, not h % P — deliberately, so a key's partition equals the
 * downstream task index of a local exchange with P tasks). Hashes are stable
 * across runs and machines (hash.h), so every instance agrees.
 *
 * ---- Message format (the value of each Kafka message; no key) -------------
 *
 * Integers: "varint" is unsigned LEB128 (7 bits a byte, low group first, at
 * most 10 bytes); "zigzag" is the varint of (x << 1) ^ (x >> 63); "u64" is
 * 8 bytes little-endian.
 *
 *   byte 0   format version, KX_VERSION (2)
 *   byte 1   kind: 'R' rows, 'M' watermarks ('W' watermark, 'E' end: read,
 *            no longer written), 'C' commit, 'S' resolve, 'K' confirm
 *   2..9     u64 schema fingerprint (KxSpec.fingerprint): writer and reader
 *            must agree, or the reader fails (a topic left over from another
 *            query, or another version of it)
 *   10..17   u64 writer id (never 0; random per writer, see Exactly once)
 *   18..25   u64 segment of the writer the message belongs to (>= 1)
 *
 *   'R' rows:      varint n (1 … KX_MAX_ROWS_PER_MSG), then for each column
 *                  in order:
 *                    TYPE_NULL column: nothing (every row NULL)
 *                    otherwise: a byte 0 = no NULLs, or 1 followed by a
 *                    NULL bitmap of ceil(n/8) bytes (bit i%8 of byte i/8
 *                    set = row i is NULL); then the value of each non-NULL
 *                    row in row order (NULL rows have no value bytes):
 *                      BIGINT, TIMESTAMP, INTERVAL  zigzag
 *                      DOUBLE                       8 bytes, the LE bit pattern
 *                      BOOLEAN                      1 byte, 0 or 1
 *                      VARCHAR                      varint length, the bytes
 *                  The message ends exactly after the last column.
 *   'M' watermarks: varint k (1 … KX_MAX_ORIGINS), then k times: varint
 *                  origin, zigzag wm (INT64_MAX: the origin's end).
 *   'W' watermark: varint origin, zigzag wm.
 *   'E' end:       varint origin, zigzag INT64_MAX (ignored when read).
 *   'C' commit:    u64 seg, u64 0: the writer's segments 1 … seg are
 *                  committed.
 *   'S' resolve:   u64 w, u64 seg: writer w (another one) is gone; its
 *                  segments 1 … seg are committed, its later ones never
 *                  will be.
 *   'K' confirm:   u64 w, u64 seg: writer w's (another one's) segments
 *                  1 … seg are committed; nothing is said of its later
 *                  ones (w may commit them itself).
 *
 * Anything else — an unknown version or kind, a different fingerprint, a
 * varint running past the end or longer than 10 bytes, a BOOLEAN byte not 0
 * or 1, a length past the end, bytes left over, an origin >= norigins —
 * fails the reader with an error naming topic, partition and offset. A bad
 * message is never skipped and never half-applied (it is checked whole
 * before any of its rows is appended).
 *
 * A writer packs the rows of one partition from one kx_write into messages of
 * at most about KX_MSG_BYTES (256 KiB; a single row larger than that gets a
 * message of its own, which must still fit properties.message.max.bytes,
 * librdkafka's default 1 MB) and at most KX_MAX_ROWS_PER_MSG rows.
 *
 * ---- Watermarks ------------------------------------------------------------
 *
 * An origin is a small stable id, 0 <= origin < norigins, of where event
 * time comes from (in group mode: a source partition id, which survives
 * rebalances — for a window or interval join of two streams written into one topic,
 * the left topic's partitions and then the right one's; an upstream task
 * index in a fixed deployment). Each writer
 * publishes, per origin it is responsible for, watermarks and finally an
 * end, in 'M' records written at each seal. A Kafka partition keeps order,
 * so a watermark follows every row of its segment in that partition.
 *
 * A reader also checks each partition's offsets: they are dense (the topic
 * is neither compacted nor transactional), so a record after a gap — or
 * a first record after where the reader asked to start — means records
 * deleted before it read them (retention; the bundled broker keeps 5 MB or
 * 100000 message sets a partition). It fails naming the offsets lost,
 * rather than go on without them (the consumer's auto.offset.reset would).
 *
 * The reader keeps, per ASSIGNED partition p and origin o, wm[p][o]: the
 * largest 'W' value seen from o in p (monotonic per origin: a smaller one is
 * ignored), INT64_MIN (= WATERMARK_MIN) when o was never heard from in p —
 * an unheard origin holds everything back — and INT64_MAX (= WATERMARK_MAX)
 * once o sent 'E' in p. Its watermark is
 *
 *     min over assigned partitions p of (min over origins o of wm[p][o])
 *
 * and INT64_MIN while no partition is assigned. A revoked partition no
 * longer counts; a newly assigned one starts at "nothing heard" and so is
 * read again from the group's committed offset — the reader's watermark may
 * therefore go DOWN at a rebalance: the caller keeps its own running
 * maximum if it needs a monotonic one (query.c's tasks do).
 *
 * ---- Exactly once: segments ---------------------------------------------
 *
 * Kafka transactions would make an upstream task's output and its source
 * offsets one atomic step, but not every broker has them (the bundled mock
 * cluster accepts them and hands aborted messages to read_committed
 * readers all the same). The exchange therefore carries its own two-phase
 * commit, which works on any broker:
 *
 *  - A writer's messages belong to numbered segments; a checkpoint seals
 *    one (kx_seal). The upstream task then flushes, and commits its source
 *    offsets to its consumer group WITH the metadata kx_commit_meta(id, s)
 *    — that offset commit is the decision record — and only then writes
 *    'C' (kx_commit_through).
 *  - A reader holds each writer's data messages (rows, watermarks, ends) in
 *    memory until their segment is committed, then applies them in the
 *    order they came. A segment that is never committed (its writer died
 *    after writing it) is never applied.
 *  - A writer that dies between the offset commit and its 'C' leaves the
 *    decision in the group: whoever is assigned its source partitions next
 *    reads the committed metadata (kx_parse_commit_meta) and writes 'S'
 *    (kx_resolve): segments up to the recorded one are applied, the rest
 *    are dropped, and the dead writer is fenced (anything more from it —
 *    a zombie — is ignored).
 *  - At the end of a bounded read the decisions of every partition are in
 *    the group, and a writer that ends writes 'K' (kx_confirm) for the
 *    writers they name before its own ends: their decided segments apply
 *    first. 'K' does not fence: those writers are alive as a rule, about
 *    to commit a segment of their own ends.
 *
 * So a row reaches the readers exactly once: either its source offset was
 * committed with its segment (and the next owner starts after it), or
 * neither was (the segment is dropped, and the next owner reads the row
 * again). A writer whose partitions are revoked cleanly commits at the
 * revocation; one whose partitions are lost (fenced) must take a new id.
 * The price: a reader applies a segment one commit later (about one
 * checkpoint interval of delay), and holds uncommitted messages in memory
 * meanwhile (kx_reader_pending).
 *
 * ---- Offsets ---------------------------------------------------------------
 *
 * No automatic commits. kx_reader_commit commits, asynchronously, for each
 * assigned partition the offset of the first message not applied yet —
 * held, ready, or partly returned (out was full) — or, when there is none,
 * the position after the last message received: a later owner reads again
 * whole every message this reader has not finished with. Rows returned
 * after the last commit are read again by the next owner of a partition
 * that moves, so the runtime must keep (or rebuild) the downstream state
 * of each partition to be exactly-once end to end (issue 13).
 *
 * ---- Ledger ----------------------------------------------------------------
 *
 * An offset commit of a group member carries the member's generation; one
 * that races a rebalance is refused, and librdkafka (2.0) answers an
 * ILLEGAL_GENERATION by dropping the member's whole assignment as lost —
 * so a reader that recorded, at every checkpoint, how far it had emitted
 * (offset metadata "kxwm …", query.c) in its own group lost its partitions
 * at nearly every rebalance, and with them the record of windows its sink
 * had committed. With spec->ledger the metadata goes instead to a second
 * group that nobody joins, through a standalone consumer (generation -1,
 * which a group without members accepts): commits there never fail for a
 * rebalance and never touch the assignment. kx_reader_commit_meta, the
 * handoff at a revocation, kx_reader_part_meta (read at assignment) and
 * kx_reader_group_metas all use it; offsets in the reader's own group are
 * then not committed at all (a replaying reader does not need them).
 *
 * ---- Threads, errors, memory -----------------------------------------------
 *
 * A KxWriter or KxReader is used by one thread at a time (librdkafka runs
 * its own internal threads; the reader's rebalance and commit callbacks run
 * inside kx_read/kx_reader_close on the caller's thread). Open functions
 * return NULL and fill err (cap bytes); after that, a failing call returns
 * -1 and kx_writer_error / kx_reader_error say why. A bad argument (a
 * batch of the wrong shape, a bad key column, a negative origin) fails that
 * call only; other failures are sticky: a writer whose message could not be
 * delivered, or a reader that met a bad message, keeps returning -1. Transport trouble (brokers unreachable) is
 * not a failure: librdkafka retries, kx_read returns 0 rows meanwhile, and
 * messages wait in the producer (message.timeout.ms defaults to 0 = forever,
 * as the kafka sink). Nothing here prints; librdkafka's log is dropped.
 * Steady state allocates nothing per row: the writer reuses its hash,
 * bucket and message buffers (librdkafka copies each message), the reader
 * decodes straight into the caller's batch.
 *
 * Not done: topic creation on brokers that do not serve CreateTopics. librdkafka's mock cluster (`sluice broker`, the unit tests)
 * serves none, and it auto-creates any topic a client merely asks about —
 * consumers included — with its default of 4 partitions: there, create the
 * repartition topic beforehand (`sluice broker --topics … --partitions P`)
 * and open no reader before it exists. Real brokers honour the readers'
 * allow.auto.create.topics = false, and the writer looks the topic up in
 * the full topic list, which never auto-creates.
 */
#ifndef SLUICE_RUNTIME_KEXCHANGE_H
#define SLUICE_RUNTIME_KEXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "exec/batch.h"
#include "exec/types.h"

#define KX_VERSION          2
#define KX_KIND_ROWS        'R'
#define KX_KIND_WATERMARK   'W'
#define KX_KIND_END         'E'
#define KX_KIND_WATERMARKS  'M'
#define KX_KIND_COMMIT      'C'
#define KX_KIND_RESOLVE     'S'
#define KX_KIND_CONFIRM     'K'
#define KX_HEADER_BYTES     26     /* version, kind, u64 fingerprint, u64 writer, u64 segment */
#define KX_MSG_BYTES        (256 * 1024)       /* target size of a rows message  */
#define KX_MAX_ROWS_PER_MSG 65536              /* rows in one message, at most   */
#define KX_MAX_PARTITIONS   65536
#define KX_MAX_ORIGINS      65536
#define KX_META_MAX         192                /* offset metadata kept per partition */
#define KX_PAIRS_PER_MSG    4096               /* (origin, watermark) pairs in an 'M' record */

/* A stage-1 record (the offset metadata of a partition in the ledger,
 * runtime/query.c writes it): "kxwm <wm>" and then, each optional, "from
 * <O>" (where a replay may start), "cl <X>" (the changelog's end it
 * covers), "at <A>" (the position read to: kx_reader_set_replay_point),
 * "full <F>" (the changelog's last full snapshot's start) and "by <T>"
 * (its owner token, hex). kx_record_parse fills one: -1 (0 for by) where
 * a word is missing; has_wm 0 when the text does not start with "kxwm <n>"
 * (then nothing else is read). The one parser of that text. */
typedef struct KxRecord {
    int      has_wm;
    int64_t  wm, from, cl, at, full;
    uint64_t by;
} KxRecord;

void kx_record_parse(const char *m, KxRecord *r);

/* What both sides of one exchange agree on. The open functions copy what
 * they keep; the caller's arrays and strings may go after the call. */
typedef struct KxSpec {
    const char         *bootstrap;    /* bootstrap.servers ("host:port,…")               */
    const char         *topic;        /* the repartition topic                           */
    int                 partitions;   /* P, 1 … KX_MAX_PARTITIONS                        */
    int                 ncols;        /* >= 1                                            */
    const SqlType      *types;        /* ncols column types                              */
    uint64_t            fingerprint;  /* of the schema/plan; carried by every message    */
    int                 nprops;       /* extra librdkafka properties, applied after our  */
    const char *const  *prop_keys;    /* defaults (so they override them); may be NULL   */
    const char *const  *prop_values;  /* when nprops == 0                                */
    int                 timeout_ms;   /* writer open: metadata / topic creation wait;    */
                                      /* <= 0: 10000                                     */
    uint64_t            writer_id;    /* writer open: its id; 0 = a random one (the      */
                                      /* normal case: an id must never be reused)        */
    int                 replay;       /* reader open: 1 = every assignment change starts */
                                      /* every owned partition over from its beginning   */
                                      /* (the runtime rebuilds its state; see Replay)    */
    const char         *ledger;       /* reader open: a consumer group nobody joins that */
                                      /* keeps the offset metadata (kx_reader_commit_meta,*/
                                      /* handoffs, kx_reader_part_meta, _group_metas)   */
                                      /* instead of the reader's own group; NULL: that  */
                                      /* group. See Ledger.                             */
} KxSpec;

/* The partition of a row whose key hash is h (see Partitioning above). */
static inline int kx_partition_of(uint64_t h, int partitions)
{
    return (int)(((h >> 32) * (uint64_t)partitions) >> 32);
}

/* ---- writer ----------------------------------------------------------------- */

typedef struct KxWriter KxWriter;

/* An idempotent producer (enable.idempotence = true, linger.ms = 5,
 * message.timeout.ms = 0 unless spec->prop_* say otherwise) for spec->topic.
 * The topic is looked up in the cluster's metadata (without auto-creating
 * it): missing, it is created with P partitions (CreateTopics, the broker's
 * default replication factor; "already exists" from a racing writer is
 * fine); present with another partition count, open fails naming both
 * counts. NULL with err on a bad spec, a bad property, an unreachable
 * cluster (within spec->timeout_ms) or a failed creation. */
KxWriter *kx_writer_open(const KxSpec *spec, char *err, size_t cap);

/* Queue the live rows of b (b->sel/b->count; constant vectors fine) to their
 * partitions: the key hash of key_cols[0..nkeys) (column indexes of b), and
 * with nkeys == 0 every row to partition 0 (as query.c's exchange without
 * keys). Within a partition, rows keep their order in b, and calls keep
 * theirs. b must have spec->ncols columns of spec->types. Blocks (serving
 * deliveries) while librdkafka's queue is full. 0, or -1
 * (kx_writer_error). */
int kx_write(KxWriter *w, const Batch *b, const int *key_cols, int nkeys);

/* Origin's watermark is wm (0 <= origin < the readers' norigins, which the
 * writer does not know: it checks only 0 <= origin < KX_MAX_ORIGINS). Kept
 * until the open segment is sealed: kx_seal writes, to every partition,
 * one 'M' record (per KX_PAIRS_PER_MSG origins) with the last value of each
 * origin that changed since the last seal — after every row of the
 * segment. Readers apply a segment only when it is committed, so the
 * values in between would never count. 0 or -1. */
int kx_write_watermark(KxWriter *w, int origin, int64_t wm);

/* Origin sends nothing more (its watermark is INT64_MAX), at the next seal
 * as above. 0 or -1. */
int kx_write_end(KxWriter *w, int origin);

/* ---- segments (see Exactly once above) ---- */

/* This writer's id, and the segment its messages go to now (1, 2, …). */
uint64_t kx_writer_id(const KxWriter *w);
uint64_t kx_writer_segment(const KxWriter *w);

/* Take a new id (segments start again at 1); returns the old one, whose
 * open segment is then abandoned (its watermarks too: the new id publishes
 * every origin afresh): resolve it (kx_resolve) through its last
 * committed segment. For an upstream task that lost partitions and starts
 * its kept ones over from the group's offsets. */
uint64_t kx_writer_renew(KxWriter *w);

/* End the open segment: writes its watermarks (see kx_write_watermark) and
 * returns its number s; what follows goes to s + 1. 0 when the writer
 * failed (kx_writer_error). */
uint64_t kx_seal(KxWriter *w);

/* A 'C' marker to every partition: this writer's segments 1 … seg are
 * committed (seg must be sealed). Write it only once the decision is
 * durable elsewhere (the group's offsets naming seg, kx_commit_meta). 0 or
 * -1. */
int kx_commit_through(KxWriter *w, uint64_t seg);

/* An 'S' marker to every partition: another writer `writer` is gone; its
 * segments 1 … seg are committed (seg as read from the group's offset
 * metadata; 0 = none), the rest of them never will be, and nothing more of
 * it is applied. 0 or -1. */
int kx_resolve(KxWriter *w, uint64_t writer, uint64_t seg);

/* A 'K' marker to every partition: another writer's segments 1 … seg are
 * committed (its decision record in the group says so), and nothing more —
 * unlike kx_resolve it is not fenced: it may be alive, and commit later
 * segments itself. For the end of a bounded read (query.c): every row is
 * decided, but the writers that decided the last segments may not have
 * written their 'C' yet, and are still to write their ends. 0 or -1. */
int kx_confirm(KxWriter *w, uint64_t writer, uint64_t seg);

/* The offset-commit metadata that records "writer's segments 1 … seg are
 * committed": "kx1 <16 hex digits> <seg>". Returns its length, or -1 when
 * cap is too small. kx_parse_commit_meta reads it back (s[0..n), not
 * NUL-terminated): 0 with *writer, *seg, or -1 when it is not such a
 * string. */
int kx_commit_meta(uint64_t writer, uint64_t seg, char *buf, size_t cap);
int kx_parse_commit_meta(const char *s, size_t n, uint64_t *writer, uint64_t *seg);

/* Metadata may carry more decisions: "kx1 w1 s1 w2 s2 …" (a claim at an
 * assignment names the new owner first, then the decisions of earlier
 * owners nobody has resolved yet; source.h, source_set_claim_meta). The
 * pairs in order into writers/segs (at most cap kept); returns how many
 * there are, or -1 when it is not such a string. kx_parse_commit_meta
 * accepts exactly one pair. */
int kx_parse_commit_meta_list(const char *s, size_t n, uint64_t *writers, uint64_t *segs, int cap);

/* Wait up to timeout_ms until every queued message is delivered. 0 = all
 * delivered, 1 = some still waiting (brokers unreachable: retriable), -1 =
 * a delivery failed (kx_writer_error). */
int kx_flush(KxWriter *w, int timeout_ms);

/* Messages queued and not yet delivered (nor failed). */
int kx_writer_outstanding(const KxWriter *w);

/* Why the last call failed; "" when nothing failed. Valid until close. */
const char *kx_writer_error(const KxWriter *w);

/* The last transient problem librdkafka reported (brokers unreachable, …),
 * kept until the next one; "" if none. Informational (status lines): not a
 * failure. Valid until close. */
const char *kx_writer_warning(const KxWriter *w);

/* Free; what was not flushed is dropped (call kx_flush first). NULL is fine. */
void kx_writer_close(KxWriter *w);

/* A write waits for room while the producer's queue is full (no broker
 * takes the messages); with this set it asks stopped(ctx) every 100 ms
 * meanwhile and fails (-1, kx_writer_error) once it says 1: a stop must not
 * wait for ever for brokers that are gone. Nothing is lost: the open
 * segment never commits, and its rows are read again after a restart. */
void kx_writer_set_interrupt(KxWriter *w, int (*stopped)(void *ctx), void *ctx);

/* ---- reader ----------------------------------------------------------------- */

typedef struct KxReader KxReader;

/* A consumer in group `group` subscribed to spec->topic (the topic may not
 * exist yet), with partition.assignment.strategy = cooperative-sticky,
 * enable.auto.commit = false, auto.offset.reset = earliest (a partition the
 * group never committed is read from its beginning), fetch.wait.max.ms =
 * 100 (an exchange hop should add little latency; librdkafka's 500 is
 * made for throughput), unless spec->prop_* override them. norigins (1 … KX_MAX_ORIGINS) is the number of watermark
 * origins the writers use. spec->timeout_ms is unused. Partitions arrive
 * through the group protocol inside kx_read. NULL with err. */
KxReader *kx_reader_open(const KxSpec *spec, const char *group, int norigins, char *err,
                         size_t cap);

/* Append the rows of the next messages to out — out has spec->ncols columns
 * of spec->types (batch_init), no selection; rows go to slots out->nrows …,
 * strings are copied into out's arena, a constant column of out is
 * flattened first, and out->nrows = out->count grows — until out is full or
 * nothing more is ready; control records between them are applied in
 * order. Waits up to timeout_ms (0: not at all) while nothing at all is
 * ready. Sets *watermark (may be NULL) to the reader's watermark AFTER the
 * rows returned (apply it after processing them; see Watermarks above).
 * Must be called regularly (within max.poll.interval.ms) or the group
 * evicts the member. Returns the rows added (0: none ready, or out was
 * full), or -1 (kx_reader_error): a bad message, a partition id >= P
 * assigned, a fatal consumer error, out of the wrong shape. */
int kx_read(KxReader *r, Batch *out, int64_t *watermark, int timeout_ms);

/* kx_read, and parts[out->nrows before + i] = the Kafka partition of each
 * row appended, offs[…] = the offset of the message it came in (each has
 * out->capacity entries; NULL: not wanted). With spec->replay, a rebalance
 * ends the call: the rows it returned are of before the rebalance
 * (kx_reader_generation changed: the caller drops them and starts over),
 * and every owned partition is read again from its replay start (below). */
int kx_read_parts(KxReader *r, Batch *out, uint16_t *parts, int64_t *offs, int64_t *watermark,
                  int timeout_ms);

/* Bounded replay (spec->replay). A replay of partition part need not start
 * at the beginning: the reader starts it at the offset its metadata names
 * with a " from <offset>" word when it is assigned (the previous owner's
 * record), and at kx_reader_set_replay_from's offset when it rewinds a
 * partition it keeps. The caller computes that offset as the minimum of
 * kx_reader_replay_floor — the first message not applied yet, and the last
 * watermark or end applied of every origin (so a replay from there sees
 * every origin's watermark again; -1 = not known yet: the beginning) — and
 * the offsets (kx_read_parts' offs: the message each row came in) of the
 * rows of every window it has not emitted yet. Rows before it are of
 * windows already emitted, which a replay skips anyway. */
int64_t kx_reader_replay_floor(const KxReader *r, int part);
/* Where a replay of part starts now: the offset assigned with it or set
 * since (-1: the beginning). A record may name it while the floor is not
 * known (just after a rewind): it is at or before the start the floor
 * would give, as the windows not emitted only get fewer. */
int64_t kx_reader_replay_start(const KxReader *r, int part);
/* from < 0 keeps the offset; meta (NULL: kept) becomes kx_reader_part_meta:
 * the caller's last record of the partition. */
void    kx_reader_set_replay_from(KxReader *r, int part, int64_t from, const char *meta);

/* Replay onto a restored state (an unwindowed aggregation whose state a
 * changelog holds; query.c, docs/scaling.md). The application order is a
 * function of the partition's records: a data message is applied when the
 * marker committing its segment comes (or at once, when its segment was
 * committed before it came). So "the rows applied at a moment" is told by
 * two offsets: `from`, the first message not applied (held), and
 * `applied`, the position read to — a rows message released by a record
 * before `applied` was applied, one released at or after it was not.
 *
 * kx_reader_position gives both for an owned partition (`from` also at
 * or before every origin's last watermark or end applied, so a replay
 * sees each again — an ended origin would hold it back for ever
 * otherwise), -1 while a
 * released message is not wholly returned (kx_reader_busy: drain it with
 * kx_read_drain first) or the partition is not owned. A reader assigned a
 * partition whose metadata has " from <O>" and " at <A>" words (or told so
 * by kx_reader_set_replay_point for one it keeps, with the metadata it
 * should report for it) starts it at O and drops the rows messages
 * released before A (counted by kx_reader_dropped); watermarks apply
 * again (harmless: they only move forward). */
int     kx_reader_busy(const KxReader *r);
int     kx_read_drain(KxReader *r, Batch *out, uint16_t *parts, int64_t *offs, int64_t *watermark);
int     kx_reader_position(const KxReader *r, int part, int64_t *from, int64_t *applied);
void    kx_reader_set_replay_point(KxReader *r, int part, int64_t from, int64_t applied, const char *meta);
int64_t kx_reader_dropped(const KxReader *r);

/* Assignment changes so far (a rebalance that gave or took partitions;
 * not a cooperative one that gave this member nothing new); with
 * spec->replay, each one starts every owned partition over. */
int64_t kx_reader_generation(const KxReader *r);

/* Whether partition part is assigned to this reader now, and its record:
 * the metadata the group's committed offset of it carried when it was
 * assigned ("" if none; see kx_reader_commit_meta), or the last one the
 * caller set since (kx_reader_set_replay_point, _set_replay_from). */
int         kx_reader_owned(const KxReader *r, int part);
const char *kx_reader_part_meta(const KxReader *r, int part);

/* Partitions revoked from a live reader (not lost: the member is still in
 * the group) are committed, synchronously, inside the rebalance — before
 * any other member can be given them — with the metadata fn writes into
 * buf (cap bytes; "" = do not commit that partition). fn runs on the
 * thread calling kx_read. NULL: nothing is committed at a revocation. */
typedef void (*KxHandoffFn)(void *ctx, int partition, char *buf, size_t cap);
void kx_reader_on_handoff(KxReader *r, KxHandoffFn fn, void *ctx);

/* on = 1: a revocation from a live member (cooperative rebalance, not a
 * lost assignment, not while closing) is not carried out in the rebalance:
 * the partitions stay assigned and kx_reader_revoking counts them, and the
 * group waits (their next owner does not get them) until the caller has
 * made durable what it emitted of them and calls kx_reader_release — which
 * commits them with the handoff metadata, gives them up and starts a new
 * generation. The caller must not read meanwhile (what it reads of the
 * partitions kept would be emitted after the handoff record). A lost
 * assignment, or closing, releases them at once. */
void kx_reader_defer_revokes(KxReader *r, int on);

/* on = 1 (replay mode): a rewind — every assignment change, and
 * kx_reader_release — keeps each owned partition's kx_reader_position as
 * it was (what the caller's state holds; nothing is applied between), until
 * the caller starts over (kx_reader_unhold). For a caller that takes a
 * checkpoint after the assignment changed and before it starts over
 * (query.c: sessions that emit final rows): its records must carry the
 * position its state is at, not the replay point the rewind went back to.
 * Rows a read returns in the call that saw the change are of before it:
 * such a caller applies them. */
void kx_reader_hold(KxReader *r, int on);
/* The caller starts over: let go of the held positions. The reader reads
 * on from where the rewind went back to, and drops the rows messages
 * released before the replay point kx_reader_set_replay_point gave since
 * (nothing is read in between, so a later point only drops more of what
 * the state holds). */
void kx_reader_unhold(KxReader *r);
/* Test seam: the next n fetches of the group's offset metadata (at an
 * assignment) fail as if the group did not answer; an assignment asks up
 * to 6 times before it goes on without the metadata (with a warning). */
void kx_reader_test_fail_offsets(KxReader *r, int n);
int  kx_reader_revoking(const KxReader *r);
int  kx_reader_release(KxReader *r);

/* The offset metadata the group has now for every partition of the topic
 * (metas has P entries; "" where there is none), whoever owns them: how
 * far the other members got. Blocks up to timeout_ms. 0, or -1 (the
 * reason in kx_reader_warning; not a reader failure). */
int kx_reader_group_metas(KxReader *r, char (*metas)[KX_META_MAX], int timeout_ms);

/* kx_reader_commit, with metas[p] (may be NULL, or NULL/"" entries) as the
 * offset metadata of partition p (at most KX_META_MAX - 1 bytes kept);
 * sync = 1 waits for the group's answer (a failure is then returned;
 * with spec->ledger it waits 5 s at most, and a timeout is a failure).
 * With a ledger, a partition given metadata is committed even before
 * anything was read from it (at offset 0: the ledger's offsets mean
 * nothing). */
int kx_reader_commit_meta(KxReader *r, const char *const *metas, int sync);

/* Write metas[p] (non-empty entries only; P entries) to the ledger now,
 * at offset 0, and wait for the answer (5 s at most) — the record of a
 * checkpoint, written by the thread that commits it, between its durable
 * write and the sink's visible commit (docs/scaling.md, "The record").
 * Safe to call from another thread than the reader's: it touches only the
 * ledger's handle. The caller says which partitions it owned when it made
 * the metas; nothing else is checked. 0, -1 with the reason in err, or 1
 * when the reader has no ledger (nothing written). */
int kx_reader_record(KxReader *r, const char *const *metas, char *err, size_t cap);

/* The reader's current watermark (as kx_read reports it). */
int64_t kx_reader_watermark(const KxReader *r);

/* 1 when at least one partition is assigned and every assigned partition
 * has had an 'E' (or a 'W' of INT64_MAX) from every origin: nothing more
 * will come; else 0 (also while nothing is assigned). */
int kx_reader_ended(const KxReader *r);

/* Partitions assigned to this reader now. */
int kx_reader_assigned(const KxReader *r);

/* Commit (async) for every assigned partition the position after what
 * kx_read returned so far (see Offsets above); the result is served by
 * later kx_read calls. A failed commit is not a reader failure (not
 * sticky: the next commit covers it): 0, or -1 when the reader has failed
 * or librdkafka refused the commit at once (kx_reader_error). */
int kx_reader_commit(KxReader *r);

/* Messages received and not applied yet: held (their segment is not
 * committed) or committed and waiting to be returned. */
int64_t kx_reader_pending(const KxReader *r);

/* Why the last call failed; "" when nothing failed. Valid until close. */
const char *kx_reader_error(const KxReader *r);

/* The last transient problem (a consumer error event such as the topic not
 * existing yet, a failed asynchronous commit), kept until the next one; ""
 * if none. Informational: not a failure. Valid until close. */
const char *kx_reader_warning(const KxReader *r);

/* Leave the group (its partitions are revoked and move to other members;
 * nothing is committed here) and free. NULL is fine. */
void kx_reader_close(KxReader *r);

/* ---- Changelog -------------------------------------------------------------
 *
 * A changelog topic: keyed records of a state, one partition per exchange
 * partition, created compacted (cleanup.policy=compact: Kafka keeps the
 * last record of every key) with the spec's partitions when missing; an
 * existing one must have that many. query.c keeps an unwindowed
 * aggregation's state in it (docs/scaling.md, "Unwindowed aggregations").
 *
 *   KxLog *l = kx_log_open(&spec, err, sizeof err);   (bootstrap, topic, P, props)
 *   kx_log_put(l, p, key, klen, val, vlen);          val NULL: a tombstone
 *   kx_log_flush(l, 10000);  end = kx_log_end(l, p); every put delivered
 *   kx_log_read(l, p, from, upto, fn, ctx, 30000);   records [from, upto) in order
 *   kx_log_close(l);
 *
 * A log is used by one thread at a time. Every record carries the header
 * KX_LOG_OWNER with the owner set last (kx_log_set_owner; 0 at first),
 * which kx_log_read hands to fn (0 for a record without it): a reader
 * can tell one writer's records from another's (a zombie's). kx_log_end
 * is the offset after the last record this log delivered to p (-1: none
 * yet); kx_log_first the first one delivered to p since kx_log_mark (-1:
 * none). kx_log_read calls fn for every record of p from offset `from`
 * up to (not including) upto (a tombstone with val NULL, vlen 0); it
 * fails when p ends before upto (records deleted) or is not read to upto
 * in timeout_ms; fn returning non-zero stops it.
 * Failures return -1 with kx_log_error; an undelivered record is sticky. */
#define KX_LOG_OWNER "sluice.owner"   /* the record header naming its writer (8 bytes LE) */
typedef struct KxLog KxLog;
typedef int (*KxLogFn)(void *ctx, const void *key, size_t klen, const void *val, size_t vlen, int64_t offset,
                       uint64_t owner);
KxLog      *kx_log_open(const KxSpec *spec, char *err, size_t cap);
void        kx_log_set_owner(KxLog *l, uint64_t owner);
int         kx_log_put(KxLog *l, int part, const void *key, size_t klen, const void *val, size_t vlen);
int         kx_log_flush(KxLog *l, int timeout_ms);
int64_t     kx_log_end(const KxLog *l, int part);
void        kx_log_mark(KxLog *l);
int64_t     kx_log_first(const KxLog *l, int part);
int         kx_log_read(KxLog *l, int part, int64_t from, int64_t upto, KxLogFn fn, void *ctx, int timeout_ms);
const char *kx_log_error(const KxLog *l);
void        kx_log_close(KxLog *l);

#endif
