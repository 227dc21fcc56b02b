"""Running a bound query and streaming its rows as a JSON array in batches (SPEC §3.5).

The first batch is fetched before anything is returned, so every error that can still become an HTTP
status does; later batches are fetched as the caller reads, so memory does not grow with the result.
An error after the first batch is raised from the stream: the server must then cut the connection
(handlers.api does), since the status already said 200.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from project.engines.guard import QueryGuard
from project.engines.interface import Engine, FetchJson, Session
from project.errors import ResultCapError, SluiceError

log = logging.getLogger("sluice.query")


@dataclass(frozen=True)
class Limits:
    row_cap: int  # 0 means no cap
    batch_rows: int
    timeout: float


class RowStream:
    """An answer whose first batch is already fetched; iterate for the JSON (or NDJSON) bytes, close when done."""

    def __init__(
        self,
        first_rows: list[str],
        fetch_more: Callable[[], list[str]] | None,
        finish: Callable[[], None],
        lines: bool = False,
    ):
        self._first_rows = first_rows
        self._fetch_more = fetch_more  # None when the first batch was the whole answer
        self._finish = finish
        self._lines = lines  # NDJSON: one row a line instead of a JSON array
        self._rows = 0
        self.completed = False  # every byte was produced (a failed stream ends early)
        self.timings: dict[str, float] = {}  # phases of the answer so far, in milliseconds

    def rows_sent(self) -> int:
        """Rows handed to the server so far (all of them, for an answer sent whole)."""
        return self._rows

    def __iter__(self) -> Iterator[bytes]:
        try:
            first, self._first_rows = self._first_rows, []
            self._rows = len(first)
            yield from (_lines(first, self._more()) if self._lines else _array(first, self._more()))
            self.completed = True
        except Exception as error:
            log.error("query failed while streaming, the answer is cut short: %s", error)
            raise  # the status is sent: only a cut connection tells the caller the answer is not whole
        finally:
            self.close()

    def _more(self) -> Iterator[list[str]]:
        """The batches after the first, counted as they go."""
        while self._fetch_more and (batch := self._fetch_more()):
            self._rows += len(batch)
            yield batch

    def whole(self) -> bytes | None:
        """The complete answer when the first batch held every row (sent with a length, not streamed)."""
        if self._fetch_more is not None:
            return None
        self._rows = len(self._first_rows)
        if self._lines:
            return "".join(row + "\n" for row in self._first_rows).encode()
        return ("[" + ",".join(self._first_rows) + "]").encode()

    def close(self) -> None:
        """Free the cursor and the query slot; once, however often the server and the stream call it."""
        finish, self._finish = self._finish, _done
        finish()


def _array(first: list[str], more: Iterator[list[str]]) -> Iterator[bytes]:
    yield ("[" + ",".join(first)).encode()
    for batch in more:
        yield ("," + ",".join(batch)).encode()
    yield b"]"


def _lines(first: list[str], more: Iterator[list[str]]) -> Iterator[bytes]:
    if first:
        yield "".join(row + "\n" for row in first).encode()
    for batch in more:
        yield "".join(row + "\n" for row in batch).encode()


def _done() -> None:
    return None


def stream_query(
    engine: Engine,
    sql: str,
    params: Sequence[Any] | dict,
    limits: Limits,
    lines: bool = False,
    client_gone: Callable[[], bool] | None = None,
) -> RowStream:
    """Run the query and fetch its first batch (or cap + 1 rows); raise QueryError and friends.
    `lines`: the rows as NDJSON instead of a JSON array. `client_gone`: whether the caller hung up (the
    query is then interrupted). The timeout covers the whole stream."""
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
        _, fetch = session.json_rows(sql, params)
        planned = time.perf_counter()
        first_rows, finished = _fetch_first(fetch, limits)
        timings = {"query": _ms(planned - started), "encode": _ms(time.perf_counter() - planned)}
    except BaseException as error:
        finish()
        if isinstance(error, SluiceError):
            raise
        raise session.translate_error(error, limits.timeout) from None
    if finished:
        finish()
        stream = RowStream(first_rows, None, _done, lines)
    else:
        stream = RowStream(first_rows, lambda: _fetch_more(session, fetch, limits), finish, lines)
    stream.timings.update(timings)
    return stream


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _fetch_more(session: Session, fetch: FetchJson, limits: Limits) -> list[str]:
    try:
        return fetch(limits.batch_rows)
    except Exception as error:  # noqa: BLE001 - reported in the caller's terms, as before the first batch
        raise session.translate_error(error, limits.timeout) from None


def _fetch_first(fetch: FetchJson, limits: Limits) -> tuple[list[str], bool]:
    """The first batch (with a cap: up to cap + 1 rows), and whether that was every row."""
    wanted = limits.row_cap + 1 if limits.row_cap else limits.batch_rows
    rows: list[str] = []
    finished = False
    while len(rows) < wanted and not finished:
        asked = min(limits.batch_rows, wanted - len(rows))
        batch = fetch(asked)
        finished = len(batch) < asked  # fetchmany comes back short only at the end of the result
        rows.extend(batch)
    if limits.row_cap and len(rows) > limits.row_cap:
        raise ResultCapError(f"result cap exceeded: returned more than {limits.row_cap} rows")
    return rows, finished
