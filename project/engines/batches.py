"""Running a bound query and streaming its answer as Arrow record batches, written in a file format.

Like the JSON stream: the first batch (with a cap: cap + 1 rows) is fetched before anything is returned, so
errors still become statuses; the rest is fetched as the caller reads, one batch in memory at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import duckdb
import pyarrow as pa

from project.encoding.arrow_files import BatchWriter
from project.encoding.columns import arrow_columns_sql
from project.engines.duckdb import Database
from project.engines.execution import Limits, query_error
from project.errors import ResultCapError

log = logging.getLogger("sluice.query")

ARROW_BATCH_ROWS = 65_536


class BatchStream:
    """An answer in a file format whose first batches are fetched; iterate for its bytes, close when done."""

    def __init__(
        self,
        writer: BatchWriter,
        first: list[pa.RecordBatch],
        reader: pa.RecordBatchReader | None,
        finish: Callable[[], None],
    ) -> None:
        self._writer = writer
        self._first = first
        self._reader = reader  # None when the first batches held every row
        self._finish = finish

    def __iter__(self) -> Iterator[bytes]:
        try:
            first, self._first = self._first, []
            yield b"".join(self._writer.write(batch) for batch in first)
            for batch in self._reader or ():
                yield self._writer.write(batch)
            yield self._writer.finish()
        except (duckdb.Error, pa.ArrowException) as error:
            log.error("query failed while streaming; the answer was cut short: %s", error)
        finally:
            self.close()

    def whole(self) -> bytes | None:
        """The complete answer when the first batches held every row (sent with a length, not streamed)."""
        if self._reader is not None:
            return None
        return b"".join(self) or None

    def close(self) -> None:
        finish, self._finish = self._finish, _done
        finish()


def _done() -> None:
    return None


def stream_batches(
    database: Database, sql: str, params: Sequence[Any], limits: Limits, format_name: str
) -> BatchStream:
    """Run the query for a pyarrow-written format and fetch its first batches; raise QueryError and friends."""
    release = database.take_query_slot()
    cursor = database.cursor()
    deadline = database.watchdog.watch(limits.timeout, cursor.interrupt) if limits.timeout > 0 else None
    wrapped = False
    try:
        described = database.describe(cursor, sql, params)
        converted = arrow_columns_sql(sql, described.names, described.types, format_name)
        wrapped = converted is not sql
        reader = cursor.sql(converted, params=list(params) or None).to_arrow_reader(ARROW_BATCH_ROWS)
        first, finished = _read_first(reader, limits)
        writer = BatchWriter(format_name, reader.schema)
    except BaseException as error:  # noqa: BLE001 - the cursor must be closed whatever happened
        cursor.close()
        release()
        raise query_error(error, limits, wrapped) from None
    finally:
        if deadline is not None:
            database.watchdog.cancel(deadline)
    if finished:
        cursor.close()
        release()
        return BatchStream(writer, first, None, _done)

    def finish() -> None:
        cursor.close()
        release()

    return BatchStream(writer, first, reader, finish)


def _read_first(reader: pa.RecordBatchReader, limits: Limits) -> tuple[list[pa.RecordBatch], bool]:
    """Batches up to the cap + 1 rows (without a cap: one batch), and whether that was every row."""
    wanted = limits.row_cap + 1 if limits.row_cap else 1
    batches: list[pa.RecordBatch] = []
    rows = 0
    while rows < wanted:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return batches, True
        batches.append(batch)
        rows += batch.num_rows
    if limits.row_cap and rows > limits.row_cap:
        raise ResultCapError(f"result cap exceeded: returned more than {limits.row_cap} rows")
    return batches, False
