"""DuckDB behind the engine interface: one cursor per request, JSON written by DuckDB itself (SPEC §3.4).

Large answers are encoded by DuckDB in bulk (`encoding.bulk`); answers that were small last time are encoded
in Python (`encoding.rows`), which costs less than planning the JSON projection.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from project.encoding.bulk import json_rows_sql, json_text_sql, text_of_batch
from project.encoding.columns import arrow_columns_sql
from project.engines.interface import (
    Column,
    FetchJson,
    FetchJsonText,
    JsonText,
    Result,
    Session,
    json_text_of,
)
from project.errors import QueryError, QueryTimeoutError, UnknownNameError

if TYPE_CHECKING:
    from project.engines.duckdb import Database, Described

WRAPPED_LINE = re.compile(r"^LINE (\d+):", re.MULTILINE)
SMALL_ANSWER_ROWS = 100  # answers up to this size are encoded in Python next time


class DuckDBResult(Result):
    """A query read either as rows (a cursor) or as Arrow batches (a relation: DuckDB's Arrow path, no copy);
    it runs on the first fetch."""

    def __init__(self, session: DuckDBSession, sql: str, params: list[Any], described: Described):
        self._session, self._sql, self._params, self._described = session, sql, params, described
        self._started = False
        self.columns = columns_of(described)

    def fetch_rows(self, count: int) -> list[tuple]:
        cursor = self._session.cursor
        if not self._started:
            cursor.execute(parsed_once(cursor, self._sql, self._described.parsed), self._params)
            self._started = True
        return cursor.fetchmany(count)

    def arrow_batches(self, rows_per_batch: int) -> Iterator[Any]:
        yield from self._session.stream(self._sql, self._params, rows_per_batch)


class DuckDBSession(Session):
    """A cursor on the served read-only database, given back when the session closes. An interrupt (the
    watchdog's thread) and the close are serialised, so an interrupt that comes late never reaches the
    cursor's next request."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self.cursor = database.cursor()
        self._wrapped = False  # set once a query runs inside the JSON wrapper (its lines shift by one)
        self._streamed = False  # an Arrow stream of the cursor may still be open (see `stream`)
        self._closing = threading.Lock()
        self._closed = False

    def execute(self, sql: str, params: Sequence[Any] | dict) -> Result:
        sql, params = self._database.resolve_paths(sql), list(params)
        return DuckDBResult(self, sql, params, self._database.describe(self.cursor, sql, params))

    def json_rows(self, sql: str, params: Sequence[Any] | dict) -> tuple[list[Column], FetchJson]:
        sql, params, described, fetch = self._small_first(sql, params)
        if fetch is None:  # not known to be small, or the hint was wrong: DuckDB writes the JSON
            self._wrapped = True
            fetch = _bulk_json(self.cursor, sql, params, described)
        return columns_of(described), fetch

    def json_text(
        self, sql: str, params: Sequence[Any] | dict, lines: bool, rows_per_batch: int
    ) -> FetchJsonText:
        """Small answers encoded in Python; the others as DuckDB's text of each row, read in Arrow batches
        whose string data is the batch's text as it goes out (no Python object per row)."""
        sql, params, described, fetch = self._small_first(sql, params)
        if fetch is not None:
            rows = fetch(SMALL_ANSWER_ROWS)
            return _once(json_text_of(rows, lines) if rows else None)
        self._wrapped = True
        batches = self.stream(
            json_text_sql(sql, described.names, described.types, lines), params, rows_per_batch
        )
        return _bulk_json_text(batches, described)

    def _small_first(
        self, sql: str, params: Sequence[Any] | dict
    ) -> tuple[str, list[Any], Described, FetchJson | None]:
        """The query as it runs (paths resolved), its description, and its rows encoded in Python when the
        hint says its answers are small and they still are (None otherwise: DuckDB is to write the JSON)."""
        sql, params = self._database.resolve_paths(sql), list(params)
        described = self._database.describe(self.cursor, sql, params)
        small = described.small and described.row_encoder is not None
        return sql, params, described, _small_answer(self.cursor, sql, params, described) if small else None

    def arrow_reader(
        self, sql: str, params: Sequence[Any] | dict, format_name: str, rows_per_batch: int
    ) -> Any:
        """DuckDB's own Arrow batches, columns converted where the format lacks their type (encoding.columns)."""
        sql, params = self._database.resolve_paths(sql), list(params)
        described = self._database.describe(self.cursor, sql, params)
        converted = arrow_columns_sql(sql, described.names, described.types, format_name)
        self._wrapped = converted is not sql
        return self.stream(converted, params, rows_per_batch)

    def stream(self, sql: str, params: list[Any], rows_per_batch: int) -> Any:
        """The query's Arrow batches as DuckDB streams them. DuckDB refuses the cursor's next query while
        such a stream is open and unread, so the cursor is closed with the session, not given back."""
        self._streamed = True
        return self.cursor.sql(sql, params=params or None).to_arrow_reader(rows_per_batch)

    def describe(self, sql: str, params: Sequence[Any] | dict) -> list[Column]:
        sql = self._database.resolve_paths(sql)
        return columns_of(self._database.describe(self.cursor, sql, list(params)))

    def interrupt(self) -> None:
        with self._closing:
            if not self._closed:
                self.cursor.interrupt()

    def close(self) -> None:
        with self._closing:
            if self._closed:
                return
            self._closed = True
        self._database.close_cursor(self.cursor, reusable=not self._streamed)

    def translate_error(self, error: BaseException, timeout: float) -> BaseException:
        error = duckdb_error_of(error)
        if isinstance(error, duckdb.InterruptException):
            return QueryTimeoutError(f"query timed out after {timeout:g} s")
        if isinstance(error, (duckdb.InternalException, duckdb.FatalException)):
            return error
        if isinstance(error, duckdb.Error):
            message = str(error)
            if self._wrapped:  # the JSON wrapper puts the query on its second line: count as the author does
                message = WRAPPED_LINE.sub(lambda match: f"LINE {int(match.group(1)) - 1}:", message)
            kind = UnknownNameError if isinstance(error, duckdb.CatalogException) else QueryError
            return kind(message)
        return error


def parsed_once(cursor: duckdb.DuckDBPyConnection, sql: str, parsed: dict[str, Any]) -> Any:
    """The query as DuckDB's parsed statement, parsed on first use and then reused, or the text itself when
    it is not one statement. DuckDB copies a statement each time it runs one, so it can be shared; a text
    costs a parse and the client's extra steps on every call (a point lookup: a quarter of its time)."""
    known = parsed.get(sql)
    if known is None:
        statements = cursor.extract_statements(sql)
        known = statements[0] if len(statements) == 1 else sql
        parsed[sql] = known
    return known


def columns_of(described: Described) -> list[Column]:
    return list(described.columns)


def _small_answer(
    cursor: duckdb.DuckDBPyConnection, sql: str, params: list[Any], described: Described
) -> FetchJson | None:
    """The answer encoded in Python, if it really is small; None (and the hint dropped for good) when it has
    more rows: a large answer encoded in Python takes seconds (1,000,000 rows: 6 s instead of 0.5 s), so the
    query is run again for DuckDB to write its JSON, and the same query is never guessed small again."""
    head = cursor.execute(parsed_once(cursor, sql, described.parsed), params).fetchmany(SMALL_ANSWER_ROWS + 1)
    if len(head) > SMALL_ANSWER_ROWS:
        described.small, described.large = False, True
        cursor.abort()  # the rest is not read: the cursor must be free for DuckDB's JSON query
        return None
    encode: Any = described.row_encoder
    rows = [encode(row) for row in head]

    def fetch(count: int) -> list[str]:
        taken, rows[:count] = rows[:count], []
        return taken

    return fetch


def _bulk_json(
    cursor: duckdb.DuckDBPyConnection, sql: str, params: list[Any], described: Described
) -> FetchJson:
    """Run the query wrapped in DuckDB's JSON projection; the fetch remembers whether the answer was small
    (the hint for next time, never for a query that once answered large)."""
    result = cursor.execute(json_rows_sql(sql, described.names, described.types), params)
    total = 0

    def fetch(count: int) -> list[str]:
        nonlocal total
        rows = [row for (row,) in result.fetchmany(count)]
        total += len(rows)
        if len(rows) < count:
            described.small = total <= SMALL_ANSWER_ROWS and not described.large
        elif total > SMALL_ANSWER_ROWS:
            described.small, described.large = False, True
        return rows

    return fetch


def _once(text: JsonText | None) -> FetchJsonText:
    """A whole answer's text as the only batch."""
    texts = [text] if text is not None else []

    def read() -> JsonText | None:
        return texts.pop() if texts else None

    return read


def _bulk_json_text(batches: Any, described: Described) -> FetchJsonText:
    """The Arrow batches of the query wrapped in DuckDB's JSON text projection, as text; the reads remember
    whether the answer was small (the hint for next time, never for a query that once answered large)."""
    total = 0

    def read() -> JsonText | None:
        nonlocal total
        try:
            batch = batches.read_next_batch()
        except StopIteration:
            described.small = total <= SMALL_ANSWER_ROWS and not described.large
            return None
        total += batch.num_rows
        if total > SMALL_ANSWER_ROWS:
            described.small, described.large = False, True
        return JsonText(batch.num_rows, text_of_batch(batch))

    return read


DUCKDB_ERROR_KIND = re.compile(r"^([A-Za-z ]+) Error: ")


def duckdb_error_of(error: BaseException) -> BaseException:
    """DuckDB's own exception for an error that reached Python through an Arrow stream: pyarrow raises
    OSError with DuckDB's message (`Conversion Error: ...`, `INTERRUPT Error: Interrupted!`)."""
    if type(error) is not OSError:
        return error
    match = DUCKDB_ERROR_KIND.match(str(error))
    if match is None:
        return error
    kind = getattr(duckdb, match.group(1).title().replace(" ", "") + "Exception", None)
    if not (isinstance(kind, type) and issubclass(kind, duckdb.Error)):
        kind = duckdb.Error  # `IO Error` and others without a class of their own
    return kind(str(error))
