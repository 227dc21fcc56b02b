"""Running a bound query and streaming its answer as Arrow record batches, written in a file format.

Like the JSON stream: the first batch (with a cap: cap + 1 rows) is fetched before anything is returned, so
errors still become statuses; the rest is fetched as the caller reads, one batch in memory at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa

from project.encoding.arrow_files import BatchWriter
from project.engines.execution import Limits
from project.engines.guard import QueryGuard
from project.engines.interface import Engine
from project.errors import ResultCapError, SluiceError

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
        self._rows = 0
        self.completed = False  # every byte was produced (a failed stream ends early)

    def rows_sent(self) -> int:
        """Rows handed to the server so far."""
        return self._rows

    def __iter__(self) -> Iterator[bytes]:
        try:
            first, self._first = self._first, []
            self._rows = sum(batch.num_rows for batch in first)
            yield b"".join(self._writer.write(batch) for batch in first)
            for batch in self._reader or ():
                self._rows += batch.num_rows
                yield self._writer.write(batch)
            yield self._writer.finish()
            self.completed = True
        except Exception as error:
            log.error("query failed while streaming, the answer is cut short: %s", error)
            raise  # the status is sent: only a cut connection tells the caller the answer is not whole
        finally:
            self.close()

    def whole(self) -> bytes | None:
        """The complete answer when the first batches held every row (sent with a length, not streamed)."""
        if self._reader is not None:
            return None
        return b"".join(self)

    def close(self) -> None:
        """Free the session and the query slot; once, however often the server and the stream call it."""
        finish, self._finish = self._finish, _done
        finish()


def _done() -> None:
    return None


def stream_batches(
    engine: Engine,
    sql: str,
    params: Sequence[Any] | dict,
    limits: Limits,
    format_name: str,
    client_gone: Callable[[], bool] | None = None,
) -> BatchStream:
    """Run the query for a pyarrow-written format and fetch its first batches; raise QueryError and friends.
    The timeout covers the whole stream; a caller that hangs up (`client_gone`) interrupts the query."""
    release = engine.take_query_slot()
    try:
        session = engine.session()
    except BaseException:
        release()
        raise
    guard = QueryGuard(engine.watchdog, session, limits.timeout, client_gone)

    def finish() -> None:
        guard.cancel()
        session.close()
        release()

    try:
        reader = session.arrow_reader(sql, params, format_name, ARROW_BATCH_ROWS)
        first, finished = _read_first(reader, limits)
        writer = BatchWriter(format_name, reader.schema)
    except BaseException as error:
        finish()
        if isinstance(error, SluiceError):
            raise
        raise session.translate_error(error, limits.timeout) from None
    if finished:
        finish()
        return BatchStream(writer, first, None, _done)
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
