"""DuckDB behind the engine interface: one cursor per request, JSON written by DuckDB itself (SPEC §3.4).

Large answers are encoded by DuckDB in bulk (`encoding.bulk`); answers that were small last time are encoded
in Python (`encoding.rows`), which costs less than planning the JSON projection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from project.encoding.bulk import json_rows_sql
from project.encoding.columns import arrow_columns_sql
from project.engines.interface import Column, FetchJson, Result, Session
from project.errors import QueryError, QueryTimeoutError, UnknownNameError

if TYPE_CHECKING:
    from project.engines.duckdb import Database, Described

WRAPPED_LINE = re.compile(r"^LINE (\d+):", re.MULTILINE)
SMALL_ANSWER_ROWS = 100  # answers up to this size are encoded in Python next time


class DuckDBResult(Result):
    """A query read either as rows (a cursor) or as Arrow batches (a relation: DuckDB's Arrow path, no copy);
    it runs on the first fetch."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, sql: str, params: list[Any], described: Described):
        self._cursor, self._sql, self._params = cursor, sql, params
        self._started = False
        self.columns = columns_of(described)

    def fetch_rows(self, count: int) -> list[tuple]:
        if not self._started:
            self._cursor.execute(self._sql, self._params)
            self._started = True
        return self._cursor.fetchmany(count)

    def arrow_batches(self, rows_per_batch: int) -> Iterator[Any]:
        yield from self._cursor.sql(self._sql, params=self._params or None).to_arrow_reader(rows_per_batch)


class DuckDBSession(Session):
    """A cursor on the served read-only database."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._cursor = database.cursor()
        self._wrapped = False  # set once a query runs inside the JSON wrapper (its lines shift by one)

    def execute(self, sql: str, params: Sequence[Any] | dict) -> Result:
        sql, params = self._database.resolve_paths(sql), list(params)
        return DuckDBResult(self._cursor, sql, params, self._database.describe(self._cursor, sql, params))

    def json_rows(self, sql: str, params: Sequence[Any] | dict) -> tuple[list[Column], FetchJson]:
        sql, params = self._database.resolve_paths(sql), list(params)
        described = self._database.describe(self._cursor, sql, params)
        encode = described.row_encoder if described.small else None
        self._wrapped = encode is None
        return columns_of(described), _counting(
            _start(self._cursor, sql, params, described, encode), described
        )

    def arrow_reader(
        self, sql: str, params: Sequence[Any] | dict, format_name: str, rows_per_batch: int
    ) -> Any:
        """DuckDB's own Arrow batches, columns converted where the format lacks their type (encoding.columns)."""
        sql, params = self._database.resolve_paths(sql), list(params)
        described = self._database.describe(self._cursor, sql, params)
        converted = arrow_columns_sql(sql, described.names, described.types, format_name)
        self._wrapped = converted is not sql
        return self._cursor.sql(converted, params=params or None).to_arrow_reader(rows_per_batch)

    def describe(self, sql: str, params: Sequence[Any] | dict) -> list[Column]:
        sql = self._database.resolve_paths(sql)
        return columns_of(self._database.describe(self._cursor, sql, list(params)))

    def interrupt(self) -> None:
        self._cursor.interrupt()

    def close(self) -> None:
        self._database.close_cursor(self._cursor)

    def translate_error(self, error: BaseException, timeout: float) -> BaseException:
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


def columns_of(described: Described) -> list[Column]:
    return [Column(name, str(type_)) for name, type_ in zip(described.names, described.types)]


def _start(
    cursor: duckdb.DuckDBPyConnection,
    sql: str,
    params: list[Any],
    described: Described,
    encode: Callable[[tuple], str] | None,
) -> FetchJson:
    """Run the query; returns a function fetching up to n more rows as JSON object texts."""
    if encode is not None:
        result = cursor.execute(sql, params)
        return lambda count: [encode(row) for row in result.fetchmany(count)]
    result = cursor.execute(json_rows_sql(sql, described.names, described.types), params)
    return lambda count: [row for (row,) in result.fetchmany(count)]


def _counting(fetch: FetchJson, described: Described) -> FetchJson:
    """Fetch, remembering at the end whether the whole answer was small (the hint for next time)."""
    total = 0

    def counted(count: int) -> list[str]:
        nonlocal total
        rows = fetch(count)
        total += len(rows)
        if len(rows) < count:
            described.small = total <= SMALL_ANSWER_ROWS
        elif total > SMALL_ANSWER_ROWS:
            described.small = False
        return rows

    return counted
