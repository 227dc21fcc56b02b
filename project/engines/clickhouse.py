"""ClickHouse through clickhouse-driver's native protocol (`pip install 'sluice[clickhouse]'`); works with the
18.16 server Debian ships. Every query runs with `readonly=1` and the server's `max_execution_time`, and
streams with `execute_iter` block by block.

clickhouse-driver escapes `%(pN)s` arguments on the client (18.16 has no server-side parameters): Sluice
writes placeholders only where the shape checker found a value position, so an escaped value is one literal.
"""

from __future__ import annotations

import re
import socket
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from project.engines.interface import Column, Result
from project.engines.pooled import PooledEngine, PooledSession
from project.engines.requirements import require
from project.sql.binding import ParamStyle

clickhouse_driver = require("clickhouse_driver", "clickhouse")
from clickhouse_driver import errors as ch_errors

STYLE = ParamStyle(named=True, percent=True, quote_identifier=lambda name: "`" + _escape_name(name) + "`")
CONNECT_TIMEOUT = 5
BLOCK_ROWS = 8192
TIMEOUT_CODES = {159, 394}  # TIMEOUT_EXCEEDED, QUERY_WAS_CANCELLED
UNAVAILABLE_CODES = {209, 210, 279}  # socket timeout, network error, all connection tries failed (a shard)
WRAPPER = re.compile(r"^(Nullable|LowCardinality)\((.*)\)$")
DECIMAL = re.compile(r"^Decimal(?:32|64|128)?\((.*)\)$")
TYPE_NAMES = {
    "UInt8": "UTINYINT",
    "UInt16": "USMALLINT",
    "UInt32": "UINTEGER",
    "UInt64": "UBIGINT",
    "Int8": "TINYINT",
    "Int16": "SMALLINT",
    "Int32": "INTEGER",
    "Int64": "BIGINT",
    "Float32": "FLOAT",
    "Float64": "DOUBLE",
    "String": "VARCHAR",
    "Date": "DATE",
    "DateTime": "TIMESTAMP",
    "UUID": "UUID",
}


def _escape_name(name: str) -> str:
    return name.replace("\\", "\\\\").replace("`", "\\`")


def client_arguments(properties: Mapping[str, Any]) -> dict[str, Any]:
    """clickhouse-driver's arguments from a `clickhouse://user:pw@host:9000/db` dsn or the separate properties."""
    dsn = str(properties.get("dsn") or "")
    if dsn:
        url = urllib.parse.urlsplit(dsn)
        values: dict[str, Any] = {
            "host": url.hostname,
            "port": url.port,
            "user": urllib.parse.unquote(url.username or ""),
            "password": urllib.parse.unquote(url.password or ""),
            "database": url.path.lstrip("/"),
            "secure": url.scheme in ("clickhouses", "tcps") or "secure=true" in url.query,
        }
    else:
        values = {
            "host": properties.get("host") or "localhost",
            "port": properties.get("port"),
            "user": properties.get("username") or properties.get("user"),
            "password": properties.get("password"),
            "database": properties.get("database"),
            "secure": str(properties.get("ssl", "")).lower() in ("true", "1", "yes"),
        }
    arguments = {key: value for key, value in values.items() if value not in (None, "")}
    if "port" in arguments:
        arguments["port"] = int(arguments["port"])
    return arguments


