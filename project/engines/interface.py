"""The one small interface every engine serves queries through (DuckDB, PostgreSQL, MySQL, ClickHouse).

An `Engine` is one connector of a project: it hands out `Session`s (a pooled connection, or a DuckDB cursor),
a session runs one bound statement and gives a `Result` that streams rows as Python tuples, Arrow record
batches or JSON object texts. Driver errors leave an engine as domain errors: `QueryError` (400),
`QueryTimeoutError` (504), `EngineUnavailableError` (503, naming the connector, never its secrets).
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from project.encoding.values import json_row_encoder
from project.engines.watchdog import Watchdog
from project.errors import OverloadedError
from project.sql.binding import ParamStyle

FetchJson = Callable[[int], list[str]]  # up to n more rows as JSON object texts; fewer only at the end


@dataclass(frozen=True)
class JsonText:
    """A batch of an answer's rows as the bytes that go out: each row preceded by a comma (the elements of
    a JSON array; the writer turns the answer's first comma into `[`) or followed by a newline (NDJSON)."""

    rows: int
    text: bytes


FetchJsonText = Callable[[], JsonText | None]  # the next batch of an answer's JSON text; None at the end


@dataclass(frozen=True)
class Column:
    """A result column: its name and its type as DuckDB would name it (`BIGINT`, `DECIMAL(18,2)`,
    `TIMESTAMP WITH TIME ZONE`, `VARCHAR`...), so one schema inference serves every engine."""

    name: str
    type: str


class Result(ABC):
    """A running statement's answer; fetch in batches, then close the session."""

    columns: list[Column]
    _encode: Callable[[tuple], str] | None = None

    @abstractmethod
    def fetch_rows(self, count: int) -> list[tuple]:
        """Up to `count` more rows as Python values; fewer only at the end of the answer."""

    def fetch_json(self, count: int) -> list[str]:
        """Up to `count` more rows as JSON object texts (SPEC §3.4), keys in column order."""
        encode = self._encode
        if encode is None:
            encode = self._encode = json_row_encoder([column.name for column in self.columns])
        return [encode(row) for row in self.fetch_rows(count)]

    def arrow_batches(self, rows_per_batch: int) -> Iterator[Any]:
        """The rest of the answer as pyarrow RecordBatches (built from fetched rows unless the engine
        has a native path)."""
        import pyarrow

        names = [column.name for column in self.columns]
        while rows := self.fetch_rows(rows_per_batch):
            yield pyarrow.RecordBatch.from_pylist([dict(zip(names, row)) for row in rows])
            if len(rows) < rows_per_batch:
                return


class Session(ABC):
    """One connection (or cursor) for one request; `close()` gives it back to the engine."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] | dict) -> Result:
        """Run a bound statement (text written in the engine's `style`); the answer streams."""

    def json_rows(self, sql: str, params: Sequence[Any] | dict) -> tuple[list[Column], FetchJson]:
        """Run the statement for a JSON answer: its columns and a function fetching JSON row texts."""
        result = self.execute(sql, params)
        return result.columns, result.fetch_json

    def json_text(
        self, sql: str, params: Sequence[Any] | dict, lines: bool, rows_per_batch: int
    ) -> FetchJsonText:
        """Run the statement for a JSON (`lines`: NDJSON) answer: batches of about `rows_per_batch` rows as
        text to send (JsonText). Engines without a bulk path join the rows of `json_rows`."""
        _, fetch = self.json_rows(sql, params)
        return joined_json_text(fetch, lines, rows_per_batch)

    def arrow_reader(
        self, sql: str, params: Sequence[Any] | dict, format_name: str, rows_per_batch: int
    ) -> Any:
        """Run the statement for a file format (csv, parquet, arrow): a pyarrow RecordBatchReader whose
        columns the format can hold. Engines without an Arrow path build the batches from fetched rows."""
        import pyarrow

        result = self.execute(sql, params)
        batches = result.arrow_batches(rows_per_batch)
        first = next(batches, None)
        if first is None:
            schema = pyarrow.schema([(column.name, pyarrow.string()) for column in result.columns])
            return pyarrow.RecordBatchReader.from_batches(schema, iter(()))
        return pyarrow.RecordBatchReader.from_batches(first.schema, itertools.chain([first], batches))

    @abstractmethod
    def describe(self, sql: str, params: Sequence[Any] | dict) -> list[Column]:
        """The statement's result columns, without fetching its rows."""

    @abstractmethod
    def interrupt(self) -> None:
        """Stop the running statement; called from the watchdog's thread."""

    @abstractmethod
    def close(self) -> None:
        """Finish: an unfinished answer is abandoned, the connection goes back to the pool (or away)."""

    @abstractmethod
    def translate_error(self, error: BaseException, timeout: float) -> BaseException:
        """The domain error for a driver error raised while this session ran (others pass through)."""


def joined_json_text(fetch: FetchJson, lines: bool, rows_per_batch: int) -> FetchJsonText:
    """Batches of JSON text from a function fetching row texts (a short fetch is the end)."""
    ended = False

    def read() -> JsonText | None:
        nonlocal ended
        if ended:
            return None
        rows = fetch(rows_per_batch)
        ended = len(rows) < rows_per_batch
        return json_text_of(rows, lines) if rows else None

    return read


def json_text_of(rows: list[str], lines: bool) -> JsonText:
    """Row texts laid out as JsonText (commas before, or newlines after, each row)."""
    text = "\n".join(rows) + "\n" if lines else "," + ",".join(rows)
    return JsonText(len(rows), text.encode())


class Engine(ABC):
    """One connector: its driver, the sqlglot dialect its SQL is checked in, how statements bind."""

    name: str  # the connector's name (`duckdb`, `warehouse`, ...)
    driver: str  # duckdb | postgres | mysql | clickhouse
    dialect: str  # sqlglot dialect
    style: ParamStyle

    def __init__(self, max_queries: int = 0) -> None:
        self.watchdog = Watchdog()
        self._query_slots = _Slots(max_queries)

    def take_query_slot(self) -> Callable[[], None]:
        """Reserve one of the process's query slots until the returned release is called; OverloadedError
        (503) when all are taken, so a burst queues in front of the proxy instead of inside the engine."""
        return self._query_slots.take()

    def share_query_slots(self, other: Engine) -> None:
        """Count this engine's queries in the other's limit (one limit per process)."""
        self._query_slots = other._query_slots

    @abstractmethod
    def session(self) -> Session:
        """A session for one request; EngineUnavailableError (503) when the engine cannot be reached."""

    def state(self) -> dict[str, Any]:
        """For health: the connector's name, driver and whether it answers (no secrets)."""
        return {"name": self.name, "driver": self.driver, "state": "ok"}

    def close(self) -> None:
        """Close every connection (a reload replaced this engine)."""

    def retire(self) -> None:
        """No longer served after a reload: close what it holds, and end its watchdog's thread."""
        self.watchdog.stop()
        self.close()


class _Slots:
    """A counting limit on queries running at once in this process (0: none)."""

    def __init__(self, limit: int) -> None:
        import threading

        self._semaphore = threading.BoundedSemaphore(limit) if limit > 0 else None

    def take(self) -> Callable[[], None]:
        if self._semaphore is None:
            return _nothing
        if not self._semaphore.acquire(blocking=False):
            raise OverloadedError("too many queries are running; retry shortly")
        return self._semaphore.release


def _nothing() -> None:
    return None
