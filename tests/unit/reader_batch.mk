# tests/unit/reader_batch.mk — cg_reader_next_batch (tracer/reader.c) against cg_reader_next.
UNIT_SUITES += test_reader_batch
test_reader_batch_SRCS := tests/unit/test_reader_batch.c tests/unit/tracer_testlib.c $(TRACER_WRITER_SRCS) \
                          tracer/reader.c tracer/merge.c tracer/order.c