class ClickHouseEngine(PooledEngine):
    driver = "clickhouse"
    dialect = "clickhouse"
    style = STYLE

    def __init__(self, name: str, properties: Mapping[str, Any], pool_size: int, timeout: float, **kwargs):
        self._arguments = client_arguments(properties)
        super().__init__(name, [str(self._arguments.get("password") or "")], pool_size, timeout, **kwargs)
        self.cluster = properties.get("cluster")

    def connect(self) -> Any:
        client = clickhouse_driver.Client(**self._arguments, connect_timeout=CONNECT_TIMEOUT)
        client.execute("SELECT 1", settings={"readonly": 1})  # connect now: an engine that is down is a 503
        return client

    def query_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {"max_block_size": BLOCK_ROWS}
        if self.timeout > 0:
            settings["max_execution_time"] = max(int(self.timeout + 0.999), 1)
        settings["readonly"] = 1  # last: once read-only, the server refuses later changes of settings
        return settings

    def open_session(self, connection: Any, reused: bool) -> ClickHouseSession:
        return ClickHouseSession(self, connection, reused)

    def is_disconnect(self, error: BaseException) -> bool:
        return isinstance(error, (ch_errors.NetworkError, ch_errors.SocketTimeoutError, EOFError, OSError))

    def close_connection(self, connection: Any) -> None:
        try:
            connection.disconnect()
        except Exception:  # noqa: BLE001, S110 - disconnecting a broken client may fail; it is gone
            pass

    def error_message(self, error: BaseException) -> str:
        message = getattr(error, "message", None) or str(error)
        return message.split(" Stack trace:")[0].split("\nStack trace:")[0].strip()


class ClickHouseResult(Result):
    def __init__(self, rows: Iterator[Any], columns: list[Column], session: ClickHouseSession) -> None:
        self._rows = rows
        self._session = session
        self.columns = columns

    def fetch_rows(self, count: int) -> list[tuple]:
        batch = []
        for row in self._rows:
            batch.append(row)
            if len(batch) == count:
                return batch
        self._session.exhausted = True
        return batch


class ClickHouseSession(PooledSession):
    """`execute_iter` on one client; an answer abandoned before its end closes the client (the driver
    refuses another query on a connection with unread blocks)."""

    exhausted = True
    engine: ClickHouseEngine

    def run(self, sql: str, params: Sequence[Any] | dict) -> Result:
        self.exhausted = False
        rows = self.connection.execute_iter(
            sql, _values(params), with_column_types=True, settings=self.engine.query_settings()
        )
        header = next(rows)
        return ClickHouseResult(rows, [Column(name, duckdb_type(kind)) for name, kind in header], self)

    def describe(self, sql: str, params: Sequence[Any] | dict) -> list[Column]:
        self.exhausted = False
        _, header = self.connection.execute(
            f"SELECT * FROM (\n{sql}\n) LIMIT 0",
            _values(params),
            with_column_types=True,
            settings=self.engine.query_settings(),
        )
        self.exhausted = True
        return [Column(name, duckdb_type(kind)) for name, kind in header]

    def interrupt(self) -> None:
        """The server's max_execution_time is the timeout; this is the backstop: cut the socket."""
        self.interrupted = True
        sock = getattr(self.connection.connection, "socket", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def classify(self, error: BaseException, timeout: float) -> BaseException | None:
        code = getattr(error, "code", None)
        if code in TIMEOUT_CODES:
            return self.engine.timed_out(timeout)
        if code in UNAVAILABLE_CODES or self.engine.is_disconnect(error):
            return self.engine.unavailable(error)
        if isinstance(error, ch_errors.Error):
            return self.engine.query_error(error)
        return None

    def finish(self) -> bool:
        return self.exhausted and self.reusable and not self.interrupted


def _values(params: Sequence[Any] | dict) -> dict[str, Any]:
    """Booleans as 1/0 (18.16 has no boolean literal); other values as the driver escapes them."""
    values = dict(params) if isinstance(params, dict) else {f"p{i}": value for i, value in enumerate(params)}
    return {key: int(value) if isinstance(value, bool) else value for key, value in values.items()}


def duckdb_type(clickhouse_type: str) -> str:
    """The DuckDB name of a ClickHouse column type (for schemas): `Nullable(Decimal(10, 2))` -> DECIMAL(10,2)."""
    kind = clickhouse_type.strip()
    while match := WRAPPER.match(kind):
        kind = match.group(2)
    if match := DECIMAL.match(kind):
        return "DECIMAL(" + match.group(1).replace(" ", "") + ")"
    if kind.startswith("Array(") and kind.endswith(")"):
        return duckdb_type(kind[6:-1]) + "[]"
    if kind.startswith(("DateTime64", "DateTime(")):
        return "TIMESTAMP"
    if kind.startswith(("FixedString", "Enum")):
        return "VARCHAR"
    return TYPE_NAMES.get(kind, "VARCHAR")
