/*
 * fuzz_csv.c — the CSV record splitter and decoder on any bytes, fed in
 * records until the input is used up, as the file source does.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "exec/batch.h"
#include "runtime/connectors/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const SqlType types[] = {TYPE_TIMESTAMP, TYPE_BIGINT, TYPE_VARCHAR, TYPE_DOUBLE, TYPE_BOOLEAN};
    static const int     map[] = {0, 1, 2, 3, 4};
    Batch                b;
    CsvParser            cp;
    if (batch_init(&b, 5, types, 1)) abort();
    csv_parser_init(&cp, size && data[0] == ';' ? ';' : ',');
    const char *p = (const char *)data;
    size_t      n = size;
    while (n > 0) {
        size_t used = 0;
        char   why[256];
        int    rc = csv_parse_record(&cp, p, n, 1, &used, why, sizeof why);
        if (rc == CSV_OOM) break;
        if (rc == CSV_RECORD) {
            batch_reset(&b);
            csv_decode_record(&cp, map, &b, 0, why, sizeof why);
        }
        if (used == 0 || used > n) break;   /* must always make progress */
        p += used;
        n -= used;
    }
    csv_parser_free(&cp);
    batch_destroy(&b);
    return 0;
}
