/*
 * fuzz_sql.c — any bytes through the parser, the catalog, the binder, the
 * optimizer and EXPLAIN (a check-only session: nothing runs). Must never
 * crash, leak or hit undefined behaviour.
 */
#include <stddef.h>
#include <stdint.h>

#include "runtime/session.h"

static void notice(void *ctx, const char *msg) { (void)ctx; (void)msg; }
static void text(void *ctx, const char *t) { (void)ctx; (void)t; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Session *s = session_new();
    if (!s) return 0;
    session_set_check_only(s, 1);
    /* a stream every input may refer to */
    static const char ddl[] =
        "CREATE STREAM logs (ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, "
        "msg VARCHAR, WATERMARK FOR ts AS ts - INTERVAL '10' SECOND) WITH (connector = 'logs');"
        "CREATE SINK out WITH (connector = 'stdout');";
    ResultSink sink = {0};
    sink.on_notice = notice;
    sink.on_text = text;
    SqlError err;
    session_exec(s, ddl, sizeof ddl - 1, &sink, &err);
    session_exec(s, (const char *)data, size, &sink, &err);
    session_free(s);
    return 0;
}
