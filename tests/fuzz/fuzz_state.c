/*
 * fuzz_state.c — the state store driven by any bytes as a program of puts,
 * deletes, offsets, commits and reopens; afterwards every committed key must
 * read back (a model in memory says what should be there).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/state.h"

static char dir[256];

static int count_cb(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)k;
    (void)kl;
    (void)v;
    (void)vl;
    (*(int *)ctx)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/sluice-fuzz-state-%d", (int)getpid());
    }
    char        err[512];
    StateStore *st = state_open(dir, "fuzz", 1, err, sizeof err);
    if (!st) abort();
    StateTxn *tx = state_txn_new(st);
    int64_t   epoch = 0;
    int       live[4] = {0};   /* committed keys per op (op = key byte % 4, 1-byte keys) */
    uint8_t   present[4][256] = {{0}}, pending[4][256] = {{0}};
    int       pend_set[4][256] = {{0}};
    for (size_t i = 0; i + 2 < size; i += 3) {
        uint8_t cmd = data[i] % 5, k = data[i + 1], v = data[i + 2];
        int     op = k % 4;
        switch (cmd) {
        case 0: state_txn_put(tx, op, 0, &k, 1, &v, 1); pending[op][k] = 1; pend_set[op][k] = 1; break;
        case 1: state_txn_delete(tx, op, 0, &k, 1); pending[op][k] = 0; pend_set[op][k] = 1; break;
        case 2: state_txn_offset(tx, k, v, (int64_t)k * 1000 + v); break;
        case 3:
            if (state_txn_commit(tx, ++epoch, err, sizeof err) != 0) abort();
            for (int o = 0; o < 4; o++)
                for (int x = 0; x < 256; x++)
                    if (pend_set[o][x]) present[o][x] = pending[o][x], pend_set[o][x] = 0;
            tx = state_txn_new(st);
            break;
        case 4:
            state_txn_abort(tx);
            memset(pend_set, 0, sizeof pend_set);
            state_close(st);
            st = state_open(dir, "fuzz", 0, err, sizeof err);
            if (!st || state_epoch(st) != epoch) abort();
            tx = state_txn_new(st);
            break;
        }
    }
    state_txn_abort(tx);
    for (int o = 0; o < 4; o++) {
        for (int x = 0; x < 256; x++) live[o] += present[o][x];
        int n = 0;
        if (state_scan(st, o, 0, count_cb, &n, err, sizeof err) != 0 || n != live[o]) abort();
    }
    state_close(st);
    return 0;
}
