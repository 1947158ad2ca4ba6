/*
 * test_exec_batch_ops.c — changelog marks (Batch.ops) travel with their rows
 * through appends and compaction.
 */
#include "exec/batch.h"
#include "exec/batch_copy.h"
#include "tests/unit/unit.h"

TEST(batch_ops_follow_rows)
{
    SqlType t = TYPE_BIGINT;
    Batch   a, b;
    REQUIRE(batch_init(&a, 1, &t, 8) == 0);
    REQUIRE(batch_init(&b, 1, &t, 8) == 0);
    for (int i = 0; i < 4; i++) vector_i64(&a.cols[0])[i] = 10 + i;
    batch_set_nrows(&a, 4);
    uint8_t *ops = batch_ops_buf(&a);
    REQUIRE(ops);
    ops[0] = BATCH_OP_INSERT;
    ops[1] = BATCH_OP_UPDATE;
    ops[2] = BATCH_OP_DELETE;
    ops[3] = BATCH_OP_UPDATE;
    a.ops = ops;

    /* a batch without marks, then rows with marks: the first rows read as inserts */
    vector_i64(&b.cols[0])[0] = 1;
    batch_set_nrows(&b, 1);
    uint32_t rows[] = {3, 1, 2};
    REQUIRE(batch_append_rows(&b, &a, rows, 3) == 0);
    REQUIRE(b.ops);
    CHECK_EQ_INT(b.nrows, 4);
    CHECK_EQ_INT(b.ops[0], BATCH_OP_INSERT);
    CHECK_EQ_INT(b.ops[1], BATCH_OP_UPDATE);
    CHECK_EQ_INT(vector_i64(&b.cols[0])[1], 13);
    CHECK_EQ_INT(b.ops[2], BATCH_OP_UPDATE);
    CHECK_EQ_INT(b.ops[3], BATCH_OP_DELETE);

    /* compaction keeps each mark with its row */
    uint32_t sel[] = {2, 3};
    batch_set_sel(&b, sel, 2);
    batch_compact(&b);
    CHECK_EQ_INT(b.nrows, 2);
    CHECK_EQ_INT(vector_i64(&b.cols[0])[0], 11);
    CHECK_EQ_INT(b.ops[0], BATCH_OP_UPDATE);
    CHECK_EQ_INT(vector_i64(&b.cols[0])[1], 12);
    CHECK_EQ_INT(b.ops[1], BATCH_OP_DELETE);

    /* reset forgets the marks */
    batch_reset(&b);
    CHECK(b.ops == NULL);
    batch_destroy(&a);
    batch_destroy(&b);
}
