"""Running a bound query and streaming its rows as a JSON array in batches (SPEC §3.5).

The first batch is fetched before anything is returned, so every error that can still become an HTTP
status does; later batches are fetched as the caller reads, so memory does not grow with the result.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from project.encoding.bulk import json_rows_sql
from project.engines.duckdb import Database, Described
from project.errors import QueryError, QueryTimeoutError, ResultCapError

log = logging.getLogger("sluice.query")


@dataclass(frozen=True)
class Limits:
    row_cap: int  # 0 means no cap
    batch_rows: int
    timeout: float


WRAPPED_LINE = re.compile(r"^LINE (\d+):", re.MULTILINE)
SMALL_ANSWER_ROWS = 100  # answers up to this size are encoded in Python next time (see row_encoding)


class RowStream:
    """An answer whose first batch is already fetched; iterate for the JSON bytes, close when done."""

    def __init__(
        self, first_rows: list[str], fetch_more: Callable[[], list[str]] | None, finish: Callable[[], None]
    ):
        self._first_rows = first_rows
        self._fetch_more = fetch_more  # None when the first batch was the whole answer
        self._finish = finish
        self._rows = 0
        self.timings: dict[str, float] = {}  # phases of the answer so far, in milliseconds

    def rows_sent(self) -> int:
        """Rows handed to the server so far (all of them, for an answer sent whole)."""
        return self._rows

    def __iter__(self) -> Iterator[bytes]:
        try:
            self._rows = len(self._first_rows)
            yield ("[" + ",".join(self._first_rows)).encode()
            self._first_rows = []
            while self._fetch_more and (batch := self._fetch_more()):
                self._rows += len(batch)
                yield ("," + ",".join(batch)).encode()
            yield b"]"
        except duckdb.Error as error:
            log.error("query failed while streaming; the answer was cut short: %s", error)
        finally:
            self.close()

    def whole(self) -> bytes | None:
        """The complete answer when the first batch held every row (sent with a length, not streamed)."""
        if self._fetch_more is not None:
            return None
        self._rows = len(self._first_rows)
        return ("[" + ",".join(self._first_rows) + "]").encode()

    def close(self) -> None:
        """Free the cursor and the query slot; once, however often the server and the stream call it."""
        finish, self._finish = self._finish, _done
        finish()


def _done() -> None:
    return None


def stream_query(database: Database, sql: str, params: Sequence[Any], limits: Limits) -> RowStream:
    """Run the query and fetch its first batch (or cap + 1 rows); raise QueryError and friends."""
    release = database.take_query_slot()
    cursor = database.cursor()
    deadline = database.watchdog.watch(limits.timeout, cursor.interrupt) if limits.timeout > 0 else None
    wrapped = False  # set once the query runs inside the JSON wrapper (describe runs it as written)
    try:
        described = database.describe(cursor, sql, params)
        encoder = described.row_encoder if described.small else None
        wrapped = encoder is None
        fetch = _start(cursor, sql, params, described, encoder)
        first_rows, finished = _fetch_first(fetch, limits)
        described.small = finished and len(first_rows) <= SMALL_ANSWER_ROWS
    except BaseException as error:  # noqa: BLE001 - the cursor must be closed whatever happened
        cursor.close()
        release()
        raise _query_error(error, limits, wrapped) from None
    finally:
        if deadline is not None:
            database.watchdog.cancel(deadline)
    if finished:
        cursor.close()
        release()
        return RowStream(first_rows, None, _done)
    return RowStream(first_rows, lambda: fetch(limits.batch_rows), lambda: (cursor.close(), release()))


def _start(
    cursor: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any],
    described: Described,
    encode: Callable[[tuple], str] | None,
) -> Callable[[int], list[str]]:
    """Run the query; returns a function fetching up to n more rows as JSON object texts.
    With an encoder (queries whose last answers were small) rows are encoded in Python; else by DuckDB."""
    if encode is not None:
        result = cursor.execute(sql, list(params))
        return lambda count: [encode(row) for row in result.fetchmany(count)]
    result = cursor.execute(json_rows_sql(sql, described.names, described.types), list(params))
    return lambda count: [row for (row,) in result.fetchmany(count)]


def _fetch_first(fetch: Callable[[int], list[str]], limits: Limits) -> tuple[list[str], bool]:
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


def _query_error(error: BaseException, limits: Limits, wrapped: bool) -> BaseException:
    if isinstance(error, duckdb.InterruptException):
        return QueryTimeoutError(f"query timed out after {limits.timeout:g} s")
    if isinstance(error, (duckdb.InternalException, duckdb.FatalException)):
        return error
    if isinstance(error, duckdb.Error):
        message = str(error)
        if wrapped:  # the JSON wrapper puts the query on its second line: count lines as the author does
            message = WRAPPED_LINE.sub(lambda match: f"LINE {int(match.group(1)) - 1}:", message)
        return QueryError(message)
    return error
