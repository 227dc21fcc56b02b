"""Running a bound query and streaming its answer in batches (SPEC §3.5), whatever the format.

The first batch is fetched before anything is returned, so every error that can still become an HTTP
status does; later batches are fetched as the caller reads, so memory does not grow with the result.
An error after the first batch is raised from the stream: the server must then cut the connection
(handlers.answers does), since the status already said 200. JSON and NDJSON answers are batches of
JSON text (`stream_query`); the file formats are Arrow record batches written by pyarrow (`batches`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from project.engines.guard import QueryGuard
from project.engines.interface import Engine, JsonText, Session
from project.errors import ResultCapError, SluiceError

log = logging.getLogger("sluice.query")

Batch = Any  # JsonText (rows of JSON text), or a pyarrow RecordBatch
ReadBatch = Callable[[int], Batch | None]  # the next batch of up to n rows; None at the end


@dataclass(frozen=True)
class Limits:
    row_cap: int  # 0 means no cap
    batch_rows: int
    timeout: float


class Writer(Protocol):
    """Turns an answer's batches into the bytes of its format, in chunks (the file formats cut a batch's
    bytes into small pieces: see encoding.arrow_files)."""

    def rows(self, batch: Batch) -> int: ...

    def write(self, batch: Batch) -> Iterable[bytes]: ...

    def finish(self) -> Iterable[bytes]: ...


@dataclass(frozen=True)
class Opened:
    """A query started on a session: how to read its batches and how to write them."""

    read: ReadBatch
    writer: Writer
    first_rows: int  # rows to fetch before answering (a batch's worth) unless a cap asks for more


class AnswerStream:
    """An answer whose first batches are fetched; iterate for its bytes, close when done."""

    def __init__(
        self,
        first: list[Batch],
        read_more: Callable[[], Batch | None] | None,
        writer: Writer,
        finish: Callable[[], None],
    ) -> None:
        self._first = first
        self._read_more = read_more  # None when the first batches held every row
        self._writer = writer
        self._finish = finish
        self._rows = 0
        self.completed = False  # every byte was produced (a failed stream ends early)
        self.timings: dict[str, float] = {}  # phases of the answer so far, in milliseconds

    def rows_sent(self) -> int:
        """Rows handed to the server so far (all of them, for an answer sent whole)."""
        return self._rows

    def __iter__(self) -> Iterator[bytes]:
        try:
            first, self._first = self._first, []
            self._rows += sum(self._writer.rows(batch) for batch in first)
            while first:
                yield from self._writer.write(first.pop(0))
            while (chunks := self._next_chunks()) is not None:
                yield from chunks
            yield from self._writer.finish()
            self.completed = True
        except Exception as error:
            log.error("query failed while streaming, the answer is cut short: %s", error)
            raise  # the status is sent: only a cut connection tells the caller the answer is not whole
        finally:
            self.close()

    def _next_chunks(self) -> Iterable[bytes] | None:
        """The next batch, read and written; only the writer keeps what it still needs of it, so a batch is
        let go before the next one is read (two batches held at once would double the answer's memory)."""
        batch = self._read_more() if self._read_more is not None else None
        if batch is None:
            return None
        self._rows += self._writer.rows(batch)
        return iter(self._writer.write(batch))  # once used up, it lets go of the chunks

    def whole(self) -> bytes | None:
        """The complete answer when the first batches held every row (sent with a length, not streamed)."""
        if self._read_more is not None:
            return None
        return b"".join(self)

    def close(self) -> None:
        """Free the session and the query slot; once, however often the server and the stream call it."""
        finish, self._finish = self._finish, _done
        finish()


def _done() -> None:
    return None


def open_stream(
    engine: Engine,
    limits: Limits,
    start: Callable[[Session], Opened],
    client_gone: Callable[[], bool] | None = None,
) -> AnswerStream:
    """Take a query slot and a session, `start` the query and fetch its first batches (up to cap + 1 rows);
    raise QueryError and friends. The timeout covers the whole stream; a caller that hangs up
    (`client_gone`) interrupts the query."""
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
        started = time.perf_counter()
        opened = start(session)
        planned = time.perf_counter()
        wanted = limits.row_cap + 1 if limits.row_cap else opened.first_rows
        first, finished = _read_first(opened.read, opened.writer, wanted)
        if limits.row_cap and sum(opened.writer.rows(batch) for batch in first) > limits.row_cap:
            raise ResultCapError(f"result cap exceeded: returned more than {limits.row_cap} rows")
        timings = {"query": _ms(planned - started), "encode": _ms(time.perf_counter() - planned)}
    except BaseException as error:
        finish()
        if isinstance(error, SluiceError):
            raise
        raise session.translate_error(error, limits.timeout) from None
    if finished:
        finish()
        stream = AnswerStream(first, None, opened.writer, _done)
    else:
        stream = AnswerStream(first, _reading_on(session, opened.read, limits), opened.writer, finish)
    stream.timings.update(timings)
    return stream


def _read_first(read: ReadBatch, writer: Writer, wanted: int) -> tuple[list[Batch], bool]:
    """Batches up to `wanted` rows, and whether that was every row."""
    batches: list[Batch] = []
    rows = 0
    while rows < wanted:
        batch = read(wanted - rows)
        if batch is None:
            return batches, True
        batches.append(batch)
        rows += writer.rows(batch)
    return batches, False


def _reading_on(session: Session, read: ReadBatch, limits: Limits) -> Callable[[], Batch | None]:
    """The next batches; an engine error is reported in the caller's terms, as before the first batch."""

    def read_more() -> Batch | None:
        try:
            return read(limits.batch_rows)
        except Exception as error:  # noqa: BLE001
            raise session.translate_error(error, limits.timeout) from None

    return read_more


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def stream_query(
    engine: Engine,
    sql: str,
    params: Sequence[Any] | dict,
    limits: Limits,
    lines: bool = False,
    client_gone: Callable[[], bool] | None = None,
) -> AnswerStream:
    """Run the query for a JSON answer (`lines`: NDJSON, one row a line, instead of an array)."""

    def start(session: Session) -> Opened:
        fetch = session.json_text(sql, params, lines, limits.batch_rows)
        writer: Writer = JsonLinesWriter() if lines else JsonArrayWriter()
        return Opened(lambda _count: fetch(), writer, limits.batch_rows)

    return open_stream(engine, limits, start, client_gone)


class JsonArrayWriter:
    """Rows as one JSON array: the text of a batch has a comma before each row, the first becomes `[`."""

    def __init__(self) -> None:
        self._started = False

    def rows(self, batch: JsonText) -> int:
        return batch.rows

    def write(self, batch: JsonText) -> list[bytes]:
        if self._started or not batch.text:
            return [batch.text]
        self._started = True
        return [b"[" + batch.text[1:]]

    def finish(self) -> list[bytes]:
        return [b"]" if self._started else b"[]"]


class JsonLinesWriter:
    """Rows as NDJSON: the text of a batch already ends each row with a newline."""

    def rows(self, batch: JsonText) -> int:
        return batch.rows

    def write(self, batch: JsonText) -> list[bytes]:
        return [batch.text]

    def finish(self) -> list[bytes]:
        return []
