/*
 * json_decode.c — JSON lines decoding: the re2c schema-directed decoder
 * (json_fast_decode_line) vs the jansson one (json_decode_line_jansson) on
 * the same lines.
 *
 *   make build/bench/json_decode && build/bench/json_decode [FILE] [ROUNDS]
 *
 * FILE (default bench/data/logs-100000.jsonl, the seed's log events written
 * by sluice's `logs` generator; when it is missing, 100k lines of the same
 * shape are synthesized) is read into memory, then each decoder decodes
 * every line into 1024-row batches, ROUNDS times (default 5), for two
 * schemas: all 6 fields, and the 4 the crash query reads (ts, user_id,
 * level, event). Prints the best round of each as rows/s and MB/s and the
 * ratio. A benchmark, not a test: it checks only that no line was rejected.
 *
 * With BENCH_RECORDS set (bench/run.sh sets it), each best round is also
 * appended there as a JSON record for the results table: workload "JSON
 * decode alone, 6 of 6 fields" (or 4 of 6), engine "sluice" for the re2c
 * decoder and "jansson" for the peer, one thread; CPU s is the process CPU
 * time of that round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec/batch.h"
#include "runtime/connectors/formats.h"

typedef int (*DecodeFn)(const char *, size_t, int, const char *const *, Batch *, int, char *,
                        size_t);

typedef struct Lines {
    char   *buf;
    size_t  bytes;
    size_t *off, *len;
    size_t  n;
} Lines;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* one JSON line for bench/report.py; nothing when BENCH_RECORDS is unset */
static void record(const char *what, const char *engine, size_t rows, double wall, double cpu,
                   int rounds)
{
    const char *path = getenv("BENCH_RECORDS");
    if (!path || !*path) return;
    FILE *f = fopen(path, "a");
    if (!f) return;
    fprintf(f,
            "{\"workload\": \"JSON decode alone, %s\", \"engine\": \"%s\", \"threads\": 1, "
            "\"rows\": %zu, \"wall_s\": %.6f, \"cpu_s\": %.6f, \"peak_rss_bytes\": null, "
            "\"runs\": %d, \"note\": \"in-memory lines into 1024-row batches; best round\"}\n",
            what, engine, rows, wall, cpu, rounds);
    fclose(f);
}

static void split(Lines *L)
{
    size_t cap = 1024;
    L->off = malloc(cap * sizeof *L->off);
    L->len = malloc(cap * sizeof *L->len);
    size_t i = 0;
    while (i < L->bytes) {
        char  *nl = memchr(L->buf + i, '\n', L->bytes - i);
        size_t e = nl ? (size_t)(nl - L->buf) : L->bytes;
        if (e > i) {
            if (L->n == cap) {
                cap *= 2;
                L->off = realloc(L->off, cap * sizeof *L->off);
                L->len = realloc(L->len, cap * sizeof *L->len);
            }
            L->off[L->n] = i;
            L->len[L->n] = e - i;
            L->n++;
        }
        i = e + 1;
    }
}

static int load(Lines *L, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    L->buf = malloc((size_t)sz + 1);
    L->bytes = fread(L->buf, 1, (size_t)sz, f);
    fclose(f);
    split(L);
    return 0;
}

/* lines shaped like the logs generator's */
static void synthesize(Lines *L, size_t n)
{
    static const char *const lv[] = {"INFO", "INFO", "INFO", "WARN", "ERROR", "CRITICAL"};
    static const char *const ev[] = {"page_view", "purchase", "login", "logout", "crash"};
    static const char *const msg[] = {"viewed /home", "order placed with coupon",
                                      "user logged in", "session ended", "segfault in renderer"};
    size_t   cap = n * 160, used = 0;
    uint64_t s = 42;
    L->buf = malloc(cap);
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned r = (unsigned)(s >> 33);
        used += (size_t)snprintf(L->buf + used, cap - used,
                                 "{\"ts\":\"2024-01-01T00:%02u:%02u.%03uZ\",\"user_id\":%u,"
                                 "\"ip\":\"10.%u.%u.%u\",\"level\":\"%s\",\"event\":\"%s\","
                                 "\"msg\":\"%s\"}\n",
                                 r % 60, (r >> 6) % 60, r % 1000, r % 1000 + 1, r & 255,
                                 (r >> 8) & 255, (r >> 16) & 255, lv[r % 6], ev[(r >> 3) % 5],
                                 msg[(r >> 7) % 5]);
    }
    L->bytes = used;
    split(L);
}

