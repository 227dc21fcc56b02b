"""Answers in a file format (CSV, Parquet, Arrow IPC): the query's Arrow record batches written by pyarrow.

Streamed like the JSON answers (`execution`): the first batches (with a cap: cap + 1 rows) are fetched
before anything is returned, so errors still become statuses; the rest as the caller reads, one batch in
memory at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa

from project.encoding.arrow_files import BatchWriter
from project.engines.execution import AnswerStream, Limits, Opened, open_stream
from project.engines.interface import Engine, Session

# Rows per Arrow batch from DuckDB. 16,384 rather than 65,536: a smaller batch is less to hold at once, and
# the peak no longer creeps up over a long answer (CSV, a worker's peak over idle for 1,000,000 and for
# 10,000,000 rows: +29 and +31-32 MB with 65,536, +24 and +24 MB with 16,384; Arrow +21/+21 and +18/+18);
# the time of a 1,000,000-row answer stays within the machine's noise. Parquet still writes row groups of
# PARQUET_ROW_GROUP_ROWS (encoding.arrow_files).
ARROW_BATCH_ROWS = 16_384


def stream_batches(
    engine: Engine,
    sql: str,
    params: Sequence[Any] | dict,
    limits: Limits,
    format_name: str,
    client_gone: Callable[[], bool] | None = None,
) -> AnswerStream:
    """Run the query for a pyarrow-written format and fetch its first batches."""

    def start(session: Session) -> Opened:
        reader = session.arrow_reader(sql, params, format_name, ARROW_BATCH_ROWS)
        return Opened(_reads(reader), BatchWriter(format_name, reader.schema), ARROW_BATCH_ROWS)

    return open_stream(engine, limits, start, client_gone)


def _reads(reader: pa.RecordBatchReader) -> Callable[[int], pa.RecordBatch | None]:
    """The reader's batches as they come (their size is the reader's, whatever is asked)."""

    def read(count: int) -> pa.RecordBatch | None:
        try:
            return reader.read_next_batch()
        except StopIteration:
            return None

    return read
