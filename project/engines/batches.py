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

ARROW_BATCH_ROWS = 65_536


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