/* one round: seconds, or -1 when a line was rejected */
static double run(const Lines *L, DecodeFn fn, Batch *b, int ncols, const char *const *names)
{
    char   why[256];
    double t0 = now();
    batch_reset(b);
    for (size_t i = 0; i < L->n; i++) {
        if (b->nrows == b->capacity) batch_reset(b);
        int row = b->nrows;
        if (fn(L->buf + L->off[i], L->len[i], ncols, names, b, row, why, sizeof why) != 0) {
            fprintf(stderr, "line %zu rejected: %s\n", i + 1, why);
            return -1;
        }
        batch_set_nrows(b, row + 1);
    }
    return now() - t0;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "bench/data/logs-100000.jsonl";
    int         rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (rounds < 1) rounds = 1;
    Lines L = {0};
    if (load(&L, path) != 0) {
        fprintf(stderr, "json_decode: %s not found; synthesizing 100000 log lines\n", path);
        synthesize(&L, 100000);
        path = "(synthesized)";
    }
    printf("json_decode: %zu lines, %.1f MB, %.0f bytes/line, from %s; best of %d rounds\n", L.n,
           (double)L.bytes / 1e6, (double)L.bytes / (double)(L.n ? L.n : 1), path, rounds);

    static const char *const n6[] = {"ts", "user_id", "ip", "level", "event", "msg"};
    static const SqlType     t6[] = {TYPE_TIMESTAMP, TYPE_BIGINT, TYPE_VARCHAR,
                                     TYPE_VARCHAR,   TYPE_VARCHAR, TYPE_VARCHAR};
    static const char *const n4[] = {"ts", "user_id", "level", "event"};
    static const SqlType     t4[] = {TYPE_TIMESTAMP, TYPE_BIGINT, TYPE_VARCHAR, TYPE_VARCHAR};
    struct {
        const char         *what;
        int                 ncols;
        const char *const  *names;
        const SqlType      *types;
    } schemas[] = {{"6 of 6 fields", 6, n6, t6}, {"4 of 6 fields", 4, n4, t4}};
    struct {
        const char *name;
        DecodeFn    fn;
    } decs[] = {{"re2c (json_fast)", json_fast_decode_line}, {"jansson", json_decode_line_jansson}};

    int rc = 0;
    for (size_t s = 0; s < 2; s++) {
        Batch b;
        if (batch_init(&b, schemas[s].ncols, schemas[s].types, 1024) != 0) return 1;
        double best[2], best_cpu[2];
        for (int d = 0; d < 2; d++) {
            best[d] = 1e30;
            best_cpu[d] = 0;
            for (int r = 0; r < rounds; r++) {
                double c0 = cpu_now();
                double t = run(&L, decs[d].fn, &b, schemas[s].ncols, schemas[s].names);
                if (t < 0) {
                    rc = 1;
                    break;
                }
                if (t < best[d]) {
                    best[d] = t;
                    best_cpu[d] = cpu_now() - c0;
                }
            }
            if (rc == 0)
                record(schemas[s].what, d == 0 ? "sluice" : "jansson", L.n, best[d], best_cpu[d],
                       rounds);
            printf("  %-14s %-17s %8.2f M rows/s  %8.1f MB/s\n", schemas[s].what, decs[d].name,
                   (double)L.n / best[d] / 1e6, (double)L.bytes / best[d] / 1e6);
        }
        printf("  %-14s ratio re2c/jansson: %.1fx\n", schemas[s].what, best[1] / best[0]);
        batch_destroy(&b);
    }
    free(L.buf);
    free(L.off);
    free(L.len);
    return rc;
}
